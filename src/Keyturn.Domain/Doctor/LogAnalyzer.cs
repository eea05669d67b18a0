using System.Globalization;
using System.Text.RegularExpressions;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// One invocation of a rotation function as its log shows it: the lines between START and REPORT (and
/// any line carrying its request id, such as Lambda's <c>Task timed out</c> line written after REPORT).
/// </summary>
/// <param name="RequestId">The Lambda request id; empty for lines that belong to no identifiable invocation.</param>
/// <param name="Step">The rotation step the lines name (<c>createSecret</c> …), or null when nothing says.</param>
/// <param name="Duration">REPORT's <c>Duration</c>, else the seconds of the timeout line.</param>
/// <param name="LastMeaningfulLine">The last message the function itself wrote (runtime bookkeeping,
/// traceback frames and restated exceptions left out): where it got to before it stopped.</param>
public sealed record LogInvocation(string RequestId, string? Step, TimeSpan? Duration, bool TimedOut, IReadOnlyList<string> Lines, string? LastMeaningfulLine)
{
    /// <summary>
    /// Timed out, wrote an error or a traceback, or the runtime reported an error. The TLS line AWS's samples
    /// log before falling back to a plain connection doesn't count when the function went on past it.
    /// </summary>
    public bool Failed => TimedOut || LogAnalyzer.DecisiveLines(Lines).Any(LogAnalyzer.IsFailureLine);

    /// <summary>Ran to its END or REPORT line without failing.</summary>
    public bool Succeeded => !Failed && Lines.Any(l => l.StartsWith("END RequestId:", StringComparison.Ordinal) || l.StartsWith("REPORT RequestId:", StringComparison.Ordinal));

    public DateTimeOffset? FirstTimestamp => Lines.Select(LogAnalyzer.TimestampOf).FirstOrDefault(t => t is not null);

    public DateTimeOffset? LastTimestamp => Lines.Select(LogAnalyzer.TimestampOf).LastOrDefault(t => t is not null);
}

/// <summary>A log split into invocations, and how many lines were read.</summary>
public sealed record LogReading(IReadOnlyList<LogInvocation> Invocations, int Lines);

/// <summary>The cause one failed invocation points to, with a stable <see cref="Code"/> (LOG0NN: NN is the row of the recovery guide's §4).</summary>
public sealed record LogDiagnosis(string Code, Severity Severity, string Cause, string Evidence, string Fix, string? Step, TimeSpan? Duration, string? RequestId = null);

/// <summary>
/// Reads rotation-function logs (CloudWatch's Lambda shapes, which Keyturn's own rotation logs copy)
/// and names the cause of each failed invocation, using what the log says, how long the invocation
/// ran and the last line it reached (recovery guide §3 and §4). Pure: no I/O and no clock.
/// </summary>
public static partial class LogAnalyzer
{
    /// <summary>Longer than this, a failed login is a network black hole (5 s connect timeouts), not a refused password.</summary>
    public static readonly TimeSpan LongLoginThreshold = TimeSpan.FromSeconds(5);

    /// <summary>From this many invocations failing with the same cause, the retries are a loop (row 28).</summary>
    public const int RepeatThreshold = 3;

    // A step that succeeded is followed this soon by the next one in the same rotation.
    private static readonly TimeSpan NextStepWindow = TimeSpan.FromMinutes(5);

    private static readonly string[] StepOrder = ["createSecret", "setSecret", "testSecret", "finishSecret"];

    /// <summary>Splits a log (one text, lines separated by newlines) into invocations.</summary>
    public static IReadOnlyList<LogInvocation> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse([text]);
    }

    /// <summary>
    /// Splits log events into invocations. An event may hold several lines (a Python traceback is one
    /// event); lines carrying a request id go to that invocation wherever they appear, other lines to the
    /// invocation that is open, and lines before any START (init errors) to the next invocation.
    /// </summary>
    public static IReadOnlyList<LogInvocation> Parse(IEnumerable<string> events) => Read(events).Invocations;

    /// <summary>Parse, and count the lines read (for saying what was read when nothing is found).</summary>
    public static LogReading Read(IEnumerable<string> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var lines = Lines(events);
        var builders = new List<InvocationBuilder>();
        var byId = new Dictionary<string, InvocationBuilder>(StringComparer.Ordinal);
        var loose = new List<string>();

        // Lines without an id follow the invocation of the last line that had one (streams merged by
        // FilterLogEvents interleave concurrent invocations), else the latest one still open.
        InvocationBuilder? recent = null;

        InvocationBuilder Get(string id)
        {
            if (!byId.TryGetValue(id, out var builder))
            {
                builder = new InvocationBuilder(id);
                builder.Lines.AddRange(loose);
                loose.Clear();
                byId[id] = builder;
                builders.Add(builder);
            }

            recent = builder;
            return builder;
        }

        foreach (var line in lines)
        {
            if (StartLine().Match(line) is { Success: true } start)
            {
                Get(start.Groups["id"].Value).Lines.Add(line);
            }
            else if (EndLine().Match(line) is { Success: true } end)
            {
                var builder = Get(end.Groups["id"].Value);
                builder.Lines.Add(line);
                builder.Ended = true;
            }
            else if (ReportLine().Match(line) is { Success: true } report)
            {
                var builder = Get(report.Groups["id"].Value);
                builder.Lines.Add(line);
                builder.Ended = true;
                builder.ReportedDuration = TimeSpan.FromMilliseconds(double.Parse(report.Groups["ms"].Value, CultureInfo.InvariantCulture));
                builder.TimedOut |= line.Contains("Status: timeout", StringComparison.Ordinal);
            }
            else
            {
                var id = RequestIdOf(line);
                var builder = id is not null ? Get(id) : recent is { Ended: false } ? recent : builders.LastOrDefault(b => !b.Ended);
                if (builder is null)
                {
                    loose.Add(line);
                    continue;
                }

                builder.Lines.Add(line);
                if (TimedOutLine().Match(MessageOf(line)) is { Success: true } timeout)
                {
                    builder.TimedOut = true;
                    builder.TimeoutDuration = TimeSpan.FromSeconds(double.Parse(timeout.Groups["s"].Value, CultureInfo.InvariantCulture));
                }
            }
        }

        if (loose.Any(l => MeaningfulMessage(l) is not null || IsFailureLine(l)))
        {
            Get("");
        }

        return new LogReading(builders.Select(b => b.Build()).ToList(), lines.Count);
    }

    /// <summary>
    /// The log's lines as the analysis reads them: display prefixes stripped, blanks dropped, and Lambda's
    /// error documents (<c>{"errorMessage": …, "errorType": …}</c>, one line or pretty-printed, alone or after
    /// Node's <c>Invoke Error</c>) and JSON log records turned into the one-line shapes the rules read.
    /// </summary>
    internal static List<string> Lines(IEnumerable<string> events)
    {
        var raw = events.SelectMany(e => (e ?? "").Split('\n')).Select(Normalize).OfType<string>().ToList();
        var lines = new List<string>(raw.Count);
        for (var i = 0; i < raw.Count; i++)
        {
            var line = raw[i];
            if (line.TrimStart().StartsWith('{') && LogJson.BlockEnd(raw, i) is { } end && LogJson.Convert(string.Join('\n', raw.Skip(i).Take(end - i + 1)).Trim()) is { } block)
            {
                lines.AddRange(block);
                i = end;
            }
            else
            {
                lines.Add(LogJson.ConvertEmbedded(line) ?? line);
            }
        }

        return lines;
    }

    /// <summary>Names the cause of every failed invocation, plus a repeat finding when the same cause keeps coming back.</summary>
    public static IReadOnlyList<LogDiagnosis> Classify(IReadOnlyList<LogInvocation> invocations)
    {
        ArgumentNullException.ThrowIfNull(invocations);
        var found = new List<(LogInvocation Invocation, LogDiagnosis Diagnosis)>();
        for (var i = 0; i < invocations.Count; i++)
        {
            if (ClassifyOne(invocations[i], i > 0 ? invocations[i - 1] : null) is { } diagnosis)
            {
                found.Add((invocations[i], diagnosis));
            }
        }

        var diagnoses = found.Select(f => f.Diagnosis).ToList();
        diagnoses.AddRange(Repeats(found));
        return diagnoses;
    }

    /// <summary>One finding per cause: the worst severity, how many invocations showed it, and the latest evidence.</summary>
    public static IReadOnlyList<Finding> ToFindings(IReadOnlyList<LogDiagnosis> diagnoses)
    {
        ArgumentNullException.ThrowIfNull(diagnoses);
        return diagnoses.GroupBy(d => d.Code, StringComparer.Ordinal)
            .Select(g =>
            {
                var latest = g.Last();
                var count = g.Count();
                return new Finding(g.Key, g.Max(d => d.Severity), latest.Cause,
                    count == 1 || g.Key == Signatures.RetryLoop.Code ? latest.Evidence : $"{count} invocations; the latest: {latest.Evidence}", latest.Fix);
            })
            .ToList();
    }

    /// <summary>Parse, classify and summarize in one go; never an empty answer (see <see cref="WhatWasRead"/>).</summary>
    public static IReadOnlyList<Finding> Analyze(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reading = Read([text]);
        var findings = ToFindings(Classify(reading.Invocations));
        return findings.Count > 0 ? findings : [WhatWasRead(reading, reading.Invocations, reading.Invocations)];
    }

    /// <summary>
    /// The finding for a log in which no known cause matched: what was read (lines, invocations and how they ended,
    /// the time span) and what was left out, so a silent analysis can be told from an empty log.
    /// </summary>
    /// <param name="reading">Everything read.</param>
    /// <param name="forSecret">The invocations that concern the secret (the others name other secrets).</param>
    /// <param name="current">Those after the last successful rotation: the ones analyzed.</param>
    public static Finding WhatWasRead(LogReading reading, IReadOnlyList<LogInvocation> forSecret, IReadOnlyList<LogInvocation> current)
    {
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(forSecret);
        ArgumentNullException.ThrowIfNull(current);
        if (reading.Lines == 0)
        {
            return NothingFound("The log is empty: 0 lines read.");
        }

        var all = reading.Invocations;
        var parts = new List<string> { $"Read {reading.Lines} line{Plural(reading.Lines)}, {all.Count} invocation{Plural(all.Count)}" };
        if (all.Count - forSecret.Count is > 0 and var others)
        {
            parts.Add($"{others} about other secrets");
        }

        if (forSecret.Count - current.Count is > 0 and var settled)
        {
            parts.Add($"{settled} up to the last successful finishSecret (settled)");
        }

        var succeeded = current.Count(i => i.Succeeded);
        var unfinished = current.Count(i => !i.Succeeded && !i.Failed);
        parts.Add($"of the {current.Count} analyzed: {succeeded} succeeded, {current.Count(i => i.Failed)} failed, {unfinished} without an end (a fragment or a truncated invocation)");
        var stamps = all.SelectMany(i => new[] { i.FirstTimestamp, i.LastTimestamp }).OfType<DateTimeOffset>().ToList();
        var span = stamps.Count == 0 ? "no timestamps" : $"from {stamps.Min():u} to {stamps.Max():u}";
        return NothingFound($"{string.Join("; ", parts)}; {span}. No known cause of a rotation failure matched.");
    }

    /// <summary>The no-known-cause finding with evidence of the caller's own (say, that no log line named the secret).</summary>
    public static Finding NothingFound(string evidence) =>
        new(Signatures.NothingFound.Code, Signatures.NothingFound.Severity, Signatures.NothingFound.Cause, evidence, Signatures.NothingFound.Fix);

    private static string Plural(int count) => count == 1 ? "" : "s";

    /// <summary>The message part of a line: after the level, timestamp and request id when it has them.</summary>
    internal static string MessageOf(string line)
    {
        if (LevelLine().Match(line) is { Success: true } level)
        {
            return level.Groups["msg"].Value.Trim();
        }

        if (StampedLine().Match(line) is { Success: true } stamped)
        {
            return stamped.Groups["msg"].Value.Trim();
        }

        if (RuntimeErrorLine().Match(line) is { Success: true } runtime)
        {
            return runtime.Groups["msg"].Value.Trim();
        }

        if (SummaryLine().Match(line) is { Success: true } summary)
        {
            return summary.Groups["msg"].Value.Trim();
        }

        return BareLevelLine().Match(line) is { Success: true } bare ? bare.Groups["msg"].Value.Trim() : line.Trim();
    }

    internal static DateTimeOffset? TimestampOf(string line)
    {
        var match = LevelLine().Match(line);
        if (!match.Success)
        {
            match = StampedLine().Match(line);
        }

        return match.Success && DateTimeOffset.TryParse(match.Groups["ts"].Value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var stamp)
            ? stamp
            : null;
    }

    internal static bool IsFailureLine(string line) =>
        line.StartsWith("[ERROR]", StringComparison.Ordinal)
        || line.StartsWith("[CRITICAL]", StringComparison.Ordinal)
        || line.StartsWith("[FATAL]", StringComparison.Ordinal)
        || line.Contains("Traceback (most recent call last)", StringComparison.Ordinal)
        || RuntimeErrorLine().IsMatch(line)
        || StampedLine().Match(line) is { Success: true, Groups: var g } && g["level"].Value is "ERROR" or "FATAL"
        || (SummaryLine().Match(line) is { Success: true } summary && !summary.Groups["type"].Value.EndsWith("Warning", StringComparison.Ordinal))
        || (line.StartsWith("REPORT RequestId:", StringComparison.Ordinal) && (line.Contains("Status: error", StringComparison.Ordinal) || line.Contains("Status: timeout", StringComparison.Ordinal)))
        || TimedOutLine().IsMatch(line);

    /// <summary>The line without a display prefix (<c>aws logs tail</c>'s time and stream, <c>keyturn logs</c>' time); null for blanks and headings.</summary>
    private static string? Normalize(string raw)
    {
        var line = raw.TrimEnd('\r', ' ', '\t');
        if (line.Trim().Length == 0 || (line.StartsWith("==> ", StringComparison.Ordinal) && line.EndsWith(" <==", StringComparison.Ordinal)))
        {
            return null;
        }

        // The CloudWatch console's copy: "  | 2020-02-19T21:18:42.269+11:00 | <message>".
        if (ConsolePrefix().Match(line) is { Success: true } console)
        {
            line = console.Groups["rest"].Value;
            if (line.Trim().Length == 0)
            {
                return null;
            }
        }

        // Only strip a leading time when what follows is a line shape of its own (not Lambda's "time id Task timed out").
        if (DisplayPrefix().Match(line) is { Success: true } prefixed && LooksLikeLogLine(prefixed.Groups["rest"].Value))
        {
            return prefixed.Groups["rest"].Value;
        }

        return line;
    }

    private static bool LooksLikeLogLine(string rest) =>
        rest.StartsWith("START RequestId:", StringComparison.Ordinal)
        || rest.StartsWith("END RequestId:", StringComparison.Ordinal)
        || rest.StartsWith("REPORT RequestId:", StringComparison.Ordinal)
        || rest.StartsWith("INIT_", StringComparison.Ordinal)
        || rest.StartsWith('[')
        || StampedLine().IsMatch(rest);

    private static string? RequestIdOf(string line)
    {
        if (LevelLine().Match(line) is { Success: true } level)
        {
            return level.Groups["id"].Value;
        }

        if (StampedLine().Match(line) is { Success: true } stamped)
        {
            return stamped.Groups["id"].Value;
        }

        return RuntimeErrorLine().Match(line) is { Success: true } runtime ? runtime.Groups["id"].Value : null;
    }

    /// <summary>The message when the function itself wrote the line; null for bookkeeping, frames and the engine's own notes.</summary>
    private static string? MeaningfulMessage(string line)
    {
        if (line.StartsWith("START RequestId:", StringComparison.Ordinal) || line.StartsWith("END RequestId:", StringComparison.Ordinal)
            || line.StartsWith("REPORT RequestId:", StringComparison.Ordinal) || line.StartsWith("INIT_", StringComparison.Ordinal)
            || line.StartsWith("EXTENSION", StringComparison.Ordinal) || line.StartsWith("TELEMETRY", StringComparison.Ordinal)
            || line.StartsWith("Traceback (most recent call last)", StringComparison.Ordinal) || char.IsWhiteSpace(line[0]))
        {
            return null;
        }

        var message = MessageOf(line);
        return message.Length == 0 || TimedOutLine().IsMatch(message) || InvokingLine().IsMatch(message) || ReportField().IsMatch(message) ? null : message;
    }

    private static string? LastMeaningful(IReadOnlyList<string> lines)
    {
        string? last = null;
        foreach (var line in lines)
        {
            var message = MeaningfulMessage(line);
            if (message is null)
            {
                continue;
            }

            // "[ERROR] ValueError: <message>" restates the line the function just logged.
            if (last is not null && SummaryLine().Match(line) is { Success: true } summary && summary.Groups["text"].Value.Trim() is { Length: > 0 } restated
                && last.Contains(restated, StringComparison.Ordinal))
            {
                continue;
            }

            last = message;
        }

        return last;
    }

    private static string? StepOf(IReadOnlyList<string> lines)
    {
        foreach (var line in lines)
        {
            if (StepName().Match(MessageOf(line)) is { Success: true } named)
            {
                return named.Groups["step"].Value;
            }

            if (StepFrame().Match(line) is { Success: true } frame)
            {
                return frame.Groups["step"].Value + "Secret";
            }
        }

        return null;
    }

    private sealed class InvocationBuilder(string requestId)
    {
        public List<string> Lines { get; } = [];

        public TimeSpan? ReportedDuration { get; set; }

        public TimeSpan? TimeoutDuration { get; set; }

        public bool TimedOut { get; set; }

        public bool Ended { get; set; }

        public LogInvocation Build()
        {
            // A timeout line that came before the invocation's first id (a fragment, lines run together) still counts.
            if (!TimedOut && Lines.Select(l => TimedOutLine().Match(l)).FirstOrDefault(m => m.Success) is { } timeout)
            {
                TimedOut = true;
                TimeoutDuration = TimeSpan.FromSeconds(double.Parse(timeout.Groups["s"].Value, CultureInfo.InvariantCulture));
            }

            return new(requestId, StepOf(Lines), ReportedDuration ?? TimeoutDuration, TimedOut, Lines.ToList(), LastMeaningful(Lines));
        }
    }

    [GeneratedRegex(@"^START RequestId: (?<id>\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex StartLine();

    [GeneratedRegex(@"^END RequestId: (?<id>\S+)", RegexOptions.CultureInvariant)]
    private static partial Regex EndLine();

    [GeneratedRegex(@"^REPORT RequestId: (?<id>\S+)\s+Duration: (?<ms>[0-9]+(?:\.[0-9]+)?) ms", RegexOptions.CultureInvariant)]
    private static partial Regex ReportLine();

    // [INFO]\t2022-03-28T05:33:50.860Z\t<request id>\t<message>: the Python runtime's (and Keyturn's) logger format.
    [GeneratedRegex(@"^\[(?<level>[A-Z]+)\][\t ]+(?<ts>[0-9]{4}-[0-9]{2}-[0-9]{2}T[^\t ]+)[\t ]+(?<id>[^\t ]+)[\t ]+(?<msg>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex LevelLine();

    // 2022-03-28T02:38:38.338Z <uuid> Task timed out after 30.03 seconds (and other runtime lines of that shape),
    // and Node's console format: <time>\t<uuid>\tERROR\t<message>.
    [GeneratedRegex(@"^(?<ts>[0-9]{4}-[0-9]{2}-[0-9]{2}T[^\t ]+)[\t ]+(?<id>[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})[\t ]+(?:(?<level>INFO|WARN|ERROR|DEBUG|TRACE|FATAL)\t)?(?<msg>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex StampedLine();

    [GeneratedRegex(@"^\s*\|?\s*[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})?\s*\|\s?(?<rest>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ConsolePrefix();

    // Newer runtimes: "RequestId: <id> Error: Runtime exited with error: signal: killed".
    [GeneratedRegex(@"^RequestId: (?<id>\S+) Error: (?<msg>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex RuntimeErrorLine();

    // "[ERROR] ValueError: text" (no timestamp) or a bare "pg.InternalError: text" ending a traceback.
    [GeneratedRegex(@"^(?:\[[A-Z]+\] )?(?<msg>(?<type>[A-Za-z_][\w.]*(?:Error|Exception|Warning|Failure)|KeyError|Runtime\.\w+|Sandbox\.\w+)(?:: (?<text>.*))?)$", RegexOptions.CultureInvariant)]
    private static partial Regex SummaryLine();

    // "[ERROR] text" without Lambda's time and request id (pasted, or a converted JSON record).
    [GeneratedRegex(@"^\[(?<level>[A-Z]+)\] (?<msg>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex BareLevelLine();

    // A REPORT line wrapped by a console into one field a line ("Duration: 15003.45 ms", "Status: timeout").
    [GeneratedRegex(@"^(?:Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration|Status|Error Type|Restore Duration|XRAY TraceId): ", RegexOptions.CultureInvariant)]
    private static partial Regex ReportField();

    [GeneratedRegex(@"Task timed out after (?<s>[0-9]+(?:\.[0-9]+)?) seconds", RegexOptions.CultureInvariant)]
    private static partial Regex TimedOutLine();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9]{2}:?[0-9]{2})?[ \t]+(?:\S*\[[^\]]*\]\S*[ \t]+)?(?<rest>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex DisplayPrefix();

    // Keyturn's engine note at the start of every invocation: "setSecret: invoking <function> for secret <arn> …".
    [GeneratedRegex(@"^(?:createSecret|setSecret|testSecret|finishSecret): invoking \S+ for secret", RegexOptions.CultureInvariant)]
    private static partial Regex InvokingLine();

    [GeneratedRegex(@"\b(?<step>createSecret|setSecret|testSecret|finishSecret)\b", RegexOptions.CultureInvariant)]
    private static partial Regex StepName();

    [GeneratedRegex(@"^\s+File .*, in (?<step>create|set|test|finish)_secret\b", RegexOptions.CultureInvariant)]
    private static partial Regex StepFrame();
}
