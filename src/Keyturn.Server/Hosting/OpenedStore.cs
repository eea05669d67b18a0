using Keyturn.Application.Crypto;
using Keyturn.Storage.Sqlite;

namespace Keyturn.Server.Hosting;

/// <summary>The database and the master keys that open it, checked against each other by <see cref="KeyturnServer.OpenStoreAsync"/>.</summary>
public sealed record OpenedStore(SqliteDatabase Database, MasterKeyring Keyring) : IDisposable
{
    public void Dispose() => Database.Dispose();
}
