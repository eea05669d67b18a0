using System.Globalization;

namespace Keyturn.Bench.Shared;

/// <summary>
/// Where the machine's CPU time went, from <c>/proc</c> (clock ticks of 1/100 s): the Keyturn server,
/// this benchmark's PostgreSQL (its postmaster, the postmaster's live children, and the exited backends it reaped),
/// this benchmark (with the CLI processes it ran and reaped, where <see cref="CountBenchChildren"/>), and everything else,
/// which is other work on a shared machine that skews the numbers.
/// </summary>
internal readonly record struct CpuUse(long Total, long Busy, long IoWait, long Server, long Postgres, long Bench)
{
    public const double TicksPerSecond = 100;

    /// <summary>
    /// Whether the benchmark's own share includes the child processes it reaped: the doctor benchmark's CLI runs, yes;
    /// the rotation benchmark, no, because the server it restarts is its child and is counted as the server.
    /// </summary>
    public static bool CountBenchChildren { get; set; }

    /// <summary>What the benchmark's share is called in <see cref="Describe"/>.</summary>
    public static string BenchLabel { get; set; } = "benchmark client";

    public long Other => Busy - Server - Postgres - Bench;

    public static CpuUse Read(int serverPid, int postmasterPid)
    {
        // cpu  user nice system idle iowait irq softirq steal ...
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        return new CpuUse(total, total - fields[3] - fields[4], fields[4], Ticks(serverPid, children: false), PostgresTicks(postmasterPid), Ticks(Environment.ProcessId, children: CountBenchChildren));
    }

    /// <summary>A PostgreSQL cluster's CPU time in clock ticks: the postmaster, its live children and the exited backends it reaped.</summary>
    public static long PostgresTicks(int postmasterPid)
    {
        var postgres = Ticks(postmasterPid, children: true);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ParentOf(pid) == postmasterPid)
            {
                postgres += Ticks(pid, children: true);
            }
        }

        return postgres;
    }

    /// <summary>The postmaster's pid: the first line of postmaster.pid in the data directory.</summary>
    public static int PostmasterPid(string dataDirectory) =>
        int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

    public static CpuUse operator -(CpuUse a, CpuUse b) =>
        new(a.Total - b.Total, a.Busy - b.Busy, a.IoWait - b.IoWait, a.Server - b.Server, a.Postgres - b.Postgres, a.Bench - b.Bench);

    /// <summary>One line for the report: CPU-seconds per consumer and how busy the cores were.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"the {Environment.ProcessorCount} cores were {Fraction(Busy) * 100:F0} % busy (iowait {Fraction(IoWait) * 100:F0} %); CPU-seconds: Keyturn server {Server / TicksPerSecond:F1}, " +
        $"PostgreSQL {Postgres / TicksPerSecond:F1}, {BenchLabel} {Bench / TicksPerSecond:F1}, other processes {Math.Max(0, Other) / TicksPerSecond:F1} " +
        $"({Fraction(Math.Max(0, Other)) * 100:F0} % of the machine)");

    public double OtherFraction => Fraction(Math.Max(0, Other));

    private double Fraction(long ticks) => Total == 0 ? 0 : (double)ticks / Total;

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// utime + stime in clock ticks of each of a .NET process's tiered-compilation threads (".NET Tiered Com"), by thread
    /// id: the JIT's background work of promoting hot methods to optimized code. The runtime ends that thread when it has
    /// been idle a while and starts a new one when work comes, so readings are compared thread by thread.
    /// </summary>
    public static Dictionary<int, long> JitThreadTicks(int pid)
    {
        var ticks = new Dictionary<int, long>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal)
                        && int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var tid))
                    {
                        var stat = File.ReadAllText(Path.Combine(task, "stat"));
                        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                        ticks[tid] = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The thread ended between listing and reading.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process is gone.
        }

        return ticks;
    }

    /// <summary>
    /// The JIT's background CPU seconds between two <see cref="JitThreadTicks"/> readings: the growth of the threads alive at
    /// both, plus the whole time of threads that started in between. A thread that ended in between is not counted, so this
    /// is a lower bound.
    /// </summary>
    public static double JitSecondsBetween(IReadOnlyDictionary<int, long> from, IReadOnlyDictionary<int, long> to) =>
        to.Sum(t => t.Value - from.GetValueOrDefault(t.Key)) / TicksPerSecond;

    /// <summary>utime + stime in clock ticks, plus the reaped children's cutime + cstime when asked (a postmaster's exited backends); 0 for a process that is gone.</summary>
    public static long Ticks(int pid, bool children)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var own = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return children ? own + long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture) : own;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
