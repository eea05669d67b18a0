using Microsoft.Data.Sqlite;

namespace Keyturn.Bench.Rotation;

/// <summary>One rotation as the server recorded it: its row in <c>rotations</c> and its journal entries.</summary>
internal sealed record RotationTiming(
    string SecretArn,
    string Token,
    string Status,
    string? Step,
    string? Reason,
    long StartedMs,
    long UpdatedMs,
    IReadOnlyDictionary<string, (long BeginMs, long EndMs)> Steps,
    int Attempts)
{
    public long FirstBeginMs => Steps.Count == 0 ? 0 : Steps.Values.Min(s => s.BeginMs);

    public long LastEndMs => Steps.Count == 0 ? 0 : Steps.Values.Max(s => s.EndMs);

    /// <summary>Wall time of the four steps: the first step's begin to the last step's end.</summary>
    public double StepsWallMs => LastEndMs - FirstBeginMs;
}

/// <summary>
/// Reads the server's own bookkeeping from its SQLite file (WAL mode, so reading while it runs
/// neither blocks nor is blocked by its writes).
/// </summary>
internal sealed class Journal(string databasePath)
{
    public static readonly string[] StepNames = ["CreateSecret", "SetSecret", "TestSecret", "FinishSecret"];

    /// <summary>Rotations of <paramref name="mode"/> started at or after <paramref name="sinceMs"/>, by status.</summary>
    public Dictionary<string, int> CountByStatus(string mode, long sinceMs)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT status, count(*) FROM rotations WHERE mode = $mode AND started_ms >= $since GROUP BY status";
        command.Parameters.AddWithValue("$mode", mode);
        command.Parameters.AddWithValue("$since", sinceMs);
        using var reader = command.ExecuteReader();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        while (reader.Read())
        {
            counts[reader.GetString(0)] = reader.GetInt32(1);
        }

        return counts;
    }

    public IReadOnlyList<RotationTiming> Rotations(string mode, long sinceMs)
    {
        using var connection = Open();
        var steps = new Dictionary<(string, string), Dictionary<string, (long, long)>>();
        var attempts = new Dictionary<(string, string), int>();
        using (var command = connection.CreateCommand())
        {
            // Per step the last attempt counts (a retried step's earlier attempts show up in Attempts).
            command.CommandText = "SELECT secret_arn, token, step, attempt, phase, at_ms FROM rotation_journal WHERE at_ms >= $since ORDER BY id";
            command.Parameters.AddWithValue("$since", sinceMs);
            using var reader = command.ExecuteReader();
            var begins = new Dictionary<(string, string, string), long>();
            while (reader.Read())
            {
                var key = (reader.GetString(0), reader.GetString(1));
                var step = reader.GetString(2);
                var at = reader.GetInt64(5);
                if (reader.GetString(4) == "Begin")
                {
                    begins[(key.Item1, key.Item2, step)] = at;
                    attempts[key] = attempts.GetValueOrDefault(key) + 1;
                }
                else if (begins.TryGetValue((key.Item1, key.Item2, step), out var begin))
                {
                    if (!steps.TryGetValue(key, out var perStep))
                    {
                        steps[key] = perStep = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
                    }

                    perStep[step] = (begin, at);
                }
            }
        }

        using var rotations = connection.CreateCommand();
        rotations.CommandText = "SELECT secret_arn, token, status, step, reason, started_ms, updated_ms FROM rotations WHERE mode = $mode AND started_ms >= $since";
        rotations.Parameters.AddWithValue("$mode", mode);
        rotations.Parameters.AddWithValue("$since", sinceMs);
        using var rows = rotations.ExecuteReader();
        var result = new List<RotationTiming>();
        while (rows.Read())
        {
            var key = (rows.GetString(0), rows.GetString(1));
            result.Add(new RotationTiming(key.Item1, key.Item2, rows.GetString(2), rows.IsDBNull(3) ? null : rows.GetString(3), rows.IsDBNull(4) ? null : rows.GetString(4), rows.GetInt64(5), rows.GetInt64(6),
                steps.GetValueOrDefault(key) ?? [], attempts.GetValueOrDefault(key)));
        }

        return result;
    }

    /// <summary>The most rotations whose steps were in progress at the same moment.</summary>
    public static int MaxOverlap(IEnumerable<RotationTiming> rotations)
    {
        var events = rotations.Where(r => r.Steps.Count > 0)
            .SelectMany(r => new[] { (At: r.FirstBeginMs, Delta: 1), (At: r.LastEndMs, Delta: -1) })
            .OrderBy(e => e.At).ThenBy(e => e.Delta);
        int running = 0, peak = 0;
        foreach (var (_, delta) in events)
        {
            running += delta;
            peak = Math.Max(peak, running);
        }

        return peak;
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 30,
        }.ToString());
        connection.Open();
        return connection;
    }
}
