using Keyturn.Storage.PostgreSql;
using Npgsql;

namespace Keyturn.Storage.Tests;

/// <summary>Schema ownership: migrations applied once by nodes starting together, rolling upgrades, and the readiness check.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlDatabaseTests(PostgresServerFixture server)
{
    private static readonly PostgreSqlMigration First = PostgreSqlSchema.Migrations[0];

    // Counts its own runs: a migration applied twice leaves two rows (or fails on the table it creates).
    private static readonly PostgreSqlMigration Counted = new(2, "a counted additive migration", 1,
        "CREATE TABLE migration_runs (at timestamptz NOT NULL DEFAULT now()); INSERT INTO migration_runs DEFAULT VALUES;");

    private static readonly PostgreSqlMigration Breaking = new(3, "a migration older code can't run on", 3, "ALTER TABLE migration_runs ADD COLUMN node text;");

    [Fact]
    public async Task Nodes_starting_together_apply_each_migration_exactly_once()
    {
        var uri = await server.CreateDatabaseAsync();
        var nodes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgreSqlDatabase.OpenAsync(uri, [First, Counted], null, null, default))));
        try
        {
            await using var connection = await server.ConnectAsync(uri);
            Assert.Equal(1L, await ScalarAsync(connection, "SELECT count(*) FROM migration_runs"));
            Assert.Equal("1,2", await ScalarAsync(connection, "SELECT string_agg(version::text, ',' ORDER BY version) FROM keyturn_schema"));
            Assert.All(nodes, n => Assert.Equal(2, n.RequiredSchema));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task An_older_node_runs_beside_a_compatible_newer_schema_and_refuses_an_incompatible_one()
    {
        var uri = await server.CreateDatabaseAsync();
        await using (var newer = await PostgreSqlDatabase.OpenAsync(uri, [First, Counted], null, null, default))
        {
            Assert.True((await newer.CheckAsync(default)).Ready);
        }

        // Schema 2 says code of schema 1 still works: the old node starts, reads and writes, and reports ready.
        await using var old = await PostgreSqlDatabase.OpenAsync(uri, [First], null, null, default);
        var health = await old.CheckAsync(default);
        Assert.Equal((true, 2, 1), (health.Ready, health.AppliedSchema, health.RequiredSchema));
        var secret = StoreTestData.NewSecret();
        await old.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, default);

        // Schema 3 needs code of schema 3: a node of schema 2 refuses to start, and a running one stops being ready.
        await using var middle = await PostgreSqlDatabase.OpenAsync(uri, [First, Counted], null, null, default);
        await using (await PostgreSqlDatabase.OpenAsync(uri, [First, Counted, Breaking], null, null, default))
        {
        }

        var refused = await Assert.ThrowsAsync<StoreSchemaException>(() => PostgreSqlDatabase.OpenAsync(uri, [First, Counted], null, null, default));
        Assert.Contains("is at schema 3, which requires Keyturn code of schema 3 or later; this node runs schema 2", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(server.Server.MasterPassword, refused.Message, StringComparison.Ordinal);
        var stale = await middle.CheckAsync(default);
        Assert.False(stale.Ready);
        Assert.Contains("requires Keyturn code of schema 3", stale.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_read_pool_opens_no_more_server_connections_than_its_configured_size()
    {
        var uri = await server.CreateDatabaseAsync();
        await using (var unset = await PostgreSqlDatabase.OpenAsync(uri))
        {
            Assert.Equal(PostgreSqlDatabase.DefaultReadMaxPoolSize, new NpgsqlConnectionStringBuilder(unset.ReadSource!.ConnectionString).MaxPoolSize);
        }

        await using var capped = await PostgreSqlDatabase.OpenAsync(uri + "&read_max_pool_size=2");
        Assert.Equal(2, new NpgsqlConnectionStringBuilder(capped.ReadSource!.ConnectionString).MaxPoolSize);

        // Twelve statements at once, each holding its server session a while: two sessions carry them all.
        var sessions = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            await using var command = capped.ReadSource.CreateCommand("SELECT pg_backend_pid() FROM pg_sleep(0.2)");
            return (int)(await command.ExecuteScalarAsync())!;
        }));
        Assert.InRange(sessions.Distinct().Count(), 1, 2);

        // The transaction pool is not the read pool: its size is Npgsql's Max Pool Size, untouched by the read key.
        Assert.Equal(new NpgsqlConnectionStringBuilder().MaxPoolSize, new NpgsqlConnectionStringBuilder(capped.DataSource.ConnectionString).MaxPoolSize);
    }

    [Fact]
    public async Task Readiness_follows_the_database_answering_and_names_no_password()
    {
        var uri = await server.CreateDatabaseAsync();
        var name = uri[(uri.LastIndexOf('/') + 1)..uri.IndexOf('?', StringComparison.Ordinal)];
        await using var database = await PostgreSqlDatabase.OpenAsync(uri + "&connect_timeout=2");
        var ready = await database.CheckAsync(default);
        Assert.Equal((true, PostgreSqlSchema.RequiredVersion), (ready.Ready, ready.AppliedSchema));

        await server.Server.ExecuteAsSuperuserAsync("postgres",
            $"ALTER DATABASE {name} ALLOW_CONNECTIONS false", $"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
        database.DataSource.Clear();
        try
        {
            var down = await database.CheckAsync(default);
            Assert.False(down.Ready);
            Assert.Null(down.AppliedSchema);
            Assert.DoesNotContain(server.Server.MasterPassword, down.Detail, StringComparison.Ordinal);
            Assert.Contains($"postgresql://{Rotators.Tests.Infrastructure.PostgresServer.MasterUser}@127.0.0.1:{server.Server.Port}/{name}", down.Detail, StringComparison.Ordinal);
        }
        finally
        {
            await server.Server.ExecuteAsSuperuserAsync("postgres", $"ALTER DATABASE {name} ALLOW_CONNECTIONS true");
        }

        Assert.True((await database.CheckAsync(default)).Ready);
    }

    [Fact]
    public async Task A_database_without_the_schema_is_not_ready_and_a_wrong_password_fails_without_echoing_it()
    {
        var uri = await server.CreateDatabaseAsync();
        await using var database = await PostgreSqlDatabase.OpenAsync(uri);
        await using (var connection = await server.ConnectAsync(uri))
        {
            await ScalarAsync(connection, "DELETE FROM keyturn_schema");
        }

        Assert.False((await database.CheckAsync(default)).Ready);

        const string Wrong = "Wr0ng-Pa55word-2c9e";
        var failed = await Assert.ThrowsAnyAsync<NpgsqlException>(() => PostgreSqlDatabase.OpenAsync(server.Uri("postgres", Wrong)));
        Assert.DoesNotContain(Wrong, failed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_units_multiplex_unless_the_connection_string_says_Multiplexing_false()
    {
        var uri = await server.CreateDatabaseAsync();
        var secret = StoreTestData.NewSecret();
        await using (var multiplexed = await PostgreSqlDatabase.OpenAsync(uri))
        {
            Assert.True(new NpgsqlConnectionStringBuilder(multiplexed.ReadSource!.ConnectionString).Multiplexing);
            Assert.False(new NpgsqlConnectionStringBuilder(multiplexed.DataSource.ConnectionString).Multiplexing);
            await multiplexed.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, default);
        }

        await using var single = await PostgreSqlDatabase.OpenAsync(PostgreSqlConnectionString.ToNpgsql(uri) + ";Multiplexing=false");
        Assert.Null(single.ReadSource);
        Assert.Equal(secret.Arn, (await single.SecretStore.ReadAsync(async (s, ct) => await s.FindByNameAsync(secret.Region, secret.Name, ct), default))!.Arn);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
