using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Keyturn.Application.Rotation;
using MySqlConnector;

namespace Keyturn.Rotators.MySql;

/// <summary>Turns MySqlConnector and server errors into stable reasons, by error number only.</summary>
internal static class MySqlFailures
{
    // Server error numbers (the same on MySQL and MariaDB unless noted).
    private const int DatabaseAccessDenied = 1044;      // ER_DBACCESS_DENIED_ERROR: password right, database not allowed (or missing)
    private const int AccessDenied = 1045;              // ER_ACCESS_DENIED_ERROR: wrong password or unknown user
    private const int UnknownDatabase = 1049;           // ER_BAD_DB_ERROR
    private const int TableAccessDenied = 1142;
    private const int ColumnAccessDenied = 1143;
    private const int SpecificAccessDenied = 1227;       // ER_SPECIFIC_ACCESS_DENIED_ERROR
    private const int NonExistingGrant = 1141;           // ER_NONEXISTING_GRANT: no such user/host in SHOW GRANTS
    private const int CannotUser = 1396;                 // ER_CANNOT_USER: CREATE/ALTER/DROP USER failed
    private const int CantCreateUserWithGrant = 1410;
    private const int PasswordAnonymousUser = 1131;
    private const int PasswordNotAllowed = 1132;
    private const int AccessDeniedNoPassword = 1698;     // ER_ACCESS_DENIED_NO_PASSWORD_ERROR: e.g. granting a role without ADMIN OPTION
    private const int SecureTransportRequired = 3159;    // MySQL 5.7+: require_secure_transport

    /// <summary>A failed login: what the probe reports and what a rotation operation throws.</summary>
    public static (LoginOutcome Outcome, string Reason, string? Code, string Message) ClassifyLogin(Exception exception, bool timedOut)
    {
        if (exception is MySqlException { ErrorCode: not MySqlErrorCode.UnableToConnectToHost } server && IsServerError(server))
        {
            var code = server.Number.ToString(CultureInfo.InvariantCulture);
            var message = $"{code}: {server.Message}";
            return server.Number switch
            {
                AccessDenied => (LoginOutcome.AuthFailed, DatabaseReasons.WrongPassword, code, message),
                DatabaseAccessDenied or UnknownDatabase => (LoginOutcome.Unknown, DatabaseReasons.UnknownDatabase, code, message),
                SecureTransportRequired => (LoginOutcome.Unknown, DatabaseReasons.Tls, code, message),
                _ => (LoginOutcome.Unknown, DatabaseReasons.ServerError, code, message),
            };
        }

        if (timedOut || Find<TimeoutException>(exception) is not null || exception is OperationCanceledException
            || (exception is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost } && exception.Message.Contains("Timeout", StringComparison.OrdinalIgnoreCase)))
        {
            return (LoginOutcome.Unknown, DatabaseReasons.Timeout, null, "The server did not answer in time.");
        }

        if (Find<AuthenticationException>(exception) is { } tls)
        {
            return (LoginOutcome.Unknown, DatabaseReasons.Tls, null, $"TLS failed: {tls.Message}");
        }

        if (Find<SocketException>(exception) is { } socket)
        {
            var reason = socket.SocketErrorCode == SocketError.TimedOut ? DatabaseReasons.Timeout : DatabaseReasons.Unreachable;
            return (LoginOutcome.Unknown, reason, null, $"Could not connect: {socket.Message} ({socket.SocketErrorCode}).");
        }

        if (exception is MySqlException && exception.Message.Contains("SSL", StringComparison.OrdinalIgnoreCase))
        {
            // "Server does not support SSL connections" and similar client-side TLS refusals.
            return (LoginOutcome.Unknown, DatabaseReasons.Tls, null, exception.Message);
        }

        if (exception is MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost }
            || Find<IOException>(exception) is not null || Find<EndOfStreamException>(exception) is not null)
        {
            return (LoginOutcome.Unknown, DatabaseReasons.Unreachable, null, $"Could not connect: {Flatten(exception)}");
        }

        return (LoginOutcome.Unknown, DatabaseReasons.ServerError, null, Flatten(exception));
    }

    public static RotatorException LoginFailed(string who, Exception exception, bool timedOut)
    {
        var (_, reason, code, message) = ClassifyLogin(exception, timedOut);
        return new RotatorException(reason, code, $"Unable to log in to {who}: {message}");
    }

    public static RotatorException StatementFailed(string what, Exception exception)
    {
        if (exception is MySqlException server && IsServerError(server))
        {
            var code = server.Number.ToString(CultureInfo.InvariantCulture);
            var reason = server.Number switch
            {
                DatabaseAccessDenied or TableAccessDenied or ColumnAccessDenied or SpecificAccessDenied
                    or CantCreateUserWithGrant or PasswordAnonymousUser or PasswordNotAllowed or AccessDenied
                    or AccessDeniedNoPassword => DatabaseReasons.PermissionDenied,
                NonExistingGrant => DatabaseReasons.UnknownUser,
                _ => DatabaseReasons.ServerError,
            };
            return new RotatorException(reason, code, $"{what} failed: {code}: {server.Message}");
        }

        var (_, fallback, fallbackCode, message) = ClassifyLogin(exception, timedOut: false);
        return new RotatorException(fallback, fallbackCode, $"{what} failed: {message}");
    }

    /// <summary>Errors the server sent, as opposed to the ones MySqlConnector raises itself (which use client codes).</summary>
    private static bool IsServerError(MySqlException exception) =>
        exception.Number is >= 1000 and < 2000 or >= 3000 && exception.ErrorCode != MySqlErrorCode.UnableToConnectToHost
        && exception.InnerException is null;

    private static string Flatten(Exception exception) =>
        exception.InnerException is { } inner && inner.Message != exception.Message
            ? $"{exception.Message} ({inner.Message})"
            : exception.Message;

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }
}
