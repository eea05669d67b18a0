using System.Globalization;
using System.Text.Json;

namespace Keyturn.Bench;

/// <summary>What a cell of the CPU and cluster modes asks of one <c>load</c> process.</summary>
internal sealed record LoadSpec(
    IReadOnlyList<Uri> Endpoints, string Operation, int Connections, double Duration, double Warmup, bool AtBaseline = false,
    int PutSecrets = 0, string SecretPrefix = "bench-get-", int SecretCount = 100);

/// <summary>
/// Runs one <c>load</c> process and calls back at its window's start and end (the markers it prints), so the caller
/// samples the servers over the very window whose requests are counted; returns the load's result.
/// </summary>
internal static class LoadProcess
{
    public static async Task<LoadResult> RunAsync(
        string benchDll, LoadSpec spec, IReadOnlyDictionary<string, string> environment, string log, string? pin = null,
        Action? onWindowStart = null, Action? onWindowEnd = null)
    {
        string[] args =
        [
            "load", "--endpoint", string.Join(',', spec.Endpoints), "--operation", spec.Operation,
            "--connections", spec.Connections.ToString(CultureInfo.InvariantCulture),
            "--duration", spec.Duration.ToString(CultureInfo.InvariantCulture), "--warmup", spec.Warmup.ToString(CultureInfo.InvariantCulture),
            "--secret-prefix", spec.SecretPrefix, "--secret-count", spec.SecretCount.ToString(CultureInfo.InvariantCulture),
            .. spec.PutSecrets > 0 ? new[] { "--put-secrets", spec.PutSecrets.ToString(CultureInfo.InvariantCulture) } : [],
            .. spec.AtBaseline ? new[] { "--baseline" } : [],
        ];
        Exception? callbackError = null;
        void OnLine(string line)
        {
            try
            {
                if (line == LoadCommand.WindowStart)
                {
                    onWindowStart?.Invoke();
                }
                else if (line == LoadCommand.WindowEnd)
                {
                    onWindowEnd?.Invoke();
                }
            }
            catch (Exception e)
            {
                // Raised after the process ends, with its context, rather than lost on the output thread.
                callbackError ??= e;
            }
        }

        var (exitCode, stdout) = await ChildProcess.RunAsync(benchDll, args, environment, log, pin, OnLine);
        if (callbackError is not null)
        {
            throw new InvalidOperationException($"Sampling the servers during load {spec.Operation} x{spec.Connections} failed: {callbackError.Message}", callbackError);
        }

        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException($"load {spec.Operation} x{spec.Connections} printed no result (exit code {exitCode}); see {log}.");
        return JsonSerializer.Deserialize(line, ResultJson.Default.LoadResult)!;
    }

    /// <summary>
    /// The size of a PutSecretValue pool for a window: enough secrets that none gets more than
    /// <paramref name="putsPerSecret"/> new versions at <paramref name="expectedRps"/> (with room for a faster run).
    /// </summary>
    public static int PutPool(double expectedRps, double warmup, double duration, int putsPerSecret) =>
        Math.Max(20, (int)Math.Ceiling(expectedRps * 1.5 * (warmup + duration) * 1.25 / putsPerSecret));
}
