using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// An open connection that keeps its statements prepared. Parsing and planning the SQL cost more than
/// running it (a GetSecretValue runs four short queries), so each distinct statement is prepared once per
/// connection and rebound on every use. Used by one transaction at a time.
/// </summary>
internal sealed class PreparedConnection : IDisposable
{
    // The session's SQL is a small fixed set; the cap only guards against a future caller building SQL from values.
    private const int MaxStatements = 128;

    // As long as Microsoft.Data.Sqlite's default command timeout (30 s), which the connection string sets.
    private const int BusyTimeoutMs = 30_000;

    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    // PRAGMA data_version and the unit's BEGIN / COMMIT / ROLLBACK through SQLite's own API, prepared once: one step
    // each, where Microsoft.Data.Sqlite's transaction object parses BEGIN and COMMIT anew, builds a command, a reader
    // and a statement list for each, and registers a rollback hook, on every unit (a fifth of the bytes a cached
    // GetSecretValue allocated).
    private sqlite3_stmt? _dataVersion;
    private sqlite3_stmt? _beginRead;
    private sqlite3_stmt? _beginWrite;
    private sqlite3_stmt? _commit;
    private sqlite3_stmt? _rollback;

    public PreparedConnection(string connectionString)
    {
        Connection = new SqliteConnection(connectionString);
        try
        {
            Connection.Open();
            using var pragma = Connection.CreateCommand();
            // busy_timeout: SQLite itself waits for another process's write lock (a `keyturn` command writing while the
            // server runs) before the unit's BEGIN IMMEDIATE, which Microsoft.Data.Sqlite does not run and so does not
            // retry, gives up.
            pragma.CommandText = $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={BusyTimeoutMs};";
            pragma.ExecuteNonQuery();
        }
        catch
        {
            Connection.Dispose();
            throw;
        }
    }

    public SqliteConnection Connection { get; }

    /// <summary>The data_version this connection saw at its last read unit that checked it (see <see cref="SqliteReadCache"/>).</summary>
    public long? LastDataVersion { get; set; }

    /// <summary>
    /// PRAGMA data_version in the open transaction: it changes between two read snapshots of this connection exactly when
    /// another connection committed in between. Taking the snapshot when no statement of the transaction has yet.
    /// </summary>
    public long ReadDataVersion()
    {
        var handle = Connection.Handle!;
        if (_dataVersion is null)
        {
            Check(handle, raw.sqlite3_prepare_v2(handle, "PRAGMA data_version;", out var statement));
            _dataVersion = statement;
        }

        try
        {
            var step = raw.sqlite3_step(_dataVersion);
            if (step != raw.SQLITE_ROW)
            {
                Check(handle, step);
                throw new SqliteException("PRAGMA data_version returned no row.", step);
            }

            return raw.sqlite3_column_int64(_dataVersion, 0);
        }
        finally
        {
            raw.sqlite3_reset(_dataVersion);
        }
    }

    /// <summary>
    /// Starts the unit's transaction: BEGIN IMMEDIATE for a write (SQLite's single write lock from the first statement),
    /// BEGIN DEFERRED for a read (its snapshot is taken by its first read). Microsoft.Data.Sqlite does not know of it,
    /// so the unit's commands run without a transaction object.
    /// </summary>
    public void Begin(bool write)
    {
        if (write)
        {
            Step(ref _beginWrite, "BEGIN IMMEDIATE;");
        }
        else
        {
            Step(ref _beginRead, "BEGIN DEFERRED;");
        }
    }

    public void Commit() => Step(ref _commit, "COMMIT;");

    /// <summary>Rolls the unit back unless SQLite already did (some errors, such as a full disk, end the transaction).</summary>
    public void RollbackIfOpen()
    {
        if (raw.sqlite3_get_autocommit(Connection.Handle!) == 0)
        {
            Step(ref _rollback, "ROLLBACK;");
        }
    }

    private void Step(ref sqlite3_stmt? statement, string sql)
    {
        var handle = Connection.Handle!;
        if (statement is null)
        {
            Check(handle, raw.sqlite3_prepare_v2(handle, sql, out var prepared));
            statement = prepared;
        }

        try
        {
            var step = raw.sqlite3_step(statement);
            if (step != raw.SQLITE_DONE)
            {
                Check(handle, step);
                throw new SqliteException($"{sql} returned a row.", step);
            }
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>
    /// The statement for <paramref name="sql"/>, in <paramref name="transaction"/> (null in a unit begun by <see cref="Begin"/>). Its parameter objects stay from the
    /// last use with their values dropped: <see cref="LentCommand.Bind"/> rebinds them instead of allocating new ones.
    /// </summary>
    public LentCommand Lend(string sql, SqliteTransaction? transaction)
    {
        var owned = false;
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            if (_commands.Count < MaxStatements)
            {
                _commands[sql] = command;
            }
            else
            {
                owned = true;
            }
        }

        command.Transaction = transaction;
        return new LentCommand(command, owned);
    }

    public void Dispose()
    {
        // Microsoft.Data.Sqlite pools the handle on Dispose and does not know of a transaction begun by Begin: a unit
        // that failed half-way must not hand an open transaction (or SQLite's write lock) to the pool's next user.
        if (Connection.Handle is { } handle && raw.sqlite3_get_autocommit(handle) == 0)
        {
            try
            {
                Step(ref _rollback, "ROLLBACK;");
            }
            catch (SqliteException)
            {
                SqliteConnection.ClearPool(Connection);
            }
        }

        foreach (var statement in (ReadOnlySpan<sqlite3_stmt?>)[_dataVersion, _beginRead, _beginWrite, _commit, _rollback])
        {
            statement?.Dispose();
        }

        _dataVersion = _beginRead = _beginWrite = _commit = _rollback = null;
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        Connection.Dispose();
    }

    private static void Check(sqlite3 handle, int result)
    {
        if (result != raw.SQLITE_OK && result != raw.SQLITE_ROW && result != raw.SQLITE_DONE)
        {
            throw new SqliteException(raw.sqlite3_errmsg(handle).utf8_to_string(), result);
        }
    }
}

/// <summary>
/// A prepared statement lent for one use. Disposing it drops the bound values (which may be ciphertext) and
/// the transaction, and keeps the statement prepared with its parameter objects; a statement that wasn't cached
/// is disposed for good.
/// </summary>
internal readonly struct LentCommand(SqliteCommand command, bool owned) : IDisposable
{
    /// <summary>
    /// Binds <paramref name="values"/> in order to <paramref name="names"/>, reusing the parameter objects of the
    /// statement's last use. A parameter's SQLite type is inferred from its value at each execution (none is set
    /// explicitly), so a reused parameter binds a new value's type correctly.
    /// </summary>
    public void Bind(ReadOnlySpan<string> names, ReadOnlySpan<object?> values)
    {
        var parameters = command.Parameters;
        while (parameters.Count > values.Length)
        {
            parameters.RemoveAt(parameters.Count - 1);
        }

        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i] ?? DBNull.Value;
            if (i < parameters.Count)
            {
                parameters[i].Value = value;
            }
            else
            {
                parameters.AddWithValue(names[i], value);
            }
        }
    }

    public SqliteDataReader ExecuteReader() => command.ExecuteReader();

    public int ExecuteNonQuery() => command.ExecuteNonQuery();

    public object? ExecuteScalar() => command.ExecuteScalar();

    public void Dispose()
    {
        if (owned)
        {
            command.Dispose();
            return;
        }

        var parameters = command.Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            parameters[i].Value = DBNull.Value;
        }

        command.Transaction = null;
    }
}
