using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.Doctor;
using Keyturn.Domain.Doctor;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Protocol.SigV4;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Server.Hosting;

namespace Keyturn.IntegrationTests;

/// <summary>
/// <c>keyturn doctor</c> against real PostgreSQL: each stuck state built for real (labels through the
/// API, passwords through the database), diagnosed, repaired with --apply --yes, and checked by
/// logging in afterwards. Unknown probes change nothing; a concurrent label change aborts a repair.
/// </summary>
[Collection(RotationEnvironmentCollection.Name)]
public sealed class DoctorTests(RotationEnvironment env)
{
    private readonly IDatabaseRotator _postgres = PostgreSqlRotator.Create();

    [DatabaseFact]
    public async Task PendingNeverApplied_RemovesPending_ExitsHealthy()
    {
        var (name, user) = await SecretAsync("c");
        var v1 = await PutAsync(name, user, "pw-A-current", current: true);
        var v2 = await PutAsync(name, user, "pw-B-pending", current: false);

        var dryRun = await DoctorAsync(name, "--json");
        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("PendingNotApplied", dryRun.Json.GetProperty("state").GetString());
        Assert.Contains("LBL001", Codes(dryRun.Json));
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (v2, "AWSPENDING"));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"));
        Assert.Equal(LoginOutcome.Ok, await ProbeAsync(user, "pw-A-current"));
    }

    [DatabaseFact]
    public async Task LockoutTrap_OnlyPendingWorks_RollsForward()
    {
        var (name, user) = await SecretAsync("d");
        var v1 = await PutAsync(name, user, "pw-A-current", current: true);
        var v2 = await PutAsync(name, user, "pw-B-pending", current: false);
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"ALTER ROLE {user} PASSWORD 'pw-B-pending'");

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        Assert.Equal("DatabaseAhead", repaired.Json.GetProperty("before").GetProperty("state").GetString());
        await AssertLabelsAsync(name, (v1, "AWSPREVIOUS"), (v2, "AWSCURRENT"));
        Assert.Equal("pw-B-pending", await CurrentPasswordAsync(name));
    }

    [DatabaseFact]
    public async Task SeedSecondCase_PendingOnCurrentDatabaseOnPrevious_RollsBack()
    {
        var (name, user) = await SecretAsync("e");
        var v1 = await PutAsync(name, user, "pw-A-old", current: true);
        var v2 = await PutAsync(name, user, "pw-B-never-applied", current: false);
        await env.Cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT", "--move-to-version-id", v2, "--remove-from-version-id", v1);

        var text = await DoctorAsync(name);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains($"aws secretsmanager update-secret-version-stage --secret-id {name} --version-stage AWSCURRENT --move-to-version-id {v1} --remove-from-version-id {v2}", text.Stdout, StringComparison.Ordinal);

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (v2, "AWSPREVIOUS"));
    }

    [DatabaseFact]
    public async Task OnlyAnOrphanWorks_OrphanScanPromotesIt()
    {
        var (name, user) = await SecretAsync("f");
        var v1 = await PutAsync(name, user, "pw-A-works", current: true);
        var v2 = await PutAsync(name, user, "pw-B", current: true);
        var v3 = await PutAsync(name, user, "pw-C", current: true);

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        Assert.Equal("OrphanWorks", repaired.Json.GetProperty("before").GetProperty("state").GetString());
        Assert.Equal("pw-A-works", await CurrentPasswordAsync(name));
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (v3, "AWSPREVIOUS"));
        Assert.NotNull(v2);
    }

    [DatabaseFact]
    public async Task UnreachableDatabase_UnknownProbe_NoMutation()
    {
        using var closed = new ClosedPort();
        var (name, user) = await SecretAsync("u", port: closed.Port);
        var v1 = await PutAsync(name, user, "pw-A", current: true);
        var v2 = await PutAsync(name, user, "pw-B", current: false);

        var result = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Undecidable", result.Json.GetProperty("state").GetString());
        Assert.Contains("PRB001", Codes(result.Json));
        Assert.Contains("NET003", Codes(result.Json));
        Assert.Empty(result.Json.GetProperty("plan").EnumerateArray());
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (v2, "AWSPENDING"));
    }

    [DatabaseFact]
    public async Task LabelsChangedBetweenDiagnosisAndRepair_RepairAborts()
    {
        var (name, user) = await SecretAsync("race");
        var v1 = await PutAsync(name, user, "pw-A-current", current: true);
        var v2 = await PutAsync(name, user, "pw-B-pending", current: false);
        using var client = new Protocol.Client.SecretsManagerClient(new Uri(env.Server.Endpoint), new SigV4Credentials(env.Server.AccessKeyId, env.Server.SecretAccessKey), "us-east-1", TimeProvider.System);
        var gatherer = new DoctorGatherer(client, BuiltInRotators.Create(), TimeProvider.System);
        var gathered = await gatherer.GatherAsync(name, default);
        var diagnosis = RotationDoctor.Diagnose(gathered.Snapshot);
        Assert.Equal(LabelState.PendingNotApplied, diagnosis.State);

        // Someone else acts in between: the pending version becomes current.
        await env.Cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT", "--move-to-version-id", v2, "--remove-from-version-id", v1);
        var journal = Path.Combine(env.Server.DataDirectory, "doctor-race.jsonl");
        var results = await new RepairExecutor(client, gatherer, journal, TimeProvider.System).ApplyAsync(gathered, diagnosis, default);

        var result = Assert.Single(results);
        Assert.False(result.Succeeded);
        Assert.Contains("Aborted", result.Detail, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, "AWSPREVIOUS"), (v2, "AWSCURRENT", "AWSPENDING"));
        Assert.Contains("\"succeeded\":\"false\"", await File.ReadAllTextAsync(journal), StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task Healthy_ExitsZeroAndChangesNothing()
    {
        var (name, user) = await SecretAsync("ok");
        var v1 = await PutAsync(name, user, "pw-A", current: true);

        var result = await DoctorAsync(name, "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Json.GetProperty("healthy").GetBoolean());
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"));
    }

    [DatabaseFact]
    public async Task Apply_ReportsBeforeActionsAndAfter_JournalInTheDataDirectoryElseTheUsersStateDirectory()
    {
        var state = Path.Combine(env.Server.DataDirectory, $"xdg-state-{Guid.NewGuid():N}");
        var elsewhere = Path.Combine(env.Server.DataDirectory, $"not-a-data-dir-{Guid.NewGuid():N}");
        Directory.CreateDirectory(elsewhere);
        var variables = new Dictionary<string, string>
        {
            ["KEYTURN_ROOT_ACCESS_KEY_ID"] = env.Server.AccessKeyId,
            ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = env.Server.SecretAccessKey,
            ["NO_COLOR"] = "1",
            ["XDG_STATE_HOME"] = state,
        };
        foreach (var (dataDirectory, journal) in new[]
        {
            (env.Server.DataDirectory, Path.Combine(env.Server.DataDirectory, "doctor-journal.jsonl")),
            (elsewhere, Path.Combine(state, "keyturn", "doctor-journal.jsonl")),
        })
        {
            var (name, user) = await SecretAsync("apply");
            await PutAsync(name, user, "pw-A-current", current: true);
            var pending = await PutAsync(name, user, "pw-B-pending", current: false);

            var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", name, "--endpoint-url", env.Server.Endpoint, "--data-dir", dataDirectory, "--apply", "--yes"],
                env.Server, variables);

            Assert.True(result.ExitCode == 0, result.ToString());
            var text = result.Stdout;
            Assert.DoesNotContain("dry run", text, StringComparison.Ordinal);
            var before = text.IndexOf("Repair plan (applying it: --apply)", StringComparison.Ordinal);
            var actions = text.IndexOf("Applying the repair:", StringComparison.Ordinal);
            var after = text.IndexOf("After the repair:", StringComparison.Ordinal);
            Assert.True(before >= 0 && actions > before && after > actions, text);
            Assert.Contains($"✔ Removed AWSPENDING from {pending}.", text, StringComparison.Ordinal);
            Assert.Contains($"✔ {name}: Healthy", text[after..], StringComparison.Ordinal);
            Assert.Contains($"Repair journal: {journal}", text, StringComparison.Ordinal);
            Assert.Contains(pending, await File.ReadAllTextAsync(journal), StringComparison.Ordinal);
        }
    }

    [DatabaseFact]
    public async Task ReadmeKeyturnExample_IsWhatTheDoctorPrints_ForAPendingNeverApplied()
    {
        var (name, user) = await SecretAsync("c");
        await PutAsync(name, user, "pw-A-current", current: true);
        await PutAsync(name, user, "pw-B-pending", current: false);
        var block = ReadmeExamples.Block("readme-example: doctor-keyturn", "text");

        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", name, "--endpoint-url", env.Server.Endpoint], env.Server,
            new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = env.Server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = env.Server.SecretAccessKey, ["NO_COLOR"] = "1" });

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.EndsWith(" --endpoint-url http://127.0.0.1:4566", block.Split('\n')[0], StringComparison.Ordinal);
        ReadmeExamples.AssertShows(block, result.Stdout, (name, "app/orders-db"), (user, "app_orders"));
    }

    private sealed record DoctorResult(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout[Stdout.IndexOf('{', StringComparison.Ordinal)..]).RootElement.Clone();
    }

    private async Task<DoctorResult> DoctorAsync(string name, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", name, "--endpoint-url", env.Server.Endpoint,
            "--journal", Path.Combine(env.Server.DataDirectory, "doctor.jsonl"), .. arguments], env.Server,
            new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = env.Server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = env.Server.SecretAccessKey, ["NO_COLOR"] = "1" });
        Assert.True(result.ExitCode is 0 or 1, $"the doctor failed: {result}");
        return new DoctorResult(result.ExitCode, result.Stdout, result.Stderr);
    }

    private async Task<(string Name, string User)> SecretAsync(string state, int? port = null)
    {
        var user = $"doc_{state}_{Guid.NewGuid().ToString("N")[..6]}";
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD 'pw-A-current'");
        if (state is "d" or "e" or "f" or "u" or "ok")
        {
            await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"ALTER ROLE {user} PASSWORD '{(state switch { "e" => "pw-A-old", "f" => "pw-A-works", _ => state == "ok" || state == "u" ? "pw-A" : "pw-A-current" })}'");
        }

        var name = $"doctor/{state}/{user}";
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name);
        _ports[name] = port ?? env.Databases.Postgres.Port;
        return (name, user);
    }

    private readonly Dictionary<string, int> _ports = [];

    private async Task<string> PutAsync(string name, string user, string password, bool current)
    {
        var value = JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = _ports[name], username = user, password, dbname = PostgresServer.Database });
        var args = new List<string> { "secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string", value };
        if (!current)
        {
            args.AddRange(["--version-stages", "AWSPENDING"]);
        }

        return (await env.Cli.JsonAsync([.. args])).GetProperty("VersionId").GetString()!;
    }

    private async Task<string> CurrentPasswordAsync(string name) =>
        JsonDocument.Parse((await env.Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name)).GetProperty("SecretString").GetString()!).RootElement.GetProperty("password").GetString()!;

    private async Task<LoginOutcome> ProbeAsync(string user, string password) =>
        (await _postgres.ProbeLoginAsync(new DatabaseConnection("postgres", "127.0.0.1", env.Databases.Postgres.Port, user, password, PostgresServer.Database, SslMode.Disable), TimeSpan.FromSeconds(30), default)).Outcome;

    private static List<string> Codes(JsonElement json) => json.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("code").GetString()!).ToList();

    private async Task AssertLabelsAsync(string name, params (string Version, string Label)[] expected) =>
        await AssertLabelsAsync(name, expected.Select(e => (e.Version, new[] { e.Label })).ToArray());

    private async Task AssertLabelsAsync(string name, (string Version, string[] Labels)[] expected)
    {
        var listed = await env.Cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name);
        var actual = listed.GetProperty("Versions").EnumerateArray().ToDictionary(v => v.GetProperty("VersionId").GetString()!,
            v => v.GetProperty("VersionStages").EnumerateArray().Select(s => s.GetString()!).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(expected.Length, actual.Count);
        foreach (var (version, labels) in expected)
        {
            Assert.Equal(labels.Order(StringComparer.Ordinal), actual[version]);
        }
    }

    private Task AssertLabelsAsync(string name, (string Version, string Label) first, (string Version, string Label1, string Label2) second) =>
        AssertLabelsAsync(name, [(first.Version, new[] { first.Label }), (second.Version, new[] { second.Label1, second.Label2 })]);
}
