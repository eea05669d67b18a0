using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.PostgreSql;
using Npgsql;
using Xunit.Abstractions;

namespace Keyturn.IntegrationTests.Cluster;

/// <summary>
/// A rolling upgrade with two real builds on one PostgreSQL store: a node of an earlier commit of this repository and a
/// node of this build. The earlier commit is built from the repository's history the first time (one to two minutes on
/// two cores, see <see cref="EarlierBuild"/>); the test itself then takes about ten seconds.
/// </summary>
[Collection(ClusterPostgresCollection.Name)]
public sealed class RollingUpgradeTests(ClusterPostgres db, ITestOutputHelper output)
{
    /// <summary>
    /// The first commit whose <c>keyturn serve --store postgresql://…</c> works: the merge of the cluster branch. It came with
    /// migration 2 already (the one before it with migration 1 only, fbda99f, refuses PostgreSQL: its services still needed the
    /// synchronous storage port), so both builds require schema 2 and what moves on between them is the code, not the schema.
    /// </summary>
    private const string EarlierCommit = "8a3b4c1657a928200af5b6c6af744227067d7276";

    private const int Schema = 2;

    private const string Function = "arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user";
    private const int Writers = 4;
    // Writers × rounds + 1 stays under Secrets Manager's 100 versions of the shared secret.
    private const int Rounds = 20;

    [Fact]
    public async Task OldAndNewBuilds_ServeOneStoreSideBySide_LoseNothing_AndNodesTooOldForTheStoreRefuseToStart()
    {
        var earlier = await EarlierBuild.KeyturnDllAsync(EarlierCommit);
        var timer = Stopwatch.StartNew();
        await using var cluster = await KeyturnCluster.StartAsync(2, ClusterStore.PostgreSql, db.Postgres, ["--scheduler-interval", "1"], builds: [earlier, null], startNodes: 1);
        var store = cluster.StoreEnvironment["KEYTURN_STORE"];
        Assert.Equal([1, Schema], await SchemaAsync(store));

        // The old node again, with a pause point: the rotation it starts is still open while the new node joins.
        var pauseFile = Path.Combine(cluster.DataDirectory(0), "fault-pause");
        await cluster.KillAsync(0);
        await cluster.StartNodeAsync(0, new Dictionary<string, string> { ["KEYTURN_FAULT_PAUSE"] = "end:createSecret", ["KEYTURN_FAULT_PAUSE_FILE"] = pauseFile });
        using var old = new ClusterClient(cluster.NodeEndpoint(0), cluster.AccessKeyId, cluster.SecretAccessKey);

        var acknowledged = new ConcurrentDictionary<(string Name, string VersionId), string>();
        var names = Enumerable.Range(0, Writers).Select(i => $"upgrade/app-{i}-{Guid.NewGuid().ToString("N")[..6]}").ToArray();
        var shared = "upgrade/shared-" + Guid.NewGuid().ToString("N")[..6];
        foreach (var name in names.Append(shared))
        {
            var value = "created-by-the-old-node-" + Guid.NewGuid().ToString("N");
            acknowledged[(name, await VersionOfAsync(old, "CreateSecret", new { Name = name, SecretString = value }))] = value;
        }

        var (user, json) = await db.CreateUserAsync("Initial" + Guid.NewGuid().ToString("N"));
        var rotated = "upgrade/rotated-" + user;
        await FailoverTests.OkAsync(old, "CreateSecret", new { Name = rotated, SecretString = json });
        var token = await VersionOfAsync(old, "RotateSecret", new { SecretId = rotated, RotationLambdaARN = Function, RotationRules = new { AutomaticallyAfterDays = 30 } });
        await CrashHarness.UntilAsync(() => Task.FromResult(File.Exists(pauseFile)), () => Task.FromResult("the old node to reach end:createSecret"));

        // The new node joins (its migrations run under the advisory lock and find nothing to apply); both are ready.
        await cluster.StartNodeAsync(1);
        using var upgraded = new ClusterClient(cluster.NodeEndpoint(1), cluster.AccessKeyId, cluster.SecretAccessKey);
        Assert.Equal([1, Schema], await SchemaAsync(store));
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (await ReadyAsync(cluster, 0), await ReadyAsync(cluster, 1)));

        // Side by side: the old node finishes its rotation while writers alternate nodes for every value write, label move and read.
        File.Delete(pauseFile);
        var nodes = new[] { old, upgraded };
        var calls = new int[2];
        var failures = new ConcurrentQueue<string>();

        async Task<System.Text.Json.JsonElement?> CallAsync(int node, string operation, object request)
        {
            Interlocked.Increment(ref calls[node]);
            var reply = await nodes[node].CallAsync(operation, request);
            if (reply.Outcome != Outcome.Ok)
            {
                failures.Enqueue($"{(node == 0 ? "old" : "new")} node, {operation}: {reply.Error} {reply.Body}");
                return null;
            }

            return reply.Body;
        }

        async Task ReadAsync(int node, string name, object request, string expectedVersion, string expectedValue, string what)
        {
            if (await CallAsync(node, "GetSecretValue", request) is { } read
                && (read.GetProperty("VersionId").GetString() != expectedVersion || read.GetProperty("SecretString").GetString() != expectedValue))
            {
                failures.Enqueue($"{(node == 0 ? "old" : "new")} node read {what} of {name} as version {read.GetProperty("VersionId").GetString()}, not {expectedVersion}");
            }
        }

        async Task WriterAsync(int writer)
        {
            var name = names[writer];
            string? blue = null;
            for (var round = 0; round < Rounds; round++)
            {
                var (mine, other) = ((writer + round) % 2, (writer + round + 1) % 2);
                var value = $"round-{round}-" + Guid.NewGuid().ToString("N");
                if (await CallAsync(mine, "PutSecretValue", new { SecretId = name, SecretString = value }) is not { } put)
                {
                    continue;
                }

                var version = put.GetProperty("VersionId").GetString()!;
                acknowledged[(name, version)] = value;
                await ReadAsync(mine, name, new { SecretId = name }, version, value, "AWSCURRENT");
                await ReadAsync(other, name, new { SecretId = name }, version, value, "AWSCURRENT");

                // The other node moves a label of the caller's own onto the new version.
                object move = blue is null
                    ? new { SecretId = name, VersionStage = "blue", MoveToVersionId = version }
                    : new { SecretId = name, VersionStage = "blue", MoveToVersionId = version, RemoveFromVersionId = blue };
                if (await CallAsync(other, "UpdateSecretVersionStage", move) is not null)
                {
                    blue = version;
                    await ReadAsync(mine, name, new { SecretId = name, VersionStage = "blue" }, version, value, "blue");
                }

                // Every writer also writes one secret the others write too, through the same node, at the same time.
                var common = "shared-" + Guid.NewGuid().ToString("N");
                if (await CallAsync(mine, "PutSecretValue", new { SecretId = shared, SecretString = common }) is { } sharedPut)
                {
                    acknowledged[(shared, sharedPut.GetProperty("VersionId").GetString()!)] = common;
                }
            }
        }

        var sideBySide = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriterAsync(w))));
        sideBySide.Stop();
        Assert.True(failures.IsEmpty, $"{failures.Count} calls failed or read wrong while the nodes ran side by side:\n{string.Join("\n", failures.Take(20))}\n{cluster.Output}");
        await CrashHarness.UntilAsync(async () => await FailoverTests.CurrentAsync(upgraded, rotated) == token,
            async () => $"the rotation the old node started to complete ({await FailoverTests.CurrentAsync(upgraded, rotated)})", seconds: 60);

        // The old node is taken out as systemctl stop would; the new node alone has every acknowledged write.
        Assert.Equal(0, await cluster.StopNodeAsync(0));
        foreach (var ((name, version), value) in acknowledged)
        {
            var read = await FailoverTests.OkAsync(upgraded, "GetSecretValue", new { SecretId = name, VersionId = version });
            Assert.True(read.GetProperty("SecretString").GetString() == value, $"version {version} of {name} does not read back as written");
        }

        foreach (var name in names)
        {
            var current = await FailoverTests.OkAsync(upgraded, "GetSecretValue", new { SecretId = name });
            var blue = await FailoverTests.OkAsync(upgraded, "GetSecretValue", new { SecretId = name, VersionStage = "blue" });
            Assert.Equal(current.GetProperty("VersionId").GetString(), blue.GetProperty("VersionId").GetString());
        }

        Assert.True(await db.LogsInAsync(user, await FailoverTests.PasswordAsync(upgraded, rotated, token)), "AWSCURRENT's password of the rotation begun on the old node does not log in");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"side by side for {sideBySide.Elapsed.TotalSeconds:F1} s: {calls[0]} calls on the old node, {calls[1]} on the new, 0 failures; " +
            $"{acknowledged.Count} acknowledged values all read back; test {timer.Elapsed.TotalSeconds:F1} s after the build"));

        // No released migration is incompatible with older code yet, so the row a future one (3, compatible from 3) would
        // leave in keyturn_schema is recorded here: every node older than it refuses to start, naming the versions.
        await db.Postgres.ExecuteAsSuperuserAsync(new Uri(store).AbsolutePath.TrimStart('/'),
            "INSERT INTO keyturn_schema (version, description, compatible_from) VALUES (3, 'a migration older code cannot run beside', 3)");
        foreach (var (build, which) in new[] { (earlier, "old"), (KeyturnProcess.KeyturnDll, "new") })
        {
            var tooOld = TestDirectories.Create("keyturn-too-old-");
            var refused = await KeyturnProcess.RunCommandAsync(
                ["serve", "--data-dir", tooOld, "--listen", $"127.0.0.1:{KeyturnProcess.FreePort()}", "--store", store],
                new Dictionary<string, string>(cluster.StoreEnvironment)
                {
                    ["KEYTURN_ROOT_ACCESS_KEY_ID"] = cluster.AccessKeyId,
                    ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = cluster.SecretAccessKey,
                },
                TimeSpan.FromSeconds(60), build);
            TestDirectories.Delete(tooOld);
            var message = refused.Stdout + refused.Stderr;
            Assert.True(refused.ExitCode != 0, $"an {which} node started on a store that requires schema-3 code:\n{message}");
            Assert.Contains($"is at schema 3, which requires Keyturn code of schema 3 or later; this node runs schema {Schema}", message, StringComparison.Ordinal);
            Assert.DoesNotContain(new Uri(store).UserInfo.Split(':')[1], message, StringComparison.Ordinal);
        }

        // The running new node stops being ready, so a load balancer drains it.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await ReadyAsync(cluster, 1));
    }

    private static async Task<string> VersionOfAsync(ClusterClient client, string operation, object request) =>
        (await FailoverTests.OkAsync(client, operation, request)).GetProperty("VersionId").GetString()!;

    /// <summary>The schema versions applied to the store, from its own record.</summary>
    private static async Task<List<int>> SchemaAsync(string store)
    {
        await using var connection = new NpgsqlConnection(PostgreSqlConnectionString.ToNpgsql(store) + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT version FROM keyturn_schema ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<int>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }

    private static async Task<HttpStatusCode> ReadyAsync(KeyturnCluster cluster, int node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync(new Uri(cluster.NodeEndpoint(node) + "/health/ready"));
        return response.StatusCode;
    }
}
