using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Keyturn.Protocol.SigV4;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Bench.Doctor;

/// <summary>
/// The doctor benchmark: a throwaway PostgreSQL 15, a real <c>keyturn serve</c> process, and the doctor run as
/// the real <c>keyturn doctor</c> process. Part 1 diagnoses and repairs one stuck secret at a time, against
/// the start-up of the same binary; part 2 runs <c>doctor --all</c> over thousands of rotation-enabled secrets,
/// against the bare cost of one login per secret. Prints a Markdown report.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        // The doctor runs as child processes of this benchmark: their CPU is counted with it.
        CpuUse.CountBenchChildren = true;
        CpuUse.BenchLabel = "benchmark and the keyturn CLI processes it ran";
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

        var work = Directory.CreateTempSubdirectory("keyturn-bench-doctor-").FullName;
        var report = new Report(options.ReportPath);
        var postgres = new PostgresServer();
        TestCertificates? certificates = null;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.StopNow();
        try
        {
            report.Line("# Doctor benchmark");
            report.Line();
            report.Line("How fast `keyturn doctor` diagnoses and repairs stuck rotations, measured end to end as the real CLI process against a real " +
                "`keyturn serve` and a real PostgreSQL 15: (1) one stuck secret diagnosed and repaired, (2) `doctor --all` over thousands of secrets " +
                "with rotation enabled, a few hundred of them stuck. Every number in this file was measured by the run it describes and written by " +
                "`bench/run-doctor.sh` (`bench/Keyturn.Bench.Doctor`); none is estimated or edited. Baselines are measured in the same run, on the same " +
                "machine, so the ratios hold even when the shared machine is busy; the CPU accounting says how busy it was.");
            report.Line();
            report.Line($"Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC with `bench/run-doctor.sh {string.Join(' ', args.Where((a, i) => a is not ("--keyturn-dll" or "--report") && (i == 0 || args[i - 1] is not ("--keyturn-dll" or "--report"))))}`.");
            report.Line();
            report.Line(Report.TargetsMarker);
            report.Line();
            report.Line("""
                ## How to run

                ```sh
                bench/run-doctor.sh                         # both parts: about 5 minutes on 2 cores, plus the build
                bench/run-doctor.sh --only one --repetitions 100
                bench/run-doctor.sh --only all --secrets 2000 --stuck 60 --variant "--concurrency 4"
                bench/run-doctor.sh --doc                   # also rewrite docs/benchmarks-doctor.md with this run's report
                ```

                The script builds `src/Keyturn.Cli` and `bench/Keyturn.Bench.Doctor` in Release and runs the benchmark. It needs the Debian
                `postgresql-15` package (`./run-tests` installs it); as root, PostgreSQL runs via `runuser -u postgres`. It exits with 1 when a
                target is missed or a check fails. CI does not run it: it takes minutes, and its numbers belong to the machine.

                ## Method

                - **Server**: a real `dotnet keyturn.dll serve` process (Release build), its own data directory, a free loopback port. Its SQLite
                  database fsyncs every commit.
                - **Database**: a throwaway PostgreSQL 15 cluster in a temporary directory (the rotator tests' `PostgresServer`, linked into the
                  bench project): SCRAM-SHA-256 logins over loopback TCP, `fsync=off`, TLS off as initdb leaves it (`--tls` turns it on with an
                  RSA-2048 certificate). Every secret has its own login role; its value has no `ssl` key, as RDS writes them, so every login
                  (the doctor's and the baselines') asks for TLS first and uses it when the server offers it, as AWS's rotation functions do.
                - **The doctor** runs as `dotnet keyturn.dll doctor …`, a separate process started by the benchmark, timed from process start
                  to exit with the root credentials in its environment, the way an operator runs it. Its exit code and output are checked.
                - **Stuck states** are built for real, the way a failed rotation leaves them: a pending version through `PutSecretValue` with
                  `VersionStages=[AWSPENDING]`, the database's half through `ALTER ROLE … PASSWORD`, label moves through `UpdateSecretVersionStage`.
                  Rotation is enabled first with `RotateSecret(RotateImmediately=false)` (the dry run: testSecret only).
                - **Percentiles** by nearest rank; medians are the headline. **CPU accounting** from `/proc`: the Keyturn server, this
                  benchmark's PostgreSQL (postmaster, children and reaped backends), the benchmark together with the CLI processes it ran, and
                  everything else (other work on the shared machine).
                """);
            certificates = options.Tls ? TestCertificates.Create() : null;
            await postgres.StartAsync(certificates);
            var version = await postgres.ScalarAsSuperuserAsync<string>("SELECT version()");
            Machine(report, work, version ?? "?", options.Tls);

            var context = new BenchContext(options, work, postgres, report);
            if (options.Parts.Contains("one"))
            {
                await OneSecretBenchmark.RunAsync(context);
            }

            if (options.Parts.Contains("all"))
            {
                await AllSecretsBenchmark.RunAsync(context);
            }

            report.Targets(context.Targets);
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

    private static void Machine(Report report, string work, string postgresVersion, bool tls)
    {
        report.Line("## Machine");
        report.Line();
        report.Line($"- CPUs (nproc): {Environment.ProcessorCount}; CPU model: {BenchMachine.CpuModel()}");
        report.Line(string.Create(CultureInfo.InvariantCulture, $"- Memory: {BenchMachine.MemoryGiB():F1} GiB"));
        report.Line($"- OS: {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}");
        report.Line($"- Data directory file system: {BenchMachine.FileSystemOf(work)} (the server fsyncs every commit: SQLite WAL, synchronous=FULL)");
        report.Line($"- Load average when the benchmark started (1, 5, 15 min): {BenchMachine.LoadAverage()}");
        report.Line($"- PostgreSQL: {postgresVersion} (throwaway cluster of the rotator tests: fsync=off, SCRAM-SHA-256 logins, {(tls ? "TLS on (RSA-2048 certificate): logins negotiate it" : "TLS off, as initdb leaves it")})");
        report.Line();
    }

}

/// <summary>What the benchmark parts share.</summary>
internal sealed class BenchContext(BenchOptions options, string work, PostgresServer postgres, Report report)
{
    public const string Region = "us-east-1";

    public const string Function = "arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user";

    public BenchOptions Options => options;

    public string Work => work;

    public PostgresServer Postgres => postgres;

    public Report Report => report;

    public SigV4Credentials Credentials { get; } = new(
        "AKIAKTBENCH" + Random.Shared.Next(100_000_000, 999_999_999).ToString(CultureInfo.InvariantCulture),
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()) + "Rb7");

    /// <summary>The issue's targets as measured: (target, measured, passed).</summary>
    public List<(string Target, string Measured, bool Passed)> Targets { get; } = [];

    /// <summary>Set when a check failed or a target was missed; the exit code says so.</summary>
    public bool Failed { get; set; }

    public string DatabasePath(string dataDirectory) => Path.Combine(dataDirectory, "keyturn.db");

    public Task<ServerProcess> StartServerAsync(string dataDirectory) =>
        ServerProcess.StartAsync(options.KeyturnDll, dataDirectory, Credentials.AccessKeyId, Credentials.SecretAccessKey, 30, Path.Combine(work, "server.log"));

    public string SecretJson(string user, string password) => BenchPostgres.SecretJson(postgres, user, password);

    /// <summary>The environment a <c>keyturn doctor</c> run gets: the server's root credentials, no colours.</summary>
    public Dictionary<string, string> DoctorEnvironment() => new(StringComparer.Ordinal)
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = Credentials.AccessKeyId,
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = Credentials.SecretAccessKey,
        ["NO_COLOR"] = "1",
    };

    public static string Pass(bool ok) => ok ? "**pass**" : "**FAIL**";
}

/// <summary>Command-line options.</summary>
internal sealed record BenchOptions(string KeyturnDll, int Repetitions, int Warmup, int Secrets, int Stuck, int AllRuns, int ClientConcurrency, string? ReportPath, bool Keep, bool Tls, IReadOnlySet<string> Parts, IReadOnlyList<string> Variants)
{
    public const string Usage = """
        Usage: Keyturn.Bench.Doctor --keyturn-dll PATH [options]
          --keyturn-dll PATH        keyturn.dll of a Release build (dotnet build src/Keyturn.Cli -c Release -o DIR)
          --repetitions N           part 1: timed doctor runs per way of running it (default 40)
          --warmup N                part 1: runs before those, not timed (default 3)
          --secrets N               part 2: secrets with rotation enabled (default 10000)
          --stuck N                 part 2: of those, stuck in one of three states, N/3 each (default 300)
          --all-runs N              part 2: timed `doctor --all --json` runs (default 3; plus one with the human output)
          --client-concurrency N    parallel client requests while setting up part 2 (default 8)
          --variant "ARGS"          part 2: one more `doctor --all --json ARGS` run, reported apart (repeatable), e.g. "--concurrency 4"
          --only one|all            run one part only
          --report PATH             also write the Markdown report to PATH
          --keep                    keep the work directory (server data, logs)
          --tls                     PostgreSQL with TLS on (an RSA-2048 certificate): every login, the doctor's and the baseline's, negotiates it
        """;

    public static BenchOptions Parse(string[] args)
    {
        string? dll = null, report = null;
        int repetitions = 40, warmup = 3, secrets = 10_000, stuck = 300, allRuns = 3, concurrency = 8;
        var keep = false;
        var tls = false;
        var variants = new List<string>();
        var parts = new HashSet<string>(["one", "all"], StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Number() => int.TryParse(Next(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{args[i - 1]} needs a positive number.");
            switch (args[i])
            {
                case "--keyturn-dll": dll = Path.GetFullPath(Next()); break;
                case "--repetitions": repetitions = Number(); break;
                case "--warmup": warmup = Number(); break;
                case "--secrets": secrets = Number(); break;
                case "--stuck": stuck = Number(); break;
                case "--all-runs": allRuns = Number(); break;
                case "--client-concurrency": concurrency = Number(); break;
                case "--report": report = Path.GetFullPath(Next()); break;
                case "--keep": keep = true; break;
                case "--tls": tls = true; break;
                case "--variant": variants.Add(Next()); break;
                case "--only":
                    var only = Next();
                    parts = only is "one" or "all" ? new HashSet<string>([only], StringComparer.Ordinal) : throw new ArgumentException("--only takes one or all.");
                    break;
                default: throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }

        if (dll is null || !File.Exists(dll))
        {
            throw new ArgumentException("--keyturn-dll must name an existing keyturn.dll.");
        }

        if (stuck * 2 > secrets)
        {
            throw new ArgumentException("--stuck must be at most half of --secrets.");
        }

        return new BenchOptions(dll, repetitions, warmup, secrets, stuck, allRuns, concurrency, report, keep, tls, parts, variants);
    }
}

/// <summary>Markdown written to the console as it is produced, and to a file at the end.</summary>
internal sealed class Report(string? path)
{
    // The console as it was at start-up: in-process doctor runs redirect Console.Out and Console.Error meanwhile.
    private static readonly TextWriter Out = Console.Out;
    private static readonly TextWriter Error = Console.Error;
    private readonly StringBuilder _text = new();

    public void Line(string line = "")
    {
        _text.AppendLine(line);
        Out.WriteLine(line);
    }

    /// <summary>Progress for the operator, on stderr so it stays out of the report.</summary>
    public static void Progress(string message) =>
        Error.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {message}");

    public const string TargetsMarker = "<!-- targets -->";

    private string _targets = "";

    /// <summary>The verdict table: printed last, and put near the top of the file in place of <see cref="TargetsMarker"/>.</summary>
    public void Targets(IEnumerable<(string Target, string Measured, bool Passed)> targets)
    {
        var table = new StringBuilder("| target (issue) | measured | result |\n|---|---|---|\n");
        foreach (var (target, measured, passed) in targets)
        {
            table.Append($"| {target} | {measured} | {BenchContext.Pass(passed)} |\n");
        }

        _targets = table.ToString().TrimEnd('\n');
        Out.WriteLine("## Targets");
        Out.WriteLine();
        Out.WriteLine(_targets);
    }

    public void Flush()
    {
        if (path is not null)
        {
            File.WriteAllText(path, _text.ToString().Replace(TargetsMarker, _targets, StringComparison.Ordinal));
        }
    }
}
