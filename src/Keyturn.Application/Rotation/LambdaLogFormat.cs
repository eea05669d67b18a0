using System.Globalization;
using System.Text;

namespace Keyturn.Application.Rotation;

/// <summary>The lines Lambda writes around an invocation, which the doctor's log analysis recognizes.</summary>
public static class LambdaLogFormat
{
    public static string Start(string requestId) => $"START RequestId: {requestId} Version: $LATEST";

    public static string End(string requestId) => $"END RequestId: {requestId}";

    /// <summary>Lambda's own wording for a function stopped at its timeout.</summary>
    public static string TimedOut(TimeSpan after) =>
        $"Task timed out after {after.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} seconds";

    /// <summary>A line stamped as Lambda stamps the runtime's own messages.</summary>
    public static string Stamped(DateTimeOffset at, string requestId, string message) =>
        $"{at.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {requestId} {message}";

    /// <summary>Lambda's REPORT line; the memory and init fields only from a runtime that measured them (a handler's worker).</summary>
    public static string Report(string requestId, double elapsedMs, (int MemorySize, int MaxMemoryUsed)? memory, TimeSpan? initDuration)
    {
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"REPORT RequestId: {requestId}\tDuration: {elapsedMs:F2} ms\tBilled Duration: {Math.Ceiling(elapsedMs)} ms\t"));
        if (memory is { } m)
        {
            line.Append(CultureInfo.InvariantCulture, $"Memory Size: {m.MemorySize} MB\tMax Memory Used: {m.MaxMemoryUsed} MB\t");
        }

        if (initDuration is { } init)
        {
            line.Append(CultureInfo.InvariantCulture, $"Init Duration: {init.TotalMilliseconds:F2} ms\t");
        }

        return line.ToString();
    }
}
