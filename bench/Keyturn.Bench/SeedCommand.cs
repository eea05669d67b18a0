using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace Keyturn.Bench;

/// <summary>Creates N secrets concurrently (or, with <c>--read</c>, reads each of them once).</summary>
internal static class SeedCommand
{
    public static async Task<int> RunAsync(Flags flags)
    {
        var endpoint = new Uri(flags.Required("endpoint"));
        var count = flags.Int("count", 1);
        var prefix = flags.Text("prefix", "bench-seed-");
        var workers = flags.Int("workers", 32);
        var read = flags.Switch("read");
        var region = flags.Text("region", "us-east-1");
        var credentials = BenchClient.Credentials(flags);
        flags.RejectUnknown();

        using var client = new BenchClient(endpoint, workers, credentials, region);
        var codes = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        long existing = 0, errors = 0;
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers }, async (i, cancellationToken) =>
        {
            var name = Bodies.Name(prefix, i);
            string? error;
            try
            {
                (_, error) = read
                    ? await client.CallAsync(LoadCommand.GetSecretValue, Bodies.Get(name), cancellationToken)
                    : await client.CallAsync("CreateSecret", Bodies.Create(name), cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                error = e.GetType().Name;
            }

            if (error == "ResourceExistsException" && !read)
            {
                // A re-run over the same names: the secret is there, which is all seeding needs.
                Interlocked.Increment(ref existing);
            }
            else if (error is not null)
            {
                Interlocked.Increment(ref errors);
                codes.AddOrUpdate(error, 1, (_, n) => n + 1);
            }
        });

        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var result = new SeedResult(read ? "read" : "create", count, Math.Round(seconds, 2), Math.Round(count / seconds, 1), errors, existing,
            new Dictionary<string, long>(codes, StringComparer.Ordinal));
        Console.WriteLine(JsonSerializer.Serialize(result, ResultJson.Default.SeedResult));
        return errors == 0 ? 0 : 1;
    }
}
