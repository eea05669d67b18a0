namespace Keyturn.Application.Rotation;

/// <summary>Settings shared by the database rotators.</summary>
public sealed record DatabaseRotatorOptions
{
    /// <summary>Time allowed to connect and log in for a rotation operation (probes take their own timeout).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed for each statement of a rotation operation.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A PEM file of CA certificates trusted when a secret says <c>"ssl": true</c> (the RDS CA bundle, for
    /// example). <see langword="null"/> trusts the system store. The host name is verified either way.
    /// </summary>
    public string? RootCertificatePath { get; init; }
}
