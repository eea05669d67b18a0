using Keyturn.Storage.PostgreSql;
using Npgsql;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>
/// The secret store's hot statements are prepared on the server (Npgsql's automatic preparation, MaxAutoPrepare), so a
/// GetSecretValue does not parse and plan its SQL again on every request.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlPreparedStatementTests(PostgresServerFixture server)
{
    // More uses than Npgsql's AutoPrepareMinUsages (5 by default) before a statement is prepared.
    private const int Uses = 12;

    [Fact]
    public async Task Secret_and_access_key_lookups_are_prepared_on_the_pooled_connection_after_a_few_uses()
    {
        // One physical connection: every unit, and the look at pg_prepared_statements, run in the same server session.
        var connectionString = PostgreSqlConnectionString.ToNpgsql(await server.CreateDatabaseAsync()) + ";Maximum Pool Size=1";
        await using var database = await PostgreSqlDatabase.OpenAsync(connectionString);
        var secret = NewSecret();
        var deprecated = secret.Versions[0].VersionId;
        AddValue(secret, Guid.NewGuid().ToString(), "second");
        AddValue(secret, Guid.NewGuid().ToString(), "third");
        var key = AccessKey();
        await database.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); await s.SaveAccessKeyAsync(key, ct); return 0; }, CancellationToken.None);
        var session = await BackendPidAsync(database);

        for (var i = 0; i < Uses; i++)
        {
            // What a GetSecretValue does by name (one statement, the current value with it), by ARN, for an unlabelled
            // version, and what SigV4 does for its caller's key.
            var current = await database.SecretStore.ReadAsync(async (s, ct) =>
            {
                var byName = (await s.FindByNameAsync(secret.Region, secret.Name, ct))!;
                Assert.True(await s.LoadValueAsync(byName, byName.HolderOf("AWSCURRENT")!, ct));
                return Open(byName, byName.HolderOf("AWSCURRENT")!);
            }, CancellationToken.None);
            Assert.Equal("third", current);
            var old = await database.SecretStore.ReadAsync(async (s, ct) =>
            {
                var byArn = (await s.FindByArnAsync(secret.Arn, ct))!;
                var version = byArn.FindVersion(deprecated)!;
                Assert.True(await s.LoadValueAsync(byArn, version, ct));
                return Open(byArn, version);
            }, CancellationToken.None);
            Assert.Equal("first", old);
            Assert.NotNull(await database.SecretStore.ReadAsync(async (s, ct) => await s.FindAccessKeyAsync(key.AccessKeyId, ct), CancellationToken.None));

            // And what every write of a secret starts with: the secret locked, then its versions and labels.
            await database.SecretStore.WriteAsync(async (s, ct) => (await s.FindByArnAsync(secret.Arn, ct))!.Versions.Count, CancellationToken.None);
        }

        Assert.Equal(session, await BackendPidAsync(database));
        var prepared = await PreparedStatementsAsync(database);

        // Loose fragments, so the test holds while the statements' exact text changes.
        (string Unit, string[] Fragments)[] hot =
        [
            ("a secret by name with its versions, labels and labelled values", ["FROM secrets", "name = $", "JOIN versions", "FROM stages", "ciphertext"]),
            ("a secret by ARN with its versions, labels and labelled values", ["FROM secrets", "arn = $", "JOIN versions", "FROM stages"]),
            ("an unlabelled version's value", ["ciphertext FROM versions"]),
            ("an access key", ["FROM access_keys WHERE"]),
            ("a secret locked for a write", ["FROM secrets", "arn = $", "FOR UPDATE"]),
            ("a locked secret's versions and labels", ["FROM versions v", "FROM stages"]),
        ];
        Assert.All(hot, h => Assert.True(
            prepared.Any(p => h.Fragments.All(f => p.Contains(f, StringComparison.Ordinal))),
            $"No prepared statement loads {h.Unit} ({string.Join(" … ", h.Fragments)}). Prepared on the session:\n{string.Join("\n", prepared)}"));
    }

    private static async Task<int> BackendPidAsync(PostgreSqlDatabase database)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        return connection.ProcessID;
    }

    private static async Task<List<string>> PreparedStatementsAsync(PostgreSqlDatabase database)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT statement FROM pg_prepared_statements", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var statements = new List<string>();
        while (await reader.ReadAsync())
        {
            statements.Add(reader.GetString(0));
        }

        return statements;
    }
}
