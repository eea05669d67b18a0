using Keyturn.Application.Logs;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.PostgreSql;
using Keyturn.Storage.Sqlite;
using Npgsql;
using Xunit.Abstractions;

namespace Keyturn.Storage.Tests.Logs;

/// <summary>One empty log store of some backend, as the contract suite uses it.</summary>
/// <param name="location">The database file, or the PostgreSQL database's name.</param>
public sealed class OpenedLogStore(ILogStore store, ILogSink sink, ILogArchive archive, string location, Func<ValueTask> dispose) : IAsyncDisposable
{
    public string Location { get; } = location;

    public ILogStore Store { get; } = store;

    public ILogSink Sink { get; } = sink;

    public ILogArchive Archive { get; } = archive;

    public ValueTask DisposeAsync() => dispose();
}

/// <summary>The embedded store: a fresh database file, migrated by <see cref="SqliteDatabase"/> as <c>keyturn serve</c> does.</summary>
public sealed class SqliteLogStoreContract : LogStoreContract
{
    protected override Task<OpenedLogStore> OpenEmptyAsync() => OpenEmpty();

    public static Task<OpenedLogStore> OpenEmpty()
    {
        var directory = Directory.CreateTempSubdirectory("keyturn-logs-").FullName;
        var path = SqliteDatabase.PathIn(directory);
        var database = SqliteDatabase.Open(path);
        var store = database.Logs;
        return Task.FromResult(new OpenedLogStore(store, store, store, path, () =>
        {
            database.Dispose();
            TestDirectories.Delete(directory);
            return ValueTask.CompletedTask;
        }));
    }
}

/// <summary>A real PostgreSQL 15 on loopback: each store is a new database, owned by an unprivileged role that runs the migration.</summary>
public sealed class PostgreSqlLogStoreContract(PostgresLogServer server, ITestOutputHelper output) : LogStoreContract, IClassFixture<PostgresLogServer>
{
    protected override Task<OpenedLogStore> OpenEmptyAsync() => server.OpenEmptyAsync();

    /// <summary>
    /// A selective term finds its candidates through the trigram index, not by walking the group's time index. Measured
    /// plan on PostgreSQL 15 (20,000 events, one matching): Limit → Sort (timestamp_ms, id) → Bitmap Heap Scan on
    /// log_events (group, window and position as filters) → Bitmap Index Scan on log_events_message_trgm
    /// (message ~~ '%needle-in-haystack%').
    /// </summary>
    /// <summary>What <c>keyturn store migrate</c> does with logs, from the embedded store into this one: the same events, ids and figures come back.</summary>
    [Fact]
    public async Task Import_FromTheEmbeddedStore_ReadsBackTheSameGroupsStreamsAndEvents()
    {
        await using var sqlite = await SqliteLogStoreContract.OpenEmpty();
        var t = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        await sqlite.Sink.AppendAsync("/aws/lambda/a", "s1", [new LogLine(t, "héllo"), new LogLine(t, "same time"), new LogLine(t.AddSeconds(-1), "earlier")], default);
        await sqlite.Sink.AppendAsync("/aws/lambda/a", "s2", [.. Enumerable.Range(0, 1500).Select(i => new LogLine(t.AddMilliseconds(i), $"line {i}"))], default);
        await sqlite.Sink.AppendAsync("/aws/lambda/b", "s1", [new LogLine(t, "b")], default);

        await using var postgres = await server.OpenEmptyAsync();
        foreach (var group in await sqlite.Store.DescribeGroupsAsync(new(null, null, null, null, 50), default))
        {
            var streams = await sqlite.Store.DescribeStreamsAsync(new(group.Name, null, LogStreamOrder.LogStreamName, false, null, 50), default);
            await postgres.Archive.ImportStreamsAsync(group, streams, default);
            var events = await sqlite.Store.FilterAsync(new(group.Name, null, null, null, null, Domain.Logs.LogFilterPattern.All, null, 10_000, int.MaxValue, int.MaxValue), default);
            await postgres.Archive.ImportEventsAsync(group.Name, events.Events, default);

            Assert.Equal(group, await postgres.Store.FindGroupAsync(group.Name, default));
            Assert.Equal(streams, await postgres.Store.DescribeStreamsAsync(new(group.Name, null, LogStreamOrder.LogStreamName, false, null, 50), default));
            var copied = await postgres.Store.FilterAsync(new(group.Name, null, null, null, null, Domain.Logs.LogFilterPattern.All, null, 10_000, int.MaxValue, int.MaxValue), default);
            Assert.Equal(events.Events, copied.Events);
        }

        var found = await postgres.Store.FilterAsync(new("/aws/lambda/a", null, null, null, null, Domain.Logs.LogFilterPattern.Parse("\"line 149\""), null, 100, int.MaxValue, int.MaxValue), default);
        Assert.Equal(["line 149", .. Enumerable.Range(1490, 10).Select(i => $"line {i}")], found.Events.Select(e => e.Message));
    }

    [Fact]
    public async Task Filter_SelectiveTerm_UsesTheTrigramIndex()
    {
        await using var opened = await server.OpenEmptyAsync();
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        for (var chunk = 0; chunk < 20; chunk++)
        {
            await opened.Sink.AppendAsync("/aws/lambda/big", "s", [.. Enumerable.Range(0, 1000).Select(i =>
                new LogLine(start.AddMilliseconds((chunk * 1000) + i), chunk == 7 && i == 500 ? "ERROR needle-in-haystack" : $"INFO step {chunk}/{i} fine"))], default);
        }

        await using var source = server.DataSource(opened.Location);
        await using (var analyze = source.CreateCommand("ANALYZE log_events"))
        {
            await analyze.ExecuteNonQueryAsync();
        }

        var query = new LogFilterQuery("/aws/lambda/big", null, null, null, null, Domain.Logs.LogFilterPattern.Parse("needle-in-haystack"), null, 100, 1 << 20, 10_000);
        var (sql, parameters) = PostgreSqlLogStore.FilterCommand(query);
        await using var explain = source.CreateCommand("EXPLAIN " + sql);
        explain.Parameters.AddRange(parameters.ToArray());
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        output.WriteLine(string.Join('\n', plan));
        Assert.Contains(plan, line => line.Contains("log_events_message_trgm", StringComparison.Ordinal));
        var found = await opened.Store.FilterAsync(query, default);
        Assert.Equal("ERROR needle-in-haystack", Assert.Single(found.Events).Message);
    }
}

/// <summary>One PostgreSQL server for a test class; <see cref="OpenEmptyAsync"/> gives each test its own database.</summary>
public sealed class PostgresLogServer : IAsyncLifetime
{
    private readonly PostgresServer _server = new();
    private int _databases;

    public async Task InitializeAsync()
    {
        if (PostgresServer.MissingBinary() is { } missing)
        {
            throw new InvalidOperationException($"The PostgreSQL log store tests need a real server; install {missing}.");
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => _server.StopNow();
        await _server.StartAsync(certificates: null);
    }

    public Task DisposeAsync() => _server.StopAsync();

    public NpgsqlDataSource DataSource(string database)
    {
        var builder = new NpgsqlConnectionStringBuilder(_server.ConnectionString(PostgresServer.MasterUser, _server.MasterPassword, database)) { Pooling = true };
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    public async Task<OpenedLogStore> OpenEmptyAsync()
    {
        var database = $"logs_{Interlocked.Increment(ref _databases)}";
        await _server.ExecuteAsSuperuserAsync("postgres", $"CREATE DATABASE {database} OWNER {PostgresServer.MasterUser}");
        // Opened as a node opens it: the store's migrations create the log tables.
        var opened = await PostgreSqlDatabase.OpenAsync(_server.ConnectionString(PostgresServer.MasterUser, _server.MasterPassword, database));
        var store = new PostgreSqlLogStore(opened.DataSource, TimeProvider.System);
        return new OpenedLogStore(store, store, store, database, opened.DisposeAsync);
    }
}
