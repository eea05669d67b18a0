using Keyturn.Application.Logs;
using Keyturn.Application.Ports;
using Keyturn.Application.Security;
using Keyturn.Storage.PostgreSql;
using Keyturn.Storage.Sqlite;
using Npgsql;

namespace Keyturn.Server.Hosting;

/// <summary>
/// Where the secrets live (<c>--store</c>, else <c>KEYTURN_STORE</c>): nothing or a directory is the embedded SQLite
/// store (in <c>--data-dir</c> when nothing is given), a <c>postgresql://</c> or <c>postgres://</c> URL a shared
/// PostgreSQL that several nodes serve together. Whatever the backend, the data directory stays node-local: the master
/// key file, the root credentials file, running functions' records and TLS files.
/// </summary>
public static class StorageOptions
{
    public const string EnvironmentVariable = "KEYTURN_STORE";

    /// <summary>The backends, first match wins; adding one is one line here.</summary>
    private static readonly StoreBackendKind[] Backends =
    [
        new("PostgreSQL", IsPostgreSqlUrl, OpenPostgreSql),
        new("SQLite", _ => true, OpenSqlite),
    ];

    /// <summary>The <c>--store</c> value, else <c>KEYTURN_STORE</c>, else null (the embedded store in the data directory).</summary>
    public static string? Resolve(string? flag, string? environmentValue) =>
        !string.IsNullOrWhiteSpace(flag) ? flag.Trim() : string.IsNullOrWhiteSpace(environmentValue) ? null : environmentValue.Trim();

    public static bool IsPostgreSqlUrl(string? location) =>
        location is not null && (location.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase));

    /// <summary>True when the store is shared by several nodes (anything but the embedded SQLite store).</summary>
    public static bool IsShared(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Kind(options).Name != "SQLite";
    }

    /// <summary>Opens the configured backend: its secret store, log store and readiness check.</summary>
    public static Task<StoreBackend> OpenAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return OpenAsync(options.Store, options.DataDirectory, cancellationToken);
    }

    /// <summary>Opens the backend at <paramref name="store"/> (a URL, a directory, or null for <paramref name="dataDirectory"/>).</summary>
    public static Task<StoreBackend> OpenAsync(string? store, string dataDirectory, CancellationToken cancellationToken) =>
        Kind(store).Open(store, dataDirectory, cancellationToken);

    /// <summary>
    /// How messages name the store: the embedded store by its directory, a URL without its password or query.
    /// </summary>
    public static string Describe(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Describe(options.Store, options.DataDirectory);
    }

    /// <inheritdoc cref="Describe(ServerOptions)"/>
    public static string Describe(string? store, string dataDirectory) =>
        store is { } url && IsPostgreSqlUrl(url) ? $"the PostgreSQL store {Redact(url)}" : $"the store in {SqliteDirectory(store, dataDirectory)}";

    /// <summary><paramref name="url"/> as scheme://user@host:port/database: never its password or parameters.</summary>
    public static string Redact(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return "(an unparsable URL)";
        }

        var user = uri.UserInfo.Split(':', 2)[0];
        return $"{uri.Scheme}://{(user.Length == 0 ? "" : Uri.UnescapeDataString(user) + "@")}{uri.Host}{(uri.IsDefaultPort || uri.Port < 0 ? "" : ":" + uri.Port)}{uri.AbsolutePath}";
    }

    /// <summary>The directory of the embedded store: <c>--store DIR</c>, else the data directory.</summary>
    public static string SqliteDirectory(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SqliteDirectory(options.Store, options.DataDirectory);
    }

    private static string SqliteDirectory(string? store, string dataDirectory) =>
        store is { } directory && !IsPostgreSqlUrl(directory) ? Path.GetFullPath(directory) : dataDirectory;

    /// <summary>True when the embedded store's database file is there; a shared store always is (the master key guard decides).</summary>
    public static bool Exists(ServerOptions options) =>
        IsShared(options) || File.Exists(SqliteDatabase.PathIn(SqliteDirectory(options)));

    private static StoreBackendKind Kind(ServerOptions options) => Kind(options.Store);

    private static StoreBackendKind Kind(string? store) => Backends.First(b => b.Serves(store));

    private static Task<StoreBackend> OpenSqlite(string? store, string dataDirectory, CancellationToken cancellationToken)
    {
        var database = SqliteDatabase.Open(SqliteDatabase.PathIn(SqliteDirectory(store, dataDirectory)));
        return Task.FromResult(new StoreBackend(Describe(store, dataDirectory), database.Secrets, database.Logs, database.Logs, database.Logs, new ProbeReadiness(database.Secrets), database));
    }

    private static async Task<StoreBackend> OpenPostgreSql(string? store, string dataDirectory, CancellationToken cancellationToken)
    {
        PostgreSqlDatabase database;
        try
        {
            // Applies the missing migrations (under an advisory lock, so nodes starting together migrate once).
            database = await PostgreSqlDatabase.OpenAsync(store!, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or StoreSchemaException or NpgsqlException or TimeoutException)
        {
            // Npgsql's and the parser's messages never repeat the password.
            throw new KeyturnStartupException($"Keyturn cannot open {Describe(store, dataDirectory)}: {e.Message}");
        }

        // Function logs live in the same database, so every node reads what any node's functions wrote.
        var logs = new PostgreSqlLogStore(database.DataSource, TimeProvider.System);
        return new StoreBackend(Describe(store, dataDirectory), database.SecretStore, logs, logs, logs, new PostgreSqlReadiness(database), database);
    }

    private sealed record StoreBackendKind(string Name, Func<string?, bool> Serves, Func<string?, string, CancellationToken, Task<StoreBackend>> Open);
}

/// <summary>An opened backend: the secret store, where function logs go and are read (and are copied whole), and its readiness check.</summary>
public sealed class StoreBackend(string description, ISecretStore store, ILogSink logSink, ILogStore logs, ILogArchive logArchive, IStoreReadiness readiness, IDisposable? owner) : IDisposable
{
    /// <summary>How messages name it (never with a password).</summary>
    public string Description { get; } = description;

    public ISecretStore Store { get; } = store;

    public ILogSink LogSink { get; } = logSink;

    public ILogStore Logs { get; } = logs;

    public ILogArchive LogArchive { get; } = logArchive;

    public IStoreReadiness Readiness { get; } = readiness;

    public void Dispose() => owner?.Dispose();
}

/// <summary>The PostgreSQL store's own check: one indexed query on its schema table, ready while the schema suits this node.</summary>
public sealed class PostgreSqlReadiness(PostgreSqlDatabase database) : IStoreReadiness
{
    public async Task<string?> NotReadyReasonAsync(CancellationToken cancellationToken)
    {
        var health = await database.CheckAsync(cancellationToken).ConfigureAwait(false);

        // The check's own detail names the host and schema versions: unauthenticated callers get the kind of problem only.
        return health.Ready ? null : health.AppliedSchema is null && health.Detail.Contains("does not answer", StringComparison.Ordinal)
            ? "the store does not answer"
            : "the store's schema is not the one this node requires";
    }
}

/// <summary>
/// Readiness from one cheap read unit, for a backend that brings its schema up to date when it is opened (SQLite does,
/// in-process), so a store that answers is current.
/// </summary>
public sealed class ProbeReadiness(ISecretStore store) : IStoreReadiness
{
    public async Task<string?> NotReadyReasonAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.ReadAsync((session, ct) => session.ListRegionsAsync(ct), cancellationToken).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return "the store did not answer in time";
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return "the store did not answer";
        }
    }
}
