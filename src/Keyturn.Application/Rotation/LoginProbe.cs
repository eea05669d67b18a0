namespace Keyturn.Application.Rotation;

/// <summary>
/// The result of logging in once with a set of credentials. Only <see cref="LoginOutcome.AuthFailed"/> says
/// anything about the password; <see cref="LoginOutcome.Unknown"/> means the probe could not decide and must
/// never justify a label move or a password change.
/// </summary>
/// <param name="Reason">One of the <see cref="DatabaseReasons"/> probe values: <c>ok</c>, <c>wrong-password</c>,
/// <c>unknown-user</c>, <c>unknown-database</c>, <c>unreachable</c>, <c>timeout</c>, <c>tls</c>, <c>server-error</c>.</param>
/// <param name="DriverCode">The server's error code when there is one: a SQLSTATE such as <c>28P01</c> or
/// <c>3D000</c>, or a MySQL error number such as <c>1045</c> or <c>1049</c>.</param>
/// <param name="Message">A one-line explanation, free of passwords.</param>
public sealed record LoginProbe(LoginOutcome Outcome, string Reason, string? DriverCode, string Message, TimeSpan Elapsed)
{
    public bool IsOk => Outcome == LoginOutcome.Ok;
}

public enum LoginOutcome
{
    /// <summary>Logged in and ran <c>SELECT 1</c>.</summary>
    Ok,

    /// <summary>The server rejected the credentials (wrong password or no such user).</summary>
    AuthFailed,

    /// <summary>No decision: network, timeout, TLS, unknown or inaccessible database, or a server error.</summary>
    Unknown,
}
