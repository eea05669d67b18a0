namespace Keyturn.Application.Rotation;

/// <summary>
/// Stable reason codes of <see cref="LoginProbe"/> and <see cref="RotatorException"/>: journals, the doctor and
/// alerts match on these, never on message text.
/// </summary>
public static class DatabaseReasons
{
    /// <summary>The login worked.</summary>
    public const string Ok = "ok";

    /// <summary>The server rejected the password. PostgreSQL (SCRAM/md5) and MySQL also report an unknown user this way.</summary>
    public const string WrongPassword = "wrong-password";

    /// <summary>The server said the user does not exist (or a statement named a user that does not exist).</summary>
    public const string UnknownUser = "unknown-user";

    /// <summary>The credentials were accepted but the database does not exist or the user may not use it (3D000, 1049, 1044).</summary>
    public const string UnknownDatabase = "unknown-database";

    /// <summary>No TCP connection: refused, no route, unknown host.</summary>
    public const string Unreachable = "unreachable";

    /// <summary>The server did not answer within the time allowed.</summary>
    public const string Timeout = "timeout";

    /// <summary>TLS could not be set up or was required by the server (handshake, certificate, host name, pg_hba "no encryption").</summary>
    public const string Tls = "tls";

    /// <summary>Anything else the server reported: too many connections, starting up, an unexpected error.</summary>
    public const string ServerError = "server-error";

    /// <summary>A user to be created already exists.</summary>
    public const string UserExists = "user-exists";

    /// <summary>The acting user lacks a privilege the operation needs (42501, 1227, 1142, 1410, ...).</summary>
    public const string PermissionDenied = "permission-denied";

    /// <summary>The request can't be carried out on this server or with these values (old server version, invalid name).</summary>
    public const string Unsupported = "unsupported";

    /// <summary>
    /// The user to clone holds privileges a second account must not get without an administrator's decision
    /// (superuser, role administration, server files, GRANT OPTION, ...). Nothing was created.
    /// </summary>
    public const string PrivilegedUser = "privileged-user";

    /// <summary>True for the reasons worth retrying later; the others need a person or a configuration change.</summary>
    public static bool IsTransient(string reason) =>
        reason is Unreachable or Timeout or ServerError;
}
