using System.Globalization;
using Keyturn.Application.Logs;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The log of one invocation, in the shape CloudWatch shows for a Lambda:
/// <c>[INFO]\t2022-03-28T05:33:52.139Z\t&lt;request id&gt;\tcreateSecret: …</c>.
/// Lines are kept in memory and masked (<see cref="SecretRedaction"/>) only when the invocation ends, so
/// values written during it (the AWSPENDING value createSecret puts) are masked in earlier lines too.
/// </summary>
public sealed class InvocationLog(string requestId, TimeProvider timeProvider, string? logStreamName = null)
{
    private readonly List<LogLine> _lines = [];
    private readonly HashSet<string> _sensitive = new(StringComparer.Ordinal);

    public string RequestId => requestId;

    /// <summary>The log stream this invocation's lines go to (a handler's <c>context.log_stream_name</c>).</summary>
    public string LogStreamName => logStreamName ?? "";

    /// <summary>What a runtime measured for the REPORT line: the memory setting and the worker's peak (MB), and its start when it was cold.</summary>
    public (int MemorySize, int MaxMemoryUsed)? Memory { get; set; }

    public TimeSpan? InitDuration { get; set; }

    public IReadOnlyList<LogLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Values only this invocation knows about (the invoker's own credentials), masked like the secret's values.</summary>
    public IReadOnlyCollection<string> SensitiveValues
    {
        get
        {
            lock (_sensitive)
            {
                return [.. _sensitive];
            }
        }
    }

    /// <summary>Adds a value to mask in this invocation's log and failure reason, such as the key handed to an external function.</summary>
    public void AddSensitive(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        lock (_sensitive)
        {
            _sensitive.Add(value);
        }
    }

    public void Info(string message) => Add($"[INFO]\t{Stamp()}\t{requestId}\t{message}");

    public void Error(string message) => Add($"[ERROR]\t{Stamp()}\t{requestId}\t{message}");

    /// <summary>A line exactly as written (runtime lines such as START/END/REPORT, or a function's own output).</summary>
    public void Raw(string line) => Add(line);

    private void Add(string line)
    {
        lock (_lines)
        {
            _lines.Add(new LogLine(timeProvider.GetUtcNow(), line));
        }
    }

    private string Stamp() => timeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
}
