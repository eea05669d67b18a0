using System.Globalization;
using System.Text.RegularExpressions;

namespace Keyturn.Domain.Doctor;

/// <summary>A cause the log analysis can name: its stable code, how bad it is, what it means and what to do.</summary>
public sealed record LogSignature(string Code, Severity Severity, string Cause, string Fix);

public static partial class LogAnalyzer
{
    private const int QuoteLength = 300;

    /// <summary>Every cause the analysis can name, in the order the rules try them.</summary>
    public static IReadOnlyList<LogSignature> Catalog => Signatures.All;

    private static LogDiagnosis? ClassifyOne(LogInvocation invocation, LogInvocation? previous)
    {
        // The engine's "invoking" note names the secret, whose name must not match a signature; the samples' routine
        // TLS attempt before their plain-connection fallback is no cause when the function went on past it.
        var messages = DecisiveLines(invocation.Lines).Select(MessageOf).Where(m => m.Length > 0 && !InvokingLine().IsMatch(m)).ToList();
        if (invocation.Succeeded)
        {
            // Texts that report a failure on their own, even in a line logged at INFO.
            return TextRule(invocation, messages, Signatures.PreviousRotationIncomplete, PreviousRotationText())
                ?? CloudTrailRule(invocation, messages);
        }

        // A fragment without an error marker (a pasted message, a console line) still names its cause when its text does.
        var known = KnownCause(invocation, previous, messages);
        if (known is not null || !invocation.Failed)
        {
            return known ?? CloudTrailRule(invocation, messages);
        }

        return CloudTrailRule(invocation, messages)
            ?? TimeoutRule(invocation, previous)
            ?? Diagnose(Signatures.Unrecognized, invocation, invocation.Step,
                messages.LastOrDefault(m => ErrorishText().IsMatch(m)) is { } error ? Quote(error) : $"the last line it reached: {Quote(invocation.LastMeaningfulLine)}");
    }

    /// <summary>The first rule whose text the invocation's decisive lines carry, from the most specific (packaging, permissions) to the generic login failure.</summary>
    private static LogDiagnosis? KnownCause(LogInvocation invocation, LogInvocation? previous, List<string> messages)
    {
        var step = invocation.Step;
        (LogSignature Signature, Regex Text)[] packaging =
        [
            (Signatures.DriverMissing, ImportErrorText()),
            (Signatures.CodeSyntaxError, SyntaxErrorText()),
            (Signatures.DriverNeedsCrypto, CryptoPackageText()),
        ];
        foreach (var (signature, text) in packaging)
        {
            if (TextRule(invocation, messages, signature, text) is { } diagnosis)
            {
                return diagnosis;
            }
        }

        // Before the generic permission rule: a denied or throttled label move strands a changed password (row 15).
        if (messages.FirstOrDefault(m => DeniedOrThrottledText().IsMatch(m) && (step == "finishSecret" || m.Contains("UpdateSecretVersionStage", StringComparison.Ordinal))) is { } finish)
        {
            return Diagnose(Signatures.FinishDenied, invocation, step ?? "finishSecret", Quote(finish));
        }

        (LogSignature Signature, Regex Text)[] textRules =
        [
            (Signatures.KmsDenied, KmsText()),
            (Signatures.SecretAccessDenied, AccessDeniedText()),
            (Signatures.Throttled, ThrottledText()),
            (Signatures.PreviousRotationIncomplete, PreviousRotationText()),
            (Signatures.StaleInvocation, NoStageText()),
            (Signatures.AbandonedRotation, NotPendingText()),
            (Signatures.RotationDisabled, NotEnabledText()),
            (Signatures.NotAllowedByFunction, NotAllowedText()),
            (Signatures.CloneNameTooLong, CloneNameText()),
            (Signatures.SecretJsonIncomplete, SecretJsonText()),
            (Signatures.UserOrHostDrift, OtherUserText()),
            (Signatures.HostMismatch, HostMismatchText()),
            (Signatures.GrantCopyFailed, GrantCopyText()),
            (Signatures.PrivilegeDrift, PrivilegeDriftText()),
            (Signatures.HostnameVerification, HostnameText()),
            (Signatures.TlsOrAuthMethod, TlsText()),
            (Signatures.UnknownDatabase, UnknownDatabaseText()),
            (Signatures.OracleDriver, OracleDriverText()),
            (Signatures.MongoDriver, MongoDriverText()),
            (Signatures.ElastiCacheUser, ElastiCacheText()),
        ];
        foreach (var (signature, text) in textRules)
        {
            if (TextRule(invocation, messages, signature, text) is { } diagnosis)
            {
                return diagnosis;
            }
        }

        // pymssql says "Adaptive Server connection failed" after a refused login too: only without one is it the connection.
        if (!messages.Any(m => LoginFailedText().Match(m).Groups["driver"].Success) && TextRule(invocation, messages, Signatures.SqlServerConnection, SqlServerText()) is { } sqlServer)
        {
            return sqlServer;
        }

        return NetworkRule(invocation, messages)
            ?? LoginRule(invocation, previous, messages)
            ?? TextRule(invocation, messages, Signatures.NotFound, NotFoundText())
            ?? TextRule(invocation, messages, Signatures.RuntimeCrashed, RuntimeCrashText());
    }

    /// <summary>A driver's or SDK's own connection error: which network path failed, whatever the step says after it.</summary>
    private static LogDiagnosis? NetworkRule(LogInvocation invocation, List<string> messages)
    {
        if (messages.FirstOrDefault(m => SecretsEndpointText().IsMatch(m)) is { } endpoint)
        {
            return Diagnose(Signatures.SecretsEndpointUnreachable, invocation, invocation.Step, Quote(endpoint));
        }

        if (messages.FirstOrDefault(m => RefusedText().IsMatch(m)) is { } refused)
        {
            return Diagnose(Signatures.DatabaseRefused, invocation, invocation.Step, Quote(refused));
        }

        return messages.FirstOrDefault(m => UnreachableText().IsMatch(m)) is { } unreachable
            ? Diagnose(Signatures.DatabaseUnreachable, invocation, invocation.Step, Quote(unreachable))
            : null;
    }

    /// <summary>
    /// The lines that can decide a cause: all but the TLS attempt AWS's samples make first and log as an error
    /// ("SSL/TLS is not enabled on the host", "Hostname verification failed") when the function then went on (a
    /// plain connection, a later error): with no "ssl" key in the secret it falls back, so the line is routine.
    /// It stays decisive when a plain connection was then refused for lack of TLS, and when nothing followed it.
    /// </summary>
    internal static IEnumerable<string> DecisiveLines(IReadOnlyList<string> lines)
    {
        for (var i = 0; i < lines.Count; i++)
        {
            if (!IsRoutineTlsAttempt(lines, i))
            {
                yield return lines[i];
            }
        }
    }

    private static bool IsRoutineTlsAttempt(IReadOnlyList<string> lines, int index)
    {
        if (!TlsAttemptText().IsMatch(MessageOf(lines[index])))
        {
            return false;
        }

        var later = lines.Skip(index + 1).Select(l => (Line: l, Message: MessageOf(l))).ToList();
        return !later.Any(l => TlsEnforcedText().IsMatch(l.Message))
            && later.Any(l => ConnectedText().IsMatch(l.Message) || (IsFailureLine(l.Line) && !TlsAttemptText().IsMatch(l.Message)));
    }

    /// <summary>Rows 3, 16, 17, 18: a failed login, told apart by the reasons Keyturn adds or else by how long it took.</summary>
    private static LogDiagnosis? LoginRule(LogInvocation invocation, LogInvocation? previous, List<string> messages)
    {
        var line = messages.FirstOrDefault(m => LoginFailedText().IsMatch(m));
        if (line is null)
        {
            return null;
        }

        var match = LoginFailedText().Match(line);
        var step = invocation.Step;
        var tls = invocation.Lines.Select(MessageOf).FirstOrDefault(m => TlsAttemptText().IsMatch(m)) is { } attempt
            ? $"; the earlier {Quote(attempt)} is the function's first try over TLS before its plain-connection fallback, not the cause (unless the secret sets \"ssl\": true)"
            : "";
        LogSignature credentials;
        if (match.Groups["pending"].Success)
        {
            credentials = Signatures.Propagation;
            step ??= "testSecret";
        }
        else if (match.Groups["current"].Success)
        {
            credentials = Signatures.CurrentRefused;
            step ??= "setSecret";
        }
        else if (match.Groups["master"].Success)
        {
            credentials = Signatures.MasterRefused;
            step ??= "setSecret";
        }
        else if (match.Groups["driver"].Success)
        {
            // The driver itself said the password or user is wrong: no need to weigh durations.
            return Diagnose(Signatures.CredentialDesync, invocation, step, $"the database refused the credentials: {Quote(line)}{tls}");
        }
        else
        {
            credentials = Signatures.CredentialDesync;
            step ??= "setSecret";
        }

        var reasons = ProbeReasonText().Matches(line).Select(r => (Label: r.Groups["label"].Value, Reason: r.Groups["reason"].Value, Text: r.Value)).ToList();
        var afterSetSecret = credentials == Signatures.Propagation && previous is { Succeeded: true, Step: "setSecret" }
            ? $"; it came right after a successful setSecret (request {previous.RequestId})"
            : "";
        if (reasons.Count > 0)
        {
            var answered = $"{Quote(line)}; the probes say {string.Join("; ", reasons.Select(r => r.Text))}";
            var signature = reasons.Any(r => r.Reason == "tls") ? Signatures.TlsOrAuthMethod
                : reasons.Any(r => r.Reason == "unknown-database") ? Signatures.UnknownDatabase
                : reasons.Any(r => r.Reason is "unreachable" or "timeout")
                    // Refused at once, with nothing timing out: the host answered, nothing listens (row 2's local form).
                    ? reasons.All(r => r.Reason == "unreachable" && ProbeMilliseconds(r.Text) < LongLoginThreshold.TotalMilliseconds) ? Signatures.DatabaseRefused : Signatures.DatabaseUnreachable
                : reasons.All(r => r.Reason is "wrong-password" or "unknown-user") ? credentials
                : Signatures.LoginUndetermined;
            return Diagnose(signature, invocation, step, answered + (signature == credentials ? afterSetSecret : "") + tls);
        }

        // The database answered earlier in this invocation: a connection succeeded (alternating users log in as the user,
        // then as the master), or the TLS attempt got the server's answer ("SSL/TLS is not enabled on the host"). It is
        // reachable, so this login was refused on its credentials, however long the invocation ran.
        var reply = invocation.Lines.Select(MessageOf).FirstOrDefault(m => ConnectedText().IsMatch(m))
            ?? invocation.Lines.Select(MessageOf).FirstOrDefault(m => TlsAttemptText().IsMatch(m));
        if (reply is not null)
        {
            var how = ConnectedText().IsMatch(reply)
                ? $"although the function connected earlier in this invocation ({Quote(reply)})"
                : $"and the server answered the function's first try over TLS ({Quote(reply)}; the samples log that and fall back to a plain connection unless the secret sets \"ssl\": true)";
            return Diagnose(credentials, invocation, step, $"{Quote(line)}, {how}: the database is reachable and refused the credentials{afterSetSecret}");
        }

        // Without REPORT, the time between its first and last stamped lines is a lower bound: it can only prove "long".
        var elapsed = invocation.Duration;
        if (elapsed is null && invocation.LastTimestamp - invocation.FirstTimestamp is { } span && span >= LongLoginThreshold)
        {
            elapsed = span;
        }

        return elapsed switch
        {
            null => Diagnose(Signatures.LoginUndetermined, invocation, step,
                $"{Quote(line)}, and the log has no duration to tell a refused password from an unreachable database{tls}"),
            { } slow when slow >= LongLoginThreshold => Diagnose(Signatures.DatabaseUnreachable, invocation, step,
                $"{Quote(line)} after {Format(slow)}: longer than {Format(LongLoginThreshold)}, so the connection attempts were timing out rather than being refused"),
            { } quick => Diagnose(credentials, invocation, step,
                $"{Quote(line)} after only {Format(quick)}: the database answered and refused the credentials{afterSetSecret}{tls}"),
        };
    }

    // "current: unreachable after 4 ms": how long that probe took; unknown counts as long.
    private static double ProbeMilliseconds(string reason) =>
        ProbeElapsedText().Match(reason) is { Success: true } m ? double.Parse(m.Groups["ms"].Value, CultureInfo.InvariantCulture) : double.MaxValue;

    [GeneratedRegex(@"after (?<ms>\d+(?:\.\d+)?) ms", RegexOptions.CultureInvariant)]
    private static partial Regex ProbeElapsedText();

    /// <summary>Rows 1 and 2: where a timed-out invocation stopped says which network path is missing.</summary>
    private static LogDiagnosis? TimeoutRule(LogInvocation invocation, LogInvocation? previous)
    {
        if (!invocation.TimedOut)
        {
            return null;
        }

        var step = invocation.Step;
        var inferred = "";
        if (step is null && previous is { Succeeded: true, Step: { } previousStep } && Array.IndexOf(StepOrder, previousStep) is var index and >= 0 and < 3
            && (previous.LastTimestamp is not { } before || invocation.FirstTimestamp is not { } after || after - before <= NextStepWindow))
        {
            step = StepOrder[index + 1];
            inferred = $" (inferred: it follows a successful {previousStep}, request {previous.RequestId})";
        }

        var reached = invocation.LastMeaningfulLine is null
            ? "with nothing logged"
            : $"and the last line it reached was {Quote(invocation.LastMeaningfulLine)}";
        var duration = invocation.Duration is { } d ? $" after {Format(d)}" : "";
        if (step is "setSecret" or "testSecret")
        {
            return Diagnose(Signatures.DatabaseUnreachable, invocation, step,
                $"{step}{inferred} timed out{duration} {reached}: the database connection attempts hung until the function's timeout");
        }

        var where = step is null
            ? "no step was logged, so it never got past its first Secrets Manager call"
            : $"{step}{inferred} only talks to Secrets Manager";
        return Diagnose(Signatures.SecretsEndpointUnreachable, invocation, step, $"timed out{duration} {reached}; {where}");
    }

    private static LogDiagnosis? CloudTrailRule(LogInvocation invocation, List<string> messages)
    {
        var line = messages.FirstOrDefault(m => CloudTrailText().IsMatch(m));
        return line is null ? null : Diagnose(Signatures.GenericStepFailure, invocation, CloudTrailText().Match(line).Groups["step"].Value, Quote(line));
    }

    private static LogDiagnosis? TextRule(LogInvocation invocation, List<string> messages, LogSignature signature, Regex text)
    {
        var line = messages.FirstOrDefault(text.IsMatch);
        return line is null ? null : Diagnose(signature, invocation, invocation.Step, Quote(line));
    }

    private static IEnumerable<LogDiagnosis> Repeats(List<(LogInvocation Invocation, LogDiagnosis Diagnosis)> found) =>
        found.GroupBy(f => f.Diagnosis.Code, StringComparer.Ordinal)
            .Where(g => g.Count() >= RepeatThreshold)
            .Select(g =>
            {
                var stamps = g.Select(f => f.Invocation.FirstTimestamp).OfType<DateTimeOffset>().ToList();
                var span = stamps.Count >= 2
                    ? $" from {stamps[0]:u} to {stamps[^1]:u} (about every {Format((stamps[^1] - stamps[0]) / (stamps.Count - 1))})"
                    : "";
                var latest = g.Last();
                return new LogDiagnosis(Signatures.RetryLoop.Code, Signatures.RetryLoop.Severity, Signatures.RetryLoop.Cause,
                    $"{g.Count()} invocations failed the same way ({g.Key}: {latest.Diagnosis.Cause}){span}.",
                    Signatures.RetryLoop.Fix, latest.Diagnosis.Step, null, latest.Invocation.RequestId);
            });

    private static LogDiagnosis Diagnose(LogSignature signature, LogInvocation invocation, string? step, string detail)
    {
        var where = new List<string>();
        if (step is not null)
        {
            where.Add(step);
        }

        if (invocation.Duration is { } duration)
        {
            where.Add(Format(duration));
        }

        var request = invocation.RequestId.Length == 0 ? "Lines outside any invocation" : $"Request {invocation.RequestId}";
        var evidence = $"{request}{(where.Count == 0 ? "" : $" ({string.Join(", ", where)})")}: {detail}.";
        return new LogDiagnosis(signature.Code, signature.Severity, signature.Cause, evidence, signature.Fix, step, invocation.Duration, invocation.RequestId);
    }

    /// <summary>A log line as evidence: shortened, and with any password it carries blanked out (a driver's warning can quote the SQL that set it).</summary>
    private static string Quote(string? text)
    {
        if (text is null)
        {
            return "(nothing)";
        }

        var redacted = PasswordText().Replace(text, m => m.Groups["value"].Success ? m.Value.Replace(m.Groups["value"].Value, "***", StringComparison.Ordinal) : m.Value);
        return $"\"{(redacted.Length > QuoteLength ? redacted[..QuoteLength] + "…" : redacted)}\"";
    }

    // PASSWORD('…'), PASSWORD = '…', WITH PASSWORD '…', IDENTIFIED BY '…', "password": "…", password=…, and a URL's scheme://user:…@
    [GeneratedRegex(@"PASSWORD\s*\(\s*'(?<value>[^']*)'|PASSWORD\s*=\s*'(?<value>[^']*)'|WITH\s+PASSWORD\s+'(?<value>[^']*)'|IDENTIFIED\s+BY\s+'(?<value>[^']*)'|[""']password[""']\s*:\s*[""'](?<value>[^""']*)[""']|\bpassword=(?<value>[^\s&;,)]+)|://[^\s:/@]+:(?<value>[^\s/@]+)@",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PasswordText();

    private static string Format(TimeSpan duration) =>
        duration >= TimeSpan.FromSeconds(1)
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.##} s")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0} ms");

    [GeneratedRegex(@"Runtime\.ImportModuleError|No module named|ModuleNotFoundError|Cannot find module|cannot open shared object file|Cannot import shared library", RegexOptions.CultureInvariant)]
    private static partial Regex ImportErrorText();

    [GeneratedRegex(@"Runtime\.UserCodeSyntaxError|Syntax error in module|\bSyntaxError\b", RegexOptions.CultureInvariant)]
    private static partial Regex SyntaxErrorText();

    [GeneratedRegex(@"'cryptography' package is required|cryptography is required for|package is required for sha256_password", RegexOptions.CultureInvariant)]
    private static partial Regex CryptoPackageText();

    [GeneratedRegex(@"ThrottlingException|Rate exceeded|TooManyRequestsException|RequestLimitExceeded|Throttled|SlowDown", RegexOptions.CultureInvariant)]
    private static partial Regex ThrottledText();

    [GeneratedRegex(@"is not allowed to use this Lambda function for rotation", RegexOptions.CultureInvariant)]
    private static partial Regex NotAllowedText();

    [GeneratedRegex(@"DPY-(?:3001|3010|3015|4011|6000|6005)|Native Network Encryption|DPI-1047|thick mode", RegexOptions.CultureInvariant)]
    private static partial Regex OracleDriverText();

    [GeneratedRegex(@"'Collection' object is not callable|has no attribute 'authenticate'", RegexOptions.CultureInvariant)]
    private static partial Regex MongoDriverText();

    [GeneratedRegex(@"did not reached? the active status|InvalidUserStateFault|InvalidReplicationGroupStateFault|InvalidUserGroupStateFault", RegexOptions.CultureInvariant)]
    private static partial Regex ElastiCacheText();

    [GeneratedRegex(@"Adaptive Server connection failed|Adaptive Server is unavailable|DB-Lib error message 200(?:02|09)", RegexOptions.CultureInvariant)]
    private static partial Regex SqlServerText();

    [GeneratedRegex(@"ResourceNotFoundException|can't find the specified secret", RegexOptions.CultureInvariant)]
    private static partial Regex NotFoundText();

    [GeneratedRegex(@"Runtime exited|signal: killed|Runtime\.ExitError|Runtime\.OutOfMemory|\bMemoryError\b", RegexOptions.CultureInvariant)]
    private static partial Regex RuntimeCrashText();

    [GeneratedRegex(@"(?:EndpointConnectionError|ConnectTimeoutError|Could not connect to the endpoint URL|Connect timeout on endpoint URL|ReadTimeoutError)[^\n]*secretsmanager", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex SecretsEndpointText();

    [GeneratedRegex(@"[Cc]onnection refused|\bECONNREFUSED\b|actively refused", RegexOptions.CultureInvariant)]
    private static partial Regex RefusedText();

    [GeneratedRegex(@"[Cc]ould not connect to server|Can't connect to (?:MySQL|MariaDB) server|No route to host|Name or service not known|nodename nor servname|Temporary failure in name resolution|ServerSelectionTimeoutError|[Cc]onnection timed out|\(timed out\)|[Tt]imeout expired|ORA-12170|ORA-12541|\b(?:ETIMEDOUT|ENOTFOUND|EHOSTUNREACH)\b",
        RegexOptions.CultureInvariant)]
    private static partial Regex UnreachableText();

    // The samples' TLS attempt, logged before they fall back to a plain connection (connect_and_authenticate).
    [GeneratedRegex(@"SSL/TLS is not enabled on the host|check that SSL/TLS is enabled on the host|Hostname verification failed when estlablishing SSL/TLS", RegexOptions.CultureInvariant)]
    private static partial Regex TlsAttemptText();

    [GeneratedRegex(@"SSL/TLS is enforced on the host", RegexOptions.CultureInvariant)]
    private static partial Regex TlsEnforcedText();

    [GeneratedRegex(@"^Successfully established (?:SSL/TLS|non SSL/TLS) connection", RegexOptions.CultureInvariant)]
    private static partial Regex ConnectedText();

    [GeneratedRegex(@"AccessDenied|not authorized|Throttl|Rate exceeded|TooManyRequests", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex DeniedOrThrottledText();

    [GeneratedRegex(@"\bkms:|Access to KMS is not allowed|KMSAccessDenied|KMSInvalidState|KMSDisabled|KMS key|customer master key|DecryptionFailure|EncryptionFailure", RegexOptions.CultureInvariant)]
    private static partial Regex KmsText();

    [GeneratedRegex(@"AccessDenied|is not authorized to perform|UnauthorizedOperation", RegexOptions.CultureInvariant)]
    private static partial Regex AccessDeniedText();

    [GeneratedRegex(@"A previous rotation isn.t complete|previous rotation is not complete", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PreviousRotationText();

    [GeneratedRegex(@"has no stage for rotation", RegexOptions.CultureInvariant)]
    private static partial Regex NoStageText();

    [GeneratedRegex(@"not set as AWSPENDING for rotation", RegexOptions.CultureInvariant)]
    private static partial Regex NotPendingText();

    [GeneratedRegex(@"is not enabled for rotation", RegexOptions.CultureInvariant)]
    private static partial Regex NotEnabledText();

    [GeneratedRegex(@"Unable to (?:clone|alternate) user|username length with _clone appended", RegexOptions.CultureInvariant)]
    private static partial Regex CloneNameText();

    [GeneratedRegex(@"KeyError|key is missing from secret JSON|Database engine must be set to|The secret JSON|secret value is not (?:valid JSON|a JSON object)|'masterarn' field|JSONDecodeError|has no user_arn defined|Invalid secret value json", RegexOptions.CultureInvariant)]
    private static partial Regex SecretJsonText();

    [GeneratedRegex(@"Attempting to modify user", RegexOptions.CultureInvariant)]
    private static partial Regex OtherUserText();

    [GeneratedRegex(@"is not the same host as", RegexOptions.CultureInvariant)]
    private static partial Regex HostMismatchText();

    [GeneratedRegex(@"SHOW GRANTS|Reading the grants of|GRANT OPTION|%%%|Access denied for user '[^']*_clone'", RegexOptions.CultureInvariant)]
    private static partial Regex GrantCopyText();

    [GeneratedRegex(@"have different privileges", RegexOptions.CultureInvariant)]
    private static partial Regex PrivilegeDriftText();

    [GeneratedRegex(@"Hostname verification failed|host ?name mismatch|certificate is not valid for", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex HostnameText();

    [GeneratedRegex(@"SSL/TLS is (?:not enabled|enforced) on the host|check that SSL/TLS is enabled on the host|no pg_hba\.conf entry|SCRAM authentication requires libpq|authentication method 10 not supported|insecure transport are prohibited|require_secure_transport|\[3159\]|\(3159,|certificate verify failed|Authentication plugin '[^']+' (?:cannot be loaded|is not supported)|\(2059,|unsupported authentication method|authentication method \d+ not supported", RegexOptions.CultureInvariant)]
    private static partial Regex TlsText();

    [GeneratedRegex(@"database ""[^""]*"" does not exist|Unknown database|\[3D000\]|\[1049\]|\(1049,", RegexOptions.CultureInvariant)]
    private static partial Regex UnknownDatabaseText();

    [GeneratedRegex(@"Unable to log into database (?:(?<pending>with pending secret)|(?<current>using current credentials)|(?<master>using credentials in master secret)|with previous, current, or pending secret)|(?<master>Unable to read the master secret)|(?<driver>password authentication failed for user|Access denied for user|Login failed for user|ORA-01017|invalid username/password|Authentication failed)", RegexOptions.CultureInvariant)]
    private static partial Regex LoginFailedText();

    // Keyturn's reasons: "(pending: wrong-password [28P01] after 3 ms; current: unreachable after 5002 ms)".
    [GeneratedRegex(@"(?<label>[A-Za-z]+): (?<reason>[a-z]+(?:-[a-z]+)*)(?: \[(?<code>[^\]]*)\])? after (?<ms>[0-9]+) ms", RegexOptions.CultureInvariant)]
    private static partial Regex ProbeReasonText();

    [GeneratedRegex(@"Error when executing lambda \S+ during (?<step>\w+) step", RegexOptions.CultureInvariant)]
    private static partial Regex CloudTrailText();

    [GeneratedRegex(@"Error|Exception|Unable|failed|refus", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ErrorishText();

    /// <summary>The catalog: codes follow the rows of the recovery guide's §4 (LOG0NN = row NN); 030+ have no row.</summary>
    private static class Signatures
    {
        public static readonly LogSignature SecretsEndpointUnreachable = new("LOG001", Severity.Error,
            "The rotation function can't reach the Secrets Manager endpoint",
            "The function runs in a VPC with no way to Secrets Manager: add a com.amazonaws.<region>.secretsmanager interface VPC endpoint with private DNS enabled "
            + "(its security group must admit 443 from the function), or route the function's subnets to a NAT gateway; allow the function's security group egress on 443; "
            + "check NACLs and the endpoint policy. No label change is needed. The doctor's AWS network checks name the missing piece.");

        public static readonly LogSignature DatabaseUnreachable = new("LOG002", Severity.Error,
            "The rotation function has no network path to the database",
            "Put the function in the database's VPC (or a peered one), allow its security group egress to the database port and the database's security group ingress "
            + "from the function's security group or subnets; check routes and NACLs. Leave the labels alone until a login probe answers.");

        public static readonly LogSignature DatabaseRefused = new("LOG031", Severity.Error,
            "The database refused the rotation's connections: it is down, or not listening on the secret's host and port",
            "Start the database, or correct host and port in the secret (every labelled version); the rotation resumes on its next attempt. "
            + "Leave the labels alone until a login probe answers.");

        public static readonly LogSignature CredentialDesync = new("LOG003", Severity.Error,
            "The database refuses every stored credential (credential desync)",
            "The password was changed out of band, the database restored from a snapshot, or the user dropped. Run keyturn doctor: it probes each version, "
            + "scans older versions for the working one and proposes the label repair. Never remove AWSPENDING or rotate again blindly.");

        public static readonly LogSignature UnknownDatabase = new("LOG004", Severity.Error,
            "The secret names a database that doesn't exist",
            "Fix or remove the secret's 'dbname' (PostgreSQL defaults to 'postgres'); the passwords are not the problem, so don't change them.");

        public static readonly LogSignature TlsOrAuthMethod = new("LOG005", Severity.Error,
            "TLS or authentication-method mismatch with the database",
            "If the server requires TLS, set \"ssl\": true in the secret; if it uses scram-sha-256, the function needs libpq 10+ (AWS functions created before "
            + "2021-12-30 don't have it, and ones created before 2021-12-20 can't do TLS): recreate the function from the current template.");

        public static readonly LogSignature HostnameVerification = new("LOG006", Severity.Error,
            "TLS host name verification failed",
            "Set 'host' to a name the server certificate carries (the RDS instance or cluster endpoint, not an IP or a CNAME); don't turn verification off.");

        public static readonly LogSignature SecretJsonIncomplete = new("LOG007", Severity.Error,
            "The secret's JSON is incomplete or wrong for this rotation function",
            "Store a complete value (engine, host, username, password; masterarn for alternating users) as a new version; keyturn doctor lists every staged version "
            + "that fails validation. Don't put a value over AWSCURRENT while a rotation runs: that abandons it.");

        public static readonly LogSignature StaleInvocation = new("LOG008", Severity.Warning,
            "An invocation for a token that has no stage (an old retry or a hand-made invoke)",
            "Nothing to do for that invocation; if AWSPENDING sits on another version, run keyturn doctor to settle the labels.");

        public static readonly LogSignature AbandonedRotation = new("LOG009", Severity.Error,
            "The rotation was abandoned: its version lost AWSPENDING mid-rotation",
            "A value written during the rotation (or a hand-made label move) abandoned it. The database may already carry the abandoned version's password: "
            + "run keyturn doctor, which probes every labelled version before anything moves.");

        public static readonly LogSignature RotationDisabled = new("LOG010", Severity.Warning,
            "Rotation was disabled or cancelled while a rotation was running",
            "Run keyturn doctor to settle the leftover AWSPENDING by probing, then turn rotation on again.");

        public static readonly LogSignature PreviousRotationIncomplete = new("LOG011", Severity.Error,
            "A previous rotation isn't complete: AWSPENDING is stuck on a version other than AWSCURRENT",
            "Don't just remove AWSPENDING: run keyturn doctor, which probes AWSCURRENT and AWSPENDING and then cleans up, rolls forward or rolls back; "
            + "fix the failure that stopped the rotation so the retry can finish.");

        public static readonly LogSignature GenericStepFailure = new("LOG012", Severity.Warning,
            "A rotation step failed (the generic RotationFailed text)",
            "The reason is only in the rotation function's own log for that step: fetch its log group and analyze those lines.");

        public static readonly LogSignature SecretAccessDenied = new("LOG013", Severity.Error,
            "The rotation function isn't allowed to use a secret",
            "Grant the execution role secretsmanager:DescribeSecret, GetSecretValue, PutSecretValue and UpdateSecretVersionStage on the secret, GetSecretValue on "
            + "the master secret (alternating users) and GetRandomPassword on *; check the secrets' resource policies.");

        public static readonly LogSignature KmsDenied = new("LOG014", Severity.Error,
            "The rotation function can't use the secret's KMS key",
            "Allow kms:Decrypt and kms:GenerateDataKey for the execution role in both the key policy and IAM (mind kms:ViaService conditions).");

        public static readonly LogSignature FinishDenied = new("LOG015", Severity.Critical,
            "finishSecret couldn't move AWSCURRENT (denied or throttled)",
            "The database may already use the pending password (single user): grant UpdateSecretVersionStage or wait out the throttling, then roll forward. "
            + "keyturn doctor probes and moves AWSCURRENT to the pending version; never remove AWSPENDING here.");

        public static readonly LogSignature Propagation = new("LOG016", Severity.Warning,
            "The new password wasn't accepted yet right after setSecret (propagation)",
            "Retry testSecret with backoff (a replica, a proxy or an asynchronous password change lags); don't generate a new password. If it persists, "
            + "the pending password never reached the database: run keyturn doctor.");

        public static readonly LogSignature CurrentRefused = new("LOG017", Severity.Error,
            "AWSCURRENT doesn't log in, and alternating users can't heal that",
            "The labels moved without the database (or it changed out of band): roll AWSCURRENT back to the version that works, or apply its password through the "
            + "master secret; keyturn doctor probes and proposes the move.");

        public static readonly LogSignature MasterRefused = new("LOG018", Severity.Error,
            "The master secret doesn't log in (or can't be read)",
            "Check the master secret first: it may be mid-rotation, rotated by RDS, or lack host; rotate the children only once the master is stable.");

        public static readonly LogSignature HostMismatch = new("LOG019", Severity.Error,
            "The secret's host doesn't match the master secret's host",
            "Use the same endpoint in both secrets (cluster vs instance endpoint, no CNAMEs), or point the child at a replica of the master.");

        public static readonly LogSignature UserOrHostDrift = new("LOG020", Severity.Error,
            "The pending version names another user or host than AWSCURRENT",
            "AWSCURRENT was edited after the pending version was made. Once a probe shows the database never got the pending password, remove AWSPENDING "
            + "(keyturn doctor does) and rotate again, so the new pending version is made from today's AWSCURRENT.");

        public static readonly LogSignature CloneNameTooLong = new("LOG021", Severity.Error,
            "The user name can't be alternated (too long with _clone appended)",
            "Shorten the user name (PostgreSQL: 63 bytes; MySQL: 16 characters in AWS's function, 32 in Keyturn's) or use the single-user strategy.");

        public static readonly LogSignature GrantCopyFailed = new("LOG022", Severity.Error,
            "Copying the user's grants to the clone failed (MySQL)",
            "Replaying grants needs GRANT OPTION for the master and a user defined at host '%' (AWS issues #90, #101; escaped wildcards pile up, #85). "
            + "Fix the grants by hand, or use Keyturn's MySQL rotator, which resolves the real user@host and compares privileges structurally.");

        public static readonly LogSignature PrivilegeDrift = new("LOG023", Severity.Error,
            "The two alternating users don't have the same privileges",
            "Grant what is missing (or have a shared role own the objects) so both users are interchangeable, then rotate again.");

        public static readonly LogSignature DriverMissing = new("LOG026", Severity.Error,
            "The rotation function can't load its database driver",
            "Native drivers are built for one Python version: redeploy the function from the Serverless Application Repository for its runtime, or use Keyturn's built-in rotators.");

        public static readonly LogSignature CodeSyntaxError = new("LOG033", Severity.Error,
            "The function's code or a package it bundles doesn't load: syntax error",
            "A package built for another Python version, or the wrong package under the module's name (PyPI's 'pg' is not PyGreSQL; the samples need "
            + "PyGreSQL for pg/pgdb): rebuild the deployment package for the function's runtime, or redeploy it from the Serverless Application Repository.");

        public static readonly LogSignature DriverNeedsCrypto = new("LOG032", Severity.Error,
            "The database driver needs an optional package for the server's authentication method",
            "PyMySQL needs the 'cryptography' package for caching_sha2_password and sha256_password (MySQL 8's default): bundle it built for the function's "
            + "runtime and architecture (pip install --platform manylinux2014_x86_64 --only-binary=:all: cryptography), or give the user mysql_native_password.");

        public static readonly LogSignature SqlServerConnection = new("LOG034", Severity.Error,
            "The SQL Server driver couldn't open a connection (DB-Lib 20002/20009)",
            "pymssql reports TLS, network and server refusals alike: if rds.force_ssl is on, the function's FreeTDS must support TLS (current template); otherwise "
            + "check the security groups and the port (1433), then keyturn doctor's network checks.");

        public static readonly LogSignature OracleDriver = new("LOG035", Severity.Error,
            "The Oracle driver (python-oracledb) can't connect with the database's network settings",
            "Thin mode can't do Native Network Encryption (DPY-3001): use TLS (TCPS, port 2484) or thick mode with Instant Client; DPY-6005 with an SSL error "
            + "means the listener doesn't speak TLS on that port. Check the secret's port and the option group.");

        public static readonly LogSignature MongoDriver = new("LOG036", Severity.Error,
            "The MongoDB driver doesn't fit the rotation function",
            "pymongo 4 removed Database.authenticate, which the samples call: bundle pymongo 3.x (or the version the template names), or update the function.");

        public static readonly LogSignature ElastiCacheUser = new("LOG037", Severity.Error,
            "The ElastiCache user didn't take the new password (not active, or modifying)",
            "Wait until the user and its replication group are 'active', check the function may call elasticache:ModifyUser and DescribeUsers on the user, "
            + "then rotate again; a user changed by hand mid-rotation keeps the old password.");

        public static readonly LogSignature NotAllowedByFunction = new("LOG038", Severity.Error,
            "The rotation function refuses this secret or user (its allow-list)",
            "The function only rotates the secrets or users named in its environment (SECRETS_ALLOWED, USER_NAMES…): add this one, or attach the right function.");

        public static readonly LogSignature Throttled = new("LOG039", Severity.Warning,
            "An AWS API throttled the rotation function",
            "Transient: the rotation is retried. If it persists, spread rotation schedules (many secrets on one function at the same hour) and raise the "
            + "SDK's retry limit (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE=adaptive).");

        public static readonly LogSignature NotFound = new("LOG040", Severity.Error,
            "A secret or version the function asked for doesn't exist",
            "Check the secret ARNs the function uses (masterarn, the endpoint's region and account) and that the version still exists; an invocation for a "
            + "token that lost its version is stale. keyturn doctor lists the versions and their labels.");

        public static readonly LogSignature RuntimeCrashed = new("LOG041", Severity.Error,
            "The function's runtime crashed (killed or out of memory)",
            "Raise the function's memory, look for a native driver crashing on this runtime, and rerun; the step is retried from its start.");

        public static readonly LogSignature NothingFound = new("LOG097", Severity.Info,
            "The rotation log shows no failure the analysis knows",
            "If rotation works, nothing to do. If it fails, the failing step's lines aren't in what was read: pass the function's log for that time "
            + "(CloudWatch group /aws/lambda/FUNCTION) with --log-file, including START, END and REPORT lines.");

        public static readonly LogSignature RetryLoop = new("LOG028", Severity.Warning,
            "The same failure repeats on every retry",
            "Retrying won't clear a permanent failure (credentials, schema, permissions): fix the cause named with the same code. Keyturn stops permanent failures "
            + "at once and backs off from transient ones.");

        public static readonly LogSignature LoginUndetermined = new("LOG030", Severity.Error,
            "A login failed, and the log doesn't say why",
            "Run keyturn doctor's login probes: they tell a wrong password from an unreachable database, TLS or a missing database.");

        public static readonly LogSignature Unrecognized = new("LOG099", Severity.Error,
            "The rotation failed for a reason the log analysis doesn't know",
            "Read the quoted error; keyturn doctor's login probes and network checks narrow it down.");

        public static IReadOnlyList<LogSignature> All { get; } =
        [
            SecretsEndpointUnreachable, DatabaseUnreachable, DatabaseRefused, CredentialDesync, UnknownDatabase, TlsOrAuthMethod, HostnameVerification, SecretJsonIncomplete,
            StaleInvocation, AbandonedRotation, RotationDisabled, PreviousRotationIncomplete, GenericStepFailure, SecretAccessDenied, KmsDenied, FinishDenied,
            Propagation, CurrentRefused, MasterRefused, HostMismatch, UserOrHostDrift, CloneNameTooLong, GrantCopyFailed, PrivilegeDrift, DriverMissing,
            RetryLoop, LoginUndetermined, CodeSyntaxError, DriverNeedsCrypto, SqlServerConnection, OracleDriver, MongoDriver, ElastiCacheUser, NotAllowedByFunction,
            Throttled, NotFound, RuntimeCrashed, NothingFound, Unrecognized,
        ];
    }
}
