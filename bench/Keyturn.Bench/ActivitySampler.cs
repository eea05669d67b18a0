using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;

namespace Keyturn.Bench;

/// <summary>
/// Samples what the store database's backends are doing, from <c>pg_stat_activity</c>, and how many lock requests wait,
/// from <c>pg_locks</c>, at a fixed period over a window; one connection of its own, opened before the first window.
/// </summary>
internal sealed class ActivitySampler : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _database;

    private ActivitySampler(NpgsqlConnection connection, string database)
    {
        _connection = connection;
        _database = database;
    }

    public static async Task<ActivitySampler> OpenAsync(PostgresServer postgres, string database)
    {
        var connection = new NpgsqlConnection(postgres.ConnectionString(PostgresServer.Superuser, postgres.SuperuserPassword, "postgres"));
        await connection.OpenAsync();
        return new ActivitySampler(connection, database);
    }

    /// <summary>Samples until <paramref name="stop"/> is cancelled.</summary>
    public async Task<ActivitySummary> SampleAsync(TimeSpan period, CancellationToken stop)
    {
        var summary = new ActivitySummary();
        await using var activity = new NpgsqlCommand(
            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()", _connection);
        activity.Parameters.AddWithValue(_database);
        await using var locks = new NpgsqlCommand("SELECT count(*) FROM pg_locks WHERE NOT granted", _connection);
        await activity.PrepareAsync();
        await locks.PrepareAsync();
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var states = new List<string>();
                await using (var reader = await activity.ExecuteReaderAsync())
                {
                    while (await reader.ReadAsync())
                    {
                        states.Add(Category(reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
                    }
                }

                summary.Add(states, Convert.ToInt64(await locks.ExecuteScalarAsync()));
            }
        }
        catch (OperationCanceledException)
        {
            // The window ended.
        }

        return summary;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    /// <summary>What one backend was doing: working (on a CPU, as far as PostgreSQL knows), waiting for something, or idle.</summary>
    private static string Category(string? state, string? waitType, string? waitEvent) => state switch
    {
        "active" when waitType is null => ActivitySummary.Running,
        "active" => $"active, waiting on {waitType}:{waitEvent}",
        "idle in transaction" => ActivitySummary.IdleInTransaction,
        "idle" => ActivitySummary.Idle,
        _ => state ?? "unknown",
    };
}

/// <summary>Backend counts per category summed over samples, and lock waits, over one window (or several, merged).</summary>
internal sealed class ActivitySummary
{
    public const string Running = "active, running";
    public const string Idle = "idle (pooled connection)";
    public const string IdleInTransaction = "idle in transaction (waiting for its node)";

    public int Samples { get; private set; }

    public Dictionary<string, long> Backends { get; } = new(StringComparer.Ordinal);

    public long LockWaits { get; private set; }

    public long MaxLockWaits { get; private set; }

    public int MaxConnections { get; private set; }

    public void Add(IReadOnlyCollection<string> states, long lockWaits)
    {
        Samples++;
        foreach (var state in states)
        {
            Backends[state] = Backends.GetValueOrDefault(state) + 1;
        }

        LockWaits += lockWaits;
        MaxLockWaits = Math.Max(MaxLockWaits, lockWaits);
        MaxConnections = Math.Max(MaxConnections, states.Count);
    }

    public static ActivitySummary Merge(IEnumerable<ActivitySummary> summaries)
    {
        var merged = new ActivitySummary();
        foreach (var summary in summaries)
        {
            merged.Samples += summary.Samples;
            foreach (var (state, count) in summary.Backends)
            {
                merged.Backends[state] = merged.Backends.GetValueOrDefault(state) + count;
            }

            merged.LockWaits += summary.LockWaits;
            merged.MaxLockWaits = Math.Max(merged.MaxLockWaits, summary.MaxLockWaits);
            merged.MaxConnections = Math.Max(merged.MaxConnections, summary.MaxConnections);
        }

        return merged;
    }

    /// <summary>The average number of backends in a category at a sample.</summary>
    public double Average(string category) => Samples == 0 ? 0 : (double)Backends.GetValueOrDefault(category) / Samples;

    public double AverageWaiting(string waitType) =>
        Samples == 0 ? 0 : (double)Backends.Where(b => b.Key.StartsWith($"active, waiting on {waitType}:", StringComparison.Ordinal)).Sum(b => b.Value) / Samples;

    public double AverageLockWaits => Samples == 0 ? 0 : (double)LockWaits / Samples;
}
