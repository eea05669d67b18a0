using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyturn.Application.Rotation;
using Keyturn.Protocol.Client;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Keyturn.Bench.Rotation;

/// <summary>
/// Part 2: many secrets, each its own PostgreSQL role, fall due at the same moment. Rotation is
/// enabled with a dry run (RotateImmediately=false: only testSecret runs), the server is stopped,
/// every NextRotationDate is moved into the past in its database, and the server is restarted with a
/// 1 s scheduler interval. Timed from the restart until every secret is rotated.
/// </summary>
internal static class DueAtOnceBenchmark
{
    private const double TargetSeconds = 60;
    private const double TargetMemoryMiB = 300;
    private const int LoginSample = 50;

    private sealed record Seeded(string Name, string Arn, string VersionId, string User, string Password);

    public static async Task RunAsync(BenchContext context)
    {
        var report = context.Report;
        var count = context.Options.Secrets;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = context.Options.ClientConcurrency };
        var dataDirectory = Path.Combine(context.Work, "due");
        var setup = Stopwatch.StartNew();

        Report.Progress($"part 2: creating {count} PostgreSQL roles");
        var users = Enumerable.Range(0, count).Select(i => (User: $"bench_due_{i:D5}", Password: "Due-" + Guid.NewGuid().ToString("N"))).ToList();
        await context.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database,
            [.. users.Chunk(100).Select(chunk => string.Join(";\n", chunk.Select(u => $"CREATE ROLE {u.User} LOGIN PASSWORD '{u.Password}'")))]);
        var rolesSeconds = setup.Elapsed.TotalSeconds;

        var seeded = new Seeded[count];
        var dryRunSince = 0L;
        double secretsSeconds, dryRunSeconds;
        await using (var server = await context.StartServerAsync(dataDirectory, 30))
        {
            using var client = new SecretsManagerClient(server.Endpoint, context.Credentials, BenchContext.Region, TimeProvider.System);
            Report.Progress($"part 2: creating {count} secrets");
            setup.Restart();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (i, cancellationToken) =>
            {
                var (user, password) = users[i];
                var name = $"bench/due/{user}";
                var created = await client.CallAsync("CreateSecret", new JsonObject { ["Name"] = name, ["ClientRequestToken"] = Guid.NewGuid().ToString(), ["SecretString"] = context.SecretJson(user, password) }, cancellationToken);
                seeded[i] = new Seeded(name, created.GetProperty("ARN").GetString()!, created.GetProperty("VersionId").GetString()!, user, password);
            });
            secretsSeconds = setup.Elapsed.TotalSeconds;

            Report.Progress($"part 2: enabling rotation on {count} secrets (dry runs)");
            setup.Restart();
            dryRunSince = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await Parallel.ForEachAsync(seeded, parallel, async (secret, cancellationToken) =>
                await client.CallAsync("RotateSecret", new JsonObject
                {
                    ["SecretId"] = secret.Arn,
                    ["ClientRequestToken"] = Guid.NewGuid().ToString(),
                    ["RotationLambdaARN"] = SingleRotationBenchmark.Function,
                    ["RotationRules"] = new JsonObject { ["AutomaticallyAfterDays"] = 1 },
                    ["RotateImmediately"] = false,
                }, cancellationToken));
            var journal = new Journal(context.DatabasePath(dataDirectory));
            var dryRuns = await WaitForAsync(journal, "TestOnly", dryRunSince, count, TimeSpan.FromMinutes(10), null);
            dryRunSeconds = setup.Elapsed.TotalSeconds;
            if (dryRuns.GetValueOrDefault("Succeeded") != count)
            {
                report.Line($"Dry runs did not all succeed: {Describe(dryRuns)}. Part 2 stopped.");
                context.Failed = true;
                return;
            }

            await server.StopAsync();
        }

        // The server is down: move every NextRotationDate an hour into the past, so all fall due together.
        var pastMs = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        int moved;
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = context.DatabasePath(dataDirectory), Pooling = false }.ToString()))
        {
            connection.Open();
            using var update = connection.CreateCommand();
            update.CommandText = "UPDATE secrets SET metadata = json_set(metadata, '$.NextRotationMs', $ms) WHERE name LIKE 'bench/due/%'";
            update.Parameters.AddWithValue("$ms", pastMs);
            moved = update.ExecuteNonQuery();
        }

        if (moved != count)
        {
            report.Line($"Only {moved} of {count} secrets were made due. Part 2 stopped.");
            context.Failed = true;
            return;
        }

        Report.Progress($"part 2: restarting with a 1 s scheduler interval; {count} rotations due");
        var loadBefore = BenchMachine.LoadAverage();
        var restartMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var postmaster = CpuUse.PostmasterPid(context.Postgres.DataDirectory);
        var cpuBefore = CpuUse.Read(serverPid: -1, postmaster);
        var run = Stopwatch.StartNew();
        await using var restarted = await context.StartServerAsync(dataDirectory, 1);
        var healthySeconds = run.Elapsed.TotalSeconds;
        var rssSamples = new List<double>();
        var rotationJournal = new Journal(context.DatabasePath(dataDirectory));
        var outcome = await WaitForAsync(rotationJournal, "Rotate", restartMs, count, TimeSpan.FromMinutes(10), () => rssSamples.Add(restarted.Memory().CurrentMiB));
        var observedSeconds = run.Elapsed.TotalSeconds;
        var cpu = CpuUse.Read(restarted.Pid, postmaster) - cpuBefore;
        var memory = restarted.Memory();

        var timings = rotationJournal.Rotations("Rotate", restartMs);
        var succeeded = timings.Where(t => t.Status == "Succeeded").ToList();
        var failed = timings.Count - succeeded.Count;
        var allDoneSeconds = timings.Count == 0 ? double.NaN : (timings.Max(t => t.UpdatedMs) - restartMs) / 1000.0;
        var firstStartSeconds = timings.Count == 0 ? double.NaN : (timings.Min(t => t.StartedMs) - restartMs) / 1000.0;
        var withSteps = succeeded.Where(t => t.Steps.Count == 4).ToList();
        var overlap = Journal.MaxOverlap(timings);

        Report.Progress("part 2: checking every secret through the API and a sample of logins");
        using var check = new SecretsManagerClient(restarted.Endpoint, context.Credentials, BenchContext.Region, TimeProvider.System);
        var tokens = timings.ToDictionary(t => t.SecretArn, t => t.Token, StringComparer.Ordinal);
        var badLabels = 0;
        await Parallel.ForEachAsync(seeded, parallel, async (secret, cancellationToken) =>
        {
            var described = await check.DescribeSecretAsync(secret.Arn, cancellationToken);
            var rotated = described.TryGetProperty("LastRotatedDate", out var last) && last.GetDouble() * 1000 >= restartMs;
            var stages = described.GetProperty("VersionIdsToStages");
            var newest = tokens.TryGetValue(secret.Arn, out var token) && stages.TryGetProperty(token, out var labels)
                && labels.EnumerateArray().Select(l => l.GetString()).SequenceEqual(["AWSCURRENT"]);
            var previous = stages.TryGetProperty(secret.VersionId, out var old) && old.EnumerateArray().Select(l => l.GetString()).SequenceEqual(["AWSPREVIOUS"]);
            if (!(rotated && newest && previous))
            {
                Interlocked.Increment(ref badLabels);
            }
        });

        var sample = Enumerable.Range(0, Math.Min(LoginSample, count)).Select(i => seeded[i * count / Math.Min(LoginSample, count)]).ToList();
        int newLogsIn = 0, oldRefused = 0;
        foreach (var secret in sample)
        {
            var current = JsonDocument.Parse((await check.GetSecretStringAsync(secret.Arn, null, "AWSCURRENT", default))!).RootElement.GetProperty("password").GetString()!;
            newLogsIn += await BenchPostgres.LogsInAsync(context.Postgres, secret.User, current) ? 1 : 0;
            oldRefused += await BenchPostgres.LogsInAsync(context.Postgres, secret.User, secret.Password) ? 0 : 1;
        }

        await restarted.StopAsync();

        var bound = new RotationOptions().MaxConcurrentRotations;
        var inTime = allDoneSeconds < TargetSeconds && outcome.GetValueOrDefault("Succeeded") == count;
        report.Line($"## 2. {count} secrets due at once");
        report.Line();
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"Setup (not timed against the target): {count} PostgreSQL roles created in bulk ({rolesSeconds:F1} s), one secret each created through the API " +
            $"({secretsSeconds:F1} s, {context.Options.ClientConcurrency} client requests in parallel), rotation enabled on each with " +
            $"`RotateSecret(RotateImmediately=false, RotationRules={{AutomaticallyAfterDays=1}})` — a dry run that only runs testSecret — " +
            $"({dryRunSeconds:F1} s until all {count} dry runs succeeded). The server was then stopped (SIGTERM), `NextRotationMs` in every secret's " +
            $"`metadata` column set an hour into the past with `json_set`, and the server restarted with `--scheduler-interval 1`."));
        report.Line();
        report.Line("| measure | value | target | result |");
        report.Line("|---|---:|---:|---|");
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"| restart → all {count} rotated (last rotation marked succeeded, server clock) | {allDoneSeconds:F1} s | < {TargetSeconds:F0} s | {context.Pass(inTime)} |"));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"| rotations failed or abandoned | {failed} (of {timings.Count} started) | 0 | {context.Pass(failed == 0 && timings.Count == count)} |"));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"| server peak RSS (VmHWM of the restarted process) | {memory.PeakMiB:F0} MiB | < {TargetMemoryMiB:F0} MB | {context.Pass(memory.PeakMiB * 1.048576 < TargetMemoryMiB)} |"));
        report.Line();
        report.Line($"- Load average just before the restart (1, 5, 15 min): {loadBefore}.");
        report.Line(string.Create(CultureInfo.InvariantCulture, $"- Restart → server healthy: {healthySeconds:F2} s; restart → first rotation recorded by the scheduler: {firstStartSeconds:F2} s; restart → client saw all done (200 ms polls): {observedSeconds:F1} s."));
        report.Line(string.Create(CultureInfo.InvariantCulture, $"- Throughput: {count / (allDoneSeconds - firstStartSeconds):F1} rotations/s from the first scheduled to the last finished."));
        report.Line($"- Concurrency bound `RotationOptions.MaxConcurrentRotations`: {bound} (the default; `keyturn serve` does not change it). Most rotations with steps in progress at one moment, from the journal: {overlap}.");
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"- CPU from the restart until all were done: {cpu.Describe()}."));
        report.Line(string.Create(CultureInfo.InvariantCulture, $"- RSS sampled every 200 ms: max {(rssSamples.Count == 0 ? 0 : rssSamples.Max()):F0} MiB, at the end {memory.CurrentMiB:F0} MiB."));
        report.Line($"- Every secret checked through DescribeSecret afterwards (LastRotatedDate after the restart, the scheduler's new version holds only AWSCURRENT, the original holds AWSPREVIOUS): {count - badLabels} of {count} {context.Pass(badLabels == 0)}.");
        report.Line($"- Logins for a sample of {sample.Count} secrets (evenly spread): new AWSCURRENT password logs in {newLogsIn}/{sample.Count}, original password refused {oldRefused}/{sample.Count} {context.Pass(newLogsIn == sample.Count && oldRefused == sample.Count)}.");
        report.Line();
        report.Line("Per rotation under this load, milliseconds (server journal):");
        report.Line();
        report.Line(Stats.Header);
        report.Line(Stats.Of(succeeded.Select(t => (double)(t.UpdatedMs - t.StartedMs))).Row("scheduled → marked succeeded (includes waiting for a slot)"));
        report.Line(Stats.Of(withSteps.Select(t => (double)(t.FirstBeginMs - t.StartedMs))).Row("scheduled → first step begins"));
        report.Line(Stats.Of(withSteps.Select(t => t.StepsWallMs)).Row("first step begin → last step end"));
        foreach (var step in Journal.StepNames)
        {
            report.Line(Stats.Of(withSteps.Select(t => (double)(t.Steps[step].EndMs - t.Steps[step].BeginMs))).Row($"step {step}"));
        }

        report.Line();
        if (!inTime || failed != 0 || memory.PeakMiB * 1.048576 >= TargetMemoryMiB || badLabels != 0 || newLogsIn != sample.Count || oldRefused != sample.Count)
        {
            context.Failed = true;
        }
    }

    /// <summary>Polls the server's rotations table until <paramref name="expected"/> rotations have ended.</summary>
    private static async Task<Dictionary<string, int>> WaitForAsync(Journal journal, string mode, long sinceMs, int expected, TimeSpan timeout, Action? sample)
    {
        var watch = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        while (true)
        {
            sample?.Invoke();
            var counts = journal.CountByStatus(mode, sinceMs);
            var ended = counts.GetValueOrDefault("Succeeded") + counts.GetValueOrDefault("Failed") + counts.GetValueOrDefault("Abandoned");
            if (ended >= expected || watch.Elapsed > timeout)
            {
                return counts;
            }

            if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(5))
            {
                lastReport = watch.Elapsed;
                Report.Progress($"  {mode}: {Describe(counts)}");
            }

            await Task.Delay(200);
        }
    }

    private static string Describe(Dictionary<string, int> counts) =>
        counts.Count == 0 ? "none yet" : string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));
}
