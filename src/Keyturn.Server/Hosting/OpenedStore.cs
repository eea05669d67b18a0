using Keyturn.Application.Crypto;

namespace Keyturn.Server.Hosting;

/// <summary>The opened backend and the master keys that open it, checked against each other by <see cref="KeyturnServer.OpenStoreAsync"/>.</summary>
public sealed record OpenedStore(StoreBackend Backend, MasterKeyring Keyring) : IDisposable
{
    public void Dispose() => Backend.Dispose();
}
