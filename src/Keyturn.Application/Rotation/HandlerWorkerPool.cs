using System.Diagnostics;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The warm workers of handler functions, like Lambda's execution environments: an invocation takes an idle worker
/// started for the same registration and region, or starts one (a cold start); a worker that answered is kept for the
/// next invocation, and one idle for <see cref="IdleLifetime"/> is stopped. A worker whose invocation failed, timed
/// out or crashed is never reused. Disposing the pool (the server stopping) stops every worker.
/// The bootstrap scripts are embedded in this assembly and written to a private directory on first use.
/// </summary>
public sealed class HandlerWorkerPool : IDisposable
{
    public static readonly TimeSpan DefaultIdleLifetime = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, Stack<HandlerWorker>> _idle = new(StringComparer.Ordinal);
    private readonly HashSet<HandlerWorker> _all = [];
    private readonly Lock _gate = new();
    private readonly TimeProvider _timeProvider;
    private readonly ITimer _sweeper;
    private string? _bootstrapDirectory;
    private bool _disposed;

    public HandlerWorkerPool(TimeProvider timeProvider, TimeSpan? idleLifetime = null)
    {
        _timeProvider = timeProvider;
        IdleLifetime = idleLifetime ?? DefaultIdleLifetime;
        var period = TimeSpan.FromTicks(Math.Clamp(IdleLifetime.Ticks / 4, TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(30).Ticks));
        _sweeper = timeProvider.CreateTimer(_ => StopIdle(), null, period, period);
    }

    /// <summary>How long a worker may wait for its next invocation before it is stopped.</summary>
    public TimeSpan IdleLifetime { get; }

    /// <summary>The process ids of the running workers, busy or idle.</summary>
    public IReadOnlyList<int> ProcessIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _all.Where(w => !w.HasExited).Select(w => w.ProcessId)];
            }
        }
    }

    /// <summary>The bootstrap script of a runtime, written once per pool into a directory only this user can read.</summary>
    public string BootstrapPath(string runtime)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_bootstrapDirectory is null)
            {
                var directory = Directory.CreateTempSubdirectory("keyturn-runtime-").FullName;
                foreach (var file in new[] { "bootstrap.py", "bootstrap.js" })
                {
                    using var resource = typeof(HandlerWorkerPool).Assembly.GetManifestResourceStream("Keyturn.Application.Rotation.Runtimes." + file)
                        ?? throw new InvalidOperationException($"The runtime bootstrap {file} is missing from the build.");
                    using var target = File.Create(Path.Combine(directory, file));
                    resource.CopyTo(target);
                }

                _bootstrapDirectory = directory;
            }

            return Path.Combine(_bootstrapDirectory, runtime == FunctionRuntimes.Node ? "bootstrap.js" : "bootstrap.py");
        }
    }

    internal HandlerWorker? TakeIdle(string key)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            while (_idle.TryGetValue(key, out var stack) && stack.TryPop(out var worker))
            {
                if (!worker.HasExited)
                {
                    return worker;
                }

                _all.Remove(worker);
                worker.Dispose();
            }

            return null;
        }
    }

    internal async Task<HandlerWorker.StartResult> StartAsync(ProcessStartInfo start, string key, InvocationLog log, CancellationToken cancellationToken)
    {
        var result = await HandlerWorker.StartAsync(start, key, log, cancellationToken).ConfigureAwait(false);
        if (result.Worker is { } worker)
        {
            lock (_gate)
            {
                if (!_disposed)
                {
                    _all.Add(worker);
                    return result;
                }
            }

            worker.Dispose();
            throw new OperationCanceledException("The server is stopping.");
        }

        return result;
    }

    /// <summary>Keeps a worker that answered for the next invocation of the same key.</summary>
    internal void Return(HandlerWorker worker)
    {
        lock (_gate)
        {
            if (!_disposed && !worker.HasExited)
            {
                worker.IdleSince = _timeProvider.GetUtcNow();
                if (!_idle.TryGetValue(worker.Key, out var stack))
                {
                    _idle[worker.Key] = stack = new Stack<HandlerWorker>();
                }

                stack.Push(worker);
                return;
            }

            _all.Remove(worker);
        }

        worker.Dispose();
    }

    /// <summary>Stops a worker that must not be reused (its invocation failed, timed out or it crashed).</summary>
    internal void Discard(HandlerWorker worker)
    {
        lock (_gate)
        {
            _all.Remove(worker);
        }

        worker.Stop();
        worker.Dispose();
    }

    /// <summary>Stops the workers idle for longer than <see cref="IdleLifetime"/> (and any that exited on their own).</summary>
    public void StopIdle()
    {
        var expired = new List<HandlerWorker>();
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            foreach (var (key, stack) in _idle.ToList())
            {
                var keep = stack.Where(w => !w.HasExited && now - w.IdleSince < IdleLifetime).Reverse().ToList();
                expired.AddRange(stack.Except(keep));
                if (keep.Count == 0)
                {
                    _idle.Remove(key);
                }
                else
                {
                    _idle[key] = new Stack<HandlerWorker>(keep);
                }
            }

            _all.ExceptWith(expired);
        }

        foreach (var worker in expired)
        {
            worker.Dispose();
        }
    }

    public void Dispose()
    {
        List<HandlerWorker> workers;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            workers = [.. _all];
            _all.Clear();
            _idle.Clear();
        }

        _sweeper.Dispose();
        foreach (var worker in workers)
        {
            worker.Stop();
            worker.Dispose();
        }

        if (_bootstrapDirectory is not null)
        {
            try
            {
                Directory.Delete(_bootstrapDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover copy of the public bootstrap scripts is harmless.
            }
        }
    }
}
