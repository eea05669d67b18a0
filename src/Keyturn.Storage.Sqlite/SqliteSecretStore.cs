using System.Collections.Concurrent;
using Keyturn.Application.Ports;
using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite database in WAL mode. Writers are serialized (in process by a
/// gate shared with the log store, across processes by BEGIN IMMEDIATE), readers see a consistent snapshot, and every
/// commit is fsynced (synchronous=FULL) because a lost label move can lock people out.
/// </summary>
public sealed class SqliteSecretStore : ISecretStore, ISyncSecretStore, IDisposable
{
    public const string FileName = "keyturn.db";

    // Idle connections kept open with their prepared statements; beyond this many, extras are closed on return.
    private const int MaxIdleConnections = 16;

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock;
    private readonly ConcurrentStack<PreparedConnection> _idle = new();
    private volatile bool _disposed;

    public SqliteSecretStore(string databasePath)
    {
        _writeLock = SqliteWriteGate.For(databasePath);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();

        CreatePrivateFiles(databasePath);
        using var connection = new PreparedConnection(_connectionString);
        Execute(connection.Connection, "PRAGMA journal_mode=WAL;");
        Migrate(connection.Connection);
    }

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
            // A writer still finishing when the store was disposed must not recreate the files being removed.
            ObjectDisposedException.ThrowIf(_disposed, this);
            return Run(work, deferred: false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async Task<T> ReadAsync<T>(Func<ISecretSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await RunAsync(work, fence: null, deferred: true, cancellationToken).ConfigureAwait(false);
    }

    public Task<T> WriteAsync<T>(Func<ISecretSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        WriteAsync(fence: null, work, cancellationToken);

    public async Task<T> WriteAsync<T>(LeaseFence? fence, Func<ISecretSession, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await RunAsync(work, fence, deferred: false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        // The write gate is shared with the other stores on this file, so it stays.
        _disposed = true;
        while (_idle.TryPop(out var idle))
        {
            idle.Dispose();
        }

        SqliteConnection.ClearAllPools();
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
            // SQLite itself failed (busy, full, I/O): start over with a fresh connection. The work's own
            // exceptions (not found, denied...) just roll back and leave the connection sound.
            broken = true;
            throw;
        }
        finally
        {
            Return(connection, broken);
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
    private async Task<T> RunAsync<T>(Func<ISecretSession, CancellationToken, Task<T>> work, LeaseFence? fence, bool deferred, CancellationToken cancellationToken)
    {
        var connection = _idle.TryPop(out var idle) ? idle : new PreparedConnection(_connectionString);
        var broken = false;
        try
        {
            using var transaction = connection.Connection.BeginTransaction(deferred);
            var session = new SqliteSecretSession(connection, transaction, write: !deferred);
            if (fence is not null && !session.HoldsFence(fence))
            {
                throw new LeaseLostException(fence);
            }

            var result = await work(session, cancellationToken).ConfigureAwait(false);
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

    private static void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SqliteSchema.CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The database was written by a newer Keyturn (schema {version}; this build knows {SqliteSchema.CurrentVersion}).");
        }

        for (var i = version; i < SqliteSchema.Migrations.Length; i++)
        {
            using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = SqliteSchema.Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            migrate.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Creates the database and its WAL companions owner-only before SQLite opens them: they hold
    /// only ciphertext, but nobody else needs to read even that.
    /// </summary>
    private static void CreatePrivateFiles(string databasePath)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var path in new[] { databasePath, databasePath + "-wal", databasePath + "-shm" })
        {
            if (!File.Exists(path))
            {
                using var _ = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            else
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }
}
