using System.Text.RegularExpressions;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Reads why an external function's step failed (Lambda's <c>errorType</c>/<c>errorMessage</c>, the last <c>[ERROR]</c>
/// line or a Python traceback's last line, the exit code) as one of <see cref="DatabaseReasons"/>, so an external
/// step stops or is retried by the same rule as a built-in one (<see cref="DatabaseReasons.IsTransient"/>): a
/// refused login, a missing field or a denied permission needs a person, a timeout or a refused connection may
/// pass. Text is matched because it is all an external function gives; what matches nothing stays retryable.
/// </summary>
public static partial class ExternalFailures
{
    // Tried in order: a network failure mentioned alongside a login failure ("Unable to log into database ...
    // (connection refused)") is the network's, not the password's.
    private static readonly (Regex Text, string Reason)[] Rules =
    [
        (ThrottledText(), DatabaseReasons.ServerError),
        (TimeoutText(), DatabaseReasons.Timeout),
        (UnreachableText(), DatabaseReasons.Unreachable),
        (UnknownUserText(), DatabaseReasons.UnknownUser),
        (UnknownDatabaseText(), DatabaseReasons.UnknownDatabase),
        (LoginFailedText(), DatabaseReasons.WrongPassword),
        (DeniedText(), DatabaseReasons.PermissionDenied),
        (TlsText(), DatabaseReasons.Tls),
        (RejectedRequestText(), DatabaseReasons.Unsupported),
    ];

    /// <summary>The reason code for a failed step, and whether it is permanent (not worth a retry).</summary>
    public static (string Reason, bool Permanent) Classify(string? errorType, string? errorMessage, int? exitCode)
    {
        var reason = ReasonOf(errorType, errorMessage, exitCode);
        return (reason, !DatabaseReasons.IsTransient(reason));
    }

    /// <summary>A failed step with the function's own error as its reason (prefixed with the step unless it names it already).</summary>
    public static RotationStepException StepFailed(string step, string? errorType, string errorMessage, int? exitCode)
    {
        var message = errorType is null ? errorMessage : $"{errorType}: {errorMessage}";
        return new RotationStepException(
            message.StartsWith(step + ":", StringComparison.Ordinal) ? message : $"{step}: {message}",
            Classify(errorType, errorMessage, exitCode).Permanent);
    }

    /// <summary>
    /// The error a command's output ends with: the last <c>[ERROR]</c> line (Lambda's log format, or <c>[ERROR] text</c>),
    /// else the last line of a Python traceback (<c>ValueError: text</c>). Nulls when the output names no error.
    /// </summary>
    public static (string? ErrorType, string? ErrorMessage) FromOutput(IReadOnlyList<string> lines)
    {
        for (var i = lines.Count - 1; i >= 0; i--)
        {
            if (ErrorLine().Match(lines[i]) is { Success: true } error)
            {
                var text = error.Groups["message"].Value.Trim();
                return ExceptionLine().Match(text) is { Success: true } typed
                    ? (typed.Groups["type"].Value, typed.Groups["message"].Value.Trim())
                    : (null, text);
            }
        }

        for (var i = lines.Count - 1; i >= 0; i--)
        {
            if (ExceptionLine().Match(lines[i]) is { Success: true } typed)
            {
                return (typed.Groups["type"].Value, typed.Groups["message"].Value.Trim());
            }
        }

        return (null, null);
    }

    private static string ReasonOf(string? errorType, string? errorMessage, int? exitCode)
    {
        var text = $"{errorType}: {errorMessage}";
        foreach (var (rule, reason) in Rules)
        {
            if (rule.IsMatch(text))
            {
                return reason;
            }
        }

        // AWS's templates raise ValueError/KeyError for what a retry can't change: a missing field, a wrong stage,
        // a secret not enabled for rotation, an engine mismatch.
        // ... and a handler the runtime could not load or whose answer it could not send (Lambda's Runtime.* init errors).
        if (errorType is not null && (InvalidValueType().IsMatch(errorType) || RuntimeInitType().IsMatch(errorType)))
        {
            return DatabaseReasons.Unsupported;
        }

        return exitCode switch
        {
            // The shell's "not executable" and "not found": the registration is wrong.
            126 or 127 => DatabaseReasons.Unsupported,

            // timeout(1) and a SIGKILL.
            124 or 137 => DatabaseReasons.Timeout,
            _ => DatabaseReasons.ServerError,
        };
    }

    [GeneratedRegex(@"^\[ERROR\][\t ]+(?:\d{4}-\d\d-\d\dT[\d:.]+Z?\t[^\t]*\t)?(?<message>\S.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ErrorLine();

    [GeneratedRegex(@"^(?<type>[A-Za-z_][\w.]*(?:Error|Exception|Failure)): (?<message>.+)$", RegexOptions.CultureInvariant)]
    private static partial Regex ExceptionLine();

    [GeneratedRegex(@"Throttl|Rate exceeded|TooManyRequests|InternalServiceError|ServiceUnavailable|too many connections", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ThrottledText();

    [GeneratedRegex(@"timed out|timeout|TimeoutError", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex TimeoutText();

    [GeneratedRegex(@"connection refused|connection reset|Can't connect|could not connect|Name or service not known|No route to host|Network is unreachable|Lost connection|ConnectionError|ConnectionResetError|EndpointConnectionError|temporary failure in name resolution",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex UnreachableText();

    [GeneratedRegex(@"role ""[^""]*"" does not exist|user ""[^""]*"" does not exist|Unknown user|Operation CREATE USER failed", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex UnknownUserText();

    [GeneratedRegex(@"database ""[^""]*"" does not exist|Unknown database", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex UnknownDatabaseText();

    [GeneratedRegex(@"Unable to log into database|password authentication failed|authentication failed|Access denied for user|invalid password|wrong password",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex LoginFailedText();

    [GeneratedRegex(@"AccessDenied|not authorized|permission denied|must be superuser|command denied|KMSAccessDenied", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex DeniedText();

    [GeneratedRegex(@"\bSSL\b|\bTLS\b|certificate verify failed|CERTIFICATE_VERIFY_FAILED", RegexOptions.CultureInvariant)]
    private static partial Regex TlsText();

    [GeneratedRegex(@"ResourceNotFoundException|InvalidRequestException|InvalidParameterException|DecryptionFailure|is missing from secret JSON|not enabled for rotation|has no stage for rotation|not set as AWSPENDING|Invalid step parameter|must be set to",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex RejectedRequestText();

    [GeneratedRegex(@"^(?:ValueError|KeyError|TypeError|JSONDecodeError|json\.decoder\.JSONDecodeError)$", RegexOptions.CultureInvariant)]
    private static partial Regex InvalidValueType();

    [GeneratedRegex(@"^Runtime\.(?:ImportModuleError|HandlerNotFound|UserCodeSyntaxError|MarshalError)$", RegexOptions.CultureInvariant)]
    private static partial Regex RuntimeInitType();
}
