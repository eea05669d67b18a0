using Keyturn.Application.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Keyturn.Storage.PostgreSql;

/// <summary>What <see cref="PostgreSqlDatabase.CheckAsync"/> found: ready only while the database answers with a schema this node can run on.</summary>
public sealed record StoreHealth(bool Ready, string Detail, int? AppliedSchema, int RequiredSchema);

/// <summary>The database's schema needs a newer Keyturn than this node (or is otherwise unusable by it).</summary>
public sealed class StoreSchemaException(string message) : Exception(message);

/// <summary>
/// A PostgreSQL database used as Keyturn's store: one pooled <see cref="NpgsqlDataSource"/> for transactions (shared by the
/// secret store and the log store) and one multiplexing pool for the secret store's single-statement reads, and the one
/// owner of the schema. <see cref="OpenAsync(string, TimeProvider?, ILoggerFactory?, CancellationToken)"/>
/// applies the migrations this build knows under an advisory lock, so nodes starting together migrate exactly once, and
/// refuses a database whose applied migrations this build cannot run against.
/// </summary>
public sealed partial class PostgreSqlDatabase : IAsyncDisposable, IDisposable
{
    // pg_advisory_xact_lock's key for schema changes: "keyturn" in ASCII.
    private const long MigrationLockKey = 0x6b65797475726e;

    private const string CreateSchemaTable =
        """
        CREATE TABLE IF NOT EXISTS keyturn_schema (
            version integer PRIMARY KEY,
            description text NOT NULL,
            compatible_from integer NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    /// <summary>
    /// The multiplexing read pool's server connections unless <see cref="PostgreSqlConnectionString.ReadMaxPoolSizeKey"/> says
    /// otherwise (and never more than the connection string's Max Pool Size): half the node's processors, at least 2. Few
    /// connections carry many statements each, so both sides pay one wake-up and one network write for several reads; on
    /// the 2-core bench machine 2 connections gave the least CPU per GetSecretValue on the node and on PostgreSQL and the
    /// lowest p99 at 16 client connections (docs/benchmarks.md, round 5). More than one, and more on larger nodes, so that
    /// one slow single-statement read (a listing of a large region) does not hold up every read queued behind it.
    /// </summary>
    public static int DefaultReadMaxPoolSize { get; } = Math.Max(2, Environment.ProcessorCount / 2);

    private readonly IReadOnlyList<PostgreSqlMigration> _migrations;

    private PostgreSqlDatabase(
        NpgsqlDataSource dataSource, NpgsqlDataSource? readSource, string description, IReadOnlyList<PostgreSqlMigration> migrations, TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        DataSource = dataSource;
        ReadSource = readSource;
        Description = description;
        _migrations = migrations;
        SecretStore = new PostgreSqlSecretStore(dataSource, timeProvider, loggerFactory.CreateLogger<PostgreSqlSecretStore>(), readSource);
    }

    /// <summary>The connection pool; the log store opens its connections here too.</summary>
    public NpgsqlDataSource DataSource { get; }

    /// <summary>
    /// The multiplexing pool on which read units run their single statement without a transaction, or null when they use
    /// <see cref="DataSource"/>.
    /// </summary>
    public NpgsqlDataSource? ReadSource { get; }

    /// <summary>The connection string without its password (<see cref="PostgreSqlConnectionString.Describe"/>).</summary>
    public string Description { get; }

    public ISecretStore SecretStore { get; }

    /// <summary>The schema version this build requires.</summary>
    public int RequiredSchema => _migrations[^1].Version;

    /// <summary>
    /// Connects (a <c>postgresql://</c> URI or an Npgsql connection string), applies the missing migrations and returns the
    /// database. Throws <see cref="StoreSchemaException"/> when the database was migrated by a newer Keyturn that this one
    /// cannot run beside, and <see cref="FormatException"/> for a malformed connection string.
    /// </summary>
    public static Task<PostgreSqlDatabase> OpenAsync(
        string connectionString, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        OpenAsync(connectionString, PostgreSqlSchema.Migrations, timeProvider, loggerFactory, cancellationToken);

    internal static async Task<PostgreSqlDatabase> OpenAsync(
        string connectionString, IReadOnlyList<PostgreSqlMigration> migrations, TimeProvider? timeProvider, ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        var builder = PostgreSqlConnectionString.Parse(connectionString, out var readMaxPoolSize);

        // Statements are prepared on the server after a few uses on a connection, and pooled connections keep them.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 64;
        }

        // Keyturn never changes a session's state (no SET, temporary tables, LISTEN or session-level advisory locks), so the
        // reset Npgsql otherwise runs on every return to the pool (with prepared statements: CLOSE ALL, RESET ALL, UNLISTEN,
        // DISCARD TEMP and more, sent ahead of the next query) is pure cost on the database's CPU.
        builder.NoResetOnClose = true;

        // Multiplexing is for the read pool below only: this one's connections belong to one unit at a time.
        builder.Multiplexing = false;

        loggerFactory ??= NullLoggerFactory.Instance;
        var dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString).UseLoggerFactory(loggerFactory).Build();
        NpgsqlDataSource? readSource = null;
        if (builder.Pooling && (PostgreSqlConnectionString.ExplicitMultiplexing(connectionString) ?? true))
        {
            // Single-statement reads from concurrent requests are coalesced into shared connections and network writes, so a
            // backend answers several per wake-up: about half of PostgreSQL's CPU per GetSecretValue is that per-round-trip
            // cost. Transactions (writes, and reads that need a snapshot) keep connections of their own in the other pool.
            // Npgsql multiplexes pooled connections only; Multiplexing=false in the connection string turns it off.
            var read = new NpgsqlConnectionStringBuilder(builder.ConnectionString)
            {
                Multiplexing = true,
                MaxPoolSize = readMaxPoolSize ?? Math.Min(DefaultReadMaxPoolSize, builder.MaxPoolSize),
            };
            readSource = new NpgsqlDataSourceBuilder(read.ConnectionString).UseLoggerFactory(loggerFactory).Build();
        }

        var database = new PostgreSqlDatabase(
            dataSource, readSource, PostgreSqlConnectionString.Describe(connectionString), migrations, timeProvider ?? TimeProvider.System, loggerFactory);
        try
        {
            await database.MigrateAsync(loggerFactory.CreateLogger<PostgreSqlDatabase>(), cancellationToken).ConfigureAwait(false);
            return database;
        }
        catch
        {
            await database.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Cheap readiness: one indexed query. Ready while the database answers and its schema is the one this node requires,
    /// or a newer one every migration of which declares this node's schema compatible.
    /// </summary>
    public async Task<StoreHealth> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(
                "SELECT max(version), max(compatible_from) FILTER (WHERE version > $1) FROM keyturn_schema", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = RequiredSchema });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            int? applied = reader.IsDBNull(0) ? null : reader.GetInt32(0);
            int? newerNeeds = reader.IsDBNull(1) ? null : reader.GetInt32(1);
            return Verdict(applied, newerNeeds);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Npgsql's messages name the host and the server's error, never the password.
            return new StoreHealth(false, $"{Description} does not answer: {e.Message}", null, RequiredSchema);
        }
    }

    public async ValueTask DisposeAsync()
    {
        ((PostgreSqlSecretStore)SecretStore).CloseReadContexts();
        if (ReadSource is not null)
        {
            await ReadSource.DisposeAsync().ConfigureAwait(false);
        }

        await DataSource.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        ((PostgreSqlSecretStore)SecretStore).CloseReadContexts();
        ReadSource?.Dispose();
        DataSource.Dispose();
    }

    public override string ToString() => Description;

    private StoreHealth Verdict(int? applied, int? newerNeeds) => applied switch
    {
        null => new StoreHealth(false, $"{Description} has no Keyturn schema.", null, RequiredSchema),
        var a when a < RequiredSchema => new StoreHealth(false, $"{Description} is at schema {a}; this node requires {RequiredSchema}.", a, RequiredSchema),
        var a when newerNeeds > RequiredSchema => new StoreHealth(false, NewerMessage(a.Value, newerNeeds.Value), a, RequiredSchema),
        var a => new StoreHealth(true, $"{Description} is at schema {a}.", a, RequiredSchema),
    };

    private string NewerMessage(int applied, int needs) =>
        $"The Keyturn store at {Description} is at schema {applied}, which requires Keyturn code of schema {needs} or later; this node runs schema " +
        $"{RequiredSchema}. Upgrade this node to the version that migrated the store.";

    private async Task MigrateAsync(ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // Every DDL statement of PostgreSQL is transactional: the migrations apply whole, once, under this lock.
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock($1)", cancellationToken, MigrationLockKey).ConfigureAwait(false);
        await ExecuteAsync(connection, CreateSchemaTable, cancellationToken).ConfigureAwait(false);

        var applied = new Dictionary<int, int>();
        await using (var read = new NpgsqlCommand("SELECT version, compatible_from FROM keyturn_schema", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied[reader.GetInt32(0)] = reader.GetInt32(1);
            }
        }

        var newer = applied.Where(a => a.Key > RequiredSchema).ToList();
        if (newer.Count > 0 && newer.Max(a => a.Value) > RequiredSchema)
        {
            throw new StoreSchemaException(NewerMessage(newer.Max(a => a.Key), newer.Max(a => a.Value)));
        }

        foreach (var migration in _migrations.Where(m => !applied.ContainsKey(m.Version)).OrderBy(m => m.Version))
        {
            LogMigrating(logger, migration.Version, migration.Description);
            await ExecuteAsync(connection, migration.Sql, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "INSERT INTO keyturn_schema (version, description, compatible_from) VALUES ($1, $2, $3)", cancellationToken,
                migration.Version, migration.Description, migration.CompatibleFrom).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "applying store migration {Version}: {Description}")]
    private static partial void LogMigrating(ILogger logger, int version, string description);
}
