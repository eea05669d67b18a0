using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;
using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;

namespace Keyturn.Bench;

/// <summary>
/// The cluster benchmark (docs/benchmarks-cluster.md, issue 12): GetSecretValue and PutSecretValue on the embedded
/// SQLite store and on one PostgreSQL with 1..N <c>keyturn serve</c> nodes behind a round-robin client, in one run with
/// the repetitions interleaved; PostgreSQL's and the nodes' CPU and pg_stat_activity are sampled over every window, so
/// the report can say where the limit is. Then the failover: the node running a rotation is killed (SIGKILL) and the
/// time until another node has completed it is measured.
/// </summary>
internal static class ClusterCommand
{
    public const string SqliteName = "SQLite";
    public const string SingleUserFunction = "arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user";
    private const string Region = "us-east-1";

    public static async Task<int> RunAsync(Flags flags)
    {
        var repo = RunAllCommand.RepositoryRoot();
        var settings = new ClusterSettings(
            KeyturnDll: Path.GetFullPath(flags.Text("keyturn-dll", Path.Combine(repo, "src/Keyturn.Cli/bin/Release/net10.0/keyturn.dll"))),
            BenchDll: typeof(Program).Assembly.Location,
            Parts: [.. flags.Text("only", "sqlite,postgres,failover").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            Nodes: flags.Int("nodes", 3),
            Duration: flags.Seconds("duration", 10),
            Warmup: flags.Seconds("warmup", 3),
            ServerWarmup: flags.Seconds("server-warmup", 8),
            Repetitions: flags.Int("repetitions", 3),
            Connections: [.. flags.Text("connections", "16").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))],
            GetSecrets: flags.Int("get-secrets", 100),
            PutsPerSecret: flags.Int("puts-per-secret", 50),
            SampleMs: flags.Int("sample-ms", 100, min: 10),
            Failovers: flags.Int("failovers", 3),
            LeaseLifetime: flags.Seconds("lease-lifetime", 15),
            SchedulerInterval: flags.Seconds("scheduler-interval", 1),
            MaxConnections: flags.Int("pg-max-connections", 200),
            ReportPath: Path.GetFullPath(flags.Text("report", Path.Combine(repo, "docs/benchmarks-cluster.md"))),
            LoadAverageAtStart: BenchMachine.LoadAverage(" "));
        var keep = flags.Switch("keep");
        flags.RejectUnknown();
        if (settings.Parts.Except(["sqlite", "postgres", "failover"]).FirstOrDefault() is { } unknown)
        {
            throw new ArgumentException($"--only takes sqlite, postgres and failover, not '{unknown}'.");
        }

        if (!File.Exists(settings.KeyturnDll))
        {
            throw new ArgumentException($"{settings.KeyturnDll} does not exist; build Keyturn.Cli in Release first (bench/run-cluster.sh does).");
        }

        var needsPostgres = settings.Parts.Contains("postgres") || settings.Parts.Contains("failover");
        if (needsPostgres)
        {
            // Fail before anything starts, with the reason, when this build cannot run on PostgreSQL at all.
            if (!await KnowsStoreFlagAsync(settings.KeyturnDll))
            {
                await Console.Error.WriteLineAsync(
                    $"{settings.KeyturnDll} has no `serve --store` option: this Keyturn build predates the PostgreSQL store (issue 12), so the cluster " +
                    "benchmark's PostgreSQL and failover parts cannot run. Build a Keyturn that has it, or run `--only sqlite` to exercise the harness on the embedded store.");
                return 3;
            }

            if (PostgresServer.MissingBinary() is { } missing)
            {
                await Console.Error.WriteLineAsync($"The cluster benchmark needs {missing}.");
                return 3;
            }
        }

        var work = Directory.CreateTempSubdirectory("keyturn-bench-cluster-").FullName;
        var log = Path.Combine(work, "bench.log");
        Console.Error.WriteLine($"Work directory {work} (child output in {log}).");
        var credentials = new SigV4Credentials(
            "AKIA" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
            RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40));
        var context = new ClusterContext(settings, work, log, credentials, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var started = Stopwatch.GetTimestamp();
        var postgres = new PostgresServer();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.StopNow();
        var result = new ClusterResult();
        try
        {
            if (needsPostgres)
            {
                Console.Error.WriteLine("Starting PostgreSQL...");
                await postgres.StartAsync(certificates: null);
                result.PostgresSettings = await BenchPostgres.RestartDurableAsync(postgres, settings.MaxConnections, "128MB");
                result.PostgresVersion = await postgres.ScalarAsSuperuserAsync<string>("SELECT version()") ?? "?";
                await postgres.ExecuteAsSuperuserAsync("postgres", $"CREATE DATABASE {BenchPostgres.StoreDatabase} OWNER {PostgresServer.MasterUser}");
                context.Postgres = postgres;
                context.StoreUrl = $"postgresql://{PostgresServer.MasterUser}:{postgres.MasterPassword}@127.0.0.1:{postgres.Port.ToString(CultureInfo.InvariantCulture)}/{BenchPostgres.StoreDatabase}";
            }

            if (settings.Parts.Contains("sqlite") || settings.Parts.Contains("postgres"))
            {
                await ThroughputAsync(context, result);
            }

            if (settings.Parts.Contains("failover"))
            {
                await FailoverAsync(context, result);
            }
        }
        finally
        {
            await postgres.StopAsync();
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var report = ClusterReport.Write(settings, result, elapsed, repo);
        Directory.CreateDirectory(Path.GetDirectoryName(settings.ReportPath)!);
        await File.WriteAllTextAsync(settings.ReportPath, report.Markdown);
        Console.WriteLine(report.Summary);
        Console.WriteLine($"Report written to {settings.ReportPath}.");
        if (!keep)
        {
            foreach (var directory in Directory.GetDirectories(work))
            {
                BenchMachine.TryDelete(directory);
            }
        }

        Console.Error.WriteLine(keep ? $"Kept {work}." : $"Child output kept in {log}.");
        return result.Cells.Any(c => c.Load.Errors > 0) || result.Failovers.Any(f => !f.Completed || !f.LogsIn) ? 1 : 0;
    }

    /// <summary>Whether <c>keyturn serve</c> has the <c>--store</c> option (its help lists every option).</summary>
    public static async Task<bool> KnowsStoreFlagAsync(string keyturnDll)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { keyturnDll, "serve", "--help" })
        {
            start.ArgumentList.Add(arg);
        }

        using var help = Process.Start(start)!;
        var output = await help.StandardOutput.ReadToEndAsync();
        await help.StandardError.ReadToEndAsync();
        await help.WaitForExitAsync();
        return output.Split('\n').Any(line => line.TrimStart().StartsWith("--store", StringComparison.Ordinal));
    }

    private static async Task ThroughputAsync(ClusterContext context, ClusterResult result)
    {
        var settings = context.Settings;
        await using var nodes = new NodeSet();
        var configurations = new List<Configuration>();
        if (settings.Parts.Contains("sqlite"))
        {
            var sqlite = await nodes.StartAsync(context, "sqlite", store: false);
            configurations.Add(new Configuration(SqliteName, [sqlite]));
            await Seeder.SeedAsync(settings.BenchDll, sqlite.Url, "bench-get-", settings.GetSecrets, read: false, context.ClientEnvironment, context.Log);
        }

        if (settings.Parts.Contains("postgres"))
        {
            var pgNodes = new List<Node>();
            for (var i = 1; i <= settings.Nodes; i++)
            {
                pgNodes.Add(await nodes.StartAsync(context, $"node{i}", store: true));
                configurations.Add(new Configuration($"PostgreSQL, {i} node{(i == 1 ? "" : "s")}", [.. pgNodes]));
            }

            await Seeder.SeedAsync(settings.BenchDll, pgNodes[0].Url, "bench-get-", settings.GetSecrets, read: false, context.ClientEnvironment, context.Log);
        }

        result.Configurations = [.. configurations.Select(c => c.Name)];
        await using var sampler = context.Postgres is null ? null : await ActivitySampler.OpenAsync(context.Postgres, BenchPostgres.StoreDatabase);
        if (settings.ServerWarmup > 0)
        {
            Console.Error.WriteLine($"Warming up every node ({settings.ServerWarmup:0.#} s of GetSecretValue, half as long of PutSecretValue, each)...");
            foreach (var node in nodes.All)
            {
                await LoadProcess.RunAsync(settings.BenchDll, new LoadSpec([node.Url], LoadCommand.GetSecretValue, 16, settings.ServerWarmup, 0, SecretCount: settings.GetSecrets),
                    context.ClientEnvironment, context.Log);
                await LoadProcess.RunAsync(settings.BenchDll,
                    new LoadSpec([node.Url], LoadCommand.PutSecretValue, 16, settings.ServerWarmup / 2, 0, PutSecrets: LoadProcess.PutPool(3000, 0, settings.ServerWarmup / 2, settings.PutsPerSecret)),
                    context.ClientEnvironment, context.Log);

                // Then GetSecretValue in 4 s rounds until the node's JIT has finished promoting hot methods: a node still
                // compiling in the first cells would be charged for it, and the store compared would look slower.
                var (extra, share, _) = await JitWarmup.RunAsync(node.Process.Pid, 4, MaxExtraWarmup, () =>
                    LoadProcess.RunAsync(settings.BenchDll, new LoadSpec([node.Url], LoadCommand.GetSecretValue, 16, 4, 0, SecretCount: settings.GetSecrets),
                        context.ClientEnvironment, context.Log));
                result.Warmups.Add(string.Create(CultureInfo.InvariantCulture, $"{node.Name} {extra:0} s (JIT {share * 100:F1} % of the last round)"));
            }
        }

        var postmaster = context.Postgres is null ? 0 : CpuUse.PostmasterPid(context.Postgres.DataDirectory);
        for (var repetition = 1; repetition <= settings.Repetitions; repetition++)
        {
            foreach (var connections in settings.Connections)
            {
                foreach (var operation in new[] { LoadCommand.GetSecretValue, LoadCommand.PutSecretValue })
                {
                    foreach (var configuration in configurations)
                    {
                        var puts = 0;
                        if (operation == LoadCommand.PutSecretValue)
                        {
                            var previous = result.Cells.LastOrDefault(c => c.Configuration == configuration.Name && c.Connections == connections);
                            puts = LoadProcess.PutPool(previous?.Load.Rps ?? 3000, settings.Warmup, settings.Duration, settings.PutsPerSecret);
                        }

                        if (configuration.Name != SqliteName && context.Postgres is { } postgres)
                        {
                            await BenchPostgres.SettleStoreAsync(postgres);
                        }

                        var cell = await RunCellAsync(
                            context, configuration.Name == SqliteName ? null : sampler, postmaster, nodes.All, repetition, configuration, operation, connections, puts);
                        result.Cells.Add(cell);
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"[{repetition}/{settings.Repetitions}] {configuration.Name,-22} {operation,-14} x{connections,-3} {cell.Load.Rps,8:F0} req/s  p99 {cell.Load.P99Ms,7:F3} ms  " +
                            $"machine {cell.MachineBusy * 100:F0}% busy: PostgreSQL {cell.PostgresCores:F2} cores, Keyturn {cell.NodeCores:F2}  errors {cell.Load.Errors}"));
                    }
                }
            }
        }

        result.NodeMemoryMiB = nodes.All.ToDictionary(n => n.Name, n => n.Process.Memory().Hwm / 1048576.0);
    }

    private static async Task<ClusterCell> RunCellAsync(
        ClusterContext context, ActivitySampler? sampler, int postmaster, IReadOnlyList<Node> allNodes, int repetition, Configuration configuration, string operation, int connections, int puts)
    {
        var settings = context.Settings;
        double from = 0, to = 0;
        long pgFrom = 0, pgTo = 0;
        Dictionary<string, long> nodesFrom = [], nodesTo = [];
        MachineCpu machineFrom = default, machineTo = default;
        Task<ActivitySummary>? activity = null;
        using var stop = new CancellationTokenSource();

        void Start()
        {
            from = Clock.Now;
            machineFrom = MachineCpu.Read();
            pgFrom = postmaster == 0 ? 0 : CpuUse.PostgresTicks(postmaster);
            nodesFrom = allNodes.ToDictionary(n => n.Name, n => CpuUse.Ticks(n.Process.Pid, children: false));
            activity = sampler?.SampleAsync(TimeSpan.FromMilliseconds(settings.SampleMs), stop.Token);
        }

        void End()
        {
            stop.Cancel();
            to = Clock.Now;
            machineTo = MachineCpu.Read();
            pgTo = postmaster == 0 ? 0 : CpuUse.PostgresTicks(postmaster);
            nodesTo = allNodes.ToDictionary(n => n.Name, n => CpuUse.Ticks(n.Process.Pid, children: false));
        }

        var load = await LoadProcess.RunAsync(settings.BenchDll,
            new LoadSpec([.. configuration.Nodes.Select(n => n.Url)], operation, connections, settings.Duration, settings.Warmup, PutSecrets: puts, SecretCount: settings.GetSecrets),
            context.ClientEnvironment, context.Log, onWindowStart: Start, onWindowEnd: End);
        if (to <= from)
        {
            throw new InvalidOperationException($"The load process for {configuration.Name} {operation} x{connections} never marked its window; see {context.Log}.");
        }

        var machine = machineTo - machineFrom;
        var nodeSeconds = configuration.Nodes.ToDictionary(n => n.Name, n => (nodesTo[n.Name] - nodesFrom[n.Name]) / CpuUse.TicksPerSecond);
        var idleNodes = allNodes.Where(n => !configuration.Nodes.Contains(n)).Sum(n => (nodesTo[n.Name] - nodesFrom[n.Name]) / CpuUse.TicksPerSecond);
        return new ClusterCell(repetition, configuration.Name, configuration.Nodes.Count, operation, connections, load, to - from,
            (pgTo - pgFrom) / CpuUse.TicksPerSecond, nodeSeconds, idleNodes, machine.Busy, machine.Total, activity is null ? null : await activity);
    }

    private static async Task FailoverAsync(ClusterContext context, ClusterResult result)
    {
        var settings = context.Settings;
        var postgres = context.Postgres!;

        // On one machine a node can see that the process holding a lease is gone and take over at once; on separate
        // machines it must wait for the lease to expire. Each node in a host name of its own measures the second case
        // (a UTS namespace of its own needs root; without it only the first case runs, and the report has no row for the second).
        foreach (var separateHosts in ProcessRunner.IsRoot ? new[] { true, false } : [false])
        {
            await using var nodes = new NodeSet();
            var setup = separateHosts ? "hosts" : "host";
            var survivor = await nodes.StartAsync(context, $"failover-{setup}-b", store: true, hostname: separateHosts ? "keyturn-node-b" : null);
            using var client = new SecretsManagerClient(survivor.Url, context.Credentials, Region, TimeProvider.System);
            for (var run = 1; run <= settings.Failovers; run++)
            {
                var user = $"bench_failover_{setup}_{run}";
                var password = "Initial-" + Guid.NewGuid().ToString("N");
                await postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
                var name = $"bench/failover/{user}";
                await client.CallAsync("CreateSecret", new JsonObject
                {
                    ["Name"] = name,
                    ["ClientRequestToken"] = Guid.NewGuid().ToString(),
                    ["SecretString"] = BenchPostgres.SecretJson(postgres, user, password),
                }, default);

                var pauseFile = Path.Combine(context.Work, $"pause-{user}");
                var doomed = await nodes.StartAsync(context, $"failover-{setup}-a{run}", store: true, hostname: separateHosts ? "keyturn-node-a" : null,
                    extraEnvironment: new Dictionary<string, string> { ["KEYTURN_FAULT_PAUSE"] = "end:setSecret", ["KEYTURN_FAULT_PAUSE_FILE"] = pauseFile });
                var outcome = await FailoverOnceAsync(context, doomed, client, name, user, pauseFile, separateHosts, run);

                // Any node may run a requested rotation: when the surviving node ran this one before the doomed node
                // reached its pause, there was no failover to time. Rotate again (at most twice) and say so.
                var attempt = 1;
                while (attempt < 3 && outcome.Note == RanOnSurvivor)
                {
                    attempt++;
                    outcome = await FailoverOnceAsync(context, doomed, client, name, user, pauseFile, separateHosts, run);
                }

                if (attempt > 1)
                {
                    outcome = outcome with { Note = Joined(outcome.Note, $"attempt {attempt}: the earlier rotation(s) ran wholly on the surviving node") };
                }

                result.Failovers.Add(outcome);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"failover {(separateHosts ? "separate hosts" : "same host")} #{run}: {(outcome.Completed ? $"completed {outcome.Seconds:F2} s after the kill" : "NOT completed: " + outcome.Note)}; logs in: {outcome.LogsIn}"));
            }
        }
    }

    private const string RanOnSurvivor = "the rotation ran to its end on the surviving node, not on the node to be killed";

    private static string Joined(string? note, string more) => note is null ? more : note + "; " + more;

    private static async Task<FailoverRun> FailoverOnceAsync(
        ClusterContext context, Node doomed, SecretsManagerClient survivor, string name, string user, string pauseFile, bool separateHosts, int run)
    {
        var settings = context.Settings;
        using var viaDoomed = new SecretsManagerClient(doomed.Url, context.Credentials, Region, TimeProvider.System);
        var token = Guid.NewGuid().ToString();
        await viaDoomed.CallAsync("RotateSecret", new JsonObject
        {
            ["SecretId"] = name,
            ["ClientRequestToken"] = token,
            ["RotationLambdaARN"] = SingleUserFunction,
            ["RotationRules"] = new JsonObject { ["AutomaticallyAfterDays"] = 30 },
        }, default);

        // Node A stops right after setSecret's end is recorded: the database password is changed, AWSPENDING not yet current.
        var waited = Stopwatch.StartNew();
        while (!File.Exists(pauseFile))
        {
            if (await IsCompleteAsync(survivor, name, token))
            {
                return new FailoverRun(separateHosts, run, false, double.NaN, false, RanOnSurvivor);
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                return new FailoverRun(separateHosts, run, false, double.NaN, false, "the node never reached the end of setSecret within 60 s");
            }

            await Task.Delay(20);
        }

        var killedAt = Clock.Now;
        await doomed.Process.KillAsync();
        var deadline = TimeSpan.FromSeconds((settings.LeaseLifetime * 4) + 30);
        var since = Stopwatch.StartNew();
        while (since.Elapsed < deadline)
        {
            if (await IsCompleteAsync(survivor, name, token))
            {
                var seconds = Clock.Now - killedAt;
                var current = JsonDocument.Parse((await survivor.GetSecretStringAsync(name, null, "AWSCURRENT", default))!).RootElement.GetProperty("password").GetString()!;
                var logsIn = await BenchPostgres.LogsInAsync(context.Postgres!, user, current);
                return new FailoverRun(separateHosts, run, true, seconds, logsIn, null);
            }

            await Task.Delay(50);
        }

        var labels = (await survivor.DescribeSecretAsync(name, default)).GetProperty("VersionIdsToStages").GetRawText();
        return new FailoverRun(separateHosts, run, false, double.NaN, false, $"not completed {deadline.TotalSeconds:F0} s after the kill; labels then: `{labels}`");
    }

    /// <summary>The rotation's version holds AWSCURRENT and nothing else holds AWSPENDING: it is finished.</summary>
    private static async Task<bool> IsCompleteAsync(SecretsManagerClient client, string name, string token)
    {
        var stages = (await client.DescribeSecretAsync(name, default)).GetProperty("VersionIdsToStages");
        return stages.TryGetProperty(token, out var labels) && labels.EnumerateArray().Any(l => l.GetString() == "AWSCURRENT")
            && !stages.EnumerateObject().Any(v => v.Value.EnumerateArray().Any(l => l.GetString() == "AWSPENDING"));
    }

    private sealed record Configuration(string Name, IReadOnlyList<Node> Nodes);

    /// <summary>The run's shared facts: every node gets the same root credentials and master key.</summary>
    private sealed class ClusterContext(ClusterSettings settings, string work, string log, SigV4Credentials credentials, string masterKey)
    {
        public ClusterSettings Settings => settings;

        public string Work => work;

        public string Log => log;

        public SigV4Credentials Credentials => credentials;

        public string MasterKey => masterKey;

        public PostgresServer? Postgres { get; set; }

        public string? StoreUrl { get; set; }

        public IReadOnlyDictionary<string, string> ClientEnvironment { get; } = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = credentials.AccessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = credentials.SecretAccessKey,
        };
    }

    private sealed record Node(string Name, ChildProcess Process, Uri Url);

    /// <summary>The most GetSecretValue warm-up a node gets after the fixed one while its JIT is still busy.</summary>
    private const double MaxExtraWarmup = 60;

    /// <summary>The nodes of one part, stopped (or killed) together at its end.</summary>
    private sealed class NodeSet : IAsyncDisposable
    {
        private readonly List<Node> _nodes = [];

        public IReadOnlyList<Node> All => _nodes;

        public async Task<Node> StartAsync(ClusterContext context, string name, bool store, string? hostname = null, IReadOnlyDictionary<string, string>? extraEnvironment = null)
        {
            var port = ChildProcess.FreePort();
            var environment = new Dictionary<string, string>
            {
                ["KEYTURN_ROOT_ACCESS_KEY_ID"] = context.Credentials.AccessKeyId,
                ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = context.Credentials.SecretAccessKey,
                ["KEYTURN_MASTER_KEY"] = context.MasterKey,
            };
            foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
            {
                environment[key] = value;
            }

            var process = ChildProcess.Start(context.Settings.KeyturnDll,
                ["serve", "--data-dir", Path.Combine(context.Work, name), "--listen", $"127.0.0.1:{port}", "--log-level", "Warning",
                    "--scheduler-interval", context.Settings.SchedulerInterval.ToString(CultureInfo.InvariantCulture),
                    .. store ? new[] { "--store", context.StoreUrl! } : []],
                environment, context.Log, hostname: hostname);
            var node = new Node(name, process, new Uri($"http://127.0.0.1:{port}/"));
            _nodes.Add(node);
            await process.WaitUntilHealthyAsync(new Uri(node.Url, "health"), name);
            return node;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var node in _nodes)
            {
                await node.Process.StopAsync();
                await node.Process.DisposeAsync();
            }
        }
    }
}

internal sealed record ClusterSettings(
    string KeyturnDll, string BenchDll, string[] Parts, int Nodes, double Duration, double Warmup, double ServerWarmup, int Repetitions, int[] Connections,
    int GetSecrets, int PutsPerSecret, int SampleMs, int Failovers, double LeaseLifetime, double SchedulerInterval, int MaxConnections, string ReportPath,
    string LoadAverageAtStart);

internal sealed class ClusterResult
{
    public string? PostgresVersion { get; set; }

    public string? PostgresSettings { get; set; }

    public string[] Configurations { get; set; } = [];

    public List<ClusterCell> Cells { get; } = [];

    public List<FailoverRun> Failovers { get; } = [];

    public Dictionary<string, double> NodeMemoryMiB { get; set; } = [];

    /// <summary>Each node's warm-up beyond the fixed one, until its JIT went quiet.</summary>
    public List<string> Warmups { get; } = [];
}

/// <summary>One cell of the cluster benchmark, sampled over the load's measured window.</summary>
internal sealed record ClusterCell(
    int Repetition, string Configuration, int NodeCount, string Operation, int Connections, LoadResult Load, double WindowS,
    double PostgresCpuS, IReadOnlyDictionary<string, double> NodeCpuS, double IdleNodesCpuS, double MachineBusyS, double MachineTotalS, ActivitySummary? Activity)
{
    public double PostgresCores => PostgresCpuS / WindowS;

    public double NodeCores => NodeCpuS.Values.Sum() / WindowS;

    /// <summary>Everything else that ran: the load process, this orchestrator, idle nodes, other jobs on the machine.</summary>
    public double OtherCores => Math.Max(0, MachineBusyS - PostgresCpuS - NodeCpuS.Values.Sum()) / WindowS;

    public double MachineBusy => MachineTotalS > 0 ? MachineBusyS / MachineTotalS : double.NaN;

    public double PostgresMicrosPerRequest => Load.Rps > 0 ? PostgresCores / Load.Rps * 1e6 : double.NaN;

    public double NodeMicrosPerRequest => Load.Rps > 0 ? NodeCores / Load.Rps * 1e6 : double.NaN;

    public double OtherMicrosPerRequest => Load.Rps > 0 ? OtherCores / Load.Rps * 1e6 : double.NaN;
}

/// <param name="SeparateHosts">Whether each node ran under a host name of its own, as on separate machines.</param>
internal sealed record FailoverRun(bool SeparateHosts, int Run, bool Completed, double Seconds, bool LogsIn, string? Note);
