using System.Diagnostics;
using System.Globalization;
using System.Net;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Bench.Shared;

/// <summary>
/// A real <c>dotnet keyturn.dll serve</c> process on a free loopback port. Its output goes to a log
/// file; its memory is read from <c>/proc/PID/status</c> (<c>dotnet x.dll</c> hosts the runtime in
/// the same process, so that PID is the server).
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private bool _closed;

    private ServerProcess(Process process, StreamWriter log, string endpoint)
    {
        _process = process;
        _log = log;
        Endpoint = new Uri(endpoint);
    }

    public Uri Endpoint { get; }

    public int Pid => _process.Id;

    public static async Task<ServerProcess> StartAsync(string keyturnDll, string dataDirectory, string accessKeyId, string secretAccessKey, double schedulerIntervalSeconds, string logPath)
    {
        var port = FreePort.Next();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            keyturnDll, "serve", "--data-dir", dataDirectory, "--listen", $"127.0.0.1:{port}",
            "--scheduler-interval", schedulerIntervalSeconds.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KEYTURN_ROOT_ACCESS_KEY_ID"] = accessKeyId;
        start.Environment["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = secretAccessKey;
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start keyturn.");
        var server = new ServerProcess(process, log, $"http://127.0.0.1:{port}/");
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilHealthyAsync(logPath);
        return server;
    }

    /// <summary>Peak and current resident set size in MiB (VmHWM, VmRSS).</summary>
    public (double PeakMiB, double CurrentMiB) Memory()
    {
        double peak = 0, current = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kib(line) / 1024.0;
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                current = Kib(line) / 1024.0;
            }
        }

        return (peak, current);
    }

    /// <summary>Stops the server gracefully (SIGTERM), as an operator would before editing its database.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }
    }

    private async Task WaitUntilHealthyAsync(string logPath)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"keyturn exited during start-up; see {logPath}.");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(Endpoint, "health"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"keyturn did not become healthy within 60 s; see {logPath}.");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (!_closed)
            {
                _log.WriteLine(line);
            }
        }
    }

    private static long Kib(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
