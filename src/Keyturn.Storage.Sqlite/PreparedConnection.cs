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

    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RawStatement> _statements = new(StringComparer.Ordinal);

    // PRAGMA data_version through SQLite's own API: one step, no reader or record objects per read unit.
    private sqlite3_stmt? _dataVersion;

    // Transaction control through SQLite's own API as well: Microsoft.Data.Sqlite's transaction object parses and
    // prepares a new BEGIN and COMMIT statement (with a command, a reader and their parameter lists) every time.
    private sqlite3_stmt? _begin;
    private sqlite3_stmt? _beginImmediate;
    private sqlite3_stmt? _commit;
    private sqlite3_stmt? _rollback;

    public PreparedConnection(string connectionString)
    {
        Connection = new SqliteConnection(connectionString);
        try
        {
            Connection.Open();
            using var pragma = Connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous=FULL;";
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
        var step = Step(ref _dataVersion, "PRAGMA data_version;", out var version);
        if (step != raw.SQLITE_ROW)
        {
            Check(Connection.Handle!, step);
            throw new SqliteException("PRAGMA data_version returned no row.", step);
        }

        return version;
    }

    /// <summary>
    /// Starts a transaction: a deferred one for a read unit, or BEGIN IMMEDIATE, which takes SQLite's write lock at once,
    /// for a write unit. Another process holding that lock makes SQLite answer busy: the start is then retried by a
    /// Microsoft.Data.Sqlite command, which waits for the lock as a transaction object would have.
    /// </summary>
    public void Begin(bool deferred)
    {
        var result = deferred ? Step(ref _begin, "BEGIN;") : Step(ref _beginImmediate, "BEGIN IMMEDIATE;");
        if (result == raw.SQLITE_BUSY || result == raw.SQLITE_LOCKED)
        {
            ExecuteWaiting(deferred ? "BEGIN;" : "BEGIN IMMEDIATE;");
            return;
        }

        Check(Connection.Handle!, result);
    }

    /// <summary>Commits the open transaction (with synchronous=FULL, one fsync of the write-ahead log for a write).</summary>
    public void Commit()
    {
        var result = Step(ref _commit, "COMMIT;");
        if (result == raw.SQLITE_BUSY || result == raw.SQLITE_LOCKED)
        {
            // The transaction is still open after a busy COMMIT: wait for the other process as Microsoft.Data.Sqlite would.
            ExecuteWaiting("COMMIT;");
            return;
        }

        Check(Connection.Handle!, result);
    }

    /// <summary>Rolls back the open transaction, if SQLite has not already (some errors end it themselves).</summary>
    public void Rollback()
    {
        if (raw.sqlite3_get_autocommit(Connection.Handle!) == 0)
        {
            Check(Connection.Handle!, Step(ref _rollback, "ROLLBACK;"));
        }
    }

    /// <summary>
    /// The statement for <paramref name="sql"/>, in <paramref name="transaction"/>. Its parameter objects stay from the
    /// last use with their values dropped: <see cref="LentCommand.Bind"/> rebinds them instead of allocating new ones.
    /// </summary>
    public LentCommand Lend(string sql, SqliteTransaction? transaction = null)
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

    /// <summary>
    /// Runs a statement that returns no rows, bound in order to <paramref name="values"/> (null, int, long, bool, string or
    /// byte[]), through SQLite's own API: Microsoft.Data.Sqlite makes a reader, a binder per parameter and a UTF-8 copy of
    /// every string for each execution, and a value write runs several such statements. Only for a unit that holds the
    /// write lock (a statement in it can't meet a busy database). The bindings are cleared after the step, so SQLite's copy
    /// of a ciphertext doesn't outlive it.
    /// </summary>
    public int Execute(string sql, ReadOnlySpan<string> names, ReadOnlySpan<object?> values)
    {
        var handle = Connection.Handle!;
        using var query = Query(sql, names, values);
        Check(handle, raw.sqlite3_step(query.Statement));
        return raw.sqlite3_changes(handle);
    }

    /// <summary>
    /// A query's rows through SQLite's own API, bound as <see cref="Execute"/> binds: no reader, record or binder objects,
    /// only the values read. Like <see cref="Execute"/>, only for a unit that holds the write lock.
    /// </summary>
    public RawQuery Query(string sql, ReadOnlySpan<string> names, ReadOnlySpan<object?> values)
    {
        var handle = Connection.Handle!;
        var owned = false;
        if (!_statements.TryGetValue(sql, out var prepared))
        {
            Check(handle, raw.sqlite3_prepare_v2(handle, sql, out var made));
            // Values are bound by name, as Microsoft.Data.Sqlite does: each name's index is looked up once.
            var indexes = new int[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                indexes[i] = raw.sqlite3_bind_parameter_index(made, names[i]);
            }

            prepared = new RawStatement(made, indexes);
            if (_statements.Count < MaxStatements)
            {
                _statements[sql] = prepared;
            }
            else
            {
                owned = true;
            }
        }

        var query = new RawQuery(handle, prepared.Statement, owned);
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                var index = prepared.Indexes[i];
                if (index == 0)
                {
                    continue;
                }

                Check(handle, values[i] switch
                {
                    null => raw.sqlite3_bind_null(query.Statement, index),
                    long number => raw.sqlite3_bind_int64(query.Statement, index, number),
                    int number => raw.sqlite3_bind_int64(query.Statement, index, number),
                    bool flag => raw.sqlite3_bind_int64(query.Statement, index, flag ? 1 : 0),
                    // An empty span would be bound as NULL: an empty string or blob is bound as such explicitly.
                    string { Length: 0 } => raw.sqlite3_bind_text(query.Statement, index, string.Empty),
                    string text => raw.sqlite3_bind_text16(query.Statement, index, text.AsSpan()),
                    byte[] { Length: 0 } => raw.sqlite3_bind_zeroblob(query.Statement, index, 0),
                    byte[] blob => raw.sqlite3_bind_blob(query.Statement, index, blob.AsSpan()),
                    var other => throw new ArgumentException($"A {other.GetType().Name} can't be bound.", nameof(values)),
                });
            }

            return query;
        }
        catch
        {
            query.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        // Microsoft.Data.Sqlite pools the handle on Dispose and does not know of a transaction begun by Begin: a unit
        // whose rollback failed must not hand an open transaction (or SQLite's write lock) to the pool's next user.
        if (Connection.Handle is { } handle && raw.sqlite3_get_autocommit(handle) == 0)
        {
            try
            {
                Rollback();
            }
            catch (SqliteException)
            {
                SqliteConnection.ClearPool(Connection);
            }
        }

        foreach (var statement in _statements.Values)
        {
            statement.Statement.Dispose();
        }

        _statements.Clear();
        Release(ref _dataVersion);
        Release(ref _begin);
        Release(ref _beginImmediate);
        Release(ref _commit);
        Release(ref _rollback);
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
        Connection.Dispose();
    }

    // Runs a statement of no rows once, preparing it on first use, and returns SQLite's result code.
    private int Step(ref sqlite3_stmt? statement, string sql) => Step(ref statement, sql, out _);

    // Runs a statement once, preparing it on first use; returns SQLite's result code and, on a row, its first column.
    private int Step(ref sqlite3_stmt? statement, string sql, out long firstColumn)
    {
        var handle = Connection.Handle!;
        if (statement is null)
        {
            Check(handle, raw.sqlite3_prepare_v2(handle, sql, out var prepared));
            statement = prepared;
        }

        try
        {
            var result = raw.sqlite3_step(statement);
            firstColumn = result == raw.SQLITE_ROW ? raw.sqlite3_column_int64(statement, 0) : 0;
            return result;
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    private static void Release(ref sqlite3_stmt? statement)
    {
        statement?.Dispose();
        statement = null;
    }

    private void ExecuteWaiting(string sql)
    {
        using var command = Lend(sql);
        command.ExecuteNonQuery();
    }

    private sealed record RawStatement(sqlite3_stmt Statement, int[] Indexes);

    /// <summary>Throws SQLite's error, with its message and extended code, unless <paramref name="result"/> is a success.</summary>
    internal static void Check(sqlite3 handle, int result)
    {
        if (result != raw.SQLITE_OK && result != raw.SQLITE_ROW && result != raw.SQLITE_DONE)
        {
            throw new SqliteException(raw.sqlite3_errmsg(handle).utf8_to_string(), result, raw.sqlite3_extended_errcode(handle));
        }
    }
}

/// <summary>
/// A bound statement of <see cref="PreparedConnection.Query"/>, stepped row by row. Disposing resets it and clears its
/// bindings (so SQLite's copy of a bound ciphertext does not outlive it), and finalizes one that was not cached.
/// </summary>
internal readonly struct RawQuery(sqlite3 handle, sqlite3_stmt statement, bool owned) : IDisposable
{
    public sqlite3_stmt Statement => statement;

    public bool Read()
    {
        var step = raw.sqlite3_step(statement);
        if (step == raw.SQLITE_ROW)
        {
            return true;
        }

        // No more rows at DONE; anything else is SQLite's error.
        PreparedConnection.Check(handle, step);
        return false;
    }

    public long GetInt64(int column) => raw.sqlite3_column_int64(statement, column);

    public string GetString(int column) => raw.sqlite3_column_text(statement, column).utf8_to_string();

    public bool IsDBNull(int column) => raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL;

    public void Dispose()
    {
        raw.sqlite3_reset(statement);
        raw.sqlite3_clear_bindings(statement);
        if (owned)
        {
            statement.Dispose();
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
