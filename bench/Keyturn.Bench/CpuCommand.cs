using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Bench;

/// <summary>
/// The CPU-per-request mode (docs/benchmarks-cpu.md): Keyturn and a bare Kestrel, both pinned to the server CPUs,
/// driven from load processes pinned to the other CPUs; for each cell, the server's CPU time and allocated bytes over
/// the load's measured window, divided by the requests answered in it. Repetitions interleave the two servers.
/// </summary>
internal static class CpuCommand
{
    public const string BaselineName = "bare Kestrel";
    public const string KeyturnName = "Keyturn";

    /// <summary>The <c>--store</c> value that starts a throwaway PostgreSQL 15 for the run instead of naming one.</summary>
    public const string ThrowawayPostgres = "postgresql";

    public static async Task<int> RunAsync(Flags flags)
    {
        var repo = RunAllCommand.RepositoryRoot();
        var allowed = CpuList.Allowed();
        var serverCpus = flags.Text("server-cpus") is { } s ? CpuList.Parse(s) : allowed[..(allowed.Length / 2)];
        var loadCpus = flags.Text("load-cpus") is { } l ? CpuList.Parse(l) : allowed[(allowed.Length / 2)..];
        var keyturnDll = Path.GetFullPath(flags.Text("keyturn-dll", Path.Combine(repo, "src/Keyturn.Cli/bin/Release/net10.0/keyturn.dll")));
        var settings = new CpuSettings(
            KeyturnDll: keyturnDll,
            BenchDll: typeof(Program).Assembly.Location,
            Store: flags.Text("store"),
            Duration: flags.Seconds("duration", 10),
            Warmup: flags.Seconds("warmup", 3),
            ServerWarmup: flags.Seconds("server-warmup", 10),
            MaxExtraWarmup: flags.Seconds("max-extra-warmup", 120),
            Repetitions: flags.Int("repetitions", 5),
            Connections: [.. flags.Text("connections", "1,16").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))],
            Operations: [.. flags.Text("operations", $"{LoadCommand.GetSecretValue},{LoadCommand.PutSecretValue},{LoadCommand.DescribeSecret}").Split(',')],
            GetSecrets: flags.Int("get-secrets", 100),
            PutsPerSecret: flags.Int("puts-per-secret", 50),
            CounterInterval: flags.Seconds("counter-interval", 1),
            ServerCpus: serverCpus,
            LoadCpus: loadCpus,
            Caller: flags.Text("caller", "iam") is "iam" or "root" ? flags.Text("caller", "iam") : throw new ArgumentException("--caller takes iam or root."),
            ReportPath: Path.GetFullPath(flags.Text("report", Path.Combine(repo, flags.Text("store") is null ? "docs/benchmarks-cpu.md" : "docs/benchmarks-cpu-postgresql.md"))),
            LoadAverageAtStart: BenchMachine.LoadAverage(" "),
            Calibration: flags.Text("calibrate") is { } calibrate ? Calibration.Parse(calibrate) : null,
            BaselineEnvironment: BaselineEnvironment(flags.Text("baseline-env"), keyturnDll));
        var keep = flags.Switch("keep");

        // Query keys for the throwaway PostgreSQL's URI, e.g. read_max_pool_size=4 to size the read pool.
        var storeQuery = flags.Text("store-query");
        flags.RejectUnknown();
        if (settings.Calibration is null && !File.Exists(settings.KeyturnDll))
        {
            throw new ArgumentException($"{settings.KeyturnDll} does not exist; build Keyturn.Cli in Release first (bench/run-cpu.sh does).");
        }

        if (serverCpus.Length == 0 || loadCpus.Length == 0 || serverCpus.Intersect(loadCpus).Any() || !serverCpus.Concat(loadCpus).All(allowed.Contains))
        {
            throw new ArgumentException(
                $"The server and the load need separate CPUs among those this process may use ({CpuList.Format(allowed)}); got server {CpuList.Format(serverCpus)}, load {CpuList.Format(loadCpus)}. " +
                "On one CPU this mode cannot separate them.");
        }

        if (settings.Store is not null && !await ClusterCommand.KnowsStoreFlagAsync(settings.KeyturnDll))
        {
            await Console.Error.WriteLineAsync(
                $"{settings.KeyturnDll} has no `serve --store` option: this Keyturn build predates the PostgreSQL store (issue 12). Leave out --store to measure the embedded store.");
            return 3;
        }

        if (settings.Operations.Except([LoadCommand.GetSecretValue, LoadCommand.PutSecretValue, LoadCommand.DescribeSecret]).FirstOrDefault() is { } unknown)
        {
            throw new ArgumentException($"--operations takes GetSecretValue, PutSecretValue and DescribeSecret, not '{unknown}'.");
        }

        if (settings.PutsPerSecret > 90)
        {
            throw new ArgumentException("--puts-per-secret must stay under the 100-version quota (at most 90).");
        }

        // This orchestrator (and the seeders it starts) stay off the server CPUs too.
        await PinSelfAsync(settings.LoadCpus);

        var work = Directory.CreateTempSubdirectory("keyturn-bench-cpu-").FullName;
        var log = Path.Combine(work, "bench.log");
        Console.Error.WriteLine($"Work directory {work} (child output in {log}); server on CPU {CpuList.Format(serverCpus)}, load on CPU {CpuList.Format(loadCpus)}.");
        var accessKeyId = "AKIA" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
        var secretAccessKey = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
        IReadOnlyDictionary<string, string> clientEnvironment = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = accessKeyId, ["AWS_SECRET_ACCESS_KEY"] = secretAccessKey };
        var started = Stopwatch.GetTimestamp();
        var pin = CpuList.Format(serverCpus);

        // A throwaway PostgreSQL (durable commits) pinned with the server: its backends' CPU per request is reported beside
        // Keyturn's, and the load's CPUs stay free of it.
        var postgres = settings.Store == ThrowawayPostgres ? new PostgresServer() : null;
        await using var stopPostgres = new AsyncCleanup(() => postgres?.StopAsync() ?? Task.CompletedTask);
        var store = settings.Store;
        if (postgres is not null)
        {
            if (PostgresServer.MissingBinary() is { } missing)
            {
                await Console.Error.WriteLineAsync($"--store {ThrowawayPostgres} needs {missing} (the Debian postgresql-15 package).");
                return 3;
            }

            Console.Error.WriteLine("Starting PostgreSQL...");
            await postgres.StartAsync(certificates: null);
            await BenchPostgres.RestartDurableAsync(postgres, 100, "128MB");
            await postgres.ExecuteAsSuperuserAsync("postgres", $"CREATE DATABASE {BenchPostgres.StoreDatabase} OWNER {PostgresServer.MasterUser}");
            await PinAsync(CpuUse.PostmasterPid(postgres.DataDirectory), serverCpus);
            store = $"postgresql://{PostgresServer.MasterUser}:{postgres.MasterPassword}@127.0.0.1:{postgres.Port.ToString(CultureInfo.InvariantCulture)}/{BenchPostgres.StoreDatabase}" +
                (storeQuery is null ? "" : "?" + storeQuery);
            Console.Error.WriteLine(storeQuery is null ? "Store URI without query keys" : $"Store URI query: {storeQuery}");
        }

        var baselinePort = ChildProcess.FreePort();
        await using var baseline = ChildProcess.Start(settings.BenchDll, ["baseline", "--bare", "--listen", $"127.0.0.1:{baselinePort}"],
            new Dictionary<string, string>(settings.BaselineEnvironment), log, pin: pin);
        var baselineUrl = new Uri($"http://127.0.0.1:{baselinePort}/");
        await baseline.WaitUntilHealthyAsync(new Uri(baselineUrl, "health"), "baseline");

        // A calibration run measures a second bare Kestrel with a known extra cost instead of Keyturn: the harness must find that cost.
        var keyturnPort = ChildProcess.FreePort();
        await using var keyturn = settings.Calibration is { } calibration
            ? ChildProcess.Start(settings.BenchDll,
                ["baseline", "--bare", "--listen", $"127.0.0.1:{keyturnPort}", "--burn-us", calibration.Micros.ToString(CultureInfo.InvariantCulture),
                    "--allocate-bytes", calibration.Bytes.ToString(CultureInfo.InvariantCulture)], new Dictionary<string, string>(), log, pin: pin)
            : ChildProcess.Start(settings.KeyturnDll,
                ["serve", "--data-dir", Path.Combine(work, "data"), "--listen", $"127.0.0.1:{keyturnPort}", "--log-level", "Warning",
                    .. store is null ? Array.Empty<string>() : ["--store", store]],
                new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = accessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = secretAccessKey }, log, pin: pin);
        var keyturnUrl = new Uri($"http://127.0.0.1:{keyturnPort}/");
        await keyturn.WaitUntilHealthyAsync(new Uri(keyturnUrl, "health"), settings.SubjectName);

        if (settings.Calibration is null)
        {
            await Seeder.SeedAsync(settings.BenchDll, keyturnUrl, "bench-get-", settings.GetSecrets, read: false, clientEnvironment, log, CpuList.Format(loadCpus));
            if (settings.Caller == "iam")
            {
                // Measured as an application key would call: SigV4 with a stored key, an identity policy evaluated with its
                // condition keys on every request (root skips policy evaluation without a resource policy).
                clientEnvironment = await CreateIamKeyAsync(settings, work, store, log);
            }
        }

        // The seeded store gets its statistics before the warm-up prepares statements against it.
        await SettlePostgresAsync(postgres);

        var servers = new[] { (Name: BaselineName, Process: baseline, Url: baselineUrl), (Name: KeyturnName, Process: keyturn, Url: keyturnUrl) };
        var cells = new List<CpuCell>();
        var runner = new CellRunner(settings, clientEnvironment, log, postgres is null ? null : CpuUse.PostmasterPid(postgres.DataDirectory));

        var warmups = new List<Warmup>();
        if (settings.ServerWarmup > 0)
        {
            // Both servers were just started: let the JIT reach its optimized tier before anything is measured.
            Console.Error.WriteLine($"Warming up both servers ({settings.ServerWarmup:0.#} s per operation each)...");
            foreach (var operation in settings.Operations)
            {
                foreach (var server in servers)
                {
                    var atBaseline = server.Name == BaselineName || settings.Calibration is not null;
                    var puts = operation == LoadCommand.PutSecretValue && !atBaseline ? LoadProcess.PutPool(4000, 0, settings.ServerWarmup, settings.PutsPerSecret) : 0;
                    await LoadProcess.RunAsync(settings.BenchDll,
                        new LoadSpec([server.Url], operation, 16, settings.ServerWarmup, 0, atBaseline, puts, SecretCount: settings.GetSecrets),
                        clientEnvironment, log, CpuList.Format(loadCpus));
                    warmups.Add(await WarmUntilJitQuietAsync(settings, server.Name, server.Process, server.Url, operation, atBaseline, clientEnvironment, log, loadCpus));
                }
            }
        }

        for (var repetition = 1; repetition <= settings.Repetitions; repetition++)
        {
            foreach (var connections in settings.Connections)
            {
                foreach (var operation in settings.Operations)
                {
                    // Alternate which server goes first, so a drift within a pair does not favour either.
                    foreach (var server in repetition % 2 == 1 ? servers : servers.AsEnumerable().Reverse())
                    {
                        var puts = 0;
                        if (operation == LoadCommand.PutSecretValue && server.Name == KeyturnName && settings.Calibration is null)
                        {
                            var previous = cells.LastOrDefault(c => c.Server == KeyturnName && c.Connections == connections && c.Operation is LoadCommand.PutSecretValue or LoadCommand.GetSecretValue);
                            puts = LoadProcess.PutPool(previous?.Load.Rps ?? 4000, settings.Warmup, settings.Duration, settings.PutsPerSecret);
                        }

                        if (server.Name == KeyturnName)
                        {
                            await SettlePostgresAsync(postgres);
                        }

                        var cell = await runner.RunAsync(repetition, server.Name, server.Process, server.Url, operation, connections, puts);
                        cells.Add(cell);
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"[{repetition}/{settings.Repetitions}] {server.Name,-12} {operation,-14} x{connections,-3} {cell.Load.Rps,8:F0} req/s  p99 {cell.Load.P99Ms,7:F3} ms  " +
                            $"{cell.MicrosPerRequest,6:F1} µs/req  {cell.BytesPerRequest,7:F0} B/req  server cores {cell.ServerCoresUsed * 100:F0}% used, {cell.OtherOnServerCores * 100:F0}% by others  errors {cell.Load.Errors}"));
                    }
                }
            }
        }

        await keyturn.StopAsync();
        await baseline.StopAsync();
        var elapsed = Stopwatch.GetElapsedTime(started);
        var report = CpuReport.Write(settings, cells, warmups, elapsed, repo);
        Directory.CreateDirectory(Path.GetDirectoryName(settings.ReportPath)!);
        await File.WriteAllTextAsync(settings.ReportPath, report.Markdown);
        Console.WriteLine(report.Summary);
        Console.WriteLine($"Report written to {settings.ReportPath}.");
        if (!keep)
        {
            BenchMachine.TryDelete(Path.Combine(work, "data"));
        }

        Console.Error.WriteLine(keep ? $"Kept {work}." : $"Child output kept in {log}.");
        return cells.Any(c => c.Load.Errors > 0) ? 1 : 0;
    }

    /// <summary>
    /// More unmeasured load after the fixed warm-up (<see cref="JitWarmup"/>), each round 4 s at every measured connection
    /// count, with the allocation counters on as in a measured window: the runtime's counter code is then compiled here too.
    /// </summary>
    private static async Task<Warmup> WarmUntilJitQuietAsync(CpuSettings settings, string serverName, ChildProcess server, Uri url, string operation, bool atBaseline,
        IReadOnlyDictionary<string, string> environment, string log, int[] loadCpus)
    {
        const double Round = 4;
        var counts = settings.Connections.Distinct().ToArray();
        var (extra, share, quiet) = await JitWarmup.RunAsync(server.Pid, Round * counts.Length, settings.MaxExtraWarmup, async () =>
        {
            foreach (var connections in counts)
            {
                var watch = AllocationWatch.Start(server.Pid, settings.CounterInterval);
                var puts = operation == LoadCommand.PutSecretValue && !atBaseline ? LoadProcess.PutPool(4000, 0, Round, settings.PutsPerSecret) : 0;
                await LoadProcess.RunAsync(settings.BenchDll,
                    new LoadSpec([url], operation, connections, Round, 0, atBaseline, puts, SecretCount: settings.GetSecrets),
                    environment, log, CpuList.Format(loadCpus));
                await watch.StopAsync();
            }
        });

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {serverName} {operation}: {extra:0} s more warm-up; JIT {share * 100:F1} % of the last round{(quiet ? "" : " (still busy: the cap was reached)")}"));
        return new Warmup(serverName, operation, extra, share);
    }

    /// <summary>Pins every thread of this process to <paramref name="cpus"/> (children inherit it).</summary>
    private static Task PinSelfAsync(IEnumerable<int> cpus) => PinAsync(Environment.ProcessId, cpus);

    /// <summary>Pins every thread of a process, and so the children it starts from then on, to <paramref name="cpus"/>.</summary>
    private static async Task PinAsync(int pid, IEnumerable<int> cpus)
    {
        var start = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-a", "-p", "-c", CpuList.Format(cpus), pid.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using var taskset = Process.Start(start)!;
        await taskset.StandardOutput.ReadToEndAsync();
        await taskset.WaitForExitAsync();
        if (taskset.ExitCode != 0)
        {
            throw new InvalidOperationException($"taskset could not pin process {pid}; is util-linux installed?");
        }
    }

    /// <summary>The identity policy of the <c>--caller iam</c> key: what the load needs, behind a source-address condition and beside a Deny.</summary>
    public const string IamPolicy =
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"secretsmanager:GetSecretValue\",\"secretsmanager:PutSecretValue\"," +
        "\"secretsmanager:DescribeSecret\",\"secretsmanager:CreateSecret\"],\"Resource\":\"arn:aws:secretsmanager:*:*:secret:bench-*\"," +
        "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"127.0.0.0/8\"}}}," +
        "{\"Effect\":\"Deny\",\"Action\":\"secretsmanager:*\",\"Resource\":\"arn:aws:secretsmanager:*:*:secret:prod/*\"}]}";

    /// <summary>
    /// The bare Kestrel's environment: the thread-pool spin limit Keyturn ships in its runtimeconfig.json, if any, so both servers
    /// idle alike and the extra is Keyturn's work, not the runtime's idle behaviour; then "NAME=VALUE,..." from
    /// --baseline-env on top (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=46, hexadecimal 70, gives it the runtime's default).
    /// </summary>
    private static IReadOnlyDictionary<string, string> BaselineEnvironment(string? overrides, string keyturnDll)
    {
        var environment = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var runtimeConfig = Path.ChangeExtension(keyturnDll, ".runtimeconfig.json");
        if (File.Exists(runtimeConfig)
            && JsonNode.Parse(File.ReadAllText(runtimeConfig))?["runtimeOptions"]?["configProperties"]?[SpinLimitProperty] is { } spin)
        {
            environment[SpinLimitVariable] = spin.GetValue<int>().ToString("X", CultureInfo.InvariantCulture);
        }

        foreach (var pair in (overrides ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new ArgumentException($"--baseline-env takes NAME=VALUE pairs separated by commas, not '{pair}'.");
            }

            environment[pair[..equals]] = pair[(equals + 1)..];
        }

        return environment;
    }

    private const string SpinLimitProperty = "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit";
    private const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>Settles the bench's own PostgreSQL store; a store given by URL is left alone (the bench is not its superuser).</summary>
    private static Task SettlePostgresAsync(PostgresServer? postgres) => postgres is null ? Task.CompletedTask : BenchPostgres.SettleStoreAsync(postgres);

    /// <summary>Creates the measured application key with <c>keyturn keys create</c> on the server's store; returns the load's environment.</summary>
    private static async Task<IReadOnlyDictionary<string, string>> CreateIamKeyAsync(CpuSettings settings, string work, string? store, string log)
    {
        var (exit, stdout) = await ChildProcess.RunAsync(settings.KeyturnDll,
            ["keys", "create", "bench-reader", "--policy", IamPolicy, "--data-dir", Path.Combine(work, "data"), .. store is null ? Array.Empty<string>() : ["--store", store]],
            new Dictionary<string, string>(), log);
        string? Value(string name) => stdout.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(name + " = ", StringComparison.Ordinal))?[(name.Length + 3)..];
        return exit == 0 && Value("aws_access_key_id") is { } id && Value("aws_secret_access_key") is { } secret
            ? new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = id, ["AWS_SECRET_ACCESS_KEY"] = secret }
            : throw new InvalidOperationException($"keyturn keys create failed (exit code {exit}); see {log}.");
    }

    /// <summary>Runs a cleanup when the run ends, however it ends.</summary>
    private sealed class AsyncCleanup(Func<Task> cleanup) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await cleanup();
    }

    /// <summary>Runs one cell and samples the server over exactly the load's measured window.</summary>
    private sealed class CellRunner(CpuSettings settings, IReadOnlyDictionary<string, string> environment, string log, int? postmasterPid)
    {
        public async Task<CpuCell> RunAsync(int repetition, string serverName, ChildProcess server, Uri url, string operation, int connections, int putSecrets)
        {
            AllocationWatch? watch = null;
            Task<IReadOnlyList<(double Bytes, double Seconds)>>? stopped = null;
            long cpuFrom = 0, cpuTo = 0, postgresFrom = 0, postgresTo = 0;
            IReadOnlyDictionary<int, long> jitFrom = new Dictionary<int, long>(), jitTo = jitFrom;
            double from = 0, to = 0;
            CoreTime serverFrom = default, serverTo = default, loadFrom = default, loadTo = default;

            void Start()
            {
                // The session opens before the CPU reading, and closes after the last, so its own cost stays outside.
                watch = AllocationWatch.Start(server.Pid, settings.CounterInterval);
                serverFrom = CoreTime.Read(settings.ServerCpus);
                loadFrom = CoreTime.Read(settings.LoadCpus);
                cpuFrom = CpuUse.Ticks(server.Pid, children: false);
                jitFrom = CpuUse.JitThreadTicks(server.Pid);
                postgresFrom = postmasterPid is { } pg ? CpuUse.PostgresTicks(pg) : 0;
                from = Clock.Now;
            }

            void End()
            {
                cpuTo = CpuUse.Ticks(server.Pid, children: false);
                jitTo = CpuUse.JitThreadTicks(server.Pid);
                postgresTo = postmasterPid is { } pg ? CpuUse.PostgresTicks(pg) : 0;
                to = Clock.Now;
                serverTo = CoreTime.Read(settings.ServerCpus);
                loadTo = CoreTime.Read(settings.LoadCpus);
                stopped = watch?.StopAsync();
            }

            var load = await LoadProcess.RunAsync(settings.BenchDll,
                new LoadSpec([url], operation, connections, settings.Duration, settings.Warmup, serverName == BaselineName || settings.Calibration is not null, putSecrets,
                    SecretCount: settings.GetSecrets),
                environment, log, CpuList.Format(settings.LoadCpus), Start, End);
            if (stopped is null || to <= from)
            {
                throw new InvalidOperationException($"The load process for {serverName} {operation} x{connections} never marked its window; see {log}.");
            }

            var intervals = await stopped;
            await File.AppendAllTextAsync(log, $"# {serverName} {operation} x{connections}: alloc-rate intervals (bytes, s): " +
                string.Join("; ", intervals.Select(i => string.Create(CultureInfo.InvariantCulture, $"{i.Bytes:F0}, {i.Seconds:F3}"))) + "\n");
            return new CpuCell(repetition, serverName, operation, connections, load, to - from, (cpuTo - cpuFrom) / CpuUse.TicksPerSecond,
                intervals, settings.ServerCpus.Length, serverTo - serverFrom, loadTo - loadFrom,
                postmasterPid is null || serverName == BaselineName ? null : (postgresTo - postgresFrom) / CpuUse.TicksPerSecond)
            {
                JitCpuS = CpuUse.JitSecondsBetween(jitFrom, jitTo),
            };
        }
    }
}

internal sealed record CpuSettings(
    string KeyturnDll, string BenchDll, string? Store, double Duration, double Warmup, double ServerWarmup, double MaxExtraWarmup, int Repetitions, int[] Connections,
    string[] Operations, int GetSecrets, int PutsPerSecret, double CounterInterval, int[] ServerCpus, int[] LoadCpus, string Caller, string ReportPath, string LoadAverageAtStart,
    Calibration? Calibration, IReadOnlyDictionary<string, string> BaselineEnvironment)
{
    /// <summary>What the report calls the server compared with the bare Kestrel.</summary>
    public string SubjectName => Calibration is { } c ? string.Create(CultureInfo.InvariantCulture, $"bare Kestrel + {c.Micros:0.#} µs + {c.Bytes} B") : "Keyturn";
}

/// <summary>A known cost per request (thread CPU time, one byte array) added to a bare Kestrel, to check the harness.</summary>
internal sealed record Calibration(double Micros, int Bytes)
{
    /// <summary>A byte array's header and length on 64-bit .NET, on top of its elements.</summary>
    public const int ArrayOverhead = 24;

    /// <summary>"50,4000" → 50 µs and a 4,000-byte array per request.</summary>
    public static Calibration Parse(string text)
    {
        var parts = text.Split(',');
        return parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var micros) && micros >= 0
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes)
            ? new Calibration(micros, bytes)
            : throw new ArgumentException("--calibrate takes MICROSECONDS,BYTES, such as 50,4000.");
    }

    /// <summary>The bytes one request allocates on the heap for the array (rounded up to 8).</summary>
    public int HeapBytes => Bytes == 0 ? 0 : (Bytes + ArrayOverhead + 7) / 8 * 8;
}

/// <summary>One server's and operation's warm-up beyond the fixed one: how long, and the JIT's share of the server CPU in its last round.</summary>
internal sealed record Warmup(string Server, string Operation, double ExtraSeconds, double LastJitShare);

/// <summary>
/// One cell of the CPU mode. Per-request figures are rates over rates, each over its own exactly-known span: the server's
/// CPU seconds per second of the window, or its allocated bytes per second of the counter intervals, divided by the
/// requests per second the load counted in its window (the load is steady there, so the spans need not coincide to the
/// millisecond).
/// </summary>
internal sealed record CpuCell(
    int Repetition, string Server, string Operation, int Connections, LoadResult Load, double WindowS, double ServerCpuS,
    IReadOnlyList<(double Bytes, double Seconds)> AllocIntervals, int ServerCpuCount, CoreTime ServerCores, CoreTime LoadCores, double? PostgresCpuS = null)
{
    public double MicrosPerRequest => Load.Rps > 0 && WindowS > 0 ? ServerCpuS / WindowS / Load.Rps * 1e6 : double.NaN;

    /// <summary>The throwaway PostgreSQL's CPU per request over the same window (its backends are not in the server's time).</summary>
    public double PostgresMicrosPerRequest => PostgresCpuS is { } pg && Load.Rps > 0 && WindowS > 0 ? pg / WindowS / Load.Rps * 1e6 : double.NaN;

    public double AllocSeconds => AllocIntervals.Sum(i => i.Seconds);

    public double BytesPerRequest => Load.Rps > 0 && AllocSeconds > 0 ? AllocIntervals.Sum(i => i.Bytes) / AllocSeconds / Load.Rps : double.NaN;

    /// <summary>The share of the server CPUs the server used over the window.</summary>
    public double ServerCoresUsed => WindowS > 0 ? ServerCpuS / WindowS / ServerCpuCount : double.NaN;

    /// <summary>The share of the server CPUs busy with anything else (the idle other server, and every other job on the machine).</summary>
    public double OtherOnServerCores => ServerCores.Total > 0 ? Math.Max(0, ServerCores.Busy - ServerCpuS - (PostgresCpuS ?? 0)) / ServerCores.Total : double.NaN;

    public double LoadCoresBusy => LoadCores.Total > 0 ? LoadCores.Busy / LoadCores.Total : double.NaN;

    /// <summary>CPU seconds the server's JIT spent promoting methods in the background during the window (part of <see cref="ServerCpuS"/>).</summary>
    public double JitCpuS { get; init; }

    /// <summary>The JIT's background share of the server's CPU per request: near zero once the server is warm.</summary>
    public double JitMicrosPerRequest => Load.Rps > 0 && WindowS > 0 ? JitCpuS / WindowS / Load.Rps * 1e6 : double.NaN;
}
