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
        // The engine's "invoking" note names the secret, whose name must not match a signature.
        var messages = invocation.Lines.Select(MessageOf).Where(m => m.Length > 0 && !InvokingLine().IsMatch(m)).ToList();
        if (!invocation.Failed)
        {
            // Texts that report a failure on their own, even in a line logged at INFO (or pasted alone).
            return TextRule(invocation, messages, Signatures.PreviousRotationIncomplete, PreviousRotationText())
                ?? CloudTrailRule(invocation, messages);
        }

        var step = invocation.Step;
        if (TextRule(invocation, messages, Signatures.DriverMissing, ImportErrorText()) is { } importError)
        {
            return importError;
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
            (Signatures.PreviousRotationIncomplete, PreviousRotationText()),
            (Signatures.StaleInvocation, NoStageText()),
            (Signatures.AbandonedRotation, NotPendingText()),
            (Signatures.RotationDisabled, NotEnabledText()),
            (Signatures.CloneNameTooLong, CloneNameText()),
            (Signatures.SecretJsonIncomplete, SecretJsonText()),
            (Signatures.UserOrHostDrift, OtherUserText()),
            (Signatures.HostMismatch, HostMismatchText()),
            (Signatures.GrantCopyFailed, GrantCopyText()),
            (Signatures.PrivilegeDrift, PrivilegeDriftText()),
            (Signatures.HostnameVerification, HostnameText()),
            (Signatures.TlsOrAuthMethod, TlsText()),
            (Signatures.UnknownDatabase, UnknownDatabaseText()),
        ];
        foreach (var (signature, text) in textRules)
        {
            if (TextRule(invocation, messages, signature, text) is { } diagnosis)
            {
                return diagnosis;
            }
        }

        return LoginRule(invocation, previous, messages)
            ?? CloudTrailRule(invocation, messages)
            ?? TimeoutRule(invocation, previous)
            ?? Diagnose(Signatures.Unrecognized, invocation, step,
                messages.FirstOrDefault(m => ErrorishText().IsMatch(m)) is { } error ? Quote(error) : $"the last line it reached: {Quote(invocation.LastMeaningfulLine)}");
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
            return Diagnose(Signatures.CredentialDesync, invocation, step, $"the database refused the credentials: {Quote(line)}");
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
            return Diagnose(signature, invocation, step, answered + (signature == credentials ? afterSetSecret : ""));
        }

        // Without REPORT, the time between its first and last stamped lines is a lower bound: it can only prove "long".
        var elapsed = invocation.Duration;
        if (elapsed is null && invocation.LastTimestamp - invocation.FirstTimestamp is { } span && span >= LongLoginThreshold)
        {
            elapsed = span;
        }

        return elapsed switch
        {
            null => Diagnose(Signatures.LoginUndetermined, invocation, step, $"{Quote(line)}, and the log has no duration to tell a refused password from an unreachable database"),
            { } slow when slow >= LongLoginThreshold => Diagnose(Signatures.DatabaseUnreachable, invocation, step,
                $"{Quote(line)} after {Format(slow)}: longer than {Format(LongLoginThreshold)}, so the connection attempts were timing out rather than being refused"),
            { } quick => Diagnose(credentials, invocation, step,
                $"{Quote(line)} after only {Format(quick)}: the database answered and refused the credentials{afterSetSecret}"),
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

    private static string Quote(string? text) =>
        text is null ? "(nothing)" : $"\"{(text.Length > QuoteLength ? text[..QuoteLength] + "…" : text)}\"";

    private static string Format(TimeSpan duration) =>
        duration >= TimeSpan.FromSeconds(1)
            ? string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.##} s")
            : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:0} ms");

    [GeneratedRegex(@"Runtime\.ImportModuleError|No module named", RegexOptions.CultureInvariant)]
    private static partial Regex ImportErrorText();

    [GeneratedRegex(@"AccessDenied|not authorized|Throttl|Rate exceeded|TooManyRequests", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex DeniedOrThrottledText();

    [GeneratedRegex(@"\bkms:|Access to KMS is not allowed|KMSAccessDenied|KMSInvalidState|KMS key|DecryptionFailure|EncryptionFailure", RegexOptions.CultureInvariant)]
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

    [GeneratedRegex(@"KeyError|key is missing from secret JSON|Database engine must be set to|The secret JSON|secret value is not (?:valid JSON|a JSON object)|'masterarn' field|JSONDecodeError", RegexOptions.CultureInvariant)]
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

    [GeneratedRegex(@"SSL/TLS is (?:not enabled|enforced) on the host|no pg_hba\.conf entry|SCRAM authentication requires libpq|authentication method 10 not supported|insecure transport are prohibited|require_secure_transport|\[3159\]|\(3159,|certificate verify failed", RegexOptions.CultureInvariant)]
    private static partial Regex TlsText();

    [GeneratedRegex(@"database ""[^""]*"" does not exist|Unknown database|\[3D000\]|\[1049\]|\(1049,", RegexOptions.CultureInvariant)]
    private static partial Regex UnknownDatabaseText();

    [GeneratedRegex(@"Unable to log into database (?:(?<pending>with pending secret)|(?<current>using current credentials)|(?<master>using credentials in master secret)|with previous, current, or pending secret)|(?<master>Unable to read the master secret)|(?<driver>password authentication failed for user|Access denied for user)", RegexOptions.CultureInvariant)]
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
            RetryLoop, LoginUndetermined, Unrecognized,
        ];
    }
}
