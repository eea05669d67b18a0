using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Keyturn.Application.Rotation;

/// <summary>
/// One warm worker process of a handler function (the bootstrap of its runtime with the handler's module loaded),
/// used by one invocation at a time. Requests and responses are JSON lines on the worker's private descriptors 4 and
/// 3 (its standard input and output here, moved by the launcher); everything the handler writes arrives on its
/// standard error and goes to the log of the invocation running at the time. The bootstrap ends each invocation's
/// output with a marker line before answering, so a response never overtakes the log lines written before it.
/// </summary>
internal sealed class HandlerWorker : IDisposable
{
    private const string EndOfInvocation = "\u001ekeyturn-end ";
    private const int MaxPendingLines = 1000;
    private static readonly TimeSpan OutputDrain = TimeSpan.FromSeconds(2);
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private const int SigKill = 9;
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private readonly FunctionProcess _worker;
    private readonly Process _process;
    private readonly Channel<string> _responses = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly List<string> _pending = [];
    private readonly Lock _gate = new();
    private readonly Task _errorPump;
    private InvocationLog? _log;
    private string? _awaited;
    private TaskCompletionSource? _outputEnded;

    private HandlerWorker(FunctionProcess worker, string key)
    {
        _worker = worker;
        _process = worker.Process;
        Key = key;
        _ = PumpResponsesAsync();
        _errorPump = PumpOutputAsync();
    }

    /// <summary>What the worker was started for (function, registration, region); only an invocation with the same key reuses it.</summary>
    public string Key { get; }

    public int ProcessId => _process.Id;

    public DateTimeOffset IdleSince { get; set; }

    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>Starts a worker and waits until its handler is loaded; its start-up output goes to <paramref name="log"/>.</summary>
    /// <returns>The worker and how long loading the handler took, or the runtime's init error or exit code (the worker then exited).</returns>
    public static async Task<StartResult> StartAsync(
        ProcessStartInfo start, string key, InvocationLog log, CancellationToken cancellationToken)
    {
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.StandardInputEncoding = start.StandardOutputEncoding = start.StandardErrorEncoding = Utf8;
        // The leader of its own process group, so stopping it ends whatever the handler started too.
        var worker = new HandlerWorker(FunctionProcess.Start(start), key);
        worker.Attach(log, awaitedRequestId: null);
        try
        {
            var message = await worker.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (message is not null)
            {
                using var document = JsonDocument.Parse(message);
                var root = document.RootElement;
                if (root.GetProperty("type").GetString() == "ready")
                {
                    return new StartResult(worker, TimeSpan.FromMilliseconds(root.GetProperty("initMs").GetDouble()), null, null);
                }

                var error = root.GetProperty("error").Clone();
                await worker.DrainAsync().ConfigureAwait(false);
                worker.Dispose();
                return new StartResult(null, TimeSpan.Zero, error, null);
            }

            await worker.DrainAsync().ConfigureAwait(false);
            var exitCode = worker.ExitCode();
            worker.Dispose();
            return new StartResult(null, TimeSpan.Zero, null, exitCode);
        }
        catch
        {
            worker.Stop();
            await worker.DrainAsync().ConfigureAwait(false);
            worker.Dispose();
            throw;
        }
        finally
        {
            worker.Detach();
        }
    }

    /// <summary>A started worker, or why it did not start: the runtime's init error, or the exit code of a worker that said nothing.</summary>
    public sealed record StartResult(HandlerWorker? Worker, TimeSpan InitDuration, JsonElement? InitError, int? ExitCode);

    /// <summary>Runs one invocation; its output goes to <paramref name="log"/>.</summary>
    /// <returns>The worker's response (<c>{"type":"result"|"error",...}</c>), or null when the worker exited without one.</returns>
    /// <exception cref="OperationCanceledException">The invocation's time ran out (or the server is stopping): the worker was stopped, its output up to then kept.</exception>
    public async Task<JsonElement?> InvokeAsync(string requestJson, string requestId, InvocationLog log, CancellationToken cancellationToken)
    {
        var ended = Attach(log, requestId);
        try
        {
            try
            {
                await _process.StandardInput.WriteLineAsync(requestJson.AsMemory(), cancellationToken).ConfigureAwait(false);
                await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The worker is gone; reading its response finds that out.
            }

            var message = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                await DrainAsync().ConfigureAwait(false);
                return null;
            }

            // The marker precedes the response on the worker's side; this only waits for this side's reader to get there.
            await Task.WhenAny(ended.Task, Task.Delay(OutputDrain, CancellationToken.None)).ConfigureAwait(false);
            using var document = JsonDocument.Parse(message);
            return document.RootElement.Clone();
        }
        catch (OperationCanceledException)
        {
            Stop();
            await DrainAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            Detach();
        }
    }

    /// <summary>The exit code once the worker has exited (waiting briefly for it), else null.</summary>
    public int? ExitCode()
    {
        try
        {
            return _process.WaitForExit(OutputDrain) ? _process.ExitCode : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The worker's peak resident memory in MB (Lambda's "Max Memory Used"), from the kernel's high-water mark.</summary>
    public int? PeakMemoryMb()
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal)
                    && long.TryParse(line["VmHWM:".Length..].Replace("kB", "", StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
                {
                    return (int)Math.Ceiling(kb / 1024.0);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Exited meanwhile: nothing to report.
        }

        return null;
    }

    /// <summary>Ends the worker at once (a timed-out or failed invocation, as Lambda ends its environment), with everything it started.</summary>
    public void Stop() => _worker.Group.Signal(SigKill);

    /// <summary>
    /// Closes the worker's request pipe (the bootstrap exits when it reads the end), then ends its process group (SIGTERM,
    /// a grace period, SIGKILL), which also reaches processes the handler left behind.
    /// </summary>
    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone.
        }

        _process.WaitForExit(TimeSpan.FromSeconds(1));
        _worker.StopAsync(StopGrace).GetAwaiter().GetResult();
        _worker.Dispose();
    }

    private TaskCompletionSource Attach(InvocationLog log, string? awaitedRequestId)
    {
        lock (_gate)
        {
            _log = log;
            _awaited = awaitedRequestId;
            _outputEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // Lines the worker wrote between invocations (a background thread's) belong to the next one's log.
            foreach (var line in _pending)
            {
                log.Raw(line);
            }

            _pending.Clear();
            return _outputEnded;
        }
    }

    private void Detach()
    {
        lock (_gate)
        {
            _log = null;
            _awaited = null;
        }
    }

    private async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _responses.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>Lets the output reader reach the end of the pipe, so a stopped or crashed worker's last lines are kept.</summary>
    private async Task DrainAsync() => await Task.WhenAny(_errorPump, Task.Delay(OutputDrain, CancellationToken.None)).ConfigureAwait(false);

    private async Task PumpResponsesAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                _responses.Writer.TryWrite(line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The worker is gone.
        }
        finally
        {
            _responses.Writer.TryComplete();
        }
    }

    private async Task PumpOutputAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_gate)
                {
                    if (line.StartsWith(EndOfInvocation, StringComparison.Ordinal))
                    {
                        if (line.AsSpan(EndOfInvocation.Length).SequenceEqual(_awaited))
                        {
                            _outputEnded?.TrySetResult();
                        }
                    }
                    else if (line.Length == 0)
                    {
                        // As command functions: blank lines carry nothing.
                    }
                    else if (_log is { } log)
                    {
                        log.Raw(line);
                    }
                    else if (_pending.Count < MaxPendingLines)
                    {
                        _pending.Add(line);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The worker is gone.
        }
    }
}
