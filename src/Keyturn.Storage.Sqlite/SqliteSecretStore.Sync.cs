using Keyturn.Application.Ports;
using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

// The synchronous port, kept only while the rotation engine still uses it; it goes with ISyncSecretStore.
public sealed partial class SqliteSecretStore : ISyncSecretStore
{
    public Task<T> ReadAsync<T>(Func<ISyncSecretSession, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Run(work, deferred: true));
    }

    public async Task<T> WriteAsync<T>(Func<ISyncSecretSession, T> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Run(work, deferred: false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs the work in one transaction on a pooled connection; a deferred one only takes the write lock if it writes.</summary>
    private T Run<T>(Func<ISyncSecretSession, T> work, bool deferred)
    {
        var connection = _idle.TryPop(out var idle) ? idle : new PreparedConnection(_connectionString);
        var broken = false;
        try
        {
            using var transaction = connection.Connection.BeginTransaction(deferred);
            var result = work(new SqliteSecretSession(connection, transaction, write: !deferred));
            transaction.Commit();
            return result;
        }
        catch (SqliteException)
        {
            broken = true;
            throw;
        }
        finally
        {
            Return(connection, broken);
        }
    }
}
