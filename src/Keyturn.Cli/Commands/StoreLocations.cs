using Keyturn.Application.Security;
using Keyturn.Application.Storage;
using Keyturn.Storage.Sqlite;

namespace Keyturn.Cli.Commands;

/// <summary>A store opened from a location on the command line, with what closes it.</summary>
internal sealed class OpenedStorePorts(StorePorts ports, string description, Action close) : IDisposable
{
    public StorePorts Ports { get; } = ports;

    /// <summary>Where the store is, as the command prints it (no password).</summary>
    public string Description { get; } = description;

    public void Dispose() => close();
}

/// <summary>
/// Opens a whole store, secrets and logs, from a location: a data directory (the embedded SQLite store) or a
/// <c>postgresql://</c> URL. A backend is one more branch here.
/// </summary>
internal static class StoreLocations
{
    public static bool IsPostgreSql(string location) =>
        location.StartsWith("postgresql://", StringComparison.Ordinal) || location.StartsWith("postgres://", StringComparison.Ordinal);

    /// <param name="create">Create an embedded store that does not exist yet (a target); a source must exist.</param>
    /// <exception cref="StoreLocationException">The location holds no store, or names a backend this build cannot open.</exception>
    public static OpenedStorePorts Open(string location, bool create)
    {
        if (IsPostgreSql(location))
        {
            // The PostgreSQL secret store plugs in here: open one NpgsqlDataSource on the URL, run its migrations, and return
            // new StorePorts(new PostgreSqlSecretStore(source, …), logs, logs) with logs = new PostgreSqlLogStore(source, TimeProvider.System).
            throw new StoreLocationException("This build cannot open a PostgreSQL store yet (the PostgreSQL secret store is not part of it).");
        }

        var directory = Path.GetFullPath(location);
        var path = SqliteDatabase.PathIn(directory);
        if (!create && !File.Exists(path))
        {
            throw new StoreLocationException($"There is no Keyturn database at {path}.");
        }

        if (create)
        {
            PrivateFiles.CreateDirectory(directory);
        }

        var database = SqliteDatabase.Open(path);
        return new OpenedStorePorts(new StorePorts(database.Secrets, database.Logs, database.Logs), directory, database.Dispose);
    }
}

/// <summary>A store location that cannot be opened; the message says why.</summary>
internal sealed class StoreLocationException(string message) : Exception(message);
