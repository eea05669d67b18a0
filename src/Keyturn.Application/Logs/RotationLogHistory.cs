using System.Text.RegularExpressions;
using Keyturn.Domain.Logs;

namespace Keyturn.Application.Logs;

/// <summary>
/// What <c>keyturn logs</c> prints. A secret's history is every invocation (START … REPORT, one
/// request id) in which some line mentions the secret, with all of that invocation's lines; a
/// function's tail is simply the newest lines of its group.
/// </summary>
public sealed partial class RotationLogHistory(ILogStore store)
{
    public const string GroupPrefix = "/aws/lambda/";

    private const int PageSize = 10000;

    public static string GroupOf(string functionName) => GroupPrefix + functionName;

    /// <summary>
    /// The newest <paramref name="limit"/> lines of the invocations that concerned the secret, oldest
    /// first. <paramref name="secretId"/> is an ARN (exactly that secret) or a name (every secret ARN
    /// with that name, so the history of a deleted and re-created secret reads as one).
    /// </summary>
    public async Task<IReadOnlyList<LogHistoryLine>> ForSecretAsync(string secretId, int limit, CancellationToken cancellationToken)
    {
        var (patternText, mentions) = SecretMatcher(secretId);
        var pattern = LogFilterPattern.Parse(patternText);
        var selected = new List<LogHistoryLine>();
        foreach (var group in await GroupsAsync(cancellationToken).ConfigureAwait(false))
        {
            var streams = new SortedSet<string>(StringComparer.Ordinal);
            LogEventPosition? from = null;
            do
            {
                var result = await store.FilterAsync(new LogFilterQuery(
                    group, null, null, null, null, pattern, from, PageSize, int.MaxValue, int.MaxValue), cancellationToken).ConfigureAwait(false);
                streams.UnionWith(result.Events.Where(e => mentions(e.Message)).Select(e => e.StreamName));
                from = result.ResumeFrom;
            }
            while (from is not null);

            foreach (var stream in streams)
            {
                var events = await ReadStreamAsync(group, stream, cancellationToken).ConfigureAwait(false);
                selected.AddRange(Invocations(events)
                    .Where(invocation => invocation.Any(e => mentions(e.Message)))
                    .SelectMany(invocation => invocation)
                    .Select(e => new LogHistoryLine(group, stream, e.TimestampMs, e.Id, e.Message)));
            }
        }

        return Newest(selected, limit);
    }

    /// <summary>The newest <paramref name="limit"/> lines of a function's group, oldest first; null when it has no group.</summary>
    public async Task<IReadOnlyList<LogHistoryLine>?> ForFunctionAsync(string functionName, int limit, CancellationToken cancellationToken)
    {
        var group = GroupOf(functionName);
        if (await store.FindGroupAsync(group, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        var result = await store.FilterAsync(new LogFilterQuery(
            group, null, null, null, null, LogFilterPattern.All, null, limit, int.MaxValue, int.MaxValue, Backward: true), cancellationToken).ConfigureAwait(false);
        return [.. result.Events.Select(e => new LogHistoryLine(group, e.StreamName, e.TimestampMs, e.Id, e.Message))];
    }

    /// <summary>
    /// Splits a stream into invocations. A line naming a request id (START/END/REPORT, or the
    /// <c>[LEVEL]\ttime\tid\t</c> prefix) belongs to it; any other line to the invocation open at the time.
    /// </summary>
    internal static IReadOnlyList<IReadOnlyList<LogEventRecord>> Invocations(IReadOnlyList<LogEventRecord> events)
    {
        var byRequest = new Dictionary<string, List<LogEventRecord>>(StringComparer.Ordinal);
        var ordered = new List<List<LogEventRecord>>();
        List<LogEventRecord>? open = null;
        foreach (var e in events)
        {
            var requestId = RequestIdOf(e.Message);
            List<LogEventRecord> invocation;
            if (requestId is null)
            {
                invocation = open ?? [];
            }
            else if (!byRequest.TryGetValue(requestId, out invocation!))
            {
                invocation = byRequest[requestId] = [];
            }

            if (invocation.Count == 0)
            {
                ordered.Add(invocation);
            }

            invocation.Add(e);
            if (e.Message.StartsWith("START RequestId: ", StringComparison.Ordinal))
            {
                open = invocation;
            }
            else if (e.Message.StartsWith("REPORT RequestId: ", StringComparison.Ordinal) && open == invocation)
            {
                open = null;
            }
        }

        return ordered;
    }

    internal static string? RequestIdOf(string message)
    {
        var match = RequestIdPattern().Match(message);
        return match.Success ? match.Groups["id"].Value : null;
    }

    private static (string Pattern, Func<string, bool> Mentions) SecretMatcher(string secretId)
    {
        if (secretId.StartsWith("arn:", StringComparison.Ordinal))
        {
            return (Quote(secretId), message => message.Contains(secretId, StringComparison.Ordinal));
        }

        // A secret's ARN ends in its name, a hyphen and six random characters.
        var arn = new Regex(":secret:" + Regex.Escape(secretId) + "-[A-Za-z0-9]{6}(?![A-Za-z0-9])", RegexOptions.CultureInvariant);
        return (Quote(":secret:" + secretId + "-"), arn.IsMatch);
    }

    private static string Quote(string term) => "\"" + term.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private async Task<List<string>> GroupsAsync(CancellationToken cancellationToken)
    {
        var groups = new List<string>();
        while (true)
        {
            var page = await store.DescribeGroupsAsync(
                new LogGroupQuery(GroupPrefix, null, null, groups.Count == 0 ? null : groups[^1], 1000), cancellationToken).ConfigureAwait(false);
            groups.AddRange(page.Select(g => g.Name));
            if (page.Count < 1000)
            {
                return groups;
            }
        }
    }

    private async Task<List<LogEventRecord>> ReadStreamAsync(string group, string stream, CancellationToken cancellationToken)
    {
        var events = new List<LogEventRecord>();
        var from = LogEventPosition.Head;
        while (true)
        {
            var page = await store.ReadStreamAsync(
                new LogStreamEventsQuery(group, stream, null, null, from, Forward: true, PageSize, int.MaxValue), cancellationToken).ConfigureAwait(false);
            events.AddRange(page);
            if (page.Count < PageSize)
            {
                return events;
            }

            from = page[^1].Position;
        }
    }

    private static List<LogHistoryLine> Newest(List<LogHistoryLine> lines, int limit)
    {
        lines.Sort((a, b) => a.TimestampMs != b.TimestampMs ? a.TimestampMs.CompareTo(b.TimestampMs) : a.EventId.CompareTo(b.EventId));
        return lines.Count > limit ? lines[^limit..] : lines;
    }

    // START/END/REPORT RequestId: ID, "[INFO]\t<time>\tID\t…", and Lambda's "<time> ID Task timed out …".
    [GeneratedRegex(@"^(?:(?:START|END|REPORT) RequestId: (?<id>[^\s]+)|\[[A-Z]+\]\t\d{4}-\d\d-\d\dT[^\t]*\t(?<id>[^\t]+)\t|\d{4}-\d\d-\d\dT[^\s]+ (?<id>[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}) )")]
    private static partial Regex RequestIdPattern();
}

public sealed record LogHistoryLine(string GroupName, string StreamName, long TimestampMs, long EventId, string Message);
