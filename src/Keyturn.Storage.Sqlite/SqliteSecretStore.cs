using System.Collections.Concurrent;
using Keyturn.Application.Ports;
using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// The secrets of the embedded <see cref="SqliteDatabase"/> (one SQLite file in WAL mode). Writers are serialized (in process by a
/// gate shared with the log store, across processes by BEGIN IMMEDIATE), readers see a consistent snapshot, and every
/// commit is fsynced (synchronous=FULL) because a lost label move can lock people out. Read units reuse the secrets and
/// sealed values earlier read units loaded while nothing was committed since (<see cref="SqliteReadCache"/>).
/// </summary>
public sealed partial class SqliteSecretStore : ISecretStore
{
    // Idle connections kept open with their prepared statements; beyond this many, extras are closed on return.
    private const int MaxIdleConnections = 16;

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock;
    private readonly ConcurrentStack<PreparedConnection> _idle = new();
    private readonly SqliteReadCache _cache = new();
    private volatile bool _disposed;

    /// <summary>Made by <see cref="SqliteDatabase"/>, which has created the file and migrated it.</summary>
    internal SqliteSecretStore(SqliteDatabase database)
    {
        _writeLock = database.WriteGate;
        _connectionString = database.ConnectionString;
    }

    // Not async itself: RunAsync's frame is the unit's, without a second one around it.
    public ValueTask<T> ReadAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested
            ? ValueTask.FromCanceled<T>(cancellationToken)
            : RunAsync(work, fence: null, deferred: true, cancellationToken);

    public ValueTask<T> WriteAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(fence: null, work, cancellationToken);

    public async ValueTask<T> WriteAsync<T>(LeaseFence? fence, Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // A writer still finishing when the store was closed must not recreate the files being removed.
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await RunAsync(work, fence, deferred: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    // The work failed or the commit did: nothing of the unit may stay. A rollback that fails leaves the connection unusable.
    private static void RollBack(PreparedConnection connection, ref bool broken)
    {
        try
        {
            connection.Rollback();
        }
        catch (SqliteException)
        {
            broken = true;
        }
    }

    /// <summary>Closes the idle connections; called by <see cref="SqliteDatabase.Dispose"/>.</summary>
    internal void Close()
    {
        _disposed = true;
        while (_idle.TryPop(out var idle))
        {
            idle.Dispose();
        }
    }

    private void Return(PreparedConnection connection, bool broken)
    {
        if (broken || _disposed || _idle.Count >= MaxIdleConnections)
        {
            connection.Dispose();
        }
        else
        {
            _idle.Push(connection);
            if (_disposed && _idle.TryPop(out var late))
            {
                // Disposed while this was running: don't leave a connection open on files being removed.
                late.Dispose();
            }
        }
    }

    /// <summary>
    /// The asynchronous unit of work: one transaction on a pooled connection. A write holds SQLite's single write lock
    /// from its first statement (BEGIN IMMEDIATE), so reads in it are already "for update", and a fenced write checks
    /// its lease under that lock: nobody can take the lease over before this transaction ends.
    /// </summary>
    private async ValueTask<T> RunAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, LeaseFence? fence, bool deferred, CancellationToken cancellationToken)
    {
        // Read before the unit's snapshot exists: the read cache's check needs the epoch as it was then.
        var epoch = _cache.EpochBeforeSnapshot();
        var connection = _idle.TryPop(out var idle) ? idle : new PreparedConnection(_connectionString);
        var broken = false;
        var open = false;
        try
        {
            connection.Begin(deferred);
            open = true;
            var session = new SqliteSecretSession(connection, write: !deferred, deferred ? _cache : null, epoch);
            if (fence is not null && !session.HoldsFence(fence))
            {
                throw new LeaseLostException(fence);
            }

            var result = await work(session, cancellationToken).ConfigureAwait(false);
            connection.Commit();
            open = false;
            return result;
        }
        catch (SqliteException)
        {
            // SQLite itself failed (busy, full, I/O): start over with a fresh connection. The work's own
            // exceptions (not found, denied...) just roll back and leave the connection sound.
            broken = true;
            throw;
        }
        finally
        {
            if (open)
            {
                RollBack(connection, ref broken);
            }

            if (!deferred)
            {
                // Committed or not, before the connection can serve a read: its own commits don't change its data_version.
                _cache.WriteEnded();
            }

            Return(connection, broken);
        }
    }
}
