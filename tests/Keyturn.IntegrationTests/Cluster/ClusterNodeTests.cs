using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests.Cluster;

/// <summary>Health probes for a load balancer, and nodes that refuse a master key other than their store's.</summary>
[Collection(ClusterPostgresCollection.Name)]
public sealed class ClusterNodeTests(ClusterPostgres db)
{
    [Fact]
    public async Task FreshEmbeddedNode_IsLiveAndReady_WithoutCredentialsOrVersion()
    {
        await using var server = await KeyturnProcess.StartAsync();
        using var http = new HttpClient();
        var (liveStatus, live) = await ProbeAsync(http, server.Endpoint + "/health/live");
        var (readyStatus, ready) = await ProbeAsync(http, server.Endpoint + "/health/ready");

        Assert.Equal((HttpStatusCode.OK, "live"), (liveStatus, live.GetProperty("Status").GetString()));
        Assert.Equal((HttpStatusCode.OK, "ready"), (readyStatus, ready.GetProperty("Status").GetString()));
        Assert.Equal(["Status"], ready.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task PostgreSqlNode_IsNotReadyWhileItsDatabaseIsDown_AndReadyWhenItIsBack()
    {
        await using var cluster = await KeyturnCluster.StartAsync(1, ClusterStore.PostgreSql, db.Postgres);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var ready = cluster.NodeEndpoint(0) + "/health/ready";
        Assert.Equal(HttpStatusCode.OK, (await ProbeAsync(http, ready)).Status);

        await db.Postgres.StopServerAsync();
        try
        {
            var (status, body) = await ProbeAsync(http, ready);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("not ready", body.GetProperty("Status").GetString());
            Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("Reason").GetString()));
            Assert.DoesNotContain(db.Postgres.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), body.GetRawText(), StringComparison.Ordinal);

            // Still live: a load balancer drains the node, a supervisor must not restart it.
            Assert.Equal(HttpStatusCode.OK, (await ProbeAsync(http, cluster.NodeEndpoint(0) + "/health/live")).Status);
        }
        finally
        {
            await db.Postgres.StartServerAgainAsync();
        }

        await CrashHarness.UntilAsync(async () => (await ProbeAsync(http, ready)).Status == HttpStatusCode.OK, () => Task.FromResult("the node to be ready again"), seconds: 30);
    }

    [Fact]
    public async Task SecondNodeWithAnotherMasterKey_RefusesToStart_NamingTheSharedStore()
    {
        await using var cluster = await KeyturnCluster.StartAsync(1, ClusterStore.PostgreSql, db.Postgres);
        using var client = new ClusterClient(cluster.Proxy.Endpoint, cluster.AccessKeyId, cluster.SecretAccessKey);
        var created = await client.CallAsync("CreateSecret", new { Name = "sealed/by-the-first-key", SecretString = "value" });
        Assert.True(created.Outcome == Outcome.Ok, $"{created.Error} {created.Body}\n{cluster.Output}");

        var store = cluster.StoreEnvironment["KEYTURN_STORE"];
        var otherNode = TestDirectories.Create("keyturn-other-node-");
        var refused = await KeyturnProcess.RunCommandAsync(
            ["serve", "--data-dir", otherNode, "--listen", $"127.0.0.1:{KeyturnProcess.FreePort()}", "--store", store],
            new Dictionary<string, string>
            {
                ["KEYTURN_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["KEYTURN_ROOT_ACCESS_KEY_ID"] = cluster.AccessKeyId,
                ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = cluster.SecretAccessKey,
            },
            TimeSpan.FromSeconds(60));
        TestDirectories.Delete(otherNode);

        Assert.NotEqual(0, refused.ExitCode);
        var message = refused.Stdout + refused.Stderr;
        Assert.Contains("refuses to start: the PostgreSQL store postgresql://", message, StringComparison.Ordinal);
        Assert.Contains(KeyturnCluster.StoreUser, message, StringComparison.Ordinal);
        var password = new Uri(store).UserInfo.Split(':')[1];
        Assert.DoesNotContain(password, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedAccessKey_IsRefusedByEveryNode_WithinOneSecond()
    {
        await using var cluster = await KeyturnCluster.StartAsync(2, ClusterStore.PostgreSql, db.Postgres);
        using var root = new ClusterClient(cluster.NodeEndpoint(0), cluster.AccessKeyId, cluster.SecretAccessKey);
        Assert.Equal(Outcome.Ok, (await root.CallAsync("CreateSecret", new { Name = "app/revoked", SecretString = "value" })).Outcome);
        var created = await cluster.Front.KeysAsync("create", "app-reader");
        var (id, secret) = (KeyturnProcess.KeyLine(created, "aws_access_key_id"), KeyturnProcess.KeyLine(created, "aws_secret_access_key"));
        using var first = new ClusterClient(cluster.NodeEndpoint(0), id, secret);
        using var second = new ClusterClient(cluster.NodeEndpoint(1), id, secret);

        // Both nodes have the key in their one-second cache when it is revoked through the shared store.
        Assert.Equal(Outcome.Ok, (await first.CallAsync("GetSecretValue", new { SecretId = "app/revoked" })).Outcome);
        Assert.Equal(Outcome.Ok, (await second.CallAsync("GetSecretValue", new { SecretId = "app/revoked" })).Outcome);
        await cluster.Front.KeysAsync("revoke", id);
        var revoked = System.Diagnostics.Stopwatch.StartNew();

        // Polled until refused: a call may still pass while the cached entry lives, none sent a second or more after the revocation.
        foreach (var node in new[] { first, second })
        {
            await CrashHarness.UntilAsync(async () =>
            {
                var sent = revoked.Elapsed;
                var reply = await node.CallAsync("GetSecretValue", new { SecretId = "app/revoked" });
                if (reply.Outcome == Outcome.Failed && reply.Error == "UnrecognizedClientException")
                {
                    return true;
                }

                Assert.True(reply.Outcome == Outcome.Ok && sent < TimeSpan.FromSeconds(1), $"{reply.Outcome} {reply.Error} {reply.Body} for a call sent {sent.TotalMilliseconds:F0} ms after the revocation");
                return false;
            }, () => Task.FromResult("the revoked key to be refused"), seconds: 30);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ProbeAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(new Uri(url));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }
}
