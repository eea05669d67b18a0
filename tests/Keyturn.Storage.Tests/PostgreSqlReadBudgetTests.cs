using System.Runtime.CompilerServices;
using System.Text;
using Keyturn.Application.Ports;
using Keyturn.Domain.Secrets;
using Keyturn.Storage.PostgreSql;
using Npgsql;
using Xunit.Abstractions;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>
/// Its own PostgreSQL server, and nothing else running meanwhile: a multiplexed read's work crosses threads (Npgsql's
/// read loop completes it), so its allocations are counted for the whole process.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCountCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "PostgreSQL allocation counts";

    /// <summary>
    /// Bytes allocated per call of <paramref name="many"/>'s unit, over <paramref name="count"/> calls, after a warm-up long
    /// enough for the tiered JIT to replace the first code (which boxes, e.g. in Enum.HasFlag).
    /// </summary>
    public static async Task<long> BytesPerCallAsync(Func<int, Task> many, int count)
    {
        for (var round = 0; round < 3; round++)
        {
            await many(500);
            await Task.Delay(500);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        await many(count);
        return (GC.GetTotalAllocatedBytes(precise: true) - before) / count;
    }
}

/// <summary>
/// What the PostgreSQL store allocates for the read of a GetSecretValue (one unit: the secret by name or ARN with its
/// versions, labels and the current sealed value, in one statement on a kept connection), and that what it reuses from
/// earlier reads never hides a change committed on another node.
/// </summary>
[Collection(AllocationCountCollection.Name)]
public sealed class PostgreSqlReadBudgetTests(PostgresServerFixture server, ITestOutputHelper output)
{
    private const int Reads = 2000;

    [Fact]
    public async Task Reading_a_value_as_GetSecretValue_does_stays_within_its_allocation_budget()
    {
        // Measured at 2,890 B per read (a secret with two versions) before the store reused what it decoded and pooled its
        // async frames; 1,464 B after, when the port returned a Task and the work was a Task too; 1,152 B once both are
        // pooled ValueTasks (the work's frame pooled as GetSecretValue's is) and a kept read connection keeps its session:
        // the secret and its version objects, Npgsql's own frame and bookkeeping for the statement, and this test's
        // delegate. Decoding each read's strings, metadata document and ciphertext again (about 800 B here), an unpooled
        // frame or a Task for the port or the work (about 70 to 200 B each) breaks the budget.
        const int Budget = 1_250;
        await using var database = await PostgreSqlDatabase.OpenAsync(await server.CreateDatabaseAsync());
        var secret = NewSecret();
        var current = AddValue(secret, Guid.NewGuid().ToString(), "current");
        await database.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None);
        Assert.NotNull(database.ReadSource);

        Assert.Equal(current.VersionId, await ReadCurrentAsync(database.SecretStore, secret, byArn: false));
        Assert.Equal(current.VersionId, await ReadCurrentAsync(database.SecretStore, secret, byArn: true));
        Assert.Equal(("0", "current"), await ReadAsync(database.SecretStore, secret));

        var perRead = await AllocationCountCollection.BytesPerCallAsync(reads => ReadManyAsync(database.SecretStore, secret, reads), Reads);

        output.WriteLine($"{perRead} B per read");
        Assert.InRange(perRead, 0, Budget);
    }

    [Fact]
    public async Task A_read_after_a_commit_on_another_node_decodes_what_changed_in_the_secret_its_labels_and_a_sealed_value()
    {
        var uri = await server.CreateDatabaseAsync();
        await using var node1 = await PostgreSqlDatabase.OpenAsync(uri);
        await using var node2 = await PostgreSqlDatabase.OpenAsync(uri);
        var secret = NewSecret();
        var first = secret.Versions[0].VersionId;
        await node1.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(("0", "first"), await ReadAsync(node1.SecretStore, secret));
        }

        // The metadata document and the labels change on the other node.
        var second = Guid.NewGuid().ToString();
        await node2.SecretStore.WriteAsync(async (s, ct) =>
        {
            var locked = (await s.FindByArnAsync(secret.Arn, ct))!;
            locked.Description = "1";
            AddValue(locked, second, "second");
            await s.SaveAsync(locked, ct);
            return 0;
        }, CancellationToken.None);
        Assert.Equal(("1", "second"), await ReadAsync(node1.SecretStore, secret));
        var labels = await node1.SecretStore.ReadAsync(async (s, ct) => (await s.FindByArnAsync(secret.Arn, ct))!.FindVersion(first)!.Stages, CancellationToken.None);
        Assert.Equal(["AWSPREVIOUS"], labels);

        // The same version's sealed value is replaced in place (as a master-key rotation re-seals it): the new bytes are read.
        var resealed = KeyB.Encrypt("second"u8, ValueContext(secret.Arn, second));
        await using (var connection = await server.ConnectAsync(uri))
        await using (var update = new NpgsqlCommand(
            "UPDATE versions SET ciphertext = $1 WHERE version_id = $2 AND secret_id = (SELECT id FROM secrets WHERE arn = $3)", connection))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = resealed });
            update.Parameters.Add(new NpgsqlParameter { Value = second });
            update.Parameters.Add(new NpgsqlParameter { Value = secret.Arn });
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        var ciphertext = await node1.SecretStore.ReadAsync(async (s, ct) =>
        {
            var found = (await s.FindByNameAsync(secret.Region, secret.Name, ct))!;
            return found.HolderOf("AWSCURRENT")!.Value!.Ciphertext;
        }, CancellationToken.None);
        Assert.Equal(resealed, ciphertext);
        Assert.Equal("second", Encoding.UTF8.GetString(KeyB.Decrypt(ciphertext, ValueContext(secret.Arn, second))));
    }

    private static async Task ReadManyAsync(ISecretStore store, Secret secret, int reads)
    {
        for (var i = 0; i < reads; i++)
        {
            await ReadCurrentAsync(store, secret, byArn: i % 2 == 1);
        }
    }

    // As GetSecretValue's unit: the secret by its id, the AWSCURRENT version, its sealed value (read with the secret); the
    // version's id, so that the count is the store's and not the decryption's.
    private static ValueTask<string> ReadCurrentAsync(ISecretStore store, Secret secret, bool byArn) => store.ReadAsync(
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] async ValueTask<string> (ISecretSession s, CancellationToken ct) =>
    {
        var found = (byArn ? await s.FindByArnAsync(secret.Arn, ct) : await s.FindByNameAsync(secret.Region, secret.Name, ct))!;
        var version = found.HolderOf("AWSCURRENT")!;
        if (version.Value is null && !await s.LoadValueAsync(found, version, ct))
        {
            throw new InvalidOperationException("The current version has no value.");
        }

        return version.VersionId;
    }, CancellationToken.None);

    private static ValueTask<(string?, string)> ReadAsync(ISecretStore store, Secret secret) => store.ReadAsync(async (s, ct) =>
    {
        var found = (await s.FindByNameAsync(secret.Region, secret.Name, ct))!;
        return (found.Description, Open(found, found.HolderOf("AWSCURRENT")!));
    }, CancellationToken.None);
}
