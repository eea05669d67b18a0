using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Keyturn.Bench;

/// <summary>
/// Orchestrates the whole benchmark: the bare Kestrel baseline and a real <c>keyturn serve</c> (fresh data
/// directory) as child processes, every cell as its own <c>load</c> process, repetitions interleaved so
/// drift hits every server alike, then the memory measurement and the report.
/// </summary>
internal static class RunAllCommand
{
    // The warm-up's writes go to their own pool, sized for its few seconds.
    private const int WarmupPutSecrets = 1000;

    private static readonly string[] Operations = [LoadCommand.Baseline, LoadCommand.GetSecretValue, LoadCommand.PutSecretValue];

    public static async Task<int> RunAsync(Flags flags)
    {
        var repo = RepositoryRoot();
        var settings = new Settings(
            KeyturnDll: Path.GetFullPath(flags.Text("keyturn-dll", Path.Combine(repo, "src/Keyturn.Cli/bin/Release/net10.0/keyturn.dll"))),
            BenchDll: typeof(Program).Assembly.Location,
            Duration: flags.Seconds("duration", 8),
            Warmup: flags.Seconds("warmup", 3),
            ServerWarmup: flags.Seconds("server-warmup", 10),
            Repetitions: flags.Int("repetitions", 3),
            Connections: flags.Text("connections", "1,16,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray(),
            SeedCount: flags.Int("seed-count", 100_000, min: 0),
            PutsPerSecret: flags.Int("puts-per-secret", 50),
            GetSecrets: flags.Int("get-secrets", 100),
            ReportPath: Path.GetFullPath(flags.Text("report", Path.Combine(repo, "docs/benchmarks-http.md"))),
            LoadAverageAtStart: BenchMachine.LoadAverage(" "));
        var keep = flags.Switch("keep");
        flags.RejectUnknown();
        if (!File.Exists(settings.KeyturnDll))
        {
            throw new ArgumentException($"{settings.KeyturnDll} does not exist; build Keyturn.Cli in Release first (bench/run.sh does).");
        }

        if (settings.PutsPerSecret > 90)
        {
            throw new ArgumentException("--puts-per-secret must stay under the 100-version quota (at most 90).");
        }

        var work = Directory.CreateTempSubdirectory("keyturn-bench-").FullName;
        var log = Path.Combine(work, "bench.log");
        Console.Error.WriteLine($"Work directory {work} (child output in {log}).");
        var accessKeyId = "AKIA" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
        var secretAccessKey = RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40);
        var clientEnvironment = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = accessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = secretAccessKey,
        };
        var started = Stopwatch.GetTimestamp();

        var baselinePort = ChildProcess.FreePort();
        await using var baseline = ChildProcess.Start(settings.BenchDll, ["baseline", "--listen", $"127.0.0.1:{baselinePort}"], new Dictionary<string, string>(), log);
        var baselineUrl = new Uri($"http://127.0.0.1:{baselinePort}/");
        await baseline.WaitUntilHealthyAsync(new Uri(baselineUrl, "health"), "baseline");

        async Task<(ChildProcess Server, Uri Url)> StartKeyturnAsync(string dataDir)
        {
            var port = ChildProcess.FreePort();
            var server = ChildProcess.Start(settings.KeyturnDll,
                ["serve", "--data-dir", dataDir, "--listen", $"127.0.0.1:{port}", "--log-level", "Warning"],
                new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = accessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = secretAccessKey }, log);
            var url = new Uri($"http://127.0.0.1:{port}/");
            await server.WaitUntilHealthyAsync(new Uri(url, "health"), "keyturn");
            return (server, url);
        }

        var (keyturn, keyturnUrl) = await StartKeyturnAsync(Path.Combine(work, "data"));
        await using var keyturnLifetime = keyturn;

        var run = new RunContext(settings, clientEnvironment, log);
        await run.SeedAsync(keyturnUrl, "bench-get-", settings.GetSecrets, read: false);
        if (settings.ServerWarmup > 0)
        {
            // Both servers were just started: let the JIT reach its optimized tier before anything is measured.
            Console.Error.WriteLine($"Warming up both servers ({settings.ServerWarmup:0.#} s each for Baseline and GetSecretValue, less for PutSecretValue)...");
            await run.LoadAsync(baseline, baselineUrl, LoadCommand.Baseline, 16, 0, settings.ServerWarmup);
            await run.LoadAsync(keyturn, keyturnUrl, LoadCommand.GetSecretValue, 16, 0, settings.ServerWarmup);
            await run.LoadAsync(keyturn, keyturnUrl, LoadCommand.PutSecretValue, 16, WarmupPutSecrets, settings.ServerWarmup / 2);
        }

        var results = new Dictionary<(string Operation, int Connections), List<CellRun>>();
        for (var repetition = 1; repetition <= settings.Repetitions; repetition++)
        {
            foreach (var connections in settings.Connections)
            {
                foreach (var operation in Operations)
                {
                    var server = operation == LoadCommand.Baseline ? baseline : keyturn;
                    var url = operation == LoadCommand.Baseline ? baselineUrl : keyturnUrl;
                    var putSecrets = 0;
                    if (operation == LoadCommand.PutSecretValue)
                    {
                        // Size the pool from the last write rate at this connection count (with room for a faster run),
                        // or, the first time, from this repetition's read rate, which a write never beats.
                        var estimate = results.TryGetValue((LoadCommand.PutSecretValue, connections), out var puts)
                            ? puts.Max(p => p.Load.Rps) * 1.5
                            : results[(LoadCommand.GetSecretValue, connections)][^1].Load.Rps;
                        putSecrets = Math.Max(20, (int)Math.Ceiling(estimate * (settings.Warmup + settings.Duration) * 1.25 / settings.PutsPerSecret));
                    }

                    var cell = await run.LoadAsync(server, url, operation, connections, putSecrets);
                    if (!results.TryGetValue((operation, connections), out var list))
                    {
                        results[(operation, connections)] = list = [];
                    }

                    list.Add(cell);
                    Console.Error.WriteLine(
                        $"[{repetition}/{settings.Repetitions}] {operation,-14} x{connections,-3} {cell.Load.Rps,9:F0} req/s  p50 {cell.Load.P50Ms,7:F3} ms  " +
                        $"p99 {cell.Load.P99Ms,7:F3} ms  errors {cell.Load.Errors}  server CPU {cell.ServerCpuMicrosPerRequest:F0} us/req  other CPU {cell.OtherCpuShare * 100:F0}%");
                }
            }
        }

        var memory = new MemoryReport
        {
            AfterThroughput = keyturn.Memory(),
            ThroughputSecrets = settings.GetSecrets + (settings.ServerWarmup > 0 ? WarmupPutSecrets : 0) + results.Where(r => r.Key.Operation == LoadCommand.PutSecretValue).SelectMany(r => r.Value).Sum(c => c.Load.PutSecrets),
        };
        await keyturn.StopAsync();
        await baseline.StopAsync();
        if (settings.SeedCount > 0)
        {
            // A fresh server, so the count stored is exactly the one the target names.
            var (fresh, freshUrl) = await StartKeyturnAsync(Path.Combine(work, "memory"));
            await using var freshLifetime = fresh;
            memory.Started = fresh.Memory();
            Console.Error.WriteLine($"Memory: creating {settings.SeedCount} secrets in a fresh server...");
            memory.Seed = await run.SeedAsync(freshUrl, "bench-seed-", settings.SeedCount, read: false);
            memory.AfterSeed = fresh.Memory();
            Console.Error.WriteLine("Memory: reading each of them once (GetSecretValue warm pass)...");
            memory.Read = await run.SeedAsync(freshUrl, "bench-seed-", settings.SeedCount, read: true);
            memory.AfterRead = fresh.Memory();
            Console.Error.WriteLine("Memory: GetSecretValue x16 across all of them...");
            memory.GetAfterSeed = await run.LoadAsync(fresh, freshUrl, LoadCommand.GetSecretValue, 16, 0, secretPrefix: "bench-seed-", secretCount: settings.SeedCount);
            memory.AfterGetAfterSeed = fresh.Memory();
            memory.DatabaseBytes = Directory.GetFiles(Path.Combine(work, "memory"), "keyturn.db*").Sum(f => new FileInfo(f).Length);
            await fresh.StopAsync();
        }

        var elapsed = Stopwatch.GetElapsedTime(started);

        var report = Report.Write(settings, results, memory, elapsed, repo);
        Directory.CreateDirectory(Path.GetDirectoryName(settings.ReportPath)!);
        await File.WriteAllTextAsync(settings.ReportPath, report.Markdown);
        Console.WriteLine(report.Summary);
        Console.WriteLine($"Report written to {settings.ReportPath}.");
        if (!keep)
        {
            TryDelete(Path.Combine(work, "data"));
            TryDelete(Path.Combine(work, "memory"));
        }

        Console.Error.WriteLine(keep ? $"Kept {work}." : $"Child output kept in {log}.");
        return 0;
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Keyturn.slnx")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: it is a temporary directory.
        }
    }

    private sealed class RunContext(Settings settings, IReadOnlyDictionary<string, string> environment, string log)
    {
        public async Task<CellRun> LoadAsync(
            ChildProcess server, Uri url, string operation, int connections, int putSecrets, double? warmupOnly = null, string secretPrefix = "bench-get-", int? secretCount = null)
        {
            var (duration, warmup) = warmupOnly is { } seconds ? (seconds, 0.0) : (settings.Duration, settings.Warmup);
            string[] args =
            [
                "load", "--endpoint", url.ToString(), "--operation", operation, "--connections", connections.ToString(CultureInfo.InvariantCulture),
                "--duration", duration.ToString(CultureInfo.InvariantCulture), "--warmup", warmup.ToString(CultureInfo.InvariantCulture),
                "--secret-prefix", secretPrefix, "--secret-count", (secretCount ?? settings.GetSecrets).ToString(CultureInfo.InvariantCulture),
                .. putSecrets > 0 ? new[] { "--put-secrets", putSecrets.ToString(CultureInfo.InvariantCulture) } : [],
            ];
            var cpuBefore = server.CpuSeconds();
            var machineBefore = MachineCpu.Read();
            var (exitCode, stdout) = await ChildProcess.RunAsync(settings.BenchDll, args, environment, log);
            var machine = MachineCpu.Read() - machineBefore;
            var cpu = server.CpuSeconds() - cpuBefore;
            var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'))
                ?? throw new InvalidOperationException($"load {operation} x{connections} printed no result (exit code {exitCode}); see {log}.");
            var result = JsonSerializer.Deserialize(line, ResultJson.Default.LoadResult)!;
            if (warmupOnly is not null && result.Errors > 0)
            {
                throw new InvalidOperationException($"The {operation} warm-up failed {result.Errors} times ({string.Join(", ", result.ErrorCodes.Keys)}); see {log}.");
            }

            // The pool creation and the warm-up count too, so this is per request the server saw from this process.
            var requests = result.TotalRequests + result.PutSecrets;

            // What neither the server under test nor this load process used: the other server (idle), the
            // orchestrator, and every other job on the shared machine. A share of all CPUs over the process's life.
            var other = machine.Total <= 0 ? 0 : Math.Max(0, machine.Busy - cpu - result.ProcessCpuS) / machine.Total;
            return new CellRun(result, requests == 0 ? 0 : cpu * 1e6 / requests, other);
        }

        public Task<SeedResult> SeedAsync(Uri url, string prefix, int count, bool read) =>
            Seeder.SeedAsync(settings.BenchDll, url, prefix, count, read, environment, log);
    }
}

/// <summary>Runs a <c>seed</c> process and returns what it did; fails unless every secret was created (or read).</summary>
internal static class Seeder
{
    public static async Task<SeedResult> SeedAsync(
        string benchDll, Uri url, string prefix, int count, bool read, IReadOnlyDictionary<string, string> environment, string log, string? pin = null)
    {
        var (exitCode, stdout) = await ChildProcess.RunAsync(benchDll,
            ["seed", "--endpoint", url.ToString(), "--prefix", prefix, "--count", count.ToString(CultureInfo.InvariantCulture), "--workers", "32", .. read ? new[] { "--read" } : []],
            environment, log, pin);
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        var result = line is null ? null : JsonSerializer.Deserialize(line, ResultJson.Default.SeedResult);
        if (exitCode != 0 || result is null)
        {
            throw new InvalidOperationException($"seed {prefix} ({(read ? "read" : "create")}) failed (exit code {exitCode}): {stdout.Trim()}; see {log}.");
        }

        return result;
    }
}

internal sealed record Settings(
    string KeyturnDll, string BenchDll, double Duration, double Warmup, double ServerWarmup, int Repetitions, int[] Connections,
    int SeedCount, int PutsPerSecret, int GetSecrets, string ReportPath, string LoadAverageAtStart);

/// <param name="OtherCpuShare">The share of all CPUs (0–1) busy with anything but the server under test and the load process.</param>
internal sealed record CellRun(LoadResult Load, double ServerCpuMicrosPerRequest, double OtherCpuShare);

/// <summary>Machine-wide CPU time from the first line of /proc/stat, in CPU-seconds.</summary>
internal readonly record struct MachineCpu(double Busy, double Total)
{
    public static MachineCpu Read()
    {
        // cpu user nice system idle iowait irq softirq steal ... in clock ticks (100 per second).
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..]
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture) / 100.0).ToArray();
        var busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + (fields.Length > 7 ? fields[7] : 0);
        var all = busy + fields[3] + fields[4];
        return new MachineCpu(busy, all);
    }

    public static MachineCpu operator -(MachineCpu a, MachineCpu b) => new(a.Busy - b.Busy, a.Total - b.Total);
}

internal sealed class MemoryReport
{
    public (long Rss, long Hwm) AfterThroughput { get; init; }

    public int ThroughputSecrets { get; init; }

    public (long Rss, long Hwm) Started { get; set; }

    public SeedResult? Seed { get; set; }

    public (long Rss, long Hwm) AfterSeed { get; set; }

    public SeedResult? Read { get; set; }

    public (long Rss, long Hwm) AfterRead { get; set; }

    public CellRun? GetAfterSeed { get; set; }

    public (long Rss, long Hwm) AfterGetAfterSeed { get; set; }

    public long DatabaseBytes { get; set; }
}
