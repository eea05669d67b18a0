using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyturn.Protocol.Client;
using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;

namespace Keyturn.Bench.Rotation;

/// <summary>
/// Part 1: rotations with <c>keyturn-postgresql-single-user</c>, strictly one rotation
/// at a time. The client clock runs from the RotateSecret response until DescribeSecret shows the new
/// version holding AWSCURRENT (polled every few ms); the server's journal gives the time of each step.
/// </summary>
internal static class SingleRotationBenchmark
{
    public const string Function = "arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user";

    // The seed's Lambda rotation, as billed over its four steps (the figure).
    private const double SeedLambdaMs = 2800;
    private const double TargetP50Ms = 100;
    private const int RotationsPerSecret = 90;

    public static async Task RunAsync(BenchContext context)
    {
        var report = context.Report;
        var dataDirectory = Path.Combine(context.Work, "single");
        var total = context.Options.Warmup + context.Options.Rotations;

        // AWS keeps at most 100 versions per secret and deletes deprecated ones only after 24 hours, so one
        // secret takes fewer than 100 rotations a day; more go round-robin over a few secrets, still one at a time.
        var secrets = (total + RotationsPerSecret - 1) / RotationsPerSecret;
        var users = Enumerable.Range(0, secrets).Select(i => (User: $"bench_single_{i}", Name: $"bench/single/{i}", Password: "Initial-" + Guid.NewGuid().ToString("N"))).ToList();
        await context.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, [.. users.Select(u => $"CREATE ROLE {u.User} LOGIN PASSWORD '{u.Password}'")]);

        await using var server = await context.StartServerAsync(dataDirectory, 30);
        using var client = new SecretsManagerClient(server.Endpoint, context.Credentials, BenchContext.Region, TimeProvider.System);
        foreach (var (user, name, password) in users)
        {
            await client.CallAsync("CreateSecret", new JsonObject { ["Name"] = name, ["ClientRequestToken"] = Guid.NewGuid().ToString(), ["SecretString"] = context.SecretJson(user, password) }, default);
        }

        var measured = new List<(string Token, double ResponseMs, double ToCurrentMs, double ToCompleteMs)>();
        var postmaster = CpuUse.PostmasterPid(context.Postgres.DataDirectory);
        var cpuBefore = CpuUse.Read(server.Pid, postmaster);
        var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Report.Progress($"part 1: {context.Options.Warmup} warm-up + {context.Options.Rotations} timed rotations, one at a time, over {secrets} secret(s)");
        for (var i = 0; i < total; i++)
        {
            var name = users[i % secrets].Name;
            (string Token, double ResponseMs, double ToCurrentMs, double ToCompleteMs) result;
            try
            {
                result = await RotateOnceAsync(client, name, context.Options.PollMs, rules: i < secrets);
            }
            catch (TimeoutException e)
            {
                // Say where it stuck: the server's record of the rotation and the secret's labels.
                var stuck = new Journal(context.DatabasePath(dataDirectory)).Rotations("Rotate", since).OrderByDescending(r => r.StartedMs).FirstOrDefault();
                var labels = (await client.DescribeSecretAsync(name, default)).GetProperty("VersionIdsToStages").GetRawText();
                throw new TimeoutException($"{e.Message} (rotation {i + 1} of {total}; newest rotation recorded: {stuck}; labels: {labels})", e);
            }

            if (i >= context.Options.Warmup)
            {
                measured.Add(result);
            }
        }

        var cpu = CpuUse.Read(server.Pid, postmaster) - cpuBefore;

        // Check the outcome the way an application would: each current password works, each previous one doesn't.
        int currentLogIns = 0, previousRefused = 0;
        foreach (var (user, name, _) in users)
        {
            var current = JsonDocument.Parse((await client.GetSecretStringAsync(name, null, "AWSCURRENT", default))!).RootElement.GetProperty("password").GetString()!;
            var previous = JsonDocument.Parse((await client.GetSecretStringAsync(name, null, "AWSPREVIOUS", default))!).RootElement.GetProperty("password").GetString()!;
            currentLogIns += await BenchPostgres.LogsInAsync(context.Postgres, user, current) ? 1 : 0;
            previousRefused += await BenchPostgres.LogsInAsync(context.Postgres, user, previous) ? 0 : 1;
        }

        var allCurrentLogIn = currentLogIns == secrets;
        var allPreviousRefused = previousRefused == secrets;

        var journal = new Journal(context.DatabasePath(dataDirectory));
        var timings = journal.Rotations("Rotate", since).ToDictionary(t => t.Token, StringComparer.Ordinal);
        var timed = measured.Select(m => timings[m.Token]).ToList();
        var succeeded = timings.Values.Count(t => t.Status == "Succeeded");
        var retried = timings.Values.Count(t => t.Attempts > 4);
        var memory = server.Memory();
        await server.StopAsync();

        var toCurrent = Stats.Of(measured.Select(m => m.ToCurrentMs));
        report.Line("## 1. One rotation, sequential (keyturn-postgresql-single-user)");
        report.Line();
        report.Line($"{context.Options.Rotations} timed rotations strictly one after another (after {context.Options.Warmup} warm-up rotations, not counted), " +
            $"round-robin over {secrets} secret(s) with their own PostgreSQL roles, because AWS (and Keyturn) keep at most 100 versions per secret and drop deprecated ones only after 24 hours. " +
            $"Each is started with RotateSecret; the client then polls DescribeSecret every {context.Options.PollMs} ms until the new version holds AWSCURRENT " +
            "and the rotation is complete (no AWSPENDING left). Step times come from the server's rotation journal (`rotation_journal`, millisecond timestamps).");
        report.Line();
        report.Line("Milliseconds:");
        report.Line();
        report.Line(Stats.Header);
        report.Line(toCurrent.Row("**RotateSecret response → new version AWSCURRENT** (client)"));
        report.Line(Stats.Of(measured.Select(m => m.ToCompleteMs)).Row("RotateSecret response → rotation complete (client)"));
        report.Line(Stats.Of(measured.Select(m => m.ResponseMs)).Row("RotateSecret call itself (client)"));
        report.Line(Stats.Of(timed.Select(t => t.StepsWallMs)).Row("first step begin → last step end (journal)"));
        report.Line(Stats.Of(timed.Select(t => (double)(t.UpdatedMs - t.StartedMs))).Row("rotation recorded → marked succeeded (server)"));
        foreach (var step in Journal.StepNames)
        {
            report.Line(Stats.Of(timed.Select(t => (double)(t.Steps[step].EndMs - t.Steps[step].BeginMs))).Row($"step {step} (journal)"));
        }

        report.Line(Stats.Of(timed.Select(t => t.StepsWallMs - t.Steps.Values.Sum(s => s.EndMs - s.BeginMs))).Row("engine bookkeeping between steps (journal)"));
        report.Line();
        var p50 = toCurrent.P50;
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"- p50 {p50:F1} ms, p99 {toCurrent.P99:F1} ms; target p50 < {TargetP50Ms:F0} ms: {context.Pass(p50 < TargetP50Ms)}."));
        report.Line(string.Create(CultureInfo.InvariantCulture,
            $"- Against the seed's Lambda rotation (about {SeedLambdaMs / 1000:F1} s billed over its four steps): p50 is {SeedLambdaMs / p50:F0}× faster ({p50 / SeedLambdaMs * 100:F1} % of it); p99 is {SeedLambdaMs / toCurrent.P99:F0}× faster."));
        report.Line($"- Rotations recorded by the server: {timings.Count}, succeeded {succeeded}, with a retried step {retried}.");
        report.Line($"- Afterwards the AWSCURRENT password logs in for {currentLogIns}/{secrets} secret(s) {context.Pass(allCurrentLogIn)}; the AWSPREVIOUS one is refused for {previousRefused}/{secrets} {context.Pass(allPreviousRefused)}.");
        report.Line(string.Create(CultureInfo.InvariantCulture, $"- Server peak RSS during part 1: {memory.PeakMiB:F0} MiB."));
        report.Line($"- CPU during the rotations: {cpu.Describe()}.");
        report.Line();
        if (p50 >= TargetP50Ms || !allCurrentLogIn || !allPreviousRefused || succeeded != timings.Count)
        {
            context.Failed = true;
        }
    }

    private static async Task<(string Token, double ResponseMs, double ToCurrentMs, double ToCompleteMs)> RotateOnceAsync(SecretsManagerClient client, string name, int pollMs, bool rules)
    {
        var token = Guid.NewGuid().ToString();
        var body = new JsonObject { ["SecretId"] = name, ["ClientRequestToken"] = token, ["RotationLambdaARN"] = Function };
        if (rules)
        {
            body["RotationRules"] = new JsonObject { ["AutomaticallyAfterDays"] = 30 };
        }

        var watch = Stopwatch.StartNew();
        await client.CallAsync("RotateSecret", body, default);
        var response = watch.Elapsed.TotalMilliseconds;
        double? current = null;
        var deadline = TimeSpan.FromSeconds(60);
        while (watch.Elapsed < deadline)
        {
            var described = await client.DescribeSecretAsync(name, default);
            if (described.GetProperty("VersionIdsToStages").TryGetProperty(token, out var stages))
            {
                var labels = stages.EnumerateArray().Select(s => s.GetString()).ToList();
                if (labels.Contains("AWSCURRENT"))
                {
                    current ??= watch.Elapsed.TotalMilliseconds - response;
                    if (labels.Count == 1)
                    {
                        return (token, response, current.Value, watch.Elapsed.TotalMilliseconds - response);
                    }
                }
            }

            await Task.Delay(pollMs);
        }

        throw new TimeoutException($"The rotation {token} of {name} did not finish within {deadline.TotalSeconds} s.");
    }
}
