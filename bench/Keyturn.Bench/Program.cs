namespace Keyturn.Bench;

/// <summary>
/// The HTTP benchmark: a bare Kestrel baseline, a closed-loop SigV4 load generator, a seeder and the
/// orchestrator that runs them against a real <c>keyturn serve</c> process and writes docs/benchmarks-http.md.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: Keyturn.Bench <command> [flags]

          baseline --listen 127.0.0.1:PORT
              Bare Kestrel (HTTP/1.1, no logging): POST / answers 200 with a small fixed JSON body.

          baseline --listen 127.0.0.1:PORT --bare [--burn-us 0] [--allocate-bytes 0]
              The same without routing: app.Run answers every request with that fixed 200, after
              burning that much of its thread's CPU time and allocating that many bytes.

          load --endpoint URL[,URL...] --operation GetSecretValue|PutSecretValue|DescribeSecret|Baseline
               --connections N [--baseline] [--duration 8] [--warmup 3] [--secret-prefix bench-get-]
               [--secret-count 100] [--put-secrets 200] [--region us-east-1]
              Closed loop: N workers over exactly N connections, every request SigV4-signed; with
              several endpoints, worker i uses endpoint i mod k (a round-robin client of a cluster).
              Prints #window-start and #window-end as the measured window begins and ends, then one
              JSON object (rps, p50_ms, p99_ms, errors, ...). --baseline (implied by Baseline, which
              sends GetSecretValue) sends the operation's requests to a baseline server, without
              creating PutSecretValue's pool there.

          seed --endpoint URL --count N [--prefix bench-seed-] [--workers 32] [--read]
              Creates N secrets (or, with --read, reads each once with GetSecretValue).

          run-all [--keyturn-dll PATH] [--duration 8] [--warmup 3] [--server-warmup 10] [--repetitions 3]
                  [--connections 1,16,64] [--get-secrets 100] [--puts-per-secret 50]
                  [--seed-count 100000] [--report docs/benchmarks-http.md] [--keep]
              Starts both servers as child processes, runs every cell as a separate load
              process (repetitions interleaved), measures memory in a fresh server with
              --seed-count secrets stored, writes the report (medians of the repetitions).

          cpu [--keyturn-dll PATH] [--store URL] [--duration 10] [--warmup 3] [--server-warmup 10] [--max-extra-warmup 120]
              [--repetitions 5] [--connections 1,16] [--operations GetSecretValue,PutSecretValue,DescribeSecret]
              [--server-cpus LIST] [--load-cpus LIST] [--counter-interval 1] [--get-secrets 100]
              [--puts-per-secret 50] [--calibrate US,BYTES] [--store-query read_max_pool_size=4] [--report docs/benchmarks-cpu.md] [--keep]
              CPU per request: Keyturn and `baseline --bare` pinned to the server CPUs, loads pinned to
              the others; server CPU time (/proc) and allocated bytes (EventPipe counters) over each
              load's window, per request; writes the report. --store is passed to `keyturn serve`.
              --calibrate measures, instead of Keyturn, a bare Kestrel that burns US µs of thread CPU and
              allocates a BYTES-byte array per request: the extra reported must match.

          cluster [--keyturn-dll PATH] [--only sqlite,postgres,failover] [--nodes 3] [--duration 10]
                  [--warmup 3] [--server-warmup 8] [--repetitions 3] [--connections 16]
                  [--failovers 3] [--lease-lifetime 15] [--report docs/benchmarks-cluster.md] [--keep]
              GetSecretValue and PutSecretValue on SQLite and on a throwaway PostgreSQL with 1..N nodes
              (round-robin client), sampling PostgreSQL, the nodes and pg_stat_activity; then kills the
              node running a rotation and times its completion on another. Needs `keyturn serve --store`.

        Credentials for load and seed: --access-key-id/--secret-access-key, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
        """;

    private static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            await Console.Error.WriteLineAsync(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        try
        {
            var flags = Flags.Parse(args[1..]);
            return args[0] switch
            {
                "baseline" => await BaselineServer.RunAsync(flags),
                "load" => await LoadCommand.RunAsync(flags),
                "seed" => await SeedCommand.RunAsync(flags),
                "run-all" => await RunAllCommand.RunAsync(flags),
                "cpu" => await CpuCommand.RunAsync(flags),
                "cluster" => await ClusterCommand.RunAsync(flags),
                _ => throw new ArgumentException($"Unknown command '{args[0]}'."),
            };
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message + "\n\n" + Usage);
            return 2;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException)
        {
            // A server that would not start, a load that printed nothing: say what failed; the child output is in the log it names.
            await Console.Error.WriteLineAsync($"{args[0]} failed: {e.Message}");
            return 1;
        }
    }
}
