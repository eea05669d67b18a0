using Keyturn.Storage.PostgreSql;
using Npgsql;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>
/// The secret store's hot statements are prepared on the server (Npgsql's automatic preparation, MaxAutoPrepare), so a
/// GetSecretValue does not parse and plan its SQL again on every request: the single-statement reads on the multiplexing
/// pool's connections, the units with a transaction on the other pool's.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlPreparedStatementTests(PostgresServerFixture server)
{
    // More uses than Npgsql's AutoPrepareMinUsages (5 by default) before a statement is prepared.
    private const int Uses = 12;

    [Fact]
    public async Task Secret_and_access_key_lookups_are_prepared_on_the_connections_of_both_pools_after_a_few_uses()
    {
        // One physical connection per pool: every unit of a pool, and the look at its pg_prepared_statements, run in the same
        // server session.
        var connectionString = PostgreSqlConnectionString.ToNpgsql(await server.CreateDatabaseAsync()) + ";Maximum Pool Size=1";
        await using var database = await PostgreSqlDatabase.OpenAsync(connectionString);
        var secret = NewSecret();
        var deprecated = secret.Versions[0].VersionId;
        AddValue(secret, Guid.NewGuid().ToString(), "second");
        AddValue(secret, Guid.NewGuid().ToString(), "third");
        var key = AccessKey();
        await database.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); await s.SaveAccessKeyAsync(key, ct); return 0; }, CancellationToken.None);
        Assert.NotNull(database.ReadSource);
        var session = await BackendPidAsync(database.DataSource);
        var readSession = await BackendPidAsync(database.ReadSource);

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

        Assert.Equal(session, await BackendPidAsync(database.DataSource));
        Assert.Equal(readSession, await BackendPidAsync(database.ReadSource));
        Assert.NotEqual(session, readSession);
        var prepared = await PreparedStatementsAsync(database.DataSource);
        var preparedForReads = await PreparedStatementsAsync(database.ReadSource);

        // Loose fragments, so the test holds while the statements' exact text changes.
        (string Unit, bool Multiplexed, string[] Fragments)[] hot =
        [
            ("a secret by name with its versions, labels and labelled values", true, ["FROM secrets", "name = $", "JOIN versions", "FROM stages", "ciphertext"]),
            ("a secret by ARN with its versions, labels and labelled values", true, ["FROM secrets", "arn = $", "JOIN versions", "FROM stages"]),
            ("an access key", true, ["FROM access_keys WHERE"]),

            // An unlabelled version's value is a second statement: the unit runs again in a transaction, on the other pool.
            ("a secret by ARN with its versions, labels and labelled values", false, ["FROM secrets", "arn = $", "JOIN versions", "FROM stages"]),
            ("an unlabelled version's value", false, ["ciphertext FROM versions"]),
            ("a secret locked for a write", false, ["FROM secrets", "arn = $", "FOR UPDATE"]),
            ("a locked secret's versions and labels", false, ["FROM versions v", "FROM stages"]),
        ];
        Assert.All(hot, h =>
        {
            var statements = h.Multiplexed ? preparedForReads : prepared;
            Assert.True(
                statements.Any(p => h.Fragments.All(f => p.Contains(f, StringComparison.Ordinal))),
                $"No prepared statement loads {h.Unit} ({string.Join(" … ", h.Fragments)}) on the {(h.Multiplexed ? "multiplexing" : "transaction")} pool's " +
                $"session. Prepared there:\n{string.Join("\n", statements)}");
        });
    }

    [Fact]
    public async Task A_secret_lookup_probes_each_versions_labels_once()
    {
        // An ARRAY(SELECT ...) of labels in the select list is pulled up by the planner and was evaluated twice per version
        // (for the labels and again for the CASE that tested them): two scans of stages in the plan instead of one.
        var uri = await server.CreateDatabaseAsync();
        await using var database = await PostgreSqlDatabase.OpenAsync(uri);
        var secret = NewSecret();
        AddValue(secret, Guid.NewGuid().ToString(), "second");
        AddValue(secret, Guid.NewGuid().ToString(), "third", ["AWSPENDING"]);
        await database.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None);

        foreach (var (sql, parameters) in new (string, object[])[]
        {
            (PostgreSqlSecretSession.SecretByNameWithVersions, [secret.Region, secret.Name]),
            (PostgreSqlSecretSession.SecretByArnWithVersions, [secret.Arn]),
        })
        {
            await using var command = database.DataSource.CreateCommand("EXPLAIN (ANALYZE, FORMAT JSON) " + sql);
            foreach (var value in parameters)
            {
                command.Parameters.Add(new NpgsqlParameter { Value = value });
            }

            var plan = (string)(await command.ExecuteScalarAsync())!;
            Assert.Equal(1, plan.Split("\"Relation Name\": \"stages\"").Length - 1);
            Assert.Contains("\"Actual Loops\": 3", plan, StringComparison.Ordinal);
        }
    }

    // Through a command, not NpgsqlConnection.ProcessID: a multiplexing connection is bound to a server session only while
    // a command of it runs.
    private static async Task<int> BackendPidAsync(NpgsqlDataSource source)
    {
        await using var command = source.CreateCommand("SELECT pg_backend_pid()");
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<string>> PreparedStatementsAsync(NpgsqlDataSource source)
    {
        await using var command = source.CreateCommand("SELECT statement FROM pg_prepared_statements");
        await using var reader = await command.ExecuteReaderAsync();
        var statements = new List<string>();
        while (await reader.ReadAsync())
        {
            statements.Add(reader.GetString(0));
        }

        return statements;
    }
}
