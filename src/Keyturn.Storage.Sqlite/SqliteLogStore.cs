using System.Text;
using Keyturn.Application.Logs;
using Keyturn.Domain.Logs;
using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// Rotation-function logs in CloudWatch's shape: groups, streams and events, in the same database
/// as the secrets (<see cref="SqliteDatabase"/> creates the schema and sets WAL). Appends queue on the file's write gate
/// and take SQLite's write lock up front (BEGIN IMMEDIATE); reads run in one deferred transaction, so a page is one snapshot.
/// </summary>
public sealed class SqliteLogStore : ILogSink, ILogStore, ILogArchive
{
    /// <summary>What AWS adds to a message's UTF-8 length when it sizes a batch or a page.</summary>
    public const int EventOverheadBytes = LogEventPages.EventOverheadBytes;

    // Rows fetched per query while a filter scans; a filter with few matches reads many batches.
    private const int ScanBatch = 1000;

    private const string GroupSelect =
        "SELECT g.name, g.created_ms, COALESCE((SELECT SUM(s.stored_bytes) FROM log_streams s WHERE s.group_name = g.name), 0) FROM log_groups g";

    private const string StreamSelect =
        "SELECT group_name, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes FROM log_streams";

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeGate;

    internal SqliteLogStore(SqliteDatabase database)
    {
        _connectionString = database.ConnectionString;
        _writeGate = database.WriteGate;
    }

    public async Task AppendAsync(string logGroupName, string logStreamName, IReadOnlyList<LogLine> lines, CancellationToken cancellationToken)
    {
        if (lines.Count == 0)
        {
            return;
        }

        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Append(logGroupName, logStreamName, lines);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void Append(string logGroupName, string logStreamName, IReadOnlyList<LogLine> lines)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: false);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Execute(connection, transaction, "INSERT INTO log_groups (name, created_ms) VALUES ($g, $n) ON CONFLICT (name) DO NOTHING", ("$g", logGroupName), ("$n", now));
        Execute(connection, transaction, "INSERT INTO log_streams (group_name, name, created_ms) VALUES ($g, $s, $n) ON CONFLICT (group_name, name) DO NOTHING",
            ("$g", logGroupName), ("$s", logStreamName), ("$n", now));

        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT INTO log_events (group_name, stream_name, timestamp_ms, ingestion_ms, message) VALUES ($g, $s, $t, $n, $m)";
        insert.Parameters.AddWithValue("$g", logGroupName);
        insert.Parameters.AddWithValue("$s", logStreamName);
        insert.Parameters.AddWithValue("$n", now);
        var timestamp = insert.Parameters.Add("$t", SqliteType.Integer);
        var message = insert.Parameters.Add("$m", SqliteType.Text);
        long bytes = 0;
        foreach (var line in lines)
        {
            timestamp.Value = line.Timestamp.ToUnixTimeMilliseconds();
            message.Value = line.Message;
            insert.ExecuteNonQuery();
            bytes += Encoding.UTF8.GetByteCount(line.Message);
        }

        Execute(connection, transaction,
            "UPDATE log_streams SET first_event_ms = COALESCE(MIN(first_event_ms, $f), $f), last_event_ms = COALESCE(MAX(last_event_ms, $l), $l), " +
            "last_ingestion_ms = $n, stored_bytes = stored_bytes + $b WHERE group_name = $g AND name = $s",
            ("$f", lines.Min(l => l.Timestamp).ToUnixTimeMilliseconds()), ("$l", lines.Max(l => l.Timestamp).ToUnixTimeMilliseconds()),
            ("$n", now), ("$b", bytes), ("$g", logGroupName), ("$s", logStreamName));
        transaction.Commit();
    }

    public async Task ImportStreamsAsync(LogGroupRecord group, IReadOnlyList<LogStreamRecord> streams, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            Execute(connection, transaction, "INSERT INTO log_groups (name, created_ms) VALUES ($g, $n)", ("$g", group.Name), ("$n", group.CreatedMs));
            foreach (var stream in streams)
            {
                Execute(connection, transaction,
                    "INSERT INTO log_streams (group_name, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes) VALUES ($g, $s, $c, $f, $l, $i, $b)",
                    ("$g", group.Name), ("$s", stream.Name), ("$c", stream.CreatedMs), ("$f", (object?)stream.FirstEventMs ?? DBNull.Value),
                    ("$l", (object?)stream.LastEventMs ?? DBNull.Value), ("$i", (object?)stream.LastIngestionMs ?? DBNull.Value), ("$b", stream.StoredBytes));
            }

            transaction.Commit();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task ImportEventsAsync(string groupName, IReadOnlyList<LogEventRecord> events, CancellationToken cancellationToken)
    {
        await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var connection = Open();
            using var transaction = connection.BeginTransaction(deferred: false);
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO log_events (id, group_name, stream_name, timestamp_ms, ingestion_ms, message) VALUES ($id, $g, $s, $t, $n, $m)";
            insert.Parameters.AddWithValue("$g", groupName);
            var id = insert.Parameters.Add("$id", SqliteType.Integer);
            var stream = insert.Parameters.Add("$s", SqliteType.Text);
            var timestamp = insert.Parameters.Add("$t", SqliteType.Integer);
            var ingestion = insert.Parameters.Add("$n", SqliteType.Integer);
            var message = insert.Parameters.Add("$m", SqliteType.Text);
            foreach (var record in events)
            {
                (id.Value, stream.Value, timestamp.Value, ingestion.Value, message.Value) = (record.Id, record.StreamName, record.TimestampMs, record.IngestionMs, record.Message);
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public Task<LogGroupRecord?> FindGroupAsync(string groupName, CancellationToken cancellationToken) =>
        ReadAsync(transaction => Query(transaction, GroupSelect + " WHERE g.name = $g", ReadGroup, ("$g", groupName)).FirstOrDefault(), cancellationToken);

    public Task<LogStreamRecord?> FindStreamAsync(string groupName, string streamName, CancellationToken cancellationToken) =>
        ReadAsync(transaction => Query(transaction, StreamSelect + " WHERE group_name = $g AND name = $s", ReadStream, ("$g", groupName), ("$s", streamName)).FirstOrDefault(), cancellationToken);

    public Task<IReadOnlyList<LogGroupRecord>> DescribeGroupsAsync(LogGroupQuery query, CancellationToken cancellationToken) => ReadAsync(transaction =>
    {
        var sql = new StringBuilder(GroupSelect).Append(" WHERE 1 = 1");
        var parameters = new List<(string, object)> { ("$limit", query.Limit) };
        if (query.NamePrefix is { } prefix)
        {
            sql.Append(" AND g.name >= $prefix AND substr(g.name, 1, length($prefix)) = $prefix");
            parameters.Add(("$prefix", prefix));
        }

        if (query.NameContains is { Length: > 0 } contains)
        {
            sql.Append(" AND instr(lower(g.name), lower($contains)) > 0");
            parameters.Add(("$contains", contains));
        }

        if (query.Names is { } names)
        {
            sql.Append(" AND g.name IN (").AppendJoin(", ", names.Select((_, i) => "$n" + i)).Append(')');
            parameters.AddRange(names.Select((n, i) => ("$n" + i, (object)n)));
        }

        if (query.AfterName is { } after)
        {
            sql.Append(" AND g.name > $after");
            parameters.Add(("$after", after));
        }

        sql.Append(" ORDER BY g.name LIMIT $limit");
        return (IReadOnlyList<LogGroupRecord>)Query(transaction, sql.ToString(), ReadGroup, [.. parameters]);
    }, cancellationToken);

    public Task<IReadOnlyList<LogStreamRecord>> DescribeStreamsAsync(LogStreamQuery query, CancellationToken cancellationToken) => ReadAsync(transaction =>
    {
        var sql = new StringBuilder(StreamSelect).Append(" WHERE group_name = $g");
        var parameters = new List<(string, object)> { ("$g", query.GroupName), ("$limit", query.Limit) };
        if (query.NamePrefix is { } prefix)
        {
            sql.Append(" AND name >= $prefix AND substr(name, 1, length($prefix)) = $prefix");
            parameters.Add(("$prefix", prefix));
        }

        var direction = query.Descending ? "DESC" : "ASC";
        var comparison = query.Descending ? "<" : ">";
        if (query.OrderBy == LogStreamOrder.LastEventTime)
        {
            if (query.After is { } after)
            {
                sql.Append($" AND (COALESCE(last_event_ms, 0), name) {comparison} ($t, $after)");
                parameters.Add(("$t", after.LastEventMs));
                parameters.Add(("$after", after.Name));
            }

            sql.Append($" ORDER BY COALESCE(last_event_ms, 0) {direction}, name {direction}");
        }
        else
        {
            if (query.After is { } after)
            {
                sql.Append($" AND name {comparison} $after");
                parameters.Add(("$after", after.Name));
            }

            sql.Append($" ORDER BY name {direction}");
        }

        sql.Append(" LIMIT $limit");
        return (IReadOnlyList<LogStreamRecord>)Query(transaction, sql.ToString(), ReadStream, [.. parameters]);
    }, cancellationToken);

    public Task<IReadOnlyList<LogEventRecord>> ReadStreamAsync(LogStreamEventsQuery query, CancellationToken cancellationToken) => ReadAsync(transaction =>
    {
        var sql = "SELECT id, stream_name, timestamp_ms, ingestion_ms, message FROM log_events " +
            "WHERE group_name = $g AND stream_name = $s AND timestamp_ms >= $start AND timestamp_ms < $end " +
            (query.Forward
                ? "AND (timestamp_ms, id) > ($t, $i) ORDER BY timestamp_ms, id LIMIT $limit"
                : "AND (timestamp_ms, id) < ($t, $i) ORDER BY timestamp_ms DESC, id DESC LIMIT $limit");
        var rows = Query(transaction, sql, ReadEvent,
            ("$g", query.GroupName), ("$s", query.StreamName), ("$start", query.StartMs ?? long.MinValue), ("$end", query.EndMs ?? long.MaxValue),
            ("$t", query.From.TimestampMs), ("$i", query.From.Id), ("$limit", query.Limit));
        var page = LogEventPages.WithinBytes(rows, query.MaxBytes);
        if (!query.Forward)
        {
            page.Reverse();
        }

        return (IReadOnlyList<LogEventRecord>)page;
    }, cancellationToken);

    /// <summary>
    /// The pattern's required terms and alternatives as an FTS5 query over the trigram index (each term a quoted
    /// phrase, which trigrams match as a substring), or null when nothing in it can use the index: trigrams need
    /// three characters, and one short alternative leaves the whole alternative unindexed. The instr conditions
    /// and <see cref="LogFilterPattern.IsMatch"/> still decide; the index only narrows.
    /// </summary>
    internal static string? TextIndexQuery(LogFilterPattern pattern)
    {
        static string Phrase(string term) => "\"" + term.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        static bool Indexable(string term) => term.EnumerateRunes().Count() >= 3;

        var parts = pattern.RequiredTerms.Where(Indexable).Select(Phrase).ToList();
        if (pattern.AlternativeTerms.Count > 0 && pattern.AlternativeTerms.All(Indexable))
        {
            parts.Add("(" + string.Join(" OR ", pattern.AlternativeTerms.Select(Phrase)) + ")");
        }

        return parts.Count == 0 ? null : string.Join(" AND ", parts);
    }

    public Task<LogFilterResult> FilterAsync(LogFilterQuery query, CancellationToken cancellationToken) => ReadManyAsync(transaction =>
    {
        // With indexable terms the trigram index names the candidates, and the group index is kept out of the plan
        // ('+'), so SQLite reads only those rows rather than walking the whole span through the index.
        var indexed = TextIndexQuery(query.Pattern);
        var sql = new StringBuilder("SELECT id, stream_name, timestamp_ms, ingestion_ms, message FROM log_events ")
            .Append(indexed is null ? "WHERE group_name = $g " : "WHERE +group_name = $g AND id IN (SELECT rowid FROM log_events_text WHERE log_events_text MATCH $text) ")
            .Append("AND timestamp_ms >= $start AND timestamp_ms < $end ")
            .Append(query.Backward ? "AND (timestamp_ms, id) < ($t, $i)" : "AND (timestamp_ms, id) > ($t, $i)");
        var parameters = new List<(string, object)>
        {
            ("$g", query.GroupName), ("$start", query.StartMs ?? long.MinValue), ("$end", query.EndMs ?? long.MaxValue), ("$batch", ScanBatch),
        };
        if (indexed is not null)
        {
            parameters.Add(("$text", indexed));
        }

        AppendStreamFilter(sql, parameters, query.StreamNames, query.StreamNamePrefix, "stream_name");

        // SQLite's instr is a case-sensitive substring test, so required terms can narrow the scan; the pattern decides.
        for (var i = 0; i < query.Pattern.RequiredTerms.Count; i++)
        {
            sql.Append($" AND instr(message, $r{i}) > 0");
            parameters.Add(("$r" + i, query.Pattern.RequiredTerms[i]));
        }

        // Likewise one of the alternatives (?a ?b): without this, a pattern of alternatives alone reads every event of the span into .NET.
        if (query.Pattern.AlternativeTerms.Count > 0)
        {
            sql.Append(" AND (").AppendJoin(" OR ", query.Pattern.AlternativeTerms.Select((_, i) => $"instr(message, $a{i}) > 0")).Append(')');
            parameters.AddRange(query.Pattern.AlternativeTerms.Select((term, i) => ("$a" + i, (object)term)));
        }

        sql.Append(query.Backward ? " ORDER BY timestamp_ms DESC, id DESC LIMIT $batch" : " ORDER BY timestamp_ms, id LIMIT $batch");
        var text = sql.ToString();
        return LogEventPages.FilterAsync(query, ScanBatch, position =>
            Task.FromResult(Query(transaction, text, ReadEvent, [.. parameters, ("$t", position.TimestampMs), ("$i", position.Id)])));
    }, cancellationToken);

    /// <summary>The streams with events in the span this call searched; one is complete once the search is past its last event.</summary>
    private static void AppendStreamFilter(StringBuilder sql, List<(string, object)> parameters, IReadOnlyList<string>? names, string? prefix, string column)
    {
        if (names is { Count: > 0 })
        {
            sql.Append($" AND {column} IN (").AppendJoin(", ", names.Select((_, i) => "$sn" + i)).Append(')');
            parameters.AddRange(names.Select((n, i) => ("$sn" + i, (object)n)));
        }

        if (prefix is not null)
        {
            sql.Append($" AND substr({column}, 1, length($sp)) = $sp");
            parameters.Add(("$sp", prefix));
        }
    }

    private Task<T> ReadAsync<T>(Func<SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: true);
        var result = work(transaction);
        transaction.Commit();
        return Task.FromResult(result);
    }

    /// <summary>Like <see cref="ReadAsync"/> for work made of several queries (they complete at once: SQLite's I/O is synchronous).</summary>
    private async Task<T> ReadManyAsync<T>(Func<SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = Open();
        using var transaction = connection.BeginTransaction(deferred: true);
        var result = await work(transaction).ConfigureAwait(false);
        transaction.Commit();
        return result;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private static LogGroupRecord ReadGroup(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));

    private static LogStreamRecord ReadStream(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
        reader.IsDBNull(3) ? null : reader.GetInt64(3),
        reader.IsDBNull(4) ? null : reader.GetInt64(4),
        reader.IsDBNull(5) ? null : reader.GetInt64(5),
        reader.GetInt64(6));

    private static LogEventRecord ReadEvent(SqliteDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4));

    private static List<T> Query<T>(SqliteTransaction transaction, string sql, Func<SqliteDataReader, T> read, params (string Name, object Value)[] parameters)
    {
        using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
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
