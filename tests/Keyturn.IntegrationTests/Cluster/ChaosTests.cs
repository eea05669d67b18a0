using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Keyturn.IntegrationTests.Cluster;

/// <summary>
/// Three nodes on one PostgreSQL, many concurrent clients (puts, label moves, reads, rotations of real database users)
/// while a nemesis kill -9s and SIGSTOP/SIGCONTs random nodes and restarts PostgreSQL once; the recorded history is
/// then checked by <see cref="HistoryChecker"/>. Bounded: <c>KEYTURN_CHAOS_SECONDS</c> of chaos (60 by default).
/// <c>KEYTURN_CHAOS_STORE=embedded</c> runs the same on one shared embedded store, to develop the harness on a build
/// without the PostgreSQL backend.
/// </summary>
[Trait("Category", "Chaos")]
public sealed class ChaosTests(ITestOutputHelper output)
{
    private const string RotationFunction = "keyturn-postgresql-single-user";
    private const int DataSecrets = 6;
    private const int RotatedSecrets = 2;
    private const int DataClients = 6;

    /// <summary>Below the 100 versions a secret keeps, so no version is purged during the run and every put can be checked.</summary>
    private const int MaxPutsPerSecret = 80;

    private readonly ConcurrentQueue<Operation> _history = new();
    private readonly ConcurrentDictionary<string, int> _puts = new();

    [Fact]
    public async Task ThreeNodes_UnderKillsPausesAndAPostgreSqlRestart_KeepEveryGuarantee()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("KEYTURN_CHAOS_SECONDS"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 60;
        var store = Environment.GetEnvironmentVariable("KEYTURN_CHAOS_STORE") == "embedded" ? ClusterStore.SharedEmbedded : ClusterStore.PostgreSql;
        var certificates = TestCertificates.Create();
        var postgres = new PostgresServer();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.StopNow();
        await postgres.StartAsync(certificates, maxConnections: 150);
        try
        {
            await using var cluster = await KeyturnCluster.StartAsync(3, store, postgres, ["--scheduler-interval", "1"]);
            var figures = await RunAsync(cluster, store, postgres, TimeSpan.FromSeconds(seconds));
            var violations = HistoryChecker.Check([.. _history]);
            output.WriteLine($"chaos on {store}: {figures}, violations = {violations.Count}");
            foreach (var violation in violations.Take(50))
            {
                output.WriteLine("  " + violation);
            }

            Assert.True(violations.Count == 0, $"{violations.Count} violations, first: {violations.FirstOrDefault()}");
            Assert.DoesNotContain(postgres.MasterPassword, cluster.Output, StringComparison.Ordinal);
        }
        finally
        {
            await postgres.StopAsync();
            certificates.Delete();
        }
    }

    private async Task<string> RunAsync(KeyturnCluster cluster, ClusterStore store, PostgresServer postgres, TimeSpan duration)
    {
        using var admin = new ClusterClient(cluster.Proxy.Endpoint, cluster.AccessKeyId, cluster.SecretAccessKey);
        var data = Enumerable.Range(0, DataSecrets).Select(i => $"chaos/data-{i}-{Guid.NewGuid():N}"[..24]).ToList();
        foreach (var name in data)
        {
            var token = Guid.NewGuid().ToString();
            var value = "initial " + Guid.NewGuid();
            var created = await RetryAsync(() => admin.CallAsync("CreateSecret", new { Name = name, SecretString = value, ClientRequestToken = token }));
            Record(new Operation(0, name, OperationKind.Put, ClusterClient.Now, ClusterClient.Now, created.Outcome, token, ClusterClient.Hash(value)));
        }

        var rotated = new List<(string Name, string User)>();
        for (var i = 0; i < RotatedSecrets; i++)
        {
            var user = "chaos_user_" + Guid.NewGuid().ToString("N")[..8];
            var password = "Pw" + Guid.NewGuid().ToString("N");
            await postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
            var name = $"chaos/rotated-{user}";
            var token = Guid.NewGuid().ToString();
            await RetryAsync(() => admin.CallAsync("CreateSecret", new { Name = name, SecretString = SecretJson(postgres, user, password), ClientRequestToken = token }));
            rotated.Add((name, user));
        }

        using var stop = new CancellationTokenSource(duration);
        var clients = Enumerable.Range(1, DataClients).Select(c => DataClientAsync(cluster, c, data, stop.Token))
            .Concat(rotated.Select((r, i) => RotationClientAsync(cluster, 100 + i, r.Name, stop.Token)))
            .ToList();
        var (kills, pauses) = await NemesisAsync(cluster, store, postgres, duration, stop.Token);
        await Task.WhenAll(clients);

        // Everyone back: every node running, then the final reads (and the rotations' ends) through the proxy.
        for (var i = 0; i < cluster.Count; i++)
        {
            if (cluster[i] is null)
            {
                await cluster.StartNodeAsync(i);
            }
        }

        foreach (var name in data)
        {
            await FinalListAsync(admin, name);
        }

        foreach (var (name, user) in rotated)
        {
            var stages = await SettledAsync(admin, name);
            var current = stages.First(v => v.Value.Contains("AWSCURRENT")).Key;
            var value = await RetryAsync(() => admin.CallAsync("GetSecretValue", new { SecretId = name, VersionId = current }));
            var password = JsonDocument.Parse(value.Body.GetProperty("SecretString").GetString()!).RootElement.GetProperty("password").GetString()!;
            var login = await PostgreSqlRotator.Create().ProbeLoginAsync(
                new DatabaseConnection("postgres", "127.0.0.1", postgres.Port, user, password, PostgresServer.Database, SslMode.Disable), TimeSpan.FromSeconds(10), default);
            Record(new Operation(HistoryChecker.FinalClient, name, OperationKind.Login, ClusterClient.Now, ClusterClient.Now, login.Outcome == LoginOutcome.Ok ? Outcome.Ok : Outcome.Failed, current));
        }

        var operations = _history.Count(o => o.Client != HistoryChecker.FinalClient);
        var byOutcome = string.Join(", ", _history.Where(o => o.Client != HistoryChecker.FinalClient).GroupBy(o => o.Outcome).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"));
        var rotations = _history.Count(o => o is { Kind: OperationKind.Rotate, Outcome: Outcome.Ok });
        return $"{operations} operations ({byOutcome}), {rotations} rotations acknowledged, {kills} kills, {pauses} pauses, 1 PostgreSQL restart";
    }

    /// <summary>Puts (below the version cap), label moves, reads and listings on random data secrets, one call at a time.</summary>
    private async Task DataClientAsync(KeyturnCluster cluster, int client, IReadOnlyList<string> secrets, CancellationToken stop)
    {
        using var http = new ClusterClient(cluster.Proxy.Endpoint, cluster.AccessKeyId, cluster.SecretAccessKey);
        var random = new Random(client);
        var views = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyList<string>>>();
        while (!stop.IsCancellationRequested)
        {
            var secret = secrets[random.Next(secrets.Count)];
            var roll = random.Next(100);
            if (roll < 30 && _puts.AddOrUpdate(secret, 1, (_, n) => n + 1) <= MaxPutsPerSecret)
            {
                var token = Guid.NewGuid().ToString();
                var value = $"client {client} value {Guid.NewGuid()}";
                var invoked = ClusterClient.Now;
                var reply = await http.CallAsync("PutSecretValue", new { SecretId = secret, SecretString = value, ClientRequestToken = token });
                Record(new Operation(client, secret, OperationKind.Put, invoked, ClusterClient.Now, reply.Outcome, token, ClusterClient.Hash(value)));
            }
            else if (roll < 50 && views.TryGetValue(secret, out var view))
            {
                // Move AWSCURRENT or BLUE from the holder this client last saw to another version it saw.
                var label = random.Next(2) == 0 ? "AWSCURRENT" : "BLUE";
                var from = view.FirstOrDefault(v => v.Value.Contains(label)).Key;
                var to = view.Keys.ElementAt(random.Next(view.Count));
                if (to == from || (from is null && label == "AWSCURRENT"))
                {
                    continue;
                }

                var invoked = ClusterClient.Now;
                var reply = await http.CallAsync("UpdateSecretVersionStage", from is null
                    ? new { SecretId = secret, VersionStage = label, MoveToVersionId = to }
                    : (object)new { SecretId = secret, VersionStage = label, MoveToVersionId = to, RemoveFromVersionId = from });
                Record(new Operation(client, secret, OperationKind.Move, invoked, ClusterClient.Now, reply.Outcome, to, Label: label, FromVersion: from));
            }
            else if (roll < 75)
            {
                await GetAsync(http, client, secret);
            }
            else if (await ListAsync(http, client, secret) is { } listed)
            {
                views[secret] = listed;
            }
        }
    }

    /// <summary>Rotates one secret again and again: RotateSecret, then its reads until the rotation ends (or the run does).</summary>
    private async Task RotationClientAsync(KeyturnCluster cluster, int client, string secret, CancellationToken stop)
    {
        using var http = new ClusterClient(cluster.Proxy.Endpoint, cluster.AccessKeyId, cluster.SecretAccessKey);
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            var token = Guid.NewGuid().ToString();
            var invoked = ClusterClient.Now;
            var reply = await http.CallAsync("RotateSecret", first
                ? new { SecretId = secret, ClientRequestToken = token, RotationLambdaARN = $"arn:aws:lambda:us-east-1:000000000000:function:{RotationFunction}", RotationRules = new { AutomaticallyAfterDays = 30 } }
                : (object)new { SecretId = secret, ClientRequestToken = token });
            Record(new Operation(client, secret, OperationKind.Rotate, invoked, ClusterClient.Now, reply.Outcome,
                reply.Outcome == Outcome.Ok ? reply.Body.GetProperty("VersionId").GetString() : null));
            first &= reply.Outcome != Outcome.Ok;

            // Read until no AWSPENDING is left (the rotation ended), reading the current value too.
            var until = ClusterClient.Now + 60_000;
            while (!stop.IsCancellationRequested && ClusterClient.Now < until)
            {
                await GetAsync(http, client, secret);
                if (await ListAsync(http, client, secret) is { } view && !view.Values.Any(labels => labels.Contains("AWSPENDING")))
                {
                    break;
                }

                await Task.Delay(250, CancellationToken.None);
            }
        }
    }

    private async Task GetAsync(ClusterClient http, int client, string secret)
    {
        var invoked = ClusterClient.Now;
        var reply = await http.CallAsync("GetSecretValue", new { SecretId = secret });
        Record(new Operation(client, secret, OperationKind.Get, invoked, ClusterClient.Now, reply.Outcome,
            reply.Outcome == Outcome.Ok ? reply.Body.GetProperty("VersionId").GetString() : null,
            reply.Outcome == Outcome.Ok ? ClusterClient.Hash(reply.Body.GetProperty("SecretString").GetString()!) : null));
    }

    private async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>?> ListAsync(ClusterClient http, int client, string secret)
    {
        var invoked = ClusterClient.Now;
        var reply = await http.CallAsync("ListSecretVersionIds", new { SecretId = secret, IncludeDeprecated = true, MaxResults = 100 });
        var stages = reply.Outcome == Outcome.Ok ? Stages(reply.Body) : null;
        Record(new Operation(client, secret, OperationKind.List, invoked, ClusterClient.Now, reply.Outcome, Stages: stages));
        return stages;
    }

    private async Task FinalListAsync(ClusterClient http, string secret)
    {
        var reply = await RetryAsync(() => http.CallAsync("ListSecretVersionIds", new { SecretId = secret, IncludeDeprecated = true, MaxResults = 100 }));
        Record(new Operation(HistoryChecker.FinalClient, secret, OperationKind.List, ClusterClient.Now, ClusterClient.Now, Outcome.Ok, Stages: Stages(reply.Body)));
    }

    /// <summary>The final listing of a rotated secret once its last rotation has ended (no AWSPENDING), within two lease lifetimes and some.</summary>
    private async Task<IReadOnlyDictionary<string, IReadOnlyList<string>>> SettledAsync(ClusterClient http, string secret)
    {
        var deadline = ClusterClient.Now + 90_000;
        while (true)
        {
            var reply = await RetryAsync(() => http.CallAsync("ListSecretVersionIds", new { SecretId = secret, IncludeDeprecated = true, MaxResults = 100 }));
            var stages = Stages(reply.Body);
            if (!stages.Values.Any(labels => labels.Contains("AWSPENDING")) || ClusterClient.Now > deadline)
            {
                Record(new Operation(HistoryChecker.FinalClient, secret, OperationKind.List, ClusterClient.Now, ClusterClient.Now, Outcome.Ok, Stages: stages));
                return stages;
            }

            await Task.Delay(500);
        }
    }

    /// <summary>
    /// Every 2–4 s one of: kill -9 a node (restarted 1–3 s later), or SIGSTOP one for 2–8 s (past a lease renewal);
    /// never the last node standing. PostgreSQL is restarted once, in the middle.
    /// </summary>
    private async Task<(int Kills, int Pauses)> NemesisAsync(KeyturnCluster cluster, ClusterStore store, PostgresServer postgres, TimeSpan duration, CancellationToken stop)
    {
        var random = new Random(42);
        var (kills, pauses) = (0, 0);
        var restarted = false;
        var half = ClusterClient.Now + (long)duration.TotalMilliseconds / 2;
        var pending = new List<Task>();
        var paused = new ConcurrentDictionary<int, bool>();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(random.Next(2000, 4000), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (!restarted && ClusterClient.Now >= half)
            {
                restarted = true;
                output.WriteLine($"{ClusterClient.Now} ms: PostgreSQL restart");
                await postgres.StopServerAsync();
                var stopped = ClusterClient.Now;
                if (store == ClusterStore.PostgreSql)
                {
                    // Down until the clients have met the outage: a call sent after the stop failed. (On the embedded store
                    // only the rotated users' database goes down, which no call shows.)
                    await CrashHarness.UntilAsync(
                        () => Task.FromResult(_history.Any(o => o.Invoked >= stopped && o.Outcome != Outcome.Ok)),
                        () => Task.FromResult("a call to fail while PostgreSQL is down"), seconds: 30);
                }

                await postgres.StartServerAgainAsync();
                output.WriteLine($"{ClusterClient.Now} ms: PostgreSQL back after {ClusterClient.Now - stopped} ms down");
                continue;
            }

            var node = random.Next(cluster.Count);
            var up = Enumerable.Range(0, cluster.Count).Count(i => cluster[i] is not null && !paused.ContainsKey(i));
            if (cluster[node] is null || paused.ContainsKey(node) || up < 2)
            {
                continue;
            }

            if (random.Next(2) == 0)
            {
                kills++;
                output.WriteLine($"{ClusterClient.Now} ms: kill -9 node {node}");
                await cluster.KillAsync(node);
                var wait = random.Next(1000, 3000);
                pending.Add(Task.Run(async () =>
                {
                    await Task.Delay(wait, CancellationToken.None);
                    await cluster.StartNodeAsync(node);
                }, CancellationToken.None));
            }
            else
            {
                pauses++;
                var wait = random.Next(2000, 8000);
                output.WriteLine($"{ClusterClient.Now} ms: SIGSTOP node {node} for {wait} ms");
                paused[node] = true;
                await cluster.PauseAsync(node);
                pending.Add(Task.Run(async () =>
                {
                    await Task.Delay(wait, CancellationToken.None);
                    await cluster.ResumeAsync(node);
                    paused.TryRemove(node, out _);
                }, CancellationToken.None));
            }
        }

        await Task.WhenAll(pending);
        return (kills, pauses);
    }

    private static async Task<ClusterClient.Reply> RetryAsync(Func<Task<ClusterClient.Reply>> call)
    {
        var deadline = ClusterClient.Now + 60_000;
        while (true)
        {
            var reply = await call();
            if (reply.Outcome == Outcome.Ok || ClusterClient.Now > deadline)
            {
                Assert.True(reply.Outcome == Outcome.Ok, $"still failing after 60 s: {reply.Error}");
                return reply;
            }

            await Task.Delay(500);
        }
    }

    private static Dictionary<string, IReadOnlyList<string>> Stages(JsonElement body) =>
        body.GetProperty("Versions").EnumerateArray().ToDictionary(
            v => v.GetProperty("VersionId").GetString()!,
            v => (IReadOnlyList<string>)(v.TryGetProperty("VersionStages", out var labels) ? labels.EnumerateArray().Select(l => l.GetString()!).ToList() : []),
            StringComparer.Ordinal);

    private static string SecretJson(PostgresServer postgres, string user, string password) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["engine"] = "postgres",
        ["host"] = "127.0.0.1",
        ["port"] = postgres.Port,
        ["username"] = user,
        ["password"] = password,
        ["dbname"] = PostgresServer.Database,
    });

    private void Record(Operation operation) => _history.Enqueue(operation);
}
