using System.Diagnostics;
using System.Text.Json;

namespace Keyturn.Bench;

/// <summary>
/// The closed-loop load generator: N workers, each with one request in flight at a time, over exactly N
/// connections (spread round-robin over the endpoints when there are several, as a client of a cluster
/// would). Requests that complete inside the measured window (after the warm-up) count towards the rate and
/// the latency histogram; any status other than 200 is an error and is reported by code. The window's start
/// and end are printed on stdout as they happen (<see cref="WindowStart"/>, <see cref="WindowEnd"/>), so the
/// orchestrator can sample the servers over the same window.
/// </summary>
internal static class LoadCommand
{
    public const string Baseline = "Baseline";
    public const string GetSecretValue = "GetSecretValue";
    public const string PutSecretValue = "PutSecretValue";
    public const string DescribeSecret = "DescribeSecret";

    public const string WindowStart = "#window-start";
    public const string WindowEnd = "#window-end";

    public static async Task<int> RunAsync(Flags flags)
    {
        var endpoints = flags.Required("endpoint").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(e => new Uri(e)).ToArray();
        var operation = flags.Required("operation");
        var connections = flags.Int("connections", 1);
        var duration = flags.Seconds("duration", 8);
        var warmup = flags.Seconds("warmup", 3);
        var secretPrefix = flags.Text("secret-prefix", "bench-get-");
        var secretCount = flags.Int("secret-count", 100);
        var putSecrets = flags.Int("put-secrets", 200);
        var region = flags.Text("region", "us-east-1");
        var atBaseline = flags.Switch("baseline");
        var credentials = BenchClient.Credentials(flags);
        flags.RejectUnknown();
        if (operation is not (Baseline or GetSecretValue or PutSecretValue or DescribeSecret))
        {
            throw new ArgumentException("--operation must be GetSecretValue, PutSecretValue, DescribeSecret or Baseline.");
        }

        if (endpoints.Length == 0 || endpoints.Length > connections)
        {
            throw new ArgumentException("--endpoint needs between one URL and one per connection.");
        }

        // "Baseline" is the HTTP benchmark's name for GetSecretValue sent to the baseline server.
        atBaseline |= operation == Baseline;
        var target = operation == Baseline ? GetSecretValue : operation;

        // Worker i talks to endpoint i mod k over its own connection, so each endpoint gets its share of exactly N connections.
        var clients = endpoints
            .Select((endpoint, e) => new BenchClient(endpoint, Enumerable.Range(0, connections).Count(i => i % endpoints.Length == e), credentials, region))
            .ToArray();
        try
        {
            Func<byte[]> nextBody;
            if (target == PutSecretValue)
            {
                // Each secret holds at most 100 versions for 24 h, so the writes are spread over a fresh pool
                // (a baseline server stores nothing: there the names need not exist).
                var prefix = $"bench-put-{Guid.NewGuid().ToString("N")[..8]}-";
                if (!atBaseline)
                {
                    await CreatePoolAsync(clients[0], prefix, putSecrets, Math.Min(connections, 16));
                }

                var names = Enumerable.Range(0, putSecrets).Select(i => Bodies.Name(prefix, i)).ToArray();
                long next = -1;
                nextBody = () => Bodies.Put(names[Interlocked.Increment(ref next) % names.Length]);
            }
            else
            {
                // GetSecretValue and DescribeSecret take the same body; a baseline gets the same signed request,
                // so the client does the same work whichever server it measures.
                var bodies = Enumerable.Range(0, secretCount).Select(i => Bodies.Get(Bodies.Name(secretPrefix, i))).ToArray();
                long next = -1;
                nextBody = () => bodies[Interlocked.Increment(ref next) % bodies.Length];
            }

            var measureFrom = Stopwatch.GetTimestamp() + (long)(warmup * Stopwatch.Frequency);
            var measureTo = measureFrom + (long)(duration * Stopwatch.Frequency);
            var markers = MarkWindowAsync(measureFrom, measureTo);
            var workers = Enumerable.Range(0, connections)
                .Select(i => Task.Run(() => WorkAsync(clients[i % clients.Length], target, nextBody, measureFrom, measureTo)))
                .ToArray();
            var states = await Task.WhenAll(workers);
            await markers;

            var histogram = new LatencyHistogram();
            var codes = new Dictionary<string, long>(StringComparer.Ordinal);
            long errors = 0, warmupErrors = 0, total = 0;
            foreach (var state in states)
            {
                histogram.Add(state.Histogram);
                errors += state.Errors;
                warmupErrors += state.WarmupErrors;
                total += state.Total;
                foreach (var (code, count) in state.Codes)
                {
                    codes[code] = codes.GetValueOrDefault(code) + count;
                }
            }

            var result = new LoadResult(
                operation, connections, clients.Sum(c => c.ConnectionsOpened), duration, histogram.Count, histogram.Count / duration,
                Round(histogram.PercentileMs(50)), Round(histogram.PercentileMs(90)), Round(histogram.PercentileMs(99)),
                Round(histogram.MaxMs), Round(histogram.MeanMs), errors, warmupErrors, total,
                target == PutSecretValue && !atBaseline ? putSecrets : 0, codes,
                Math.Round(Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, 3));
            Console.WriteLine(JsonSerializer.Serialize(result, ResultJson.Default.LoadResult));
            await Console.Error.WriteLineAsync(
                $"{operation}{(atBaseline ? " (baseline)" : "")} x{connections}: {result.Rps:F0} req/s, p50 {result.P50Ms:F3} ms, p99 {result.P99Ms:F3} ms, errors {errors}");
            return errors == 0 ? 0 : 1;
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Prints the window's start and end as they pass (the orchestrator timestamps them on arrival).</summary>
    private static async Task MarkWindowAsync(long measureFrom, long measureTo)
    {
        foreach (var (at, marker) in new[] { (measureFrom, WindowStart), (measureTo, WindowEnd) })
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), at);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            await Console.Out.WriteLineAsync(marker);
            await Console.Out.FlushAsync();
        }
    }

    private static async Task<WorkerState> WorkAsync(BenchClient client, string operation, Func<byte[]> nextBody, long measureFrom, long measureTo)
    {
        var state = new WorkerState();
        while (true)
        {
            var started = Stopwatch.GetTimestamp();
            if (started >= measureTo)
            {
                return state;
            }

            string? error;
            try
            {
                (_, error) = await client.CallAsync(operation, nextBody(), CancellationToken.None);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                error = e.GetType().Name;
            }

            var stopped = Stopwatch.GetTimestamp();
            state.Total++;
            if (stopped < measureFrom)
            {
                state.WarmupErrors += error is null ? 0 : 1;
            }
            else if (stopped < measureTo)
            {
                state.Histogram.RecordTicks(stopped - started);
                if (error is not null)
                {
                    state.Errors++;
                    state.Codes[error] = state.Codes.GetValueOrDefault(error) + 1;
                }
            }
        }
    }

    private static async Task CreatePoolAsync(BenchClient client, string prefix, int count, int parallelism)
    {
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, cancellationToken) =>
        {
            var (_, error) = await client.CallAsync("CreateSecret", Bodies.Create(Bodies.Name(prefix, i)), cancellationToken);
            if (error is not null)
            {
                failures.Add(error);
            }
        });
        if (!failures.IsEmpty)
        {
            throw new InvalidOperationException($"Creating the PutSecretValue pool failed {failures.Count} times ({failures.First()}).");
        }
    }

    private static double Round(double value) => Math.Round(value, 3);

    private sealed class WorkerState
    {
        public LatencyHistogram Histogram { get; } = new();

        public Dictionary<string, long> Codes { get; } = new(StringComparer.Ordinal);

        public long Errors { get; set; }

        public long WarmupErrors { get; set; }

        public long Total { get; set; }
    }
}
