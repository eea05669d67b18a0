using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Keyturn.Bench;

/// <summary>
/// A <c>dotnet x.dll ...</c> child process with its output appended to a log. <c>dotnet x.dll</c> hosts the
/// runtime in the process it starts, so its PID is the server's and /proc/PID is the server's memory and CPU.
/// Pinned to CPUs, it is started as <c>taskset -c LIST dotnet x.dll ...</c>: taskset sets the affinity and execs
/// dotnet, so the PID is still the server's (and the runtime sizes its thread pool and GC to those CPUs).
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly System.Text.StringBuilder _stdout = new();
    private readonly bool _captureStdout;
    private readonly Action<string>? _onLine;
    private bool _closed;

    private ChildProcess(Process process, StreamWriter log, bool captureStdout, Action<string>? onLine)
    {
        _process = process;
        _log = log;
        _captureStdout = captureStdout;
        _onLine = onLine;
    }

    public int Pid => _process.Id;

    /// <param name="pin">A CPU list for <c>taskset -c</c> (such as "0" or "2-3"), or null to run anywhere.</param>
    /// <param name="onLine">Called with each line of standard output as it arrives, in order.</param>
    /// <param name="hostname">
    /// Run in a UTS namespace of its own under this host name (<c>unshare --uts</c>, as root), so the process sees
    /// itself on another machine; every wrapper execs the next, so the PID is still the server's.
    /// </param>
    public static ChildProcess Start(
        string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logPath, bool captureStdout = false, string? pin = null,
        Action<string>? onLine = null, string? hostname = null)
    {
        List<string> command = [];
        if (hostname is not null)
        {
            command.AddRange(["unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", hostname]);
        }

        if (pin is not null)
        {
            command.AddRange(["taskset", "-c", pin]);
        }

        command.AddRange(["dotnet", dll]);
        var start = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        log.WriteLine($"$ {start.FileName} {string.Join(' ', start.ArgumentList)}");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {dll}.");
        var child = new ChildProcess(process, log, captureStdout, onLine);
        process.OutputDataReceived += (_, e) => child.Append(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data, stdout: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Runs a command to completion and returns its exit code and standard output.</summary>
    public static async Task<(int ExitCode, string Stdout)> RunAsync(
        string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logPath, string? pin = null, Action<string>? onLine = null)
    {
        await using var child = Start(dll, args, environment, logPath, captureStdout: true, pin, onLine);
        await child._process.WaitForExitAsync();
        // The parameterless wait also drains the redirected output.
        child._process.WaitForExit();
        lock (child._stdout)
        {
            return (child._process.ExitCode, child._stdout.ToString());
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task WaitUntilHealthyAsync(Uri health, string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited during start-up (exit code {_process.ExitCode}).");
            }

            try
            {
                using var response = await http.GetAsync(health);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"{name} did not become healthy within 60 s.");
    }

    /// <summary>Current and peak resident set size in bytes (VmRSS, VmHWM).</summary>
    public (long Rss, long Hwm) Memory()
    {
        long rss = 0, hwm = 0;
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kib(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                hwm = Kib(line) * 1024;
            }
        }

        return (rss, hwm);
    }

    /// <summary>User plus system CPU time used so far, in seconds.</summary>
    public double CpuSeconds()
    {
        // utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>SIGKILL, as a crash would end it: no shutdown code runs. Returns once the process is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>SIGTERM, as an operator would stop it; SIGKILL if it hasn't exited after 15 s.</summary>
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

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
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

    private void Append(string? line, bool stdout)
    {
        if (line is null)
        {
            return;
        }

        if (stdout)
        {
            _onLine?.Invoke(line);
        }

        if (stdout && _captureStdout)
        {
            lock (_stdout)
            {
                _stdout.AppendLine(line);
            }
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
