using Keyturn.Application.Ports;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.PostgreSql;
using Keyturn.Storage.Sqlite;
using Npgsql;

namespace Keyturn.Storage.Tests;

/// <summary>A store under test and a second handle on the same data, as a second node (or process) would hold it.</summary>
public interface IStoreFixture
{
    ISecretStore Store { get; }

    ISecretStore SecondNode { get; }

    /// <summary>A store with nothing in it, for checks over the whole store (master keys, sealed blobs).</summary>
    Task<(ISecretStore Store, IAsyncDisposable Lifetime)> OpenEmptyStoreAsync();
}

/// <summary>One embedded database per test class; the second node is another store on the same file.</summary>
public sealed class SqliteStoreFixture : IStoreFixture, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("keyturn-store-").FullName;
    private readonly SqliteDatabase _store;
    private readonly SqliteDatabase _second;

    public SqliteStoreFixture()
    {
        _store = SqliteDatabase.Open(SqliteDatabase.PathIn(_directory));
        _second = SqliteDatabase.Open(SqliteDatabase.PathIn(_directory));
    }

    public ISecretStore Store => _store.Secrets;

    public ISecretStore SecondNode => _second.Secrets;

    public Task<(ISecretStore Store, IAsyncDisposable Lifetime)> OpenEmptyStoreAsync()
    {
        var directory = Directory.CreateTempSubdirectory("keyturn-store-").FullName;
        var store = SqliteDatabase.Open(SqliteDatabase.PathIn(directory));
        return Task.FromResult<(ISecretStore, IAsyncDisposable)>((store.Secrets, new Cleanup(() =>
        {
            store.Dispose();
            TestDirectories.Delete(directory);
        })));
    }

    public void Dispose()
    {
        _store.Dispose();
        _second.Dispose();
        TestDirectories.Delete(_directory);
    }

    private sealed class Cleanup(Action action) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            action();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>One PostgreSQL 15 server on loopback for every PostgreSQL test class (they run one after another).</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    private int _databases;

    public PostgresServer Server { get; } = new();

    public async Task InitializeAsync()
    {
        if (PostgresServer.MissingBinary() is { } missing)
        {
            throw new InvalidOperationException($"The PostgreSQL tests need {missing}; ./run-tests installs it.");
        }

        await Server.StartAsync(certificates: null);
    }

    public Task DisposeAsync() => Server.StopAsync();

    /// <summary>A new empty database owned by the master user; returns its connection string (a URI, as an operator writes it).</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"store_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..30];
        await Server.ExecuteAsSuperuserAsync("postgres", $"CREATE DATABASE {name} OWNER {PostgresServer.MasterUser}");
        return Uri(name);
    }

    public string Uri(string database, string? password = null) =>
        $"postgresql://{PostgresServer.MasterUser}:{System.Uri.EscapeDataString(password ?? Server.MasterPassword)}@127.0.0.1:{Server.Port}/{database}" +
        "?sslmode=disable&application_name=keyturn-tests";

    public async Task<NpgsqlConnection> ConnectAsync(string uri)
    {
        var connection = new NpgsqlConnection(PostgreSqlConnectionString.ToNpgsql(uri) + ";Pooling=false");
        await connection.OpenAsync();
        return connection;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServerFixture>
{
    public const string Name = "PostgreSQL server";
}

/// <summary>A fresh database per test class, opened by two "nodes" (two pools, as two processes would have).</summary>
public sealed class PostgreSqlStoreFixture(PostgresServerFixture server) : IStoreFixture, IAsyncLifetime
{
    private PostgreSqlDatabase? _node1;
    private PostgreSqlDatabase? _node2;

    public string ConnectionUri { get; private set; } = "";

    public PostgresServerFixture Server => server;

    public PostgreSqlDatabase Database => _node1!;

    public ISecretStore Store => _node1!.SecretStore;

    public ISecretStore SecondNode => _node2!.SecretStore;

    public async Task InitializeAsync()
    {
        ConnectionUri = await server.CreateDatabaseAsync();
        _node1 = await PostgreSqlDatabase.OpenAsync(ConnectionUri);
        _node2 = await PostgreSqlDatabase.OpenAsync(ConnectionUri);
    }

    public async Task<(ISecretStore Store, IAsyncDisposable Lifetime)> OpenEmptyStoreAsync()
    {
        var database = await PostgreSqlDatabase.OpenAsync(await server.CreateDatabaseAsync());
        return (database.SecretStore, database);
    }

    public async Task DisposeAsync()
    {
        if (_node1 is not null)
        {
            await _node1.DisposeAsync();
        }

        if (_node2 is not null)
        {
            await _node2.DisposeAsync();
        }
    }
}
