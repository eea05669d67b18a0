using Keyturn.Application.Security;
using Keyturn.Application.Storage;
using Keyturn.Server.Hosting;
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
/// <c>postgresql://</c> URL, through the server's backend switch (<see cref="StorageOptions"/>).
/// </summary>
internal static class StoreLocations
{
    public static bool IsPostgreSql(string location) => StorageOptions.IsPostgreSqlUrl(location);

    /// <param name="create">Create an embedded store that does not exist yet (a target); a source must exist.</param>
    /// <exception cref="StoreLocationException">The location holds no store.</exception>
    public static async Task<OpenedStorePorts> OpenAsync(string location, bool create, CancellationToken cancellationToken)
    {
        // A directory is the embedded store in it; the data directory argument only matters when no location is given.
        var directory = IsPostgreSql(location) ? Path.GetTempPath() : Path.GetFullPath(location);
        if (!IsPostgreSql(location))
        {
            var path = SqliteDatabase.PathIn(directory);
            if (!create && !File.Exists(path))
            {
                throw new StoreLocationException($"There is no Keyturn database at {path}.");
            }

            if (create)
            {
                PrivateFiles.CreateDirectory(directory);
            }
        }

        var backend = await StorageOptions.OpenAsync(location, directory, cancellationToken).ConfigureAwait(false);
        return new OpenedStorePorts(new StorePorts(backend.Store, backend.Logs, backend.LogArchive), backend.Description, backend.Dispose);
    }
}

/// <summary>A store location that cannot be opened; the message says why.</summary>
internal sealed class StoreLocationException(string message) : Exception(message);
