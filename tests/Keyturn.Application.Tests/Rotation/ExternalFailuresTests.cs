using Keyturn.Application.Rotation;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>How an external function's failure is read: the same reasons, and the same retry rule, as the built-in rotators'.</summary>
public sealed class ExternalFailuresTests
{
    public static TheoryData<string, string?, string?, int?, string, bool> Failures => new()
    {
        // name, errorType, errorMessage, exit code, expected reason, expected permanent
        { "a master login the database refused stops at once", "ValueError", "Unable to log into database using credentials in master secret arn:aws:secretsmanager:us-east-1:1:secret:m", 1, DatabaseReasons.WrongPassword, true },
        { "the template's failed login as an [ERROR] line without a type stops at once", null, "setSecret: Unable to log into database with previous, current, or pending secret of secret arn arn:x", 1, DatabaseReasons.WrongPassword, true },
        { "PostgreSQL's password error stops at once", "pg.InternalError", "FATAL:  password authentication failed for user \"app\"", null, DatabaseReasons.WrongPassword, true },
        { "MySQL's access denied for a user stops at once", "pymysql.err.OperationalError", "(1045, \"Access denied for user 'app'@'localhost' (using password: YES)\")", null, DatabaseReasons.WrongPassword, true },
        { "a missing field in the secret stops at once", "KeyError", "username key is missing from secret JSON", 1, DatabaseReasons.Unsupported, true },
        { "a bare KeyError stops at once", "KeyError", "'password'", 1, DatabaseReasons.Unsupported, true },
        { "any other ValueError from a template stops at once", "ValueError", "Secret version abc has no stage for rotation of secret arn:x.", 1, DatabaseReasons.Unsupported, true },
        { "Secrets Manager denying the function stops at once", "botocore.exceptions.ClientError", "An error occurred (AccessDeniedException) when calling the GetSecretValue operation: not authorized", 1, DatabaseReasons.PermissionDenied, true },
        { "a role that does not exist stops at once", "pg.ProgrammingError", "ERROR:  role \"app_clone\" does not exist", null, DatabaseReasons.UnknownUser, true },
        { "a database that does not exist stops at once", "pg.InternalError", "FATAL:  database \"orders\" does not exist", null, DatabaseReasons.UnknownDatabase, true },
        { "a certificate the function can't verify stops at once", "ssl.SSLCertVerificationError", "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", null, DatabaseReasons.Tls, true },
        { "a command that is not found stops at once", null, null, 127, DatabaseReasons.Unsupported, true },
        { "a timeout is retried", "TimeoutError", "timed out", 1, DatabaseReasons.Timeout, false },
        { "a refused connection is retried", "ConnectionRefusedError", "[Errno 111] Connection refused", 1, DatabaseReasons.Unreachable, false },
        { "a reset connection is retried", "ConnectionResetError", "[Errno 104] Connection reset by peer", 1, DatabaseReasons.Unreachable, false },
        { "a failed login caused by a refused connection is retried", "ValueError", "Unable to log into database: could not connect to server: Connection refused", 1, DatabaseReasons.Unreachable, false },
        { "throttling is retried", "botocore.exceptions.ClientError", "An error occurred (ThrottlingException) when calling the PutSecretValue operation: Rate exceeded", 1, DatabaseReasons.ServerError, false },
        { "an error nothing recognizes is retried", "RuntimeError", "something odd", 1, DatabaseReasons.ServerError, false },
        { "a bare non-zero exit is retried", null, null, 1, DatabaseReasons.ServerError, false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Classify_ReadsTheFunctionsError_AsTheBuiltInsDo(string name, string? errorType, string? errorMessage, int? exitCode, string reason, bool permanent) =>
        Assert.True((reason, permanent) == ExternalFailures.Classify(errorType, errorMessage, exitCode), $"{name}: got {ExternalFailures.Classify(errorType, errorMessage, exitCode)}");

    public static TheoryData<string, string[], string?, string?> Outputs => new()
    {
        // name, output lines, expected errorType, expected errorMessage
        { "the last Lambda-format error line wins", ["[ERROR]\t2026-12-04T10:00:00.000Z\tabc\tfirst", "[INFO]\t2026-12-04T10:00:01.000Z\tabc\tretrying", "[ERROR]\t2026-12-04T10:00:02.000Z\tabc\tsetSecret: Unable to log into database"], null, "setSecret: Unable to log into database" },
        { "a typed error line gives its type", ["[ERROR] ValueError: Unable to log into database"], "ValueError", "Unable to log into database" },
        { "a Python traceback gives its last line", ["Traceback (most recent call last):", "  File \"f.py\", line 1, in <module>", "KeyError: 'password'"], "KeyError", "'password'" },
        { "an error line beats a later traceback", ["[ERROR]\t2026-12-04T10:00:00.000Z\tid\tsetSecret: failed", "Traceback (most recent call last):", "ValueError: failed"], null, "setSecret: failed" },
        { "output without an error names none", ["[INFO]\t2026-12-04T10:00:00.000Z\tabc\tcreateSecret: done", "plain text"], null, null },
    };

    [Theory]
    [MemberData(nameof(Outputs))]
    public void FromOutput_FindsTheFunctionsLastError(string name, string[] lines, string? errorType, string? errorMessage) =>
        Assert.True((errorType, errorMessage) == ExternalFailures.FromOutput(lines), $"{name}: got {ExternalFailures.FromOutput(lines)}");
}
