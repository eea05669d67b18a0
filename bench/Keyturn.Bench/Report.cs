using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Keyturn.Bench;

/// <summary>Turns the medians into docs/benchmarks-http.md and a short summary for the terminal.</summary>
internal static class Report
{
    public const double RatioTarget = 0.40;
    public const double P99TargetMs = 5.0;
    public const int P99TargetConnections = 16;
    public const long MemoryTargetBytes = 250_000_000;

    public static (string Markdown, string Summary) Write(
        Settings settings, Dictionary<(string Operation, int Connections), List<CellRun>> results, MemoryReport memory, TimeSpan elapsed, string repo)
    {
        double Median(string operation, int connections, Func<CellRun, double> value) =>
            results.TryGetValue((operation, connections), out var runs) ? MedianOf(runs.Select(value)) : double.NaN;

        var md = new StringBuilder();
        var summary = new StringBuilder();
        md.AppendLine("# Keyturn HTTP benchmark");
        md.AppendLine();
        md.AppendLine($"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/run.sh` (Keyturn {BenchMachine.Commit(repo)}); the whole run took {elapsed.TotalMinutes:F1} min.");
        md.AppendLine("Every number below comes from that run; nothing was edited by hand. The index of every Keyturn benchmark is [benchmarks.md](benchmarks.md).");
        md.AppendLine();

        // Targets first: that is what the reader came for.
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| Target | Measured | Verdict |");
        md.AppendLine("|---|---|---|");
        foreach (var connections in settings.Connections)
        {
            var baseline = Median(LoadCommand.Baseline, connections, r => r.Load.Rps);
            var get = Median(LoadCommand.GetSecretValue, connections, r => r.Load.Rps);
            var ratio = get / baseline;
            var paired = PairedRatios(results, LoadCommand.GetSecretValue, connections);
            var line = $"| GetSecretValue ≥ {RatioTarget * 100:F0}% of bare Kestrel's request rate, {connections} connection{Plural(connections)} | " +
                $"{ratio * 100:F2}% ({get:F0} vs {baseline:F0} req/s, medians); per repetition {string.Join(" / ", paired.Select(p => $"{p * 100:F1}%"))} | {Verdict(ratio >= RatioTarget)} |";
            md.AppendLine(line);
            summary.AppendLine($"GetSecretValue/baseline x{connections}: {ratio * 100:F2}% ({get:F0}/{baseline:F0} req/s; per repetition {string.Join(" / ", paired.Select(p => $"{p * 100:F1}%"))}) {Verdict(ratio >= RatioTarget)}");
        }

        var p99 = Median(LoadCommand.GetSecretValue, P99TargetConnections, r => r.Load.P99Ms);
        if (!double.IsNaN(p99))
        {
            var runs = results[(LoadCommand.GetSecretValue, P99TargetConnections)].Select(r => r.Load.P99Ms.ToString("F2", CultureInfo.InvariantCulture));
            var baselineP99 = Median(LoadCommand.Baseline, P99TargetConnections, r => r.Load.P99Ms);
            md.AppendLine($"| GetSecretValue p99 < {P99TargetMs:F0} ms at {P99TargetConnections} connections | {p99:F2} ms (median; per repetition {string.Join(" / ", runs)} ms; " +
                $"bare Kestrel's own p99 here: {baselineP99:F2} ms) | {Verdict(p99 < P99TargetMs)} |");
            summary.AppendLine($"GetSecretValue p99 x{P99TargetConnections}: {p99:F2} ms (baseline {baselineP99:F2} ms) {Verdict(p99 < P99TargetMs)}");
        }

        if (memory.Seed is not null)
        {
            var peak = memory.AfterGetAfterSeed.Hwm;
            md.AppendLine($"| Server memory < 250 MB with {settings.SeedCount:N0} secrets stored (peak RSS, VmHWM) | {Mb(peak)} | {Verdict(peak < MemoryTargetBytes)} |");
            summary.AppendLine($"keyturn peak RSS with {settings.SeedCount} secrets: {Mb(peak)} {Verdict(peak < MemoryTargetBytes)}");
        }

        md.AppendLine();
        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine($"- CPU: {BenchMachine.CpuModel()}, `nproc` = {Environment.ProcessorCount}");
        md.AppendLine($"- Memory: {BenchMachine.MemoryGiB():F1} GiB");
        md.AppendLine($"- OS: {OsName()}, kernel {Read("/proc/sys/kernel/osrelease")}");
        md.AppendLine($"- .NET: {RuntimeInformation.FrameworkDescription}; both servers and the load generator use the default (workstation, concurrent) GC");
        md.AppendLine($"- Load average (1/5/15 min) when the run started: {settings.LoadAverageAtStart}; when it ended: {BenchMachine.LoadAverage(" ")}. " +
            "The machine is shared (a virtual machine where other jobs may run), which is why every cell is repeated and the median reported.");
        md.AppendLine("- Everything runs on this one machine: the server under test and the load generator share the CPUs, over loopback TCP.");
        md.AppendLine();

        md.AppendLine("## Method");
        md.AppendLine();
        md.AppendLine("- **Servers.** `keyturn serve --log-level Warning` (Release build, fresh data directory on the local disk, SQLite in WAL mode with " +
            "`synchronous=FULL`) and the baseline: `Keyturn.Bench baseline`, Kestrel from `WebApplication.CreateSlimBuilder` with HTTP/1.1 only, logging off " +
            "and no Server header (as Keyturn configures it), answering `POST /` with a fixed 200 and a 59-byte JSON body. Both run for the whole benchmark as child processes.");
        md.AppendLine($"- **Load.** Every cell is a separate `Keyturn.Bench load` process: a closed loop of N workers over exactly N connections " +
            "(`SocketsHttpHandler`, `MaxConnectionsPerServer = N`, HTTP/1.1 keep-alive, Nagle off), each request freshly SigV4-signed by Keyturn.Protocol's " +
            "`SigV4SigningHandler`. The baseline receives the same signed GetSecretValue request, so the client does identical work for every server.");
        md.AppendLine($"- **Server warm-up.** Before the first measured cell, each server gets {settings.ServerWarmup:0.#} s of unmeasured load at 16 connections " +
            "(PutSecretValue half as long) so that the JIT has reached its optimized tier; both servers then run for the whole benchmark.");
        md.AppendLine($"- **Window.** {settings.Warmup:0.#} s warm-up, then {settings.Duration:0.#} s measured. Requests that complete inside the measured window count; " +
            "latency is from before signing to the last response byte, in a log-linear histogram (exact below 0.2 ms, within 0.1% above). " +
            "Any status other than 200 counts as an error and is reported.");
        md.AppendLine($"- **Repetitions.** {settings.Repetitions} runs per cell, interleaved (each repetition goes through every connection count and, for each, " +
            "baseline → GetSecretValue → PutSecretValue), so drift on a shared machine hits all servers alike. Tables show the median of the runs " +
            "for each column separately; the rates of the individual runs are listed for the spread.");
        md.AppendLine($"- **GetSecretValue** reads the AWSCURRENT value (a ~110-byte JSON string) of {settings.GetSecrets} secrets in turn; their first read of the day " +
            "records LastAccessedDate (one write each), which happens during the first warm-up.");
        md.AppendLine($"- **PutSecretValue** writes a new version with a fresh ClientRequestToken per request. A secret keeps at most 100 versions and deprecated " +
            $"versions become purgeable only after 24 h, so each load process first creates its own pool of secrets (not measured) and spreads the writes over it " +
            $"round-robin, sized from the same repetition's GetSecretValue rate so that no secret gets more than about {settings.PutsPerSecret} new versions. " +
            "Every write is a committed, fsynced SQLite transaction.");
        md.AppendLine("- **Server CPU per request** is the server process's user+system CPU time (from `/proc/PID/stat`) over the load process's life, " +
            "divided by every request it sent (warm-up and pool creation included); it is a rough cost figure, not a target. " +
            "**Other CPU** is the share of both CPUs (machine-wide busy time from `/proc/stat`, over the load process's life) that neither the server under test " +
            "nor the load process used: the idle other server, the orchestrator and every other job on the machine. It shows how much outside work skewed a cell.");
        if (memory.Seed is not null)
        {
            md.AppendLine($"- **Memory.** After the throughput runs (whose server's memory is recorded too), a fresh `keyturn serve` gets {settings.SeedCount:N0} secrets " +
                "(32 concurrent CreateSecret calls), each is read once with GetSecretValue (32 concurrent), then GetSecretValue x16 runs across all of them. " +
                "VmRSS and VmHWM (peak RSS over the process's whole life) are read from `/proc/PID/status`; the target is judged on the fresh server's peak.");
        }

        md.AppendLine();
        md.AppendLine("## Results");
        md.AppendLine();
        md.AppendLine("| Operation | Connections | req/s (median) | p50 ms | p99 ms | Errors (all runs) | req/s per run | p99 ms per run | Server CPU µs/req | Other CPU |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---|---|---:|---:|");
        foreach (var connections in settings.Connections)
        {
            foreach (var operation in new[] { LoadCommand.Baseline, LoadCommand.GetSecretValue, LoadCommand.PutSecretValue })
            {
                if (!results.TryGetValue((operation, connections), out var runs))
                {
                    continue;
                }

                var name = operation == LoadCommand.Baseline ? "Bare Kestrel (baseline)" : operation;
                md.AppendLine($"| {name} | {connections} | {Median(operation, connections, r => r.Load.Rps):F0} | {Median(operation, connections, r => r.Load.P50Ms):F3} | " +
                    $"{Median(operation, connections, r => r.Load.P99Ms):F3} | {runs.Sum(r => r.Load.Errors)}{ErrorCodes(runs)} | " +
                    $"{string.Join(" / ", runs.Select(r => r.Load.Rps.ToString("F0", CultureInfo.InvariantCulture)))} | " +
                    $"{string.Join(" / ", runs.Select(r => r.Load.P99Ms.ToString("F2", CultureInfo.InvariantCulture)))} | {Median(operation, connections, r => r.ServerCpuMicrosPerRequest):F0} | " +
                    $"{Median(operation, connections, r => r.OtherCpuShare) * 100:F0}% |");
            }
        }

        md.AppendLine();
        md.AppendLine("Ratios against the baseline measured in the same run: of the medians (what the targets are judged on), and within each repetition " +
            "(the baseline cell and the Keyturn cell run back to back, so each pair saw about the same machine):");
        md.AppendLine();
        md.AppendLine("| Connections | Baseline req/s | GetSecretValue req/s | Get / baseline | Get / baseline per repetition | PutSecretValue req/s | Put / baseline |");
        md.AppendLine("|---:|---:|---:|---:|---|---:|---:|");
        foreach (var connections in settings.Connections)
        {
            var baseline = Median(LoadCommand.Baseline, connections, r => r.Load.Rps);
            var get = Median(LoadCommand.GetSecretValue, connections, r => r.Load.Rps);
            var put = Median(LoadCommand.PutSecretValue, connections, r => r.Load.Rps);
            var paired = string.Join(" / ", PairedRatios(results, LoadCommand.GetSecretValue, connections).Select(p => $"{p * 100:F1}%"));
            md.AppendLine($"| {connections} | {baseline:F0} | {get:F0} | {get / baseline * 100:F1}% | {paired} | {put:F0} | {put / baseline * 100:F1}% |");
        }

        var putPools = results.Where(r => r.Key.Operation == LoadCommand.PutSecretValue).SelectMany(r => r.Value).Select(r => r.Load.PutSecrets).ToList();
        if (putPools.Count > 0)
        {
            md.AppendLine();
            md.AppendLine($"PutSecretValue pools: {putPools.Min()}–{putPools.Max()} secrets per load process.");
        }

        md.AppendLine();
        md.AppendLine("## Memory");
        md.AppendLine();
        md.AppendLine("| Server and point in the run | Secrets stored | VmRSS | VmHWM (peak so far) |");
        md.AppendLine("|---|---:|---:|---:|");
        md.AppendLine($"| Throughput server, after every throughput run | {memory.ThroughputSecrets:N0} | {Mb(memory.AfterThroughput.Rss)} | {Mb(memory.AfterThroughput.Hwm)} |");
        if (memory.Seed is not null)
        {
            md.AppendLine($"| Fresh server, started | 0 | {Mb(memory.Started.Rss)} | {Mb(memory.Started.Hwm)} |");
            md.AppendLine($"| … after creating {settings.SeedCount:N0} secrets ({memory.Seed.Rate:F0} creates/s) | {settings.SeedCount:N0} | {Mb(memory.AfterSeed.Rss)} | {Mb(memory.AfterSeed.Hwm)} |");
            md.AppendLine($"| … after reading each once ({memory.Read!.Rate:F0} reads/s) | {settings.SeedCount:N0} | {Mb(memory.AfterRead.Rss)} | {Mb(memory.AfterRead.Hwm)} |");
            md.AppendLine($"| … after GetSecretValue x16 across all of them for {settings.Warmup + settings.Duration:0.#} s | {settings.SeedCount:N0} | {Mb(memory.AfterGetAfterSeed.Rss)} | {Mb(memory.AfterGetAfterSeed.Hwm)} |");
            md.AppendLine();
            var again = memory.GetAfterSeed!.Load;
            md.AppendLine($"With {settings.SeedCount:N0} secrets stored, GetSecretValue x16 across all of them ran at {again.Rps:F0} req/s, p50 {again.P50Ms:F3} ms, " +
                $"p99 {again.P99Ms:F3} ms, {again.Errors} errors (one run). The database files (keyturn.db, -wal, -shm) took {Mb(memory.DatabaseBytes)} on disk.");
        }

        md.AppendLine();
        md.AppendLine("## Reproduce");
        md.AppendLine();
        md.AppendLine("```sh");
        md.AppendLine("bench/run.sh                    # builds Release, runs everything, rewrites docs/benchmarks-http.md (about 6–8 minutes)");
        md.AppendLine("bench/run.sh --duration 4 --repetitions 1 --seed-count 10000 --report /tmp/quick.md   # a quick look");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine($"This run: `--duration {settings.Duration:0.#} --warmup {settings.Warmup:0.#} --server-warmup {settings.ServerWarmup:0.#} --repetitions {settings.Repetitions} " +
            $"--connections {string.Join(',', settings.Connections)} --seed-count {settings.SeedCount} --puts-per-secret {settings.PutsPerSecret}`. " +
            "The benchmark is not part of CI: it takes minutes and its numbers belong to the machine.");
        return (md.ToString(), summary.ToString());
    }

    /// <summary>The operation's rate over the baseline's, repetition by repetition.</summary>
    private static IEnumerable<double> PairedRatios(Dictionary<(string Operation, int Connections), List<CellRun>> results, string operation, int connections) =>
        results.TryGetValue((operation, connections), out var runs) && results.TryGetValue((LoadCommand.Baseline, connections), out var baselines)
            ? runs.Zip(baselines, (run, baseline) => run.Load.Rps / baseline.Load.Rps)
            : [];

    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string ErrorCodes(List<CellRun> runs)
    {
        var codes = runs.SelectMany(r => r.Load.ErrorCodes).GroupBy(c => c.Key).Select(g => $"{g.Key} {g.Sum(c => c.Value)}").ToList();
        return codes.Count == 0 ? "" : " (" + string.Join(", ", codes) + ")";
    }

    private static string Verdict(bool met) => met ? "**met**" : "**missed**";

    private static string Plural(int n) => n == 1 ? "" : "s";

    private static string Mb(long bytes) => $"{bytes / 1e6:F0} MB ({bytes / 1048576.0:F0} MiB)";

    private static string OsName() =>
        File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "Linux"
            : RuntimeInformation.OSDescription;

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "unknown";
}
