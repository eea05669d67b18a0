using Keyturn.Application.Crypto;
using Keyturn.Storage.Sqlite;

namespace Keyturn.Server.Hosting;

/// <summary>The store and the master keys that open it, checked against each other by <see cref="KeyturnServer.OpenStore"/>.</summary>
public sealed record OpenedStore(SqliteSecretStore Store, MasterKeyring Keyring);
