using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Keyturn.Bench;

/// <summary>Turns the cluster benchmark's cells and failovers into docs/benchmarks-cluster.md and a terminal summary.</summary>
internal static class ClusterReport
{
    // Issue 12's targets, on 2 cores.
    public const double RatioTarget = 0.50;
    public const double P99TargetMs = 10;
    public const int P99Connections = 16;
    public const double FailoverSlackSeconds = 5;

    public static (string Markdown, string Summary) Write(ClusterSettings settings, ClusterResult result, TimeSpan elapsed, string repo)
    {
        IEnumerable<ClusterCell> Of(string configuration, string operation, int connections) =>
            result.Cells.Where(c => c.Configuration == configuration && c.Operation == operation && c.Connections == connections);
        double Median(string configuration, string operation, int connections, Func<ClusterCell, double> value) =>
            CpuReport.MedianOf(Of(configuration, operation, connections).Select(value));
        var postgresConfigurations = result.Configurations.Where(c => c != ClusterCommand.SqliteName).ToList();
        var hasSqlite = result.Configurations.Contains(ClusterCommand.SqliteName);
        var operations = new[] { LoadCommand.GetSecretValue, LoadCommand.PutSecretValue };

        var md = new StringBuilder();
        var summary = new StringBuilder();
        md.AppendLine("# Keyturn cluster benchmark");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/run-cluster.sh` (Keyturn {BenchMachine.Commit(repo)}); the whole run took {elapsed.TotalMinutes:F1} min.");
        md.AppendLine("Every number below comes from that run; nothing was edited by hand. The index of every Keyturn benchmark is [benchmarks.md](benchmarks.md).");
        md.AppendLine();

        md.AppendLine("## Targets (issue 12)");
        md.AppendLine();
        md.AppendLine("| Target | Measured | Verdict |");
        md.AppendLine("|---|---|---|");
        var onePostgres = postgresConfigurations.FirstOrDefault();
        foreach (var connections in settings.Connections)
        {
            if (!hasSqlite || onePostgres is null)
            {
                break;
            }

            var sqlite = Median(ClusterCommand.SqliteName, LoadCommand.GetSecretValue, connections, c => c.Load.Rps);
            var postgres = Median(onePostgres, LoadCommand.GetSecretValue, connections, c => c.Load.Rps);
            var ratio = postgres / sqlite;
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| GetSecretValue on PostgreSQL (one node) ≥ {RatioTarget * 100:F0} % of SQLite's rate, {connections} connection{Plural(connections)} | " +
                $"{ratio * 100:F1} % ({postgres:F0} vs {sqlite:F0} req/s, medians) | {Verdict(ratio >= RatioTarget)} |"));
            summary.AppendLine(string.Create(CultureInfo.InvariantCulture, $"GetSecretValue PostgreSQL/SQLite x{connections}: {ratio * 100:F1} % {Verdict(ratio >= RatioTarget)}"));
        }

        if (settings.Connections.Contains(P99Connections))
        {
            foreach (var configuration in postgresConfigurations)
            {
                var p99 = Median(configuration, LoadCommand.GetSecretValue, P99Connections, c => c.Load.P99Ms);
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| GetSecretValue p99 < {P99TargetMs:F0} ms at {P99Connections} connections, {configuration} | {p99:F2} ms " +
                    $"(per repetition {Join(Of(configuration, LoadCommand.GetSecretValue, P99Connections).Select(c => c.Load.P99Ms), "F2")}) | {Verdict(p99 < P99TargetMs)} |"));
                summary.AppendLine(string.Create(CultureInfo.InvariantCulture, $"GetSecretValue p99 x{P99Connections}, {configuration}: {p99:F2} ms {Verdict(p99 < P99TargetMs)}"));
            }
        }

        var bound = settings.LeaseLifetime + FailoverSlackSeconds;
        foreach (var group in result.Failovers.GroupBy(f => f.SeparateHosts))
        {
            var runs = group.ToList();
            var met = runs.All(f => f.Completed && f.Seconds <= bound && f.LogsIn);
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| Failover, {HostsLabel(group.Key)}: a rotation whose node was killed completes on another within lease lifetime + {FailoverSlackSeconds:F0} s ({bound:F0} s) | " +
                $"{string.Join(" / ", runs.Select(f => f.Completed ? f.Seconds.ToString("F2", CultureInfo.InvariantCulture) + " s" : "not completed"))} " +
                $"({runs.Count(f => f.LogsIn)} of {runs.Count} AWSCURRENT passwords log in) | {Verdict(met)} |"));
            summary.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Failover ({HostsLabel(group.Key)}): {string.Join(" / ", runs.Select(f => f.Completed ? f.Seconds.ToString("F2", CultureInfo.InvariantCulture) + " s" : "not completed"))} {Verdict(met)}"));
        }

        md.AppendLine();
        md.AppendLine("## Machine");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {BenchMachine.CpuModel()}, `nproc` = {Environment.ProcessorCount}; memory {BenchMachine.MemoryGiB():F1} GiB");
        md.AppendLine(CultureInfo.InvariantCulture, $"- OS: {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}");
        if (result.PostgresVersion is not null)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- PostgreSQL: {result.PostgresVersion}, a throwaway cluster on loopback restarted with `{result.PostgresSettings}` " +
                $"(durable commits, like the SQLite store's `synchronous=FULL`; no TLS)");
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"- Load average (1/5/15 min) when the run started: {settings.LoadAverageAtStart}; when it ended: {BenchMachine.LoadAverage(" ")}. " +
            $"Nothing is pinned: the nodes, PostgreSQL and the load share every CPU, as they would on one small host; the \"other\" CPU column says how much went elsewhere.");
        md.AppendLine();

        md.AppendLine("## Method");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Nodes.** Real `keyturn serve --log-level Warning --scheduler-interval {settings.SchedulerInterval:0.##}` processes (Release build): one on the embedded " +
            $"SQLite store (WAL, `synchronous=FULL`), and {settings.Nodes} on one PostgreSQL database with `--store postgresql://…`, each with a data directory of its own and the " +
            $"same master key (`KEYTURN_MASTER_KEY`) and root credentials. All run for the whole throughput part."));
        md.AppendLine("- **Load.** Each cell is a separate `Keyturn.Bench load` process: a closed loop of N workers over exactly N HTTP/1.1 keep-alive connections, " +
            "every request freshly SigV4-signed. Against k nodes the client spreads its connections itself: worker i talks to node i mod k (a round-robin client, no load balancer).");
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Node warm-up.** {settings.ServerWarmup:0.#} s of GetSecretValue and half as long of PutSecretValue per node at 16 connections, " +
            $"then 4 s rounds of GetSecretValue until the node's tiered-compilation thread used under {JitWarmup.QuietShare * 100:0.#} % of each of {JitWarmup.QuietRounds} rounds in a row (at most 60 s more): " +
            $"{(result.Warmups.Count == 0 ? "none this run" : string.Join("; ", result.Warmups))}."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Window.** {settings.Warmup:0.#} s warm-up, then {settings.Duration:0.#} s measured; the load prints the window's start and end as they pass, and at " +
            $"those moments the orchestrator reads the CPU time of every node (`/proc/PID/stat`), of PostgreSQL (the postmaster, its live children and the backends it reaped) and of the " +
            $"whole machine (`/proc/stat`). Any status other than 200 is an error. Before each PostgreSQL cell the store database is settled with `VACUUM (ANALYZE)` and " +
            $"`CHECKPOINT`, so autovacuum or a checkpoint provoked by the previous cell's writes does not run inside this cell's window."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **PostgreSQL activity.** During each window a connection of its own samples, every {settings.SampleMs} ms, `pg_stat_activity` for the store " +
            $"database's client backends (state, wait event type and event) and the number of ungranted `pg_locks` entries. The tables give the average number of backends in each " +
            $"state per sample: running (active, no wait event, so on a CPU or ready for one), waiting (by wait event type: `Lock` is a row or transaction lock, `LWLock` an internal " +
            $"lock, `IO` a read or WAL write/flush), idle in transaction (the node holds the transaction open while it works), or idle (a pooled connection)."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Repetitions.** {settings.Repetitions} per cell, interleaved: each repetition runs every connection count and operation on every configuration back to back. " +
            $"Tables show the median of each column; activity is averaged over all the repetitions' samples."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Data.** GetSecretValue reads {settings.GetSecrets} secrets round-robin (a ~110-byte JSON value); PutSecretValue writes a new version with a fresh " +
            $"ClientRequestToken per request to a pool each load process creates first (not measured), sized so that no secret gets more than about {settings.PutsPerSecret} versions."));
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **Failover.** Two nodes on the PostgreSQL store: B, and A started with the engine's test-only pause point (`KEYTURN_FAULT_PAUSE=end:setSecret`). " +
            $"A secret holding a PostgreSQL role's credentials is rotated through A with the built-in `keyturn-postgresql-single-user` function; A stops right after setSecret's end is " +
            $"recorded (the role's password is changed, AWSPENDING is not yet current), and is killed with SIGKILL. The clock runs from the kill until DescribeSecret through B shows " +
            $"the new version holding AWSCURRENT and no AWSPENDING left; then the AWSCURRENT password must log in. {settings.Failovers} runs in each of two set-ups: every node in a UTS " +
            $"namespace with a host name of its own (`unshare --uts`), so B cannot tell that A's process is gone and must wait for the lease to expire, as across machines; and both on the " +
            $"same host name, where B may see that the lease holder's process is gone. The target bound uses a lease lifetime of {settings.LeaseLifetime:0.#} s (`--lease-lifetime`: the engine's " +
            $"default; keep it in step with the build measured)."));
        md.AppendLine();

        md.AppendLine("## Throughput");
        md.AppendLine();
        md.AppendLine("| Configuration | Operation | Connections | req/s (median) | vs SQLite | p50 ms | p99 ms | Errors (all runs) | req/s per run | p99 ms per run |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---|---|");
        foreach (var connections in settings.Connections)
        {
            foreach (var operation in operations)
            {
                var sqlite = Median(ClusterCommand.SqliteName, operation, connections, c => c.Load.Rps);
                foreach (var configuration in result.Configurations)
                {
                    var runs = Of(configuration, operation, connections).ToList();
                    if (runs.Count == 0)
                    {
                        continue;
                    }

                    var rps = Median(configuration, operation, connections, c => c.Load.Rps);
                    md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {configuration} | {operation} | {connections} | {rps:F0} | {(double.IsNaN(sqlite) ? "–" : (rps / sqlite * 100).ToString("F1", CultureInfo.InvariantCulture) + " %")} | " +
                        $"{Median(configuration, operation, connections, c => c.Load.P50Ms):F3} | {Median(configuration, operation, connections, c => c.Load.P99Ms):F3} | " +
                        $"{runs.Sum(r => r.Load.Errors)}{ErrorCodes(runs)} | {Join(runs.Select(r => r.Load.Rps), "F0")} | {Join(runs.Select(r => r.Load.P99Ms), "F2")} |"));
                }
            }
        }

        md.AppendLine();
        md.AppendLine("## Where the time went");
        md.AppendLine();
        md.AppendLine("CPU over the measured windows, in cores (CPU-seconds per second; the machine has " + Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture) +
            "), and per request; \"other\" is everything else that ran: the load generator, this orchestrator, idle nodes and any other job. Backend columns are averages per sample.");
        md.AppendLine();
        md.AppendLine("| Configuration | Operation | Conn. | Machine busy | PostgreSQL cores | Keyturn cores | Other cores | PostgreSQL µs/req | Keyturn µs/req | Other µs/req | Running | Waiting Lock | Waiting LWLock | Waiting IO | Other waits | Idle in transaction | Idle | Ungranted locks (avg / max) | Connections (max) |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        foreach (var connections in settings.Connections)
        {
            foreach (var operation in operations)
            {
                foreach (var configuration in result.Configurations)
                {
                    var runs = Of(configuration, operation, connections).ToList();
                    if (runs.Count == 0)
                    {
                        continue;
                    }

                    double M(Func<ClusterCell, double> value) => Median(configuration, operation, connections, value);
                    var activity = runs.All(r => r.Activity is null) ? null : ActivitySummary.Merge(runs.Where(r => r.Activity is not null).Select(r => r.Activity!));
                    var activityColumns = activity is null ? "– | – | – | – | – | – | – | – | –" : string.Create(CultureInfo.InvariantCulture,
                        $"{activity.Average(ActivitySummary.Running):F2} | {activity.AverageWaiting("Lock"):F2} | {activity.AverageWaiting("LWLock"):F2} | {activity.AverageWaiting("IO"):F2} | " +
                        $"{OtherWaits(activity):F2} | {activity.Average(ActivitySummary.IdleInTransaction):F2} | {activity.Average(ActivitySummary.Idle):F2} | " +
                        $"{activity.AverageLockWaits:F2} / {activity.MaxLockWaits} | {activity.MaxConnections}");
                    md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {configuration} | {operation} | {connections} | {M(c => c.MachineBusy) * 100:F0} % | {M(c => c.PostgresCores):F2} | {M(c => c.NodeCores):F2} | " +
                        $"{M(c => c.OtherCores):F2} | {M(c => c.PostgresMicrosPerRequest):F0} | {M(c => c.NodeMicrosPerRequest):F0} | {M(c => c.OtherMicrosPerRequest):F0} | {activityColumns} |"));
                }
            }
        }

        var waitDetail = result.Cells.Where(c => c.Activity is not null).GroupBy(c => (c.Configuration, c.Operation))
            .Select(g => (g.Key, Merged: ActivitySummary.Merge(g.Select(c => c.Activity!)))).ToList();
        if (waitDetail.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Every backend state and wait event seen, as the average number of backends per sample (all connection counts and repetitions):");
            md.AppendLine();
            foreach (var ((configuration, operation), merged) in waitDetail)
            {
                md.AppendLine($"- {configuration}, {operation}: " + (merged.Backends.Count == 0
                    ? $"no client backend of the store database in {merged.Samples} samples"
                    : string.Join("; ", merged.Backends.OrderByDescending(b => b.Value).Select(b => string.Create(CultureInfo.InvariantCulture, $"{b.Key} {merged.Average(b.Key):F2}")))));
            }
        }

        if (postgresConfigurations.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Where the limit is");
            md.AppendLine();
            md.AppendLine("Read off the cells above at the highest connection count (no judgement by hand):");
            md.AppendLine();
            var connections = settings.Connections.Max();
            foreach (var operation in operations)
            {
                foreach (var configuration in postgresConfigurations)
                {
                    var runs = Of(configuration, operation, connections).ToList();
                    if (runs.Count > 0)
                    {
                        md.AppendLine(CultureInfo.InvariantCulture, $"- {configuration}, {operation} x{connections}: {Limit(settings, runs)}");
                    }
                }
            }

            md.AppendLine();
            md.AppendLine("**Scaling on more cores**, from the CPU each request cost here (an extrapolation that holds only while the per-request costs stay as measured, " +
                "that is while the lock and wait columns stay near zero): ");
            md.AppendLine();
            foreach (var operation in operations)
            {
                var configuration = postgresConfigurations[^1];
                var postgresMicros = Median(configuration, operation, connections, c => c.PostgresMicrosPerRequest);
                var nodeMicros = Median(configuration, operation, connections, c => c.NodeMicrosPerRequest);
                if (double.IsNaN(postgresMicros) || postgresMicros <= 0 || double.IsNaN(nodeMicros) || nodeMicros <= 0)
                {
                    continue;
                }

                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- {operation} ({configuration}): PostgreSQL spent {postgresMicros:F0} µs and the Keyturn nodes {nodeMicros:F0} µs of CPU per request, so each core given to " +
                    $"PostgreSQL carries about {1e6 / postgresMicros:F0} req/s and each core given to Keyturn nodes about {1e6 / nodeMicros:F0} req/s; with each on cores of its own, " +
                    $"keeping one PostgreSQL core busy takes about {nodeMicros / postgresMicros:F2} cores of Keyturn nodes."));
            }
        }

        if (result.Failovers.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## Failover");
            md.AppendLine();
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Lease lifetime {settings.LeaseLifetime:0.#} s, so the target is {bound:F0} s; the surviving node's scheduler looks every {settings.SchedulerInterval:0.##} s."));
            md.AppendLine();
            md.AppendLine("| Set-up | Run | Kill → rotation complete on the other node | Within the bound | AWSCURRENT password logs in | Note |");
            md.AppendLine("|---|---:|---:|---|---|---|");
            foreach (var run in result.Failovers)
            {
                md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {HostsLabel(run.SeparateHosts)} | {run.Run} | {(run.Completed ? run.Seconds.ToString("F2", CultureInfo.InvariantCulture) + " s" : "–")} | " +
                    $"{(run.Completed && run.Seconds <= bound ? "yes" : "**no**")} | {(run.LogsIn ? "yes" : "**no**")} | {run.Note ?? ""} |"));
            }
        }

        if (result.NodeMemoryMiB.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("Peak RSS of each throughput node at the end: " + string.Join(", ", result.NodeMemoryMiB.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:F0} MiB"))) + ".");
        }

        md.AppendLine();
        md.AppendLine("## Reproduce");
        md.AppendLine();
        md.AppendLine("```sh");
        md.AppendLine("bench/run-cluster.sh                     # builds Release, rewrites docs/benchmarks-cluster.md (needs postgresql-15 and a Keyturn with `serve --store`)");
        md.AppendLine("bench/run-cluster.sh --duration 3 --repetitions 1 --failovers 1 --report /tmp/cluster.md   # a quick look");
        md.AppendLine("bench/run-cluster.sh --only sqlite --report /tmp/cluster.md                                # the harness alone, on the embedded store");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"This run: `--only {string.Join(',', settings.Parts)} --nodes {settings.Nodes} --duration {settings.Duration:0.#} --warmup {settings.Warmup:0.#} " +
            $"--server-warmup {settings.ServerWarmup:0.#} --repetitions {settings.Repetitions} --connections {string.Join(',', settings.Connections)} --failovers {settings.Failovers} " +
            $"--lease-lifetime {settings.LeaseLifetime:0.#} --scheduler-interval {settings.SchedulerInterval:0.##} --sample-ms {settings.SampleMs} --pg-max-connections {settings.MaxConnections}`. " +
            $"Not part of CI: it takes minutes and its numbers belong to the machine."));
        return (md.ToString(), summary.ToString());
    }

    /// <summary>What the measurements of one configuration say limits it: the cores, PostgreSQL's locks or its connections.</summary>
    private static string Limit(ClusterSettings settings, List<ClusterCell> runs)
    {
        var busy = CpuReport.MedianOf(runs.Select(r => r.MachineBusy));
        var postgres = CpuReport.MedianOf(runs.Select(r => r.PostgresCores));
        var nodes = CpuReport.MedianOf(runs.Select(r => r.NodeCores));
        var other = CpuReport.MedianOf(runs.Select(r => r.OtherCores));
        var activity = runs.All(r => r.Activity is null) ? null : ActivitySummary.Merge(runs.Where(r => r.Activity is not null).Select(r => r.Activity!));
        var text = new StringBuilder();
        text.Append(string.Create(CultureInfo.InvariantCulture, $"the machine was {busy * 100:F0} % busy ({postgres:F2} cores PostgreSQL, {nodes:F2} Keyturn, {other:F2} load generator and other); "));
        text.Append(busy >= 0.9
            ? string.Create(CultureInfo.InvariantCulture, $"**CPU-bound**: the cores were full, and the largest share went to {(postgres >= nodes && postgres >= other ? "PostgreSQL" : nodes >= other ? "the Keyturn nodes" : "the load generator and other work")}. ")
            : "the cores were not full, so something other than CPU set the pace. ");
        if (activity is not null)
        {
            var running = activity.Average(ActivitySummary.Running);
            var locks = activity.AverageWaiting("Lock");
            var lwlocks = activity.AverageWaiting("LWLock");
            var io = activity.AverageWaiting("IO");
            var idleInTransaction = activity.Average(ActivitySummary.IdleInTransaction);
            text.Append(string.Create(CultureInfo.InvariantCulture, $"Per sample, {running:F2} backends were running, {locks:F2} waiting on row/transaction locks (ungranted locks averaged {activity.AverageLockWaits:F2}, at most {activity.MaxLockWaits}), " +
                $"{lwlocks:F2} on internal locks, {io:F2} on I/O and {idleInTransaction:F2} idle inside a transaction: "));
            var biggest = new (string Name, double Value)[] { ("row/transaction locks", locks), ("internal locks", lwlocks), ("I/O (WAL flushes on commit)", io) }.MaxBy(w => w.Value);
            text.Append(biggest.Value >= Math.Max(0.25, running / 2)
                ? string.Create(CultureInfo.InvariantCulture, $"**{biggest.Name}** hold back a large part of the work. ")
                : "waits are small beside the running work, so locks are not the limit. ");
            text.Append(string.Create(CultureInfo.InvariantCulture, $"At most {activity.MaxConnections} connections of {settings.MaxConnections} allowed were open"));
            text.Append(activity.MaxConnections >= settings.MaxConnections * 0.8 ? ": **connections are near the limit**." : ", so connections are not the limit.");
        }

        return text.ToString();
    }

    private static double OtherWaits(ActivitySummary activity) =>
        activity.Samples == 0 ? 0 : (double)activity.Backends.Where(b => b.Key.StartsWith("active, waiting on ", StringComparison.Ordinal)
            && !b.Key.StartsWith("active, waiting on Lock:", StringComparison.Ordinal) && !b.Key.StartsWith("active, waiting on LWLock:", StringComparison.Ordinal)
            && !b.Key.StartsWith("active, waiting on IO:", StringComparison.Ordinal)).Sum(b => b.Value) / activity.Samples;

    private static string HostsLabel(bool separateHosts) => separateHosts ? "nodes on separate host names" : "nodes on one host name";

    private static string Join(IEnumerable<double> values, string format) =>
        string.Join(" / ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

    private static string ErrorCodes(List<ClusterCell> runs)
    {
        var codes = runs.SelectMany(r => r.Load.ErrorCodes).GroupBy(c => c.Key).Select(g => $"{g.Key} {g.Sum(c => c.Value)}").ToList();
        return codes.Count == 0 ? "" : " (" + string.Join(", ", codes) + ")";
    }

    private static string Verdict(bool met) => met ? "**met**" : "**missed**";

    private static string Plural(int n) => n == 1 ? "" : "s";
}
