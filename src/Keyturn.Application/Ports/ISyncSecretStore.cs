namespace Keyturn.Application.Ports;

/// <summary>
/// Persistence for secrets and access keys. All work inside one call runs in one transaction:
/// a write either lands whole or not at all, so a label is never seen half-moved, and writers on
/// the same secret are serialized.
/// </summary>
public interface ISyncSecretStore
{
    Task<T> ReadAsync<T>(Func<ISyncSecretSession, T> work, CancellationToken cancellationToken);

    Task<T> WriteAsync<T>(Func<ISyncSecretSession, T> work, CancellationToken cancellationToken);
}
