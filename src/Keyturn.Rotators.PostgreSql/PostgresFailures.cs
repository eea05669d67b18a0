using System.Net.Sockets;
using System.Security.Authentication;
using Keyturn.Application.Rotation;
using Npgsql;

namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// Turns Npgsql and server errors into stable reasons. Only SQLSTATEs and the server's routine names are
/// matched (both independent of <c>lc_messages</c>), except for the pg_hba "no encryption" wording, which only
/// refines an already-Unknown result.
/// </summary>
internal static class PostgresFailures
{
    /// <summary>A failed login: what the probe reports and what a rotation operation throws.</summary>
    public static (LoginOutcome Outcome, string Reason, string? Code, string Message) ClassifyLogin(Exception exception, bool timedOut)
    {
        if (Find<PostgresException>(exception) is { } server)
        {
            var message = Describe(server);
            return server.SqlState switch
            {
                // invalid_password: wrong password, or (with SCRAM/md5) a user that does not exist; PostgreSQL
                // deliberately answers both the same way.
                PostgresErrorCodes.InvalidPassword => (LoginOutcome.AuthFailed, DatabaseReasons.WrongPassword, server.SqlState, message),

                // invalid_authorization_specification: "role does not exist" (trust/peer/cert methods) or a
                // pg_hba.conf rejection, which says nothing about the password.
                PostgresErrorCodes.InvalidAuthorizationSpecification when server.Routine == "InitializeSessionUserId" =>
                    (LoginOutcome.AuthFailed, DatabaseReasons.UnknownUser, server.SqlState, message),
                PostgresErrorCodes.InvalidAuthorizationSpecification when IsEncryptionRejection(server) =>
                    (LoginOutcome.Unknown, DatabaseReasons.Tls, server.SqlState, message),

                // The password was accepted but the database is missing or may not be connected to.
                PostgresErrorCodes.InvalidCatalogName or PostgresErrorCodes.InsufficientPrivilege =>
                    (LoginOutcome.Unknown, DatabaseReasons.UnknownDatabase, server.SqlState, message),

                _ => (LoginOutcome.Unknown, DatabaseReasons.ServerError, server.SqlState, message),
            };
        }

        if (timedOut || Find<TimeoutException>(exception) is not null || exception is OperationCanceledException)
        {
            return (LoginOutcome.Unknown, DatabaseReasons.Timeout, null, "The server did not answer in time.");
        }

        if (Find<SocketException>(exception) is { } socket)
        {
            var reason = socket.SocketErrorCode == SocketError.TimedOut ? DatabaseReasons.Timeout : DatabaseReasons.Unreachable;
            return (LoginOutcome.Unknown, reason, null, $"Could not connect: {socket.Message} ({socket.SocketErrorCode}).");
        }

        if (Find<AuthenticationException>(exception) is { } tls)
        {
            return (LoginOutcome.Unknown, DatabaseReasons.Tls, null, $"TLS failed: {tls.Message}");
        }

        if (exception is NpgsqlException && exception.Message.Contains("SSL", StringComparison.Ordinal))
        {
            // "SSL connection requested. No SSL enabled connection from this host is configured."
            return (LoginOutcome.Unknown, DatabaseReasons.Tls, null, exception.Message);
        }

        if (Find<IOException>(exception) is not null || Find<EndOfStreamException>(exception) is not null)
        {
            return (LoginOutcome.Unknown, DatabaseReasons.Unreachable, null, $"The connection broke: {Flatten(exception)}");
        }

        return (LoginOutcome.Unknown, DatabaseReasons.ServerError, null, Flatten(exception));
    }

    /// <summary>A login that failed during a rotation operation, as the exception the operation throws.</summary>
    public static RotatorException LoginFailed(DatabaseConnection connection, Exception exception, bool timedOut)
    {
        var (_, reason, code, message) = ClassifyLogin(exception, timedOut);
        return new RotatorException(reason, code, $"Unable to log in to {connection}: {message}");
    }

    /// <summary>A statement that failed after login.</summary>
    public static RotatorException StatementFailed(string what, Exception exception)
    {
        if (Find<PostgresException>(exception) is { } server)
        {
            var reason = server.SqlState switch
            {
                PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.InvalidGrantOperation => DatabaseReasons.PermissionDenied,
                PostgresErrorCodes.UndefinedObject => DatabaseReasons.UnknownUser,
                PostgresErrorCodes.DuplicateObject => DatabaseReasons.UserExists,
                PostgresErrorCodes.InvalidPassword => DatabaseReasons.WrongPassword,
                _ => DatabaseReasons.ServerError,
            };
            return new RotatorException(reason, server.SqlState, $"{what} failed: {Describe(server)}");
        }

        var (_, fallback, code, message) = ClassifyLogin(exception, timedOut: false);
        return new RotatorException(fallback, code, $"{what} failed: {message}");
    }

    private static bool IsEncryptionRejection(PostgresException server) =>
        server.Routine == "ClientAuthentication"
        && (server.MessageText.Contains("no encryption", StringComparison.Ordinal)
            || server.MessageText.Contains("SSL off", StringComparison.Ordinal));

    private static string Describe(PostgresException server) => $"{server.SqlState}: {server.MessageText}";

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
