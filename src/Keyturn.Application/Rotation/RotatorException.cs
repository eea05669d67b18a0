namespace Keyturn.Application.Rotation;

/// <summary>
/// A database-side rotation operation failed. <see cref="Reason"/> is one of <see cref="DatabaseReasons"/>, and
/// <see cref="DriverCode"/> the server's code when there is one. The message never contains a password: rotators
/// build it without one and <see cref="SanitizingDatabaseRotator"/> scrubs it again on the way out.
/// </summary>
public sealed class RotatorException : Exception
{
    public RotatorException(string reason, string? driverCode, string message)
        : this(reason, driverCode, message, null)
    {
    }

    public RotatorException(string reason, string? driverCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        Reason = reason;
        DriverCode = driverCode;
    }

    public string Reason { get; }

    public string? DriverCode { get; }

    /// <summary>Whether retrying later may help (network, timeout, transient server errors).</summary>
    public bool IsTransient => DatabaseReasons.IsTransient(Reason);
}
