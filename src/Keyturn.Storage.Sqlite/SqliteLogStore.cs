using Keyturn.Application.Logs;
using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

/// <summary>Rotation-function logs in CloudWatch's shape: groups, streams and events, in the same database.</summary>
public sealed class SqliteLogStore(string databasePath) : ILogSink
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = databasePath,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Pooling = true,
        ForeignKeys = true,
        DefaultTimeout = 30,
    }.ToString();

    public Task AppendAsync(string logGroupName, string logStreamName, IReadOnlyList<LogLine> lines, CancellationToken cancellationToken)
    {
        if (lines.Count == 0)
        {
            return Task.CompletedTask;
        }

        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Execute(connection, transaction, "INSERT INTO log_groups (name, created_ms) VALUES ($g, $n) ON CONFLICT (name) DO NOTHING", ("$g", logGroupName), ("$n", now));
        Execute(connection, transaction, "INSERT INTO log_streams (group_name, name, created_ms) VALUES ($g, $s, $n) ON CONFLICT (group_name, name) DO NOTHING",
            ("$g", logGroupName), ("$s", logStreamName), ("$n", now));
        long bytes = 0;
        foreach (var line in lines)
        {
            Execute(connection, transaction, "INSERT INTO log_events (group_name, stream_name, timestamp_ms, ingestion_ms, message) VALUES ($g, $s, $t, $n, $m)",
                ("$g", logGroupName), ("$s", logStreamName), ("$t", line.Timestamp.ToUnixTimeMilliseconds()), ("$n", now), ("$m", line.Message));
            bytes += System.Text.Encoding.UTF8.GetByteCount(line.Message);
        }

        Execute(connection, transaction,
            "UPDATE log_streams SET first_event_ms = COALESCE(MIN(first_event_ms, $f), $f), last_event_ms = COALESCE(MAX(last_event_ms, $l), $l), " +
            "last_ingestion_ms = $n, stored_bytes = stored_bytes + $b WHERE group_name = $g AND name = $s",
            ("$f", lines.Min(l => l.Timestamp).ToUnixTimeMilliseconds()), ("$l", lines.Max(l => l.Timestamp).ToUnixTimeMilliseconds()),
            ("$n", now), ("$b", bytes), ("$g", logGroupName), ("$s", logStreamName));
        transaction.Commit();
        return Task.CompletedTask;
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }
}
