using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Keyturn.Application.Rotation;
using Keyturn.Protocol.Client;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Bench.Doctor;

/// <summary>
/// Part 2: <c>keyturn doctor --all</c> over thousands of secrets with rotation enabled, each its own PostgreSQL
/// role, a few hundred of them stuck. Timed as the real process, start to exit, with JSON and with the human
/// output; the counts it reports are checked against what was built. Baselines measured in the same run: one
/// login per secret with its AWSCURRENT password (the probe the doctor can't skip), and one DescribeSecret per
/// secret (the API floor), both at the doctor's concurrency.
/// </summary>
internal static partial class AllSecretsBenchmark
{
    private const double TargetSeconds = 30;
    private static readonly Kind[] StuckKinds = [Kind.PendingNotApplied, Kind.DatabaseAhead, Kind.LabelsAhead];

    public static async Task RunAsync(BenchContext context)
    {
        var report = context.Report;
        var options = context.Options;
        var count = options.Secrets;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.ClientConcurrency };
        var dataDirectory = Path.Combine(context.Work, "all");
        var setup = Stopwatch.StartNew();

        // Stuck secrets spread evenly through the list, cycling through the three states.
        var step = count / options.Stuck;
        var kinds = new Kind[count];
        for (var k = 0; k < options.Stuck; k++)
        {
            kinds[(k * step) + (step / 2)] = StuckKinds[k % StuckKinds.Length];
        }

        Report.Progress($"part 2: creating {count} PostgreSQL roles");
        var users = Enumerable.Range(0, count).Select(i => (User: $"bench_all_{i:D5}", Password: "All-" + Guid.NewGuid().ToString("N"))).ToList();
        await StuckSecrets.CreateRolesAsync(context.Postgres, users);
        var rolesSeconds = setup.Elapsed.TotalSeconds;

        await using var server = await context.StartServerAsync(dataDirectory);
        using var client = new SecretsManagerClient(server.Endpoint, context.Credentials, BenchContext.Region, TimeProvider.System);
        Report.Progress($"part 2: creating {count} secrets");
        setup.Restart();
        var secrets = new Seeded[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (i, cancellationToken) =>
            secrets[i] = await StuckSecrets.CreateSecretAsync(client, context, $"bench/all/{users[i].User}", users[i].User, users[i].Password, kinds[i], cancellationToken));
        var secretsSeconds = setup.Elapsed.TotalSeconds;

        Report.Progress($"part 2: enabling rotation on {count} secrets (RotateSecret RotateImmediately=false: dry runs)");
        setup.Restart();
        var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Parallel.ForEachAsync(secrets, parallel, async (secret, cancellationToken) => await StuckSecrets.EnableRotationAsync(client, secret, cancellationToken));
        var dryRuns = await StuckSecrets.WaitForDryRunsAsync(context.DatabasePath(dataDirectory), since, count, TimeSpan.FromMinutes(20));
        var dryRunSeconds = setup.Elapsed.TotalSeconds;
        if (dryRuns.GetValueOrDefault("Succeeded") != count)
        {
            report.Line($"Part 2 stopped: the dry runs that enable rotation did not all succeed ({string.Join(", ", dryRuns.Select(d => $"{d.Key} {d.Value}"))}).");
            context.Failed = true;
            return;
        }

        Report.Progress($"part 2: making {options.Stuck} secrets stuck");
        setup.Restart();
        var stuck = secrets.Where(s => s.Kind != Kind.Healthy).ToList();
        await Parallel.ForEachAsync(stuck, parallel, async (secret, cancellationToken) => await StuckSecrets.MakeStuckAsync(client, context, secret, cancellationToken));
        await context.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, [.. stuck.Where(s => s.Kind == Kind.DatabaseAhead).Select(StuckSecrets.DatabaseAheadSql)]);
        var stuckSeconds = setup.Elapsed.TotalSeconds;
        var listedVersions = (await client.ListVersionsAsync(secrets[0].Arn, default)).Count;

        var expected = secrets.GroupBy(s => s.Kind).ToDictionary(g => g.Key.ToString(), g => g.Count(), StringComparer.Ordinal);
        var concurrency = DoctorConcurrency(options.KeyturnDll);
        var endpoint = server.Endpoint.ToString();
        var environment = context.DoctorEnvironment();
        var postmaster = CpuUse.PostmasterPid(context.Postgres.DataDirectory);
        await Task.Delay(TimeSpan.FromSeconds(2));

        // Baselines, at the doctor's default concurrency.
        Report.Progress($"part 2: baseline: {count} logins with the AWSCURRENT passwords, {concurrency} at a time");
        var rotator = PostgreSqlRotator.Create();
        var loginCpuBefore = CpuUse.Read(server.Pid, postmaster);
        var loginWatch = Stopwatch.StartNew();
        var loginsOk = 0;
        await Parallel.ForEachAsync(secrets, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (secret, cancellationToken) =>
        {
            var password = secret.Kind == Kind.LabelsAhead ? secret.PendingPassword! : secret.Password;
            var connection = new DatabaseConnection("postgres", "127.0.0.1", context.Postgres.Port, secret.User, password, PostgresServer.Database, SslMode.Prefer);
            if ((await rotator.ProbeLoginAsync(connection, TimeSpan.FromSeconds(5), loginOnly: true, cancellationToken)).Outcome == LoginOutcome.Ok)
            {
                Interlocked.Increment(ref loginsOk);
            }
        });
        var loginSeconds = loginWatch.Elapsed.TotalSeconds;
        var loginCpu = CpuUse.Read(server.Pid, postmaster) - loginCpuBefore;
        var expectedLogins = count - expected.GetValueOrDefault(nameof(Kind.DatabaseAhead)) - expected.GetValueOrDefault(nameof(Kind.LabelsAhead));

        Report.Progress($"part 2: baseline: {count} DescribeSecret calls, {concurrency} at a time");
        var describeCpuBefore = CpuUse.Read(server.Pid, postmaster);
        var describeWatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(secrets, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (secret, cancellationToken) => await client.DescribeSecretAsync(secret.Arn, cancellationToken));
        var describeSeconds = describeWatch.Elapsed.TotalSeconds;
        var describeCpu = CpuUse.Read(server.Pid, postmaster) - describeCpuBefore;

        Report.Progress("part 2: baseline: ListSecrets, every page (the doctor's first step)");
        var listWatch = Stopwatch.StartNew();
        var listed = 0;
        await foreach (var page in client.ListSecretPagesAsync(default))
        {
            listed += page.Count(s => s.TryGetProperty("RotationEnabled", out var on) && on.ValueKind == System.Text.Json.JsonValueKind.True);
        }

        var listSeconds = listWatch.Elapsed.TotalSeconds;

        var runs = new List<(string Output, CliResult Result, CpuUse Cpu, string? Problem)>();
        for (var r = 0; r <= options.AllRuns; r++)
        {
            var json = r < options.AllRuns;
            Report.Progress($"part 2: `keyturn doctor --all{(json ? " --json" : "")}` run {r + 1} of {options.AllRuns + 1}");
            var cpuBefore = CpuUse.Read(server.Pid, postmaster);
            var result = await CliRun.ProcessAsync(options.KeyturnDll, ["doctor", "--all", "--endpoint-url", endpoint, .. json ? new[] { "--json" } : []], environment);
            var cpu = CpuUse.Read(server.Pid, postmaster) - cpuBefore;
            var problem = result.ExitCode != 1 ? $"exit code {result.ExitCode} (expected 1: problems found): {result.Stderr}" : json ? CheckJson(result.Stdout, expected) : CheckHuman(result.Stdout, count, options.Stuck);
            runs.Add((json ? "`--json`" : "human", result, cpu, problem));
            Report.Progress(string.Create(CultureInfo.InvariantCulture, $"  {result.Ms / 1000:F1} s{(problem is null ? "" : $"; {problem}")}"));
        }

        var variants = new List<(string Arguments, CliResult Result, CpuUse Cpu, string? Problem)>();
        foreach (var variant in options.Variants)
        {
            Report.Progress($"part 2: variant `keyturn doctor --all --json {variant}`");
            var cpuBefore = CpuUse.Read(server.Pid, postmaster);
            var result = await CliRun.ProcessAsync(options.KeyturnDll, ["doctor", "--all", "--endpoint-url", endpoint, "--json", .. variant.Split(' ', StringSplitOptions.RemoveEmptyEntries)], environment);
            var cpu = CpuUse.Read(server.Pid, postmaster) - cpuBefore;
            var problem = result.ExitCode != 1 ? $"exit code {result.ExitCode} (expected 1: problems found): {result.Stderr}" : CheckJson(result.Stdout, expected);
            variants.Add((variant, result, cpu, problem));
            Report.Progress(string.Create(CultureInfo.InvariantCulture, $"  {result.Ms / 1000:F1} s{(problem is null ? "" : $"; {problem}")}"));
        }

        var memory = server.Memory();
        await server.StopAsync();

        var jsonRuns = runs.Where(r => r.Output != "human").ToList();
        var median = Stats.Median(jsonRuns.Select(r => r.Result.Ms)) / 1000;
        var human = runs[^1];
        var allChecked = runs.All(r => r.Problem is null);
        var pass = median < TargetSeconds && allChecked;
        report.Line($"## 2. `keyturn doctor --all` over {count:N0} secrets");
        report.Line();
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"Setup (not timed against the target): {count:N0} PostgreSQL roles created in bulk with SQL ({rolesSeconds:F1} s); one secret each through `CreateSecret` " +
            $"({secretsSeconds:F1} s, {options.ClientConcurrency} signed requests in parallel); rotation enabled on each with `RotateSecret(RotateImmediately=false, " +
            $"RotationRules={{AutomaticallyAfterDays=30}})`, AWS's dry run, which runs testSecret and leaves the secret unrotated ({dryRunSeconds:F1} s until all {count:N0} dry runs succeeded). " +
            $"Then {options.Stuck} secrets, spread evenly, were made stuck ({stuckSeconds:F1} s): {string.Join(", ", StuckKinds.Select(k => $"{expected.GetValueOrDefault(k.ToString())} {k}"))}. " +
            $"A healthy secret then has {listedVersions} versions (the dry run's copy stays as a deprecated version)."));
        report.Line();
        report.Line($"Each run is the real `dotnet keyturn.dll doctor --all` process, timed from start to exit. It checks secrets while it lists them (ListSecrets, 100 a page) and keeps those with rotation enabled. " +
            "A secret whose listed labels show no unfinished rotation gets the quick check: its AWSCURRENT value (BatchGetSecretValue, 20 secrets a call), one real login with it (SCRAM-SHA-256, " +
            "ended at ReadyForQuery), the configuration checks, the database's reachability and the function check (once per endpoint and function). Every other secret, and every quick check that " +
            $"isn't healthy, gets the full diagnosis (every version read, labelled ones probed, the orphan scan when needed, the function's log). Default concurrency: {concurrency} logins at a time. " +
            $"{options.AllRuns} runs with `--json`, then one with the human output (stdout and stderr redirected, so without the progress bar).");
        report.Line();
        report.Line("| run | output | wall time | CPU-seconds: doctor / server / PostgreSQL / other | check |");
        report.Line("|---:|---|---:|---|---|");
        for (var r = 0; r < runs.Count; r++)
        {
            var (output, result, cpu, problem) = runs[r];
            report.Line(string.Create(CultureInfo.InvariantCulture,
                $"| {r + 1} | {output} | {result.Ms / 1000:F1} s | {cpu.Bench / 100.0:F1} / {cpu.Server / 100.0:F1} / {cpu.Postgres / 100.0:F1} / {Math.Max(0, cpu.Other) / 100.0:F1} | {(problem is null ? "counts match" : "**FAIL**: " + problem)} |"));
        }

        foreach (var (arguments, result, cpu, problem) in variants)
        {
            report.Line(string.Create(CultureInfo.InvariantCulture,
                $"| variant | `--json {arguments}` | {result.Ms / 1000:F1} s | {cpu.Bench / 100.0:F1} / {cpu.Server / 100.0:F1} / {cpu.Postgres / 100.0:F1} / {Math.Max(0, cpu.Other) / 100.0:F1} | {(problem is null ? "counts match" : "**FAIL**: " + problem)} |"));
        }

        report.Line();
        report.Line("| measure | value | target | result |");
        report.Line("|---|---:|---:|---|");
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"| `doctor --all --json`, {count:N0} secrets, median of {jsonRuns.Count} | **{median:F1} s** | < {TargetSeconds:F0} s | {BenchContext.Pass(pass)} |"));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"| `doctor --all` (human output) | {human.Result.Ms / 1000:F1} s | < {TargetSeconds:F0} s | {BenchContext.Pass(human.Result.Ms / 1000 < TargetSeconds && human.Problem is null)} |"));
        report.Line();
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"- Per secret: {median * 1000 / count:F2} ms of wall time ({count / median:F0} secrets/s)."));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"- Baseline, the probes alone: the doctor's own login probe (`PostgreSqlRotator.ProbeLoginAsync`: an unpooled SCRAM login, no statement) called from this benchmark once per secret " +
            $"with its AWSCURRENT password, {concurrency} at a time, took {loginSeconds:F1} s ({loginsOk} logged in, {expectedLogins} expected {BenchContext.Pass(loginsOk == expectedLogins)}). " +
            $"`doctor --all` takes {median / loginSeconds:F1}× that. CPU-seconds: PostgreSQL {loginCpu.Postgres / 100.0:F1} ({loginCpu.Postgres * 10.0 / count:F2} ms per login), benchmark {loginCpu.Bench / 100.0:F1}, other {Math.Max(0, loginCpu.Other) / 100.0:F1}."));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"- Baseline, the API floor: {count:N0} signed DescribeSecret calls from this benchmark (one warm client), {concurrency} at a time, took {describeSeconds:F2} s. `doctor --all` takes {median / describeSeconds:F0}× that. CPU-seconds: server {describeCpu.Server / 100.0:F1}, benchmark {describeCpu.Bench / 100.0:F1}."));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"- Baseline, the listing: ListSecrets over every page ({count / 100} pages of 100, as the doctor asks) took {listSeconds:F1} s ({listed:N0} with rotation enabled). The doctor checks secrets while it lists, so the listing overlaps the logins."));
        report.Line($"- Every run's result checked against what was built: exit code 1 (problems found); with `--json` the states count {string.Join(", ", expected.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Value} {e.Key}"))}, no errors; " +
            $"the human output's summary line says {count} secrets, {count - options.Stuck} healthy, {options.Stuck} need attention: {BenchContext.Pass(allChecked)}.");
        report.Line(string.Create(CultureInfo.InvariantCulture, $"- Server peak RSS: {memory.PeakMiB:F0} MiB. Load average after the runs: {BenchMachine.LoadAverage()}."));
        report.Line();
        context.Targets.Add(($"`doctor --all` over {count:N0} secrets on Keyturn, < 30 s on 2 cores",
            string.Create(CultureInfo.InvariantCulture, $"**{median:F1} s** (`--json`, median of {jsonRuns.Count}; human output {human.Result.Ms / 1000:F1} s); the doctor's login probes alone, same concurrency: {loginSeconds:F1} s; counts checked: {(allChecked ? "all match" : "MISMATCH")}"),
            pass));
        if (!pass)
        {
            context.Failed = true;
        }
    }

    /// <summary>The doctor's default --concurrency, as its help text states it.</summary>
    private static int DoctorConcurrency(string keyturnDll)
    {
        var help = CliRun.ProcessAsync(keyturnDll, ["doctor", "--help"], new Dictionary<string, string>()).GetAwaiter().GetResult().Stdout;
        var match = ConcurrencyDefault().Match(help);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 8;
    }

    [GeneratedRegex(@"--concurrency[^\n]*\[default: (\d+)\]")]
    private static partial Regex ConcurrencyDefault();

    [GeneratedRegex(@"(\d+) secrets with rotation enabled: (\d+) healthy, (\d+) need attention\.")]
    private static partial Regex Summary();

    private static string? CheckJson(string stdout, Dictionary<string, int> expected)
    {
        try
        {
            var entries = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
            var errors = entries.Count(e => e.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String);
            var states = entries.GroupBy(e => e.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "none")
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            var unhealthyHealthy = entries.Count(e => e.GetProperty("state").GetString() == nameof(Kind.Healthy) && !e.GetProperty("healthy").GetBoolean());
            var same = states.Count == expected.Count && states.All(s => expected.GetValueOrDefault(s.Key) == s.Value);
            return same && errors == 0 && unhealthyHealthy == 0 ? null
                : $"states {string.Join(", ", states.Select(s => $"{s.Value} {s.Key}"))}, {errors} errors, {unhealthyHealthy} Healthy-but-not-healthy";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return $"output isn't the JSON array expected: {e.Message}";
        }
    }

    private static string? CheckHuman(string stdout, int count, int stuck)
    {
        var match = Summary().Match(stdout);
        if (!match.Success)
        {
            return "no summary line";
        }

        var (total, healthy, attention) = (int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture));
        return total == count && healthy == count - stuck && attention == stuck ? null : $"summary says {match.Value}";
    }
}
