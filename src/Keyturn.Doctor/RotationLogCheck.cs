using Keyturn.Application.Logs;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Doctor;
using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>
/// The log check: reads what the rotation function wrote about the secret and lets the pure
/// <see cref="LogScope"/>/<see cref="LogAnalyzer"/> name the causes (or say what was read when none matched). The log comes from <c>--log-file</c>
/// (a file, or <c>-</c> for stdin), else from the function's log group through the CloudWatch Logs API:
/// Keyturn serves its rotation logs on its own endpoint, AWS on logs.REGION.
/// </summary>
internal sealed class RotationLogCheck(AwsInspector inspector, string? logFile, TimeProvider timeProvider)
{
    // How far back a log is read when the secret never rotated; and how many of the newest streams are read whole.
    private static readonly TimeSpan LongestLookBack = TimeSpan.FromDays(30);
    private const int StreamsRead = 20;

    private string? _fileText;

    /// <summary>The log's findings; a failed read goes to <paramref name="failures"/> (classified by cause, one IAM policy for all refusals) instead.</summary>
    public async Task<IReadOnlyList<Finding>> FindingsAsync(
        string secretArn, string secretName, string? function, DateTimeOffset? lastRotated, ICollection<ReadFailure> failures, CancellationToken cancellationToken)
    {
        if (logFile is not null)
        {
            _fileText ??= logFile == "-"
                ? await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false)
                : await File.ReadAllTextAsync(logFile, cancellationToken).ConfigureAwait(false);
            return Summarize(LogScope.Analyze([_fileText], secretArn, secretName), $"--log-file {logFile}");
        }

        if (function is null)
        {
            return [];
        }

        var group = RotationLogHistory.GroupOf(RotationFunctionRegistry.NameOf(function));
        var now = timeProvider.GetUtcNow();

        // The failures that matter came after the last success; a little earlier, so that success's own lines are read too.
        var since = lastRotated is { } last && now - last < LongestLookBack ? last - TimeSpan.FromMinutes(15) : now - LongestLookBack;
        try
        {
            // The streams that speak of the secret (or of a timeout, which may come before the function names any secret) ...
            var hits = await inspector.FilterLogEventsAsync(group, since, $"?\"{secretArn}\" ?\"Task timed out\"", null, cancellationToken).ConfigureAwait(false);
            if (hits is null)
            {
                return [new Finding("LOG000", Severity.Info, $"No log group {group}", "The rotation function has never written a log line here.", "Nothing to read; if a rotation ran, check where the function logs.")];
            }

            var streams = hits.GroupBy(e => e.Stream, StringComparer.Ordinal).OrderByDescending(g => g.Max(e => e.Timestamp)).Take(StreamsRead).Select(g => g.Key).ToList();
            if (streams.Count == 0)
            {
                // Never an empty section: say what was searched.
                return [LogAnalyzer.NothingFound($"No line of {group} since {since.UtcDateTime:yyyy-MM-dd HH:mm} UTC names this secret or a timeout.")];
            }

            // ... read whole, since START, END and REPORT lines don't name the secret.
            var events = await inspector.FilterLogEventsAsync(group, since, null, streams, cancellationToken).ConfigureAwait(false) ?? [];
            return Summarize(LogScope.Analyze(events.OrderBy(e => e.Timestamp).Select(e => e.Message), secretArn, secretName), $"{group} since {since.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        }
        catch (Exception e) when (AwsReads.IsReadFailure(e, cancellationToken))
        {
            failures.Add(AwsReads.Failure("logs:FilterLogEvents", LogGroupArn(function, group), $"the rotation function's log {group} (or pass it with --log-file FILE, - for stdin)", e));
            return [];
        }
    }

    /// <summary>The log group's ARN in the function's account and region (arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME), for the IAM policy.</summary>
    private static string? LogGroupArn(string function, string group) =>
        function.Split(':') is ["arn", var partition, "lambda", { Length: > 0 } region, { Length: > 0 } account, "function", ..]
            ? $"arn:{partition}:logs:{region}:{account}:log-group:{group}:*"
            : null;

    // Say where the log came from, so the evidence can be checked by hand.
    private static IReadOnlyList<Finding> Summarize(IReadOnlyList<Finding> findings, string source) =>
        findings.Select(f => f with { Evidence = $"{f.Evidence} (log: {source})" }).ToList();
}
