using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;

namespace Keyturn.Bench;

/// <summary>Per-CPU busy and total time from the <c>cpuN</c> lines of /proc/stat, in seconds, summed over a set of CPUs.</summary>
internal readonly record struct CoreTime(double Busy, double Total)
{
    public static CoreTime Read(IReadOnlyCollection<int> cpus)
    {
        double busy = 0, total = 0;
        foreach (var line in File.ReadLines("/proc/stat"))
        {
            if (!line.StartsWith("cpu", StringComparison.Ordinal) || line.Length < 4 || !char.IsAsciiDigit(line[3]))
            {
                continue;
            }

            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!cpus.Contains(int.Parse(fields[0].AsSpan(3), CultureInfo.InvariantCulture)))
            {
                continue;
            }

            // user nice system idle iowait irq softirq steal, in clock ticks.
            var ticks = fields[1..9].Select(f => long.Parse(f, CultureInfo.InvariantCulture) / CpuUse.TicksPerSecond).ToArray();
            total += ticks.Sum();
            busy += ticks.Sum() - ticks[3] - ticks[4];
        }

        return new CoreTime(busy, total);
    }

    public static CoreTime operator -(CoreTime a, CoreTime b) => new(a.Busy - b.Busy, a.Total - b.Total);
}

/// <summary>The CPUs this process may run on (its affinity), from /proc/self/status.</summary>
internal static class CpuList
{
    public static int[] Allowed()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
        return line is null ? [.. Enumerable.Range(0, Environment.ProcessorCount)] : Parse(line.Split(':', 2)[1]);
    }

    /// <summary>"0-2,5" → 0, 1, 2, 5.</summary>
    public static int[] Parse(string list) =>
        [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).SelectMany(part =>
        {
            var range = part.Split('-');
            var from = int.Parse(range[0], CultureInfo.InvariantCulture);
            var to = range.Length > 1 ? int.Parse(range[1], CultureInfo.InvariantCulture) : from;
            return to >= from ? Enumerable.Range(from, to - from + 1) : throw new ArgumentException($"'{part}' is not a CPU range.");
        }).Distinct().Order()];

    public static string Format(IEnumerable<int> cpus) => string.Join(',', cpus);
}

/// <summary>
/// A running .NET process's allocation rate, read from outside: an EventPipe session (Microsoft.Diagnostics.NETCore.Client)
/// enables the runtime's <c>System.Runtime</c> EventCounters, whose <c>alloc-rate</c> counter reports, once per interval,
/// the bytes <c>GC.GetTotalAllocatedBytes</c> grew by and the interval's exact length. Nothing in the watched process
/// changes; the runtime polls the counter on its own timer thread (a few microseconds per interval).
/// </summary>
internal sealed class AllocationWatch
{
    private readonly EventPipeSession _session;
    private readonly Task _processing;
    private readonly List<(double Bytes, double Seconds)> _intervals = [];

    private AllocationWatch(EventPipeSession session)
    {
        _session = session;
        var source = new EventPipeEventSource(session.EventStream);
        source.Dynamic.All += OnEvent;
        _processing = Task.Run(source.Process);
    }

    /// <summary>Opens the session; the counter's first interval starts now.</summary>
    public static AllocationWatch Start(int pid, double intervalSeconds)
    {
        var provider = new EventPipeProvider("System.Runtime", EventLevel.Informational, 0, new Dictionary<string, string>
        {
            ["EventCounterIntervalSec"] = intervalSeconds.ToString(CultureInfo.InvariantCulture),
        });

        // No rundown: it would walk every loaded method in the server when the session stops, inside the window.
        return new AllocationWatch(new DiagnosticsClient(pid).StartEventPipeSession([provider], requestRundown: false, circularBufferMB: 16));
    }

    /// <summary>Closes the session and returns the intervals reported while it was open: bytes allocated, seconds.</summary>
    public async Task<IReadOnlyList<(double Bytes, double Seconds)>> StopAsync()
    {
        _session.Stop();
        await _processing.WaitAsync(TimeSpan.FromSeconds(30));
        _session.Dispose();
        lock (_intervals)
        {
            return [.. _intervals];
        }
    }

    private void OnEvent(TraceEvent e)
    {
        if (e.EventName != "EventCounters" || e.PayloadValue(0) is not IDictionary<string, object> outer
            || outer.TryGetValue("Payload", out var inner) is false || inner is not IDictionary<string, object> payload
            || !Equals(payload.TryGetValue("Name", out var name) ? name : null, "alloc-rate"))
        {
            return;
        }

        var bytes = Convert.ToDouble(payload["Increment"], CultureInfo.InvariantCulture);
        var seconds = Convert.ToDouble(payload["IntervalSec"], CultureInfo.InvariantCulture);
        lock (_intervals)
        {
            _intervals.Add((bytes, seconds));
        }
    }
}

/// <summary>A timestamp from the monotonic clock shared by every process on the machine, in seconds.</summary>
internal static class Clock
{
    public static double Now => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
}
