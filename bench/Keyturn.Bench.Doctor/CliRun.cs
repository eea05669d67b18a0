using System.Diagnostics;
using Keyturn.Cli;

namespace Keyturn.Bench.Doctor;

/// <summary>One run of the keyturn CLI: exit code, output, and wall time from process start to exit.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr, double Ms);

/// <summary>
/// Runs <c>dotnet keyturn.dll ARGS</c> as a separate process (what an operator runs), or the same command line in
/// this process through <see cref="CliApplication.RunAsync"/> (warm: no runtime start, no JIT after the first runs).
/// </summary>
internal static class CliRun
{
    private static readonly SemaphoreSlim InProcess = new(1);

    public static async Task<CliResult> ProcessAsync(string keyturnDll, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(keyturnDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start dotnet.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        var ms = watch.Elapsed.TotalMilliseconds;
        return new CliResult(process.ExitCode, await stdout, await stderr, ms);
    }

    /// <summary>The same command line in this process; standard output and error are captured meanwhile (one run at a time).</summary>
    public static async Task<CliResult> InProcessAsync(IReadOnlyList<string> arguments)
    {
        await InProcess.WaitAsync();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            var watch = Stopwatch.StartNew();
            var exit = await CliApplication.RunAsync([.. arguments]);
            var ms = watch.Elapsed.TotalMilliseconds;
            return new CliResult(exit, stdout.ToString(), stderr.ToString(), ms);
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
            InProcess.Release();
        }
    }
}
