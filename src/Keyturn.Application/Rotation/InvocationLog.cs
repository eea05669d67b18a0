using System.Globalization;
using Keyturn.Application.Logs;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The log of one invocation, in the shape CloudWatch shows for a Lambda:
/// <c>[INFO]\t2022-03-28T05:33:52.139Z\t&lt;request id&gt;\tcreateSecret: …</c>.
/// </summary>
public sealed class InvocationLog(string requestId, TimeProvider timeProvider)
{
    private readonly List<LogLine> _lines = [];
    private readonly List<string> _sensitive = [];

    public string RequestId => requestId;

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

    /// <summary>Values only this invocation knows (a minted key's secret) that must be masked with the secret's own.</summary>
    public IReadOnlyList<string> SensitiveValues
    {
        get
        {
            lock (_sensitive)
            {
                return [.. _sensitive];
            }
        }
    }

    public void AddSensitive(string value)
    {
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
