using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Keyturn.Protocol.SigV4;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Bench.Rotation;

/// <summary>
/// The rotation benchmark: a throwaway PostgreSQL 15, a real <c>keyturn serve</c> process, SigV4
/// clients. Part 1 times rotations run one at a time; part 2 makes many secrets fall due at
/// once and times the scheduler and engine rotating all of them. Prints a Markdown report.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message + "\n\n" + BenchOptions.Usage);
            return 2;
        }

        var work = Directory.CreateTempSubdirectory("keyturn-bench-rotation-").FullName;
        var report = new Report(options.ReportPath);
        var postgres = new PostgresServer();
        TestCertificates? certificates = null;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.StopNow();
        try
        {
            report.Line("# Keyturn rotation benchmark");
            report.Line();
            report.Line($"Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC by `bench/run-rotation.sh` (Keyturn {BenchMachine.Commit(Environment.GetEnvironmentVariable("KEYTURN_REPO") ?? Directory.GetCurrentDirectory())}). Work directory {work}.");
            report.Line("Every number below comes from that run; nothing was edited by hand. Method notes and the engine fixes this benchmark found: " +
                "[benchmarks-rotation-history.md](benchmarks-rotation-history.md).");
            report.Line();
            certificates = TestCertificates.Create();
            await postgres.StartAsync(certificates);
            var version = await postgres.ScalarAsSuperuserAsync<string>("SELECT version()");
            Machine(report, work, version ?? "?");

            var context = new BenchContext(options, work, postgres, report);
            if (options.Parts.Contains("single"))
            {
                await SingleRotationBenchmark.RunAsync(context);
            }

            if (options.Parts.Contains("bulk"))
            {
                await DueAtOnceBenchmark.RunAsync(context);
            }

            return context.Failed ? 1 : 0;
        }
        finally
        {
            await postgres.StopAsync();
            certificates?.Delete();
            if (!options.Keep)
            {
                BenchMachine.TryDelete(work);
            }

            report.Flush();
        }
    }

    private static void Machine(Report report, string work, string postgresVersion)
    {
        report.Line("## Machine");
        report.Line();
        report.Line($"- CPUs (nproc): {Environment.ProcessorCount}; CPU model: {BenchMachine.CpuModel()}");
        report.Line(string.Create(CultureInfo.InvariantCulture, $"- Memory: {BenchMachine.MemoryGiB():F1} GiB"));
        report.Line($"- OS: {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}");
        report.Line($"- Data directory file system: {BenchMachine.FileSystemOf(work)} (the server fsyncs every commit: SQLite WAL, synchronous=FULL)");
        report.Line($"- Load average when the benchmark started (1, 5, 15 min): {BenchMachine.LoadAverage()} (a rough sign of other work; each part accounts its CPU time precisely)");
        report.Line($"- PostgreSQL: {postgresVersion} (throwaway cluster of the rotator tests: fsync=off, SCRAM-SHA-256 logins, TLS on with an RSA-2048 certificate: the secrets carry no `ssl` key, so every rotation's logins negotiate it)");
        report.Line();
    }

}

/// <summary>What the benchmark parts share.</summary>
internal sealed class BenchContext(BenchOptions options, string work, PostgresServer postgres, Report report)
{
    public const string Region = "us-east-1";

    public BenchOptions Options => options;

    public string Work => work;

    public PostgresServer Postgres => postgres;

    public Report Report => report;

    public SigV4Credentials Credentials { get; } = new(
        "AKIAKTBENCH" + Random.Shared.Next(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture),
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()) + "Rb7");

    /// <summary>Set when a check failed or a target was missed; the exit code says so.</summary>
    public bool Failed { get; set; }

    public string DatabasePath(string dataDirectory) => Path.Combine(dataDirectory, "keyturn.db");

    public Task<ServerProcess> StartServerAsync(string dataDirectory, double schedulerIntervalSeconds) =>
        ServerProcess.StartAsync(options.KeyturnDll, dataDirectory, Credentials.AccessKeyId, Credentials.SecretAccessKey, schedulerIntervalSeconds, Path.Combine(work, "server.log"));

    public string SecretJson(string user, string password) => BenchPostgres.SecretJson(postgres, user, password);

    public string Pass(bool ok) => ok ? "**pass**" : "**FAIL**";
}

/// <summary>Command-line options.</summary>
internal sealed record BenchOptions(string KeyturnDll, int Rotations, int Warmup, int Secrets, int ClientConcurrency, int PollMs, string? ReportPath, bool Keep, IReadOnlySet<string> Parts)
{
    public const string Usage = """
        Usage: Keyturn.Bench.Rotation --keyturn-dll PATH [options]
          --keyturn-dll PATH        keyturn.dll of a Release build (dotnet build src/Keyturn.Cli -c Release -o DIR)
          --rotations N             rotations to time, one at a time (default 200)
          --warmup N                rotations before those, not timed (default 5)
          --secrets N               secrets falling due at once (default 1000)
          --client-concurrency N    parallel client requests while setting up part 2 (default 8)
          --poll-ms N               DescribeSecret polling interval in part 1 (default 5)
          --only single|bulk        run one part only
          --report PATH             also write the Markdown report to PATH
          --keep                    keep the work directory (server data, logs)
        """;

    public static BenchOptions Parse(string[] args)
    {
        string? dll = null, report = null;
        int rotations = 200, warmup = 5, secrets = 1000, concurrency = 8, pollMs = 5;
        var keep = false;
        var parts = new HashSet<string>(["single", "bulk"], StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Number() => int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} needs a positive number.");
            switch (args[i])
            {
                case "--keyturn-dll": dll = Path.GetFullPath(Next()); break;
                case "--rotations": rotations = Number(); break;
                case "--warmup": warmup = Number(); break;
                case "--secrets": secrets = Number(); break;
                case "--client-concurrency": concurrency = Number(); break;
                case "--poll-ms": pollMs = Number(); break;
                case "--report": report = Path.GetFullPath(Next()); break;
                case "--keep": keep = true; break;
                case "--only":
                    var only = Next();
                    parts = only is "single" or "bulk" ? new HashSet<string>([only], StringComparer.Ordinal) : throw new ArgumentException("--only takes single or bulk.");
                    break;
                default: throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }

        if (dll is null || !File.Exists(dll))
        {
            throw new ArgumentException("--keyturn-dll must name an existing keyturn.dll.");
        }

        return new BenchOptions(dll, rotations, warmup, secrets, concurrency, pollMs, report, keep, parts);
    }
}

/// <summary>Markdown written to the console as it is produced, and to a file at the end.</summary>
internal sealed class Report(string? path)
{
    private readonly StringBuilder _text = new();

    public void Line(string line = "")
    {
        _text.AppendLine(line);
        Console.WriteLine(line);
    }

    /// <summary>Progress for the operator, on stderr so it stays out of the report.</summary>
    public static void Progress(string message) =>
        Console.Error.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {message}");

    public void Flush()
    {
        if (path is not null)
        {
            File.WriteAllText(path, _text.ToString());
        }
    }
}
