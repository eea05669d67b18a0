using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Keyturn.Bench;

/// <summary>Turns the CPU mode's cells into docs/benchmarks-cpu.md and a short summary for the terminal.</summary>
internal static class CpuReport
{
    // Issue 13's targets, on this project's 2-core machines with the server on one core and the load on the other.
    public const double ExtraMicrosTarget = 20;
    public const double ExtraBytesTarget = 2048;
    public const int P99Connections = 16;

    public static (string Markdown, string Summary) Write(CpuSettings settings, List<CpuCell> cells, IReadOnlyList<Warmup> warmups, TimeSpan elapsed, string repo)
    {
        IEnumerable<CpuCell> Of(string server, string operation, int connections) =>
            cells.Where(c => c.Server == server && c.Operation == operation && c.Connections == connections);
        double Median(string server, string operation, int connections, Func<CpuCell, double> value) => MedianOf(Of(server, operation, connections).Select(value));

        // Within a repetition the two servers' cells ran back to back: their difference is the paired extra.
        IEnumerable<double> Paired(string operation, int connections, Func<CpuCell, double> value) =>
            Of(CpuCommand.KeyturnName, operation, connections).Join(Of(CpuCommand.BaselineName, operation, connections),
                k => k.Repetition, b => b.Repetition, (k, b) => value(k) - value(b));

        var md = new StringBuilder();
        var summary = new StringBuilder();
        md.AppendLine("# Keyturn CPU per request");
        md.AppendLine();
        md.AppendLine($"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/run-cpu.sh` (Keyturn {BenchMachine.Commit(repo)}); the whole run took {elapsed.TotalMinutes:F1} min.");
        md.AppendLine("Every number below comes from that run; nothing was edited by hand. The index of every Keyturn benchmark is [benchmarks.md](benchmarks.md).");
        md.AppendLine();

        if (settings.Calibration is { } calibration)
        {
            // The subject is a bare Kestrel with a known extra cost: the harness must find that cost, whatever the machine.
            md.AppendLine("## Calibration check");
            md.AppendLine();
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"This run measured, instead of Keyturn, a second bare Kestrel that burns {calibration.Micros:0.#} µs of its " +
                $"thread's CPU time (`clock_gettime(CLOCK_THREAD_CPUTIME_ID)`) and allocates one {calibration.Bytes}-byte array ({calibration.HeapBytes} bytes on the heap) per request. " +
                $"The extra the harness reports should be that, within the noise of the machine."));
            md.AppendLine();
            md.AppendLine("| Operation | Connections | Expected extra µs | Measured extra µs (per repetition) | Expected extra B | Measured extra B (per repetition) |");
            md.AppendLine("|---|---:|---:|---|---:|---|");
            foreach (var connections in settings.Connections)
            {
                foreach (var operation in settings.Operations)
                {
                    var micros = Median(CpuCommand.KeyturnName, operation, connections, c => c.MicrosPerRequest) - Median(CpuCommand.BaselineName, operation, connections, c => c.MicrosPerRequest);
                    var bytes = Median(CpuCommand.KeyturnName, operation, connections, c => c.BytesPerRequest) - Median(CpuCommand.BaselineName, operation, connections, c => c.BytesPerRequest);
                    md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {operation} | {connections} | {calibration.Micros:0.#} | {micros:F1} ({Join(Paired(operation, connections, c => c.MicrosPerRequest), "F1")}) | " +
                        $"{calibration.HeapBytes} | {bytes:F0} ({Join(Paired(operation, connections, c => c.BytesPerRequest), "F0")}) |"));
                    summary.AppendLine(string.Create(CultureInfo.InvariantCulture,
                        $"Calibration {operation} x{connections}: extra {micros:F1} µs (expected {calibration.Micros:0.#}), {bytes:F0} B (expected {calibration.HeapBytes})"));
                }
            }
        }
        else
        {
            md.AppendLine("## Targets (issue 13)");
            md.AppendLine();
            md.AppendLine("Judged on the medians over the repetitions; \"extra\" is Keyturn's median minus the bare Kestrel's, and the paired extras of each repetition follow for the spread.");
            md.AppendLine();
            md.AppendLine("| Target | Measured | Verdict |");
            md.AppendLine("|---|---|---|");
            foreach (var connections in settings.Connections)
            {
                if (!settings.Operations.Contains(LoadCommand.GetSecretValue))
                {
                    break;
                }

                var extra = Median(CpuCommand.KeyturnName, LoadCommand.GetSecretValue, connections, c => c.MicrosPerRequest)
                    - Median(CpuCommand.BaselineName, LoadCommand.GetSecretValue, connections, c => c.MicrosPerRequest);
                var bytes = Median(CpuCommand.KeyturnName, LoadCommand.GetSecretValue, connections, c => c.BytesPerRequest)
                    - Median(CpuCommand.BaselineName, LoadCommand.GetSecretValue, connections, c => c.BytesPerRequest);
                // Only one request in flight leaves neither server any batching, so only there is the extra CPU additive (see Method).
                var judged = connections == settings.Connections.Min();
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| GetSecretValue's extra server CPU over bare Kestrel ≤ {ExtraMicrosTarget:F0} µs per request, {connections} connection{Plural(connections)} | " +
                    $"{extra:F1} µs (per repetition {Join(Paired(LoadCommand.GetSecretValue, connections, c => c.MicrosPerRequest), "F1")}) | {(judged ? Verdict(extra <= ExtraMicrosTarget) : "for information (see Method)")} |"));
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| GetSecretValue's extra allocations over bare Kestrel ≤ {ExtraBytesTarget / 1024:F0} KiB per request, {connections} connection{Plural(connections)} | " +
                    $"{bytes:F0} B (per repetition {Join(Paired(LoadCommand.GetSecretValue, connections, c => c.BytesPerRequest), "F0")}) | {Verdict(bytes <= ExtraBytesTarget)} |"));
                summary.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"GetSecretValue x{connections}: extra {extra:F1} µs/req {(judged ? Verdict(extra <= ExtraMicrosTarget) : "(for information)")}, extra {bytes:F0} B/req {Verdict(bytes <= ExtraBytesTarget)}"));
            }

            if (settings.Connections.Contains(P99Connections) && settings.Operations.Contains(LoadCommand.GetSecretValue))
            {
                var p99 = Median(CpuCommand.KeyturnName, LoadCommand.GetSecretValue, P99Connections, c => c.Load.P99Ms);
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| GetSecretValue p99 at {P99Connections} connections no worse than before the change | {p99:F2} ms " +
                    $"(per repetition {Join(Of(CpuCommand.KeyturnName, LoadCommand.GetSecretValue, P99Connections).Select(c => c.Load.P99Ms), "F2")} ms; bare Kestrel's " +
                    $"{Median(CpuCommand.BaselineName, LoadCommand.GetSecretValue, P99Connections, c => c.Load.P99Ms):F2} ms) | compare with the previous run of this report |"));
                summary.AppendLine(string.Create(CultureInfo.InvariantCulture, $"GetSecretValue p99 x{P99Connections}: {p99:F2} ms"));
            }
        }

        md.AppendLine();
        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine($"- CPU: {BenchMachine.CpuModel()}, `nproc` = {Environment.ProcessorCount}; memory {BenchMachine.MemoryGiB():F1} GiB");
        md.AppendLine($"- OS: {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}; default (workstation, concurrent) GC everywhere");
        md.AppendLine(settings.BaselineEnvironment.Count == 0
            ? "- Runtime settings: Keyturn's from its `keyturn.runtimeconfig.json`; the bare Kestrel's the runtime's defaults"
            : $"- Runtime settings: Keyturn's from its `keyturn.runtimeconfig.json`; the bare Kestrel runs with {string.Join(", ", settings.BaselineEnvironment.Select(e => $"`{e.Key}={e.Value}`"))} " +
                "(by default the thread-pool spin limit Keyturn ships, so both idle alike; `--baseline-env` overrides)");
        md.AppendLine($"- Pinning (`taskset`): both servers on CPU {CpuList.Format(settings.ServerCpus)}; the load processes, the seeder and this orchestrator on CPU {CpuList.Format(settings.LoadCpus)}");
        md.AppendLine($"- Store: {settings.Store switch
        {
            null => "the embedded SQLite store (WAL, `synchronous=FULL`) in a fresh data directory",
            CpuCommand.ThrowawayPostgres => "`--store postgresql`: a throwaway PostgreSQL 15 on loopback with durable commits (`fsync`, `synchronous_commit` on), " +
                "pinned to the server CPU with Keyturn; its backends' CPU is not in Keyturn's process time and is reported per request in its own column; " +
                "the store is settled (`VACUUM (ANALYZE)`, `CHECKPOINT`) after seeding and before each Keyturn cell",
            _ => $"`--store {Redacted(settings.Store)}` (the store's own CPU, such as PostgreSQL's backends, is not in Keyturn's process time)",
        }}");
        md.AppendLine($"- Load average (1/5/15 min) when the run started: {settings.LoadAverageAtStart}; when it ended: {BenchMachine.LoadAverage(" ")}. " +
            "The \"others on server CPU\" column below says how much of the server's CPU other processes took in each cell.");
        md.AppendLine();

        md.AppendLine("## Method");
        md.AppendLine();
        md.AppendLine(settings.Caller == "iam"
            ? "- **Caller.** An application key made with `keyturn keys create` after seeding, whose identity policy allows the measured actions on `bench-*` " +
              "under an `aws:SourceIp` condition beside a Deny on `prod/*`: every request is verified with a stored key and evaluated against that policy. " +
              "Policy: `" + CpuCommand.IamPolicy + "`."
            : "- **Caller.** The root key (`--caller root`): no identity policy is evaluated, and without a resource policy root skips evaluation altogether.");
        md.AppendLine("- **Servers.** `keyturn serve --log-level Warning` (Release build) and the baseline `Keyturn.Bench baseline --bare`: Kestrel from " +
            "`WebApplication.CreateSlimBuilder`, HTTP/1.1 only, no Server header, logging providers cleared, no routing: `app.Run` answers every request " +
            "with a fixed 200 and a 59-byte JSON body. Both are started with `taskset -c` on the server CPUs and run for the whole benchmark; on a machine " +
            "with more than 2 CPUs the first half goes to the servers and the rest to the load (`--server-cpus`, `--load-cpus` override it).");
        md.AppendLine("- **Load.** Each cell is a separate `Keyturn.Bench load` process on the load CPUs: a closed loop of N workers over exactly N HTTP/1.1 " +
            "keep-alive connections, every request freshly SigV4-signed. The baseline receives the same signed request as Keyturn for each operation " +
            "(GetSecretValue, PutSecretValue, DescribeSecret), so the client and the HTTP bytes are the same; it answers all of them alike.");
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Window.** Each load process runs {settings.Warmup:0.#} s of warm-up, then a {settings.Duration:0.#} s measured window whose start and end " +
            $"it prints on stdout the moment they pass. On those markers the orchestrator reads the server's `utime + stime` from `/proc/PID/stat` (clock ticks of 10 ms), " +
            $"and the per-CPU times from `/proc/stat`. Requests count when they complete inside the window."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Allocations.** At the window's start the orchestrator opens an EventPipe session to the server (Microsoft.Diagnostics.NETCore.Client; " +
            $"no change to the server) enabling the runtime's `System.Runtime` EventCounters every {settings.CounterInterval:0.##} s, and closes it at the window's end. Each `alloc-rate` " +
            $"payload gives the growth of `GC.GetTotalAllocatedBytes` over an interval and the interval's exact length; the allocation rate is their sums' quotient. " +
            $"The session opens before the first CPU reading and closes after the last, so its set-up cost is outside the CPU figure."));
        md.AppendLine("- **Per request.** µs of server CPU per request = (CPU seconds ÷ window seconds) ÷ (requests ÷ measured seconds); bytes per request = allocation rate ÷ " +
            "request rate. Both are quotients of rates because the load is steady inside the window, and the sampling spans start and end within milliseconds of the load's own.");
        md.AppendLine("- **Which connection count judges the CPU target.** Per-request CPU is additive only when both servers handle requests the same way. " +
            "With one connection every request is a wake-up, the request, and a sleep, on both. With more connections and the load on one core, the load sets the " +
            "pace and a bare Kestrel idles between requests, paying a wake-up for each, while a slower server finds several waiting and pays one wake-up for " +
            "them all: its extra comes out too small. A calibration run shows it (`--calibrate 50,4000`: a bare Kestrel that burns 50 µs of thread CPU and " +
            "allocates a 4,000-byte array per request): on the 2-core machine while it was loaded by other work, 1 connection gave an extra of 67.5 µs and 3,746 B, " +
            "16 connections 4.2 µs and 4,036 B. So the CPU target is judged at the lowest connection count of the run (1 by default); the higher one is reported " +
            "for the p99 target and for information. Allocations are additive at any count.");
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Repetitions.** {settings.Repetitions} per cell, interleaved: each repetition runs every connection count and operation on both servers " +
            $"back to back, alternating which server goes first. Tables show the median of each column over the repetitions; \"extra\" is the difference of the medians, " +
            $"and the per-repetition differences of the paired cells are listed for the spread."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Server warm-up.** {settings.ServerWarmup:0.#} s of unmeasured load per operation and server at 16 connections before the first cell, " +
            $"then rounds of 4 s at each measured connection count until the server's tiered-compilation thread (the JIT promoting hot methods to optimized code, " +
            $"read per thread from /proc) used under {JitWarmup.QuietShare * 100:0.#} % of each of {JitWarmup.QuietRounds} rounds in a row, at most {settings.MaxExtraWarmup:0} s more. " +
            $"A fixed warm-up alone left Keyturn's JIT busy inside the first measured cells, whose CPU it then inflated. " +
            $"The \"JIT µs/req\" column below is what that thread still used inside each window (a lower bound: a JIT thread that ends inside a window is not counted). " +
            $"This run's extra warm-up: {(warmups.Count == 0 ? "none" : string.Join("; ", warmups.Select(w => $"{(w.Server == CpuCommand.KeyturnName ? settings.SubjectName : w.Server)} {w.Operation} {w.ExtraSeconds:0} s (JIT {w.LastJitShare * 100:F1} % of the last round)")))}."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Data.** GetSecretValue and DescribeSecret go round-robin over {settings.GetSecrets} secrets (a ~110-byte JSON value). PutSecretValue writes a new " +
            $"version with a fresh ClientRequestToken per request to a pool of secrets each load process creates first (not measured), sized so that none gets more than " +
            $"about {settings.PutsPerSecret} versions (AWS keeps at most 100)."));
        md.AppendLine();

        md.AppendLine("## Results (medians)");
        md.AppendLine();
        var subject = settings.SubjectName;
        var withPostgres = settings.Store == CpuCommand.ThrowawayPostgres;
        md.AppendLine($"| Operation | Connections | bare Kestrel µs/req | {subject} µs/req | **extra µs** | bare Kestrel B/req | {subject} B/req | **extra B** | req/s (bare / {subject}) | p99 ms (bare / {subject}) |" +
            (withPostgres ? " PostgreSQL µs/req |" : ""));
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---|---|" + (withPostgres ? "---:|" : ""));
        foreach (var connections in settings.Connections)
        {
            foreach (var operation in settings.Operations)
            {
                double B(Func<CpuCell, double> v) => Median(CpuCommand.BaselineName, operation, connections, v);
                double K(Func<CpuCell, double> v) => Median(CpuCommand.KeyturnName, operation, connections, v);
                var postgresCell = withPostgres ? string.Create(CultureInfo.InvariantCulture, $" {K(c => c.PostgresMicrosPerRequest):F1} |") : "";
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {operation} | {connections} | {B(c => c.MicrosPerRequest):F1} | {K(c => c.MicrosPerRequest):F1} | **{K(c => c.MicrosPerRequest) - B(c => c.MicrosPerRequest):F1}** | " +
                    $"{B(c => c.BytesPerRequest):F0} | {K(c => c.BytesPerRequest):F0} | **{K(c => c.BytesPerRequest) - B(c => c.BytesPerRequest):F0}** | " +
                    $"{B(c => c.Load.Rps):F0} / {K(c => c.Load.Rps):F0} | {B(c => c.Load.P99Ms):F2} / {K(c => c.Load.P99Ms):F2} |{postgresCell}"));
            }
        }

        md.AppendLine();
        md.AppendLine("## Every cell");
        md.AppendLine();
        md.AppendLine("\"Server CPU used\" is the server's CPU time over the window as a share of the server CPUs (below 100 % the load, not the server, set the pace); " +
            "\"others on server CPU\" is the share of the server CPUs that other processes took; \"load CPU busy\" is how busy the load CPUs were.");
        md.AppendLine();
        md.AppendLine("| Rep. | Server | Operation | Conn. | req/s | p50 ms | p99 ms | Errors | Window s | Server CPU s | µs/req | JIT µs/req | Counter intervals | B/req | Server CPU used | Others on server CPU | Load CPU busy |");
        md.AppendLine("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in cells)
        {
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {c.Repetition} | {(c.Server == CpuCommand.KeyturnName ? subject : c.Server)} | {c.Operation} | {c.Connections} | {c.Load.Rps:F0} | {c.Load.P50Ms:F3} | {c.Load.P99Ms:F3} | " +
                $"{c.Load.Errors}{ErrorCodes(c)} | {c.WindowS:F2} | {c.ServerCpuS:F2} | {c.MicrosPerRequest:F1} | {c.JitMicrosPerRequest:F1} | {c.AllocIntervals.Count} ({c.AllocSeconds:F2} s) | {c.BytesPerRequest:F0} | " +
                $"{c.ServerCoresUsed * 100:F0}% | {c.OtherOnServerCores * 100:F0}% | {c.LoadCoresBusy * 100:F0}% |"));
        }

        md.AppendLine();
        md.AppendLine("## Reproduce");
        md.AppendLine();
        md.AppendLine("```sh");
        md.AppendLine("bench/run-cpu.sh                                   # builds Release, rewrites docs/benchmarks-cpu.md");
        md.AppendLine("bench/run-cpu.sh --duration 3 --repetitions 1 --server-warmup 3 --report /tmp/cpu.md   # a quick look");
        md.AppendLine("bench/run-cpu.sh --store postgresql://USER:PASS@127.0.0.1:5432/keyturn   # Keyturn on PostgreSQL (the store's CPU is not counted)");
        md.AppendLine("bench/run-cpu.sh --calibrate 50,4000 --report /tmp/calibration.md        # checks the harness: the extra must come out as 50 µs and 4,024 B");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"This run: `--duration {settings.Duration:0.#} --warmup {settings.Warmup:0.#} --server-warmup {settings.ServerWarmup:0.#} --max-extra-warmup {settings.MaxExtraWarmup:0} --repetitions {settings.Repetitions} " +
            $"--connections {string.Join(',', settings.Connections)} --operations {string.Join(',', settings.Operations)} --counter-interval {settings.CounterInterval:0.##} " +
            $"--server-cpus {CpuList.Format(settings.ServerCpus)} --load-cpus {CpuList.Format(settings.LoadCpus)} --caller {settings.Caller}{(settings.Store is null ? "" : $" --store {Redacted(settings.Store)}")}" +
            $"{(settings.Calibration is { } k ? $" --calibrate {k.Micros:0.#},{k.Bytes}" : "")}" +
            $"{(settings.BaselineEnvironment.Count == 0 ? "" : " --baseline-env " + string.Join(',', settings.BaselineEnvironment.Select(e => $"{e.Key}={e.Value}")))}`. " +
            $"Not part of CI: it takes minutes and its numbers belong to the machine."));
        return (md.ToString(), summary.ToString());
    }

    /// <summary>A store URL without its password, for the report.</summary>
    public static string Redacted(string store) =>
        Uri.TryCreate(store, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal)
            ? store.Replace(uri.UserInfo, uri.UserInfo.Split(':')[0] + ":…", StringComparison.Ordinal)
            : store;

    public static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Join(IEnumerable<double> values, string format) =>
        string.Join(" / ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

    private static string ErrorCodes(CpuCell cell) =>
        cell.Load.ErrorCodes.Count == 0 ? "" : " (" + string.Join(", ", cell.Load.ErrorCodes.Select(c => $"{c.Key} {c.Value}")) + ")";

    private static string Verdict(bool met) => met ? "**met**" : "**missed**";

    private static string Plural(int n) => n == 1 ? "" : "s";
}
