using System.Text;
using Keyturn.Application.Logs;
using Npgsql;
using NpgsqlTypes;

namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// Rotation-function logs on PostgreSQL, with the SQLite store's semantics (keyset cursors on (time, id), AWS's byte
/// sizes, the filter's scan limit). Every statement is prepared on the pooled connection that runs it. Appends from
/// several nodes to one stream are serialized by the stream row's lock; a filter's batches read one snapshot
/// (REPEATABLE READ), so a page is consistent while events keep arriving.
/// </summary>
/// <param name="dataSource">The pool shared with the secret store; the schema is <see cref="PostgreSqlLogSchema.Migration"/>.</param>
public sealed class PostgreSqlLogStore(NpgsqlDataSource dataSource, TimeProvider timeProvider) : ILogSink, ILogStore, ILogArchive
{
    // Rows fetched per query while a filter scans, as in the SQLite store.
    private const int ScanBatch = 1000;

    private const string EventColumns = "SELECT id, stream_name, timestamp_ms, ingestion_ms, message FROM log_events";

    private const string GroupSelect =
        "SELECT g.name, g.created_ms, COALESCE((SELECT SUM(s.stored_bytes) FROM log_streams s WHERE s.group_name = g.name), 0)::bigint FROM log_groups g";

    private const string StreamSelect =
        "SELECT group_name, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes FROM log_streams";

    public async Task AppendAsync(string logGroupName, string logStreamName, IReadOnlyList<LogLine> lines, CancellationToken cancellationToken)
    {
        if (lines.Count == 0)
        {
            return;
        }

        var now = timeProvider.GetUtcNow().ToUnixTimeMilliseconds();
        var messages = lines.Select(l => Storable(l.Message)).ToArray();
        var bytes = messages.Sum(m => (long)Encoding.UTF8.GetByteCount(m));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Statement("INSERT INTO log_groups (name, created_ms) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", Text(logGroupName), Int(now)),
                Statement("INSERT INTO log_streams (group_name, name, created_ms) VALUES ($1, $2, $3) ON CONFLICT (group_name, name) DO NOTHING",
                    Text(logGroupName), Text(logStreamName), Int(now)),

                // Ids follow the lines' order, as one INSERT per line would give them.
                Statement(
                    "INSERT INTO log_events (group_name, stream_name, timestamp_ms, ingestion_ms, message) " +
                    "SELECT $1, $2, e.t, $3, e.m FROM unnest($4::bigint[], $5::text[]) WITH ORDINALITY AS e(t, m, o) ORDER BY e.o",
                    Text(logGroupName), Text(logStreamName), Int(now),
                    Parameter(lines.Select(l => l.Timestamp.ToUnixTimeMilliseconds()).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(messages, NpgsqlDbType.Array | NpgsqlDbType.Text)),
                Statement(
                    "UPDATE log_streams SET first_event_ms = LEAST(first_event_ms, $3), last_event_ms = GREATEST(last_event_ms, $4), " +
                    "last_ingestion_ms = $5, stored_bytes = stored_bytes + $6 WHERE group_name = $1 AND name = $2",
                    Text(logGroupName), Text(logStreamName),
                    Int(lines.Min(l => l.Timestamp).ToUnixTimeMilliseconds()), Int(lines.Max(l => l.Timestamp).ToUnixTimeMilliseconds()), Int(now), Int(bytes)),
            },
        };
        await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task ImportStreamsAsync(LogGroupRecord group, IReadOnlyList<LogStreamRecord> streams, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Statement("INSERT INTO log_groups (name, created_ms) VALUES ($1, $2)", Text(group.Name), Int(group.CreatedMs)),
                Statement(
                    "INSERT INTO log_streams (group_name, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes) " +
                    "SELECT $1, s.* FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[]) AS s",
                    Text(group.Name),
                    Parameter(streams.Select(s => s.Name).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
                    Parameter(streams.Select(s => s.CreatedMs).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(streams.Select(s => s.FirstEventMs).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(streams.Select(s => s.LastEventMs).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(streams.Select(s => s.LastIngestionMs).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(streams.Select(s => s.StoredBytes).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint)),
            },
        };
        await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task ImportEventsAsync(string groupName, IReadOnlyList<LogEventRecord> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                Statement(
                    "INSERT INTO log_events (id, group_name, stream_name, timestamp_ms, ingestion_ms, message) " +
                    "SELECT e.i, $1, e.s, e.t, e.n, e.m FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS e(i, s, t, n, m)",
                    Text(groupName),
                    Parameter(events.Select(e => e.Id).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(events.Select(e => e.StreamName).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
                    Parameter(events.Select(e => e.TimestampMs).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(events.Select(e => e.IngestionMs).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint),
                    Parameter(events.Select(e => Storable(e.Message)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)),

                // Explicit ids leave the identity behind: later appends must number after the imported events.
                Statement("SELECT setval(pg_get_serial_sequence('log_events', 'id'), (SELECT max(id) FROM log_events))"),
            },
        };
        await batch.PrepareAsync(cancellationToken).ConfigureAwait(false);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<LogGroupRecord?> FindGroupAsync(string groupName, CancellationToken cancellationToken) =>
        (await QueryAsync(GroupSelect + " WHERE g.name = $1", ReadGroup, [Text(groupName)], cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    public async Task<LogStreamRecord?> FindStreamAsync(string groupName, string streamName, CancellationToken cancellationToken) =>
        (await QueryAsync(StreamSelect + " WHERE group_name = $1 AND name = $2", ReadStream, [Text(groupName), Text(streamName)], cancellationToken).ConfigureAwait(false))
            .FirstOrDefault();

    public async Task<IReadOnlyList<LogGroupRecord>> DescribeGroupsAsync(LogGroupQuery query, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder(GroupSelect).Append(" WHERE true");
        var parameters = new List<NpgsqlParameter>();
        if (query.NamePrefix is { } prefix)
        {
            sql.Append(" AND starts_with(g.name, ").Append(Add(parameters, Text(prefix))).Append(')');
        }

        // Group names are ASCII (CloudWatch's pattern), so lower() folds them as SQLite's lower() does.
        if (query.NameContains is { Length: > 0 } contains)
        {
            sql.Append(" AND strpos(lower(g.name), lower(").Append(Add(parameters, Text(contains))).Append(")) > 0");
        }

        if (query.Names is { } names)
        {
            sql.Append(" AND g.name = ANY(").Append(Add(parameters, Parameter(names.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text))).Append(')');
        }

        if (query.AfterName is { } after)
        {
            sql.Append(" AND g.name > ").Append(Add(parameters, Text(after)));
        }

        sql.Append(" ORDER BY g.name LIMIT ").Append(Add(parameters, Int(query.Limit)));
        return await QueryAsync(sql.ToString(), ReadGroup, parameters, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<LogStreamRecord>> DescribeStreamsAsync(LogStreamQuery query, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder(StreamSelect).Append(" WHERE group_name = $1");
        var parameters = new List<NpgsqlParameter> { Text(query.GroupName) };
        if (query.NamePrefix is { } prefix)
        {
            sql.Append(" AND starts_with(name, ").Append(Add(parameters, Text(prefix))).Append(')');
        }

        var direction = query.Descending ? "DESC" : "ASC";
        var comparison = query.Descending ? "<" : ">";
        if (query.OrderBy == LogStreamOrder.LastEventTime)
        {
            if (query.After is { } after)
            {
                sql.Append($" AND (COALESCE(last_event_ms, 0), name) {comparison} (")
                    .Append(Add(parameters, Int(after.LastEventMs))).Append(", ").Append(Add(parameters, Text(after.Name))).Append(')');
            }

            sql.Append($" ORDER BY COALESCE(last_event_ms, 0) {direction}, name {direction}");
        }
        else
        {
            if (query.After is { } after)
            {
                sql.Append($" AND name {comparison} ").Append(Add(parameters, Text(after.Name)));
            }

            sql.Append($" ORDER BY name {direction}");
        }

        sql.Append(" LIMIT ").Append(Add(parameters, Int(query.Limit)));
        return await QueryAsync(sql.ToString(), ReadStream, parameters, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<LogEventRecord>> ReadStreamAsync(LogStreamEventsQuery query, CancellationToken cancellationToken)
    {
        var sql = EventColumns + " WHERE group_name = $1 AND stream_name = $2 AND timestamp_ms >= $3 AND timestamp_ms < $4 " +
            (query.Forward
                ? "AND (timestamp_ms, id) > ($5, $6) ORDER BY timestamp_ms, id LIMIT $7"
                : "AND (timestamp_ms, id) < ($5, $6) ORDER BY timestamp_ms DESC, id DESC LIMIT $7");
        var rows = await QueryAsync(sql, ReadEvent, [
            Text(query.GroupName), Text(query.StreamName), Int(query.StartMs ?? long.MinValue), Int(query.EndMs ?? long.MaxValue),
            Int(query.From.TimestampMs), Int(query.From.Id), Int(query.Limit)], cancellationToken).ConfigureAwait(false);
        var page = LogEventPages.WithinBytes(rows, query.MaxBytes);
        if (!query.Forward)
        {
            page.Reverse();
        }

        return page;
    }

    /// <summary>
    /// Required terms and alternatives become <c>LIKE '%term%'</c> conditions, which the trigram index serves (each term
    /// that has a trigram narrows the candidates; the planner picks it over the group's time index when the terms are
    /// selective); exclusions and the final word stay with <see cref="Domain.Logs.LogFilterPattern.IsMatch"/>.
    /// </summary>
    public async Task<LogFilterResult> FilterAsync(LogFilterQuery query, CancellationToken cancellationToken)
    {
        var (sql, parameters) = FilterCommand(query);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters.ToArray());
        await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        var result = await LogEventPages.FilterAsync(query, ScanBatch, async position =>
        {
            command.Parameters[3].Value = position.TimestampMs;
            command.Parameters[4].Value = position.Id;
            return await ReadAllAsync(command, ReadEvent, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>One batch of the filter's candidates: <c>$4</c>, <c>$5</c> are the position it continues from.</summary>
    internal static (string Sql, List<NpgsqlParameter> Parameters) FilterCommand(LogFilterQuery query)
    {
        var sql = new StringBuilder(EventColumns).Append(" WHERE group_name = $1 AND timestamp_ms >= $2 AND timestamp_ms < $3")
            .Append(query.Backward ? " AND (timestamp_ms, id) < ($4, $5)" : " AND (timestamp_ms, id) > ($4, $5)");
        var parameters = new List<NpgsqlParameter>
        {
            Text(query.GroupName), Int(query.StartMs ?? long.MinValue), Int(query.EndMs ?? long.MaxValue), Int(0), Int(0),
        };
        if (query.StreamNames is { Count: > 0 } names)
        {
            sql.Append(" AND stream_name = ANY(").Append(Add(parameters, Parameter(names.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text))).Append(')');
        }

        if (query.StreamNamePrefix is { } prefix)
        {
            sql.Append(" AND starts_with(stream_name, ").Append(Add(parameters, Text(prefix))).Append(')');
        }

        foreach (var term in query.Pattern.RequiredTerms)
        {
            sql.Append(" AND message LIKE ").Append(Add(parameters, Text(Contains(term))));
        }

        if (query.Pattern.AlternativeTerms.Count > 0)
        {
            sql.Append(" AND (").AppendJoin(" OR ", query.Pattern.AlternativeTerms.Select(term => "message LIKE " + Add(parameters, Text(Contains(term))))).Append(')');
        }

        sql.Append(query.Backward ? " ORDER BY timestamp_ms DESC, id DESC LIMIT " : " ORDER BY timestamp_ms, id LIMIT ").Append(Add(parameters, Int(ScanBatch)));
        return (sql.ToString(), parameters);
    }

    /// <summary>The LIKE pattern that matches <paramref name="term"/> anywhere, case-sensitively (backslash is LIKE's escape).</summary>
    internal static string Contains(string term) =>
        "%" + term.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    // PostgreSQL's text cannot hold NUL; a function that printed one gets the replacement character in its place.
    private static string Storable(string message) => message.Replace('\0', '\uFFFD');

    private async Task<List<T>> QueryAsync<T>(string sql, Func<NpgsqlDataReader, T> read, IEnumerable<NpgsqlParameter> parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters.ToArray());
        await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        return await ReadAllAsync(command, read, cancellationToken).ConfigureAwait(false);
    }

    private static Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) =>
        NpgsqlReads.ReadAllAsync(command, read, cancellationToken);

    private static string Add(List<NpgsqlParameter> parameters, NpgsqlParameter parameter)
    {
        parameters.Add(parameter);
        return "$" + parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static NpgsqlBatchCommand Statement(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter Text(string value) => Parameter(value, NpgsqlDbType.Text);

    private static NpgsqlParameter Int(long value) => Parameter(value, NpgsqlDbType.Bigint);

    private static NpgsqlParameter Parameter(object value, NpgsqlDbType type) => new() { Value = value, NpgsqlDbType = type };

    private static LogGroupRecord ReadGroup(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));

    private static LogStreamRecord ReadStream(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
        reader.IsDBNull(3) ? null : reader.GetInt64(3),
        reader.IsDBNull(4) ? null : reader.GetInt64(4),
        reader.IsDBNull(5) ? null : reader.GetInt64(5),
        reader.GetInt64(6));

    private static LogEventRecord ReadEvent(NpgsqlDataReader reader) =>
        new(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4));
}
