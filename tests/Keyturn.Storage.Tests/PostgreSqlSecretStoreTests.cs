using Keyturn.Domain.Secrets;
using Npgsql;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>The contract on PostgreSQL 15, plus what only this backend can show: which rows a save rewrites.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlSecretStoreContractTests(PostgreSqlStoreFixture fixture)
    : SecretStoreContractTests(fixture), IClassFixture<PostgreSqlStoreFixture>
{
    [Fact]
    public async Task Moving_one_label_rewrites_that_label_row_only()
    {
        var secret = NewSecret();
        AddValue(secret, Guid.NewGuid().ToString(), "second");
        AddValue(secret, Guid.NewGuid().ToString(), "third", ["blue"]);
        AddValue(secret, Guid.NewGuid().ToString(), "fourth", ["green"]);
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None);
        var before = await LabelRowVersionsAsync(secret.Arn);

        await Store.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            StageRules.UpdateVersionStage(stored, "blue", stored.HolderOf("blue")!.VersionId, stored.HolderOf("green")!.VersionId);
            await s.SaveAsync(stored, ct);
            return 0;
        }, CancellationToken.None);
        var after = await LabelRowVersionsAsync(secret.Arn);

        Assert.Equal(["AWSCURRENT", "AWSPREVIOUS", "blue", "green"], before.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["blue"], after.Where(a => before[a.Key] != a.Value).Select(a => a.Key));
        var moved = await ReadAsync(secret.Arn);
        Assert.Equal(["green", "blue"], moved.HolderOf("blue")!.Stages);
    }

    /// <summary>Each label row's xmin: the transaction that last wrote it.</summary>
    private async Task<Dictionary<string, string>> LabelRowVersionsAsync(string arn)
    {
        await using var connection = await fixture.Server.ConnectAsync(fixture.ConnectionUri);
        await using var command = new NpgsqlCommand(
            "SELECT label, xmin::text FROM stages WHERE secret_id = (SELECT id FROM secrets WHERE arn = $1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = arn });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetString(1);
        }

        return rows;
    }
}
