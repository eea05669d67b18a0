using System.Diagnostics;
using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Keyturn.IntegrationTests.Cluster;

/// <summary>A private PostgreSQL for the cluster tests: it holds the store and the database users they rotate.</summary>
public sealed class ClusterPostgres : IAsyncLifetime
{
    private TestCertificates? _certificates;

    public PostgresServer Postgres { get; } = new();

    public async Task InitializeAsync()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Postgres.StopNow();
        _certificates = TestCertificates.Create();
        await Postgres.StartAsync(_certificates, maxConnections: 150);
    }

    public async Task DisposeAsync()
    {
        await Postgres.StopAsync();
        _certificates?.Delete();
    }

    /// <summary>A new login role with <paramref name="password"/>, and a secret's JSON for it.</summary>
    public async Task<(string User, string Json)> CreateUserAsync(string password)
    {
        var user = "failover_" + Guid.NewGuid().ToString("N")[..8];
        await Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
        return (user, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["engine"] = "postgres",
            ["host"] = "127.0.0.1",
            ["port"] = Postgres.Port,
            ["username"] = user,
            ["password"] = password,
            ["dbname"] = PostgresServer.Database,
        }));
    }

    public async Task<bool> LogsInAsync(string user, string password) =>
        (await PostgreSqlRotator.Create().ProbeLoginAsync(
            new DatabaseConnection("postgres", "127.0.0.1", Postgres.Port, user, password, PostgresServer.Database, SslMode.Disable), TimeSpan.FromSeconds(10), default)).Outcome == LoginOutcome.Ok;
}

[CollectionDefinition(Name)]
public sealed class ClusterPostgresCollection : ICollectionFixture<ClusterPostgres>
{
    public const string Name = "keyturn cluster on PostgreSQL";
}

/// <summary>
/// Rotation across nodes: a node killed mid-rotation is replaced by another within the lease lifetime plus 5 s, and a
/// paused lease holder that wakes after the takeover has every write refused (the fencing token), so the database
/// password is never set twice to different values.
/// </summary>
[Collection(ClusterPostgresCollection.Name)]
public sealed class FailoverTests(ClusterPostgres db, ITestOutputHelper output)
{
    private const string Function = "arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user";

    /// <summary>The engine's default lease lifetime (<see cref="RotationOptions.LeaseLifetime"/>).</summary>
    private static readonly TimeSpan Lease = new RotationOptions().LeaseLifetime;

    [Fact]
    public async Task KilledMidRotation_AnotherNodeCompletesIt_WithinTheLeaseLifetimePlus5Seconds()
    {
        await using var cluster = await KeyturnCluster.StartAsync(2, ClusterStore.PostgreSql, db.Postgres, ["--scheduler-interval", "1"]);
        var pauseFile = await RestartWithPauseAsync(cluster, "end:createSecret");
        var (user, json) = await db.CreateUserAsync("Initial" + Guid.NewGuid().ToString("N"));
        var name = "failover/killed-" + user;
        using var first = new ClusterClient(cluster.NodeEndpoint(0), cluster.AccessKeyId, cluster.SecretAccessKey);
        using var second = new ClusterClient(cluster.NodeEndpoint(1), cluster.AccessKeyId, cluster.SecretAccessKey);
        await OkAsync(first, "CreateSecret", new { Name = name, SecretString = json });
        var token = (await OkAsync(first, "RotateSecret", new { SecretId = name, RotationLambdaARN = Function, RotationRules = new { AutomaticallyAfterDays = 30 } })).GetProperty("VersionId").GetString()!;
        await CrashHarness.UntilAsync(() => Task.FromResult(File.Exists(pauseFile)), () => Task.FromResult("node 0 to reach end:createSecret"));

        await cluster.KillAsync(0);
        var killed = Stopwatch.StartNew();
        await CrashHarness.UntilAsync(async () => await CurrentAsync(second, name) == token, async () => $"node 1 to complete the rotation ({await CurrentAsync(second, name)})", seconds: (int)(Lease + TimeSpan.FromSeconds(30)).TotalSeconds);
        output.WriteLine($"completed on node 1 {killed.Elapsed.TotalSeconds:F1} s after the kill (lease {Lease.TotalSeconds} s)");
        Assert.True(killed.Elapsed <= Lease + TimeSpan.FromSeconds(5), $"took {killed.Elapsed.TotalSeconds:F1} s, more than the lease lifetime + 5 s");
        Assert.True(await db.LogsInAsync(user, await PasswordAsync(second, name, token)), "AWSCURRENT's password does not log in");
    }

    [Fact]
    public async Task PausedLeaseHolder_WakingAfterTheTakeover_HasEveryWriteRefused()
    {
        await using var cluster = await KeyturnCluster.StartAsync(2, ClusterStore.PostgreSql, db.Postgres, ["--scheduler-interval", "1"]);
        var pauseFile = await RestartWithPauseAsync(cluster, "end:createSecret");
        var (user, json) = await db.CreateUserAsync("Initial" + Guid.NewGuid().ToString("N"));
        var name = "failover/paused-" + user;
        using var first = new ClusterClient(cluster.NodeEndpoint(0), cluster.AccessKeyId, cluster.SecretAccessKey);
        using var second = new ClusterClient(cluster.NodeEndpoint(1), cluster.AccessKeyId, cluster.SecretAccessKey);
        await OkAsync(first, "CreateSecret", new { Name = name, SecretString = json });
        var stale = (await OkAsync(first, "RotateSecret", new { SecretId = name, RotationLambdaARN = Function, RotationRules = new { AutomaticallyAfterDays = 30 } })).GetProperty("VersionId").GetString()!;
        await CrashHarness.UntilAsync(() => Task.FromResult(File.Exists(pauseFile)), () => Task.FromResult("node 0 to reach end:createSecret"));

        // Node 0 holds the lease with setSecret next. Frozen, it stops renewing; the pause point is lifted so it goes on when it wakes.
        await cluster.PauseAsync(0);
        File.Delete(pauseFile);
        try
        {
            await CrashHarness.UntilAsync(async () => await CurrentAsync(second, name) == stale, async () => $"node 1 to take over and complete the rotation ({await CurrentAsync(second, name)})", seconds: (int)(Lease * 3).TotalSeconds);

            // A second rotation on node 1 gives the database a password node 0 has never seen.
            var fresh = (await OkAsync(second, "RotateSecret", new { SecretId = name })).GetProperty("VersionId").GetString()!;
            await CrashHarness.UntilAsync(async () => await CurrentAsync(second, name) == fresh, async () => $"the second rotation ({await CurrentAsync(second, name)})", seconds: 60);
        }
        finally
        {
            await cluster.ResumeAsync(0);
        }

        // Node 0 wakes believing it still holds the lease, with setSecret of the first rotation next: it tries, then gives up.
        await CrashHarness.UntilAsync(
            () => Task.FromResult(cluster[0]!.Output.Contains($"(version {stale}) left to another runner", StringComparison.Ordinal)),
            () => Task.FromResult($"node 0 to give up the first rotation:\n{cluster[0]!.Output}"), seconds: (int)(Lease * 2).TotalSeconds);
        var current = await CurrentAsync(second, name);
        Assert.NotEqual(stale, current);
        Assert.True(await db.LogsInAsync(user, await PasswordAsync(second, name, current!)), "the paused node set the database password again after the takeover");
        Assert.False(await db.LogsInAsync(user, await PasswordAsync(second, name, stale)), "the first rotation's password logs in again: the stale node wrote");
    }

    /// <summary>Restarts node 0 with the engine's test-only pause point; returns the file it creates on reaching it.</summary>
    private static async Task<string> RestartWithPauseAsync(KeyturnCluster cluster, string point)
    {
        var pauseFile = Path.Combine(cluster.DataDirectory(0), "fault-pause");
        await cluster.KillAsync(0);
        await cluster.StartNodeAsync(0, new Dictionary<string, string> { ["KEYTURN_FAULT_PAUSE"] = point, ["KEYTURN_FAULT_PAUSE_FILE"] = pauseFile });
        return pauseFile;
    }

    internal static async Task<JsonElement> OkAsync(ClusterClient client, string operation, object request)
    {
        var reply = await client.CallAsync(operation, request);
        Assert.True(reply.Outcome == Outcome.Ok, $"{operation}: {reply.Error} {reply.Body}");
        return reply.Body;
    }

    /// <summary>The version holding AWSCURRENT, once no AWSPENDING is left (the rotation ended); null while one is open.</summary>
    internal static async Task<string?> CurrentAsync(ClusterClient client, string name)
    {
        var reply = await client.CallAsync("ListSecretVersionIds", new { SecretId = name, IncludeDeprecated = true });
        if (reply.Outcome != Outcome.Ok)
        {
            return null;
        }

        var versions = reply.Body.GetProperty("Versions").EnumerateArray()
            .Select(v => (Id: v.GetProperty("VersionId").GetString()!, Labels: v.TryGetProperty("VersionStages", out var l) ? l.EnumerateArray().Select(x => x.GetString()).ToList() : []))
            .ToList();
        return versions.Any(v => v.Labels.Contains("AWSPENDING")) ? null : versions.FirstOrDefault(v => v.Labels.Contains("AWSCURRENT")).Id;
    }

    internal static async Task<string> PasswordAsync(ClusterClient client, string name, string versionId)
    {
        var value = await OkAsync(client, "GetSecretValue", new { SecretId = name, VersionId = versionId });
        return JsonDocument.Parse(value.GetProperty("SecretString").GetString()!).RootElement.GetProperty("password").GetString()!;
    }
}
