using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Keyturn.Application.Logs;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Runs rotations in the background: one step at a time, a journal entry committed before each
/// step and after it, a lease with a fencing token so only one runner works on a secret, retries
/// with backoff for transient errors, and a clean stop with the reason for permanent ones. After a
/// crash, <see cref="ResumeOpenRotationsAsync"/> continues every open rotation from its first
/// unfinished step; the steps are idempotent, so repeating a half-done one is safe.
/// </summary>
public sealed partial class RotationEngine(
    ISyncSecretStore store,
    SecretServices services,
    RotationFunctionRegistry functions,
    ILogSink logSink,
    RotationOptions options,
    TimeProvider timeProvider,
    ILogger<RotationEngine> logger) : IRotationLauncher, IDisposable
{
    // host/pid/nonce: after a crash on the same host the next process can see the old owner is gone.
    private readonly string _node = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentRotations, options.MaxConcurrentRotations);
    private readonly CancellationTokenSource _stopping = new();
    private bool _disposed;

    /// <summary>Rotations running in this process (for status output and tests).</summary>
    public int RunningCount => _running.Count;

    public void Launch(string secretArn, string token)
    {
        lock (_running)
        {
            // One runner per secret in this process. A runner still busy with the secret may already be past
            // its last look at the rotations (releasing its lease after completing), so a new launch runs after
            // it instead of being dropped; a repeated launch of the same rotation then finds it closed and ends.
            _running[secretArn] = _running.TryGetValue(secretArn, out var existing) && !existing.IsCompleted
                ? existing.ContinueWith(_ => RunGuardedAsync(secretArn, token), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap()
                : Task.Run(() => RunGuardedAsync(secretArn, token));
        }
    }

    /// <summary>Continues every rotation left open (after a restart or a crash).</summary>
    public async Task ResumeOpenRotationsAsync(CancellationToken cancellationToken)
    {
        var open = await store.ReadAsync(session => session.ListRotations(null, openOnly: true), cancellationToken).ConfigureAwait(false);
        foreach (var rotation in open)
        {
            LogResuming(logger, rotation.SecretArn, rotation.Token, rotation.Step?.WireName() ?? "start");
            Launch(rotation.SecretArn, rotation.Token);
        }
    }

    /// <summary>Waits until no rotation runs in this process.</summary>
    public async Task WaitForIdleAsync(CancellationToken cancellationToken)
    {
        while (!_running.IsEmpty)
        {
            await Task.WhenAll(_running.Values).WaitAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (key, task) in _running)
            {
                if (task.IsCompleted)
                {
                    _running.TryRemove(new KeyValuePair<string, Task>(key, task));
                }
            }
        }
    }

    /// <summary>Stops starting new steps; running rotations resume from the journal on the next start.</summary>
    public void Stop()
    {
        lock (_running)
        {
            if (!_disposed)
            {
                _stopping.Cancel();
            }
        }
    }

    public void Dispose()
    {
        lock (_running)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _stopping.Cancel();
            _stopping.Dispose();
            _slots.Dispose();
        }
    }

    private async Task RunGuardedAsync(string secretArn, string token)
    {
        try
        {
            await _slots.WaitAsync(_stopping.Token).ConfigureAwait(false);
            try
            {
                await RunAsync(secretArn, token, _stopping.Token).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: the journal says where to resume.
        }
        catch (Exception e)
        {
            LogEngineFault(logger, secretArn, token, e.GetType().Name, e.Message);
        }
    }

    private async Task RunAsync(string secretArn, string token, CancellationToken cancellationToken)
    {
        var lease = "rotation:" + secretArn;
        var fencing = await AcquireAsync(lease, secretArn, token, cancellationToken).ConfigureAwait(false);
        if (fencing is null)
        {
            // Another live runner holds this secret and keeps renewing; it will finish the rotation.
            LogLeaseBusy(logger, secretArn);
            return;
        }

        try
        {
            var waited = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                var rotation = await store.ReadAsync(session => session.FindRotation(secretArn, token), cancellationToken).ConfigureAwait(false);
                if (rotation is null || !rotation.Status.IsOpen())
                {
                    if (waited)
                    {
                        LogStopped(logger, secretArn, token, $"the rotation became {rotation?.Status.ToString().ToLowerInvariant() ?? "absent"} while it waited to retry");
                    }

                    return;
                }

                if (rotation.NextAttemptAt is { } next && next > timeProvider.GetUtcNow())
                {
                    // Read again after waiting: a CancelRotateSecret while the retry waited has closed the rotation.
                    await DelayWithLeaseAsync(rotation, lease, next, cancellationToken).ConfigureAwait(false);
                    waited = true;
                    continue;
                }

                var journal = await store.ReadAsync(session => session.ReadJournal(secretArn, token), cancellationToken).ConfigureAwait(false);
                var step = RotationProgress.NextStep(rotation.Mode, journal.Where(j => j.Phase == JournalPhase.End).Select(j => (j.Step, j.Succeeded == true)));
                if (step is null)
                {
                    await CompleteAsync(rotation, fencing.Value, cancellationToken).ConfigureAwait(false);
                    return;
                }

                var attempt = journal.Count(j => j.Step == step && j.Phase == JournalPhase.Begin) + 1;
                if (!await RunStepAsync(rotation, step.Value, attempt, lease, fencing.Value, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            await store.WriteAsync(session =>
            {
                session.ReleaseLease(lease, _node);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Takes the secret's lease, waiting out a lease that is still live (for up to three lifetimes) and
    /// taking over at once from a process on this host that no longer exists.
    /// </summary>
    private async Task<long?> AcquireAsync(string lease, string secretArn, string token, CancellationToken cancellationToken)
    {
        var deadline = timeProvider.GetUtcNow() + (options.LeaseLifetime * 3);
        while (true)
        {
            var fencing = await store.WriteAsync(session => session.AcquireLease(lease, _node, timeProvider.GetUtcNow(), options.LeaseLifetime, OwnerIsGone), cancellationToken).ConfigureAwait(false);
            if (fencing is not null || timeProvider.GetUtcNow() >= deadline)
            {
                return fencing;
            }

            var open = await store.ReadAsync(session => session.FindRotation(secretArn, token)?.Status.IsOpen() == true, cancellationToken).ConfigureAwait(false);
            if (!open)
            {
                return null;
            }

            await Task.Delay(options.LeaseLifetime / 4, timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private static bool OwnerIsGone(string owner)
    {
        var parts = owner.Split('/');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], out var pid))
        {
            return false;
        }

        if (pid == Environment.ProcessId)
        {
            // An earlier engine instance in this very process (a restart of the engine) has stopped.
            return false;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>
    /// Runs one attempt of one step; false when the rotation stopped (failed, abandoned, cancelled, lost lease). Every
    /// record write is a compare-and-swap on the copy <paramref name="rotation"/> was read at: when the record moved on
    /// (a CancelRotateSecret), the step doesn't start, or its outcome doesn't overwrite the record, and the rotation stops.
    /// </summary>
    private async Task<bool> RunStepAsync(RotationRecord rotation, RotationStep step, int attempt, string lease, long fencing, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var (started, running) = await store.WriteAsync<(StepStart, RotationRecord?)>(session =>
        {
            if (!session.HoldsLease(lease, _node, fencing, now) && session.AcquireLease(lease, _node, now, options.LeaseLifetime) != fencing)
            {
                return (StepStart.LostLease, null);
            }

            // A value write during the rotation took AWSPENDING away: AWS calls that abandoning it.
            if (rotation.Mode == RotationMode.Rotate && AbandonedBy(session.FindByArn(rotation.SecretArn), rotation.Token) is { } why)
            {
                var abandoned = TrySave(session, rotation with { Status = RotationStatus.Abandoned, Reason = why, UpdatedAt = now, NextAttemptAt = null });
                return (abandoned is null ? StepStart.Changed : StepStart.Abandoned, null);
            }

            // The record first: the journal's begin entry is written only for a step that really starts.
            if (TrySave(session, rotation with { Status = RotationStatus.Running, Step = step, Attempt = attempt, Reason = null, UpdatedAt = now, NextAttemptAt = null }) is not { } saved)
            {
                return (StepStart.Changed, null);
            }

            session.AppendJournal(new JournalEntry(rotation.SecretArn, rotation.Token, step, attempt, JournalPhase.Begin, null, null, now, _node, fencing));
            return (StepStart.Started, saved);
        }, cancellationToken).ConfigureAwait(false);

        if (running is null)
        {
            LogStopped(logger, rotation.SecretArn, rotation.Token, started == StepStart.Changed ? ChangedReason : started.ToString());
            return false;
        }

        var (succeeded, permanent, reason) = await InvokeAsync(running, step, attempt, lease, fencing, cancellationToken).ConfigureAwait(false);
        await FaultInjection.PauseAsync("invoked", step, cancellationToken).ConfigureAwait(false);
        var end = timeProvider.GetUtcNow();
        var retry = !succeeded && options.Retry.ShouldRetry(attempt, permanent);
        var delay = retry ? options.Retry.DelayAfter(attempt, Random.Shared.NextDouble()) : TimeSpan.Zero;
        var ended = await store.WriteAsync(session =>
        {
            // The journal keeps what the invocation did even when the rotation was cancelled meanwhile; the record doesn't change then.
            session.AppendJournal(new JournalEntry(rotation.SecretArn, rotation.Token, step, attempt, JournalPhase.End, succeeded, reason, end, _node, fencing));
            var status = succeeded ? RotationStatus.Running : retry ? RotationStatus.Retrying : RotationStatus.Failed;
            return TrySave(session, running with
            {
                Status = status,
                Step = step,
                Attempt = attempt,
                Reason = succeeded ? null : reason,
                UpdatedAt = end,
                NextAttemptAt = retry ? end + delay : null,
            }) is not null;
        }, CancellationToken.None).ConfigureAwait(false);
        await FaultInjection.PauseAsync("end", step, cancellationToken).ConfigureAwait(false);

        if (!ended)
        {
            LogStopped(logger, rotation.SecretArn, rotation.Token, ChangedReason);
            return false;
        }

        if (succeeded)
        {
            return true;
        }

        if (retry)
        {
            LogRetrying(logger, rotation.SecretArn, step.WireName(), attempt, delay.TotalSeconds);
            return true;
        }

        LogFailed(logger, rotation.SecretArn, step.WireName(), attempt, permanent ? "permanent" : "attempts exhausted");
        return false;
    }

    /// <summary>Invokes the function for one step, writing the Lambda-style START/END/REPORT lines around it.</summary>
    private async Task<(bool Succeeded, bool Permanent, string? Reason)> InvokeAsync(RotationRecord rotation, RotationStep step, int attempt, string lease, long fencing, CancellationToken cancellationToken)
    {
        var requestId = Guid.NewGuid().ToString();
        var log = new InvocationLog(requestId, timeProvider, StreamName(rotation));
        var function = await functions.ResolveAsync(rotation.FunctionName, cancellationToken).ConfigureAwait(false);
        var logGroup = "/aws/lambda/" + RotationFunctionRegistry.NameOf(rotation.FunctionName);
        log.Raw($"START RequestId: {requestId} Version: $LATEST");

        // Names the secret in every invocation, so a secret's history can be found even when the function prints nothing.
        log.Info($"{step.WireName()}: invoking {RotationFunctionRegistry.NameOf(rotation.FunctionName)} for secret {rotation.SecretArn} version {rotation.Token} (attempt {attempt})");
        var watch = Stopwatch.StartNew();
        var stoppedByShutdown = false;
        (bool Succeeded, bool Permanent, string? Reason) result;
        if (function is null)
        {
            var message = $"{step.WireName()}: the rotation function {rotation.FunctionName} is no longer registered.";
            log.Error(message);
            result = (false, true, message);
        }
        else
        {
            // A registered function's own timeout (functions register --timeout), as Lambda's per-function setting.
            var timeout = function.Timeout ?? options.DefaultFunctionTimeout;
            using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeoutSource.CancelAfter(timeout);

            // When the timeout fired, not when the stopped function returned (its SIGTERM grace comes after). Callbacks
            // run last-registered first, so a function that stopped at once may be back before this one ran: then
            // the elapsed time is as good.
            var timedOutAfter = TimeSpan.Zero;
            using var timedOut = timeoutSource.Token.Register(() => timedOutAfter = watch.Elapsed);
            using var renewal = RenewLeaseWhileRunning(lease, fencing, timeoutSource.Token);
            var rotationEvent = new RotationEvent(step.WireName(), rotation.SecretArn, rotation.Token, RotationTokenFor(rotation));
            try
            {
                await function.InvokeAsync(rotationEvent, log, timeoutSource.Token).ConfigureAwait(false);
                result = (true, false, null);
            }
            catch (RotationStepException e)
            {
                log.Error(e.Message);
                result = (false, e.Permanent, e.Message);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Lambda's own wording, which the doctor's log analysis recognizes.
                var after = timedOutAfter > TimeSpan.Zero ? timedOutAfter : watch.Elapsed;
                var message = $"Task timed out after {after.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} seconds";
                log.Raw($"{timeProvider.GetUtcNow().UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {requestId} {message}");
                result = (false, false, $"{step.WireName()}: {message}");
            }
            catch (OperationCanceledException)
            {
                // The server is shutting down: the function was stopped; its log up to then is kept, the journal
                // gets no end entry, and the step runs again on the next start.
                log.Raw($"{timeProvider.GetUtcNow().UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {requestId} Stopped: the server is shutting down");
                stoppedByShutdown = true;
                result = (false, false, null);
            }
            catch (Exception e)
            {
                var message = $"{step.WireName()}: {e.GetType().Name}: {e.Message}";
                log.Error(message);
                result = (false, false, message);
            }
        }

        var elapsed = watch.Elapsed.TotalMilliseconds;
        log.Raw($"END RequestId: {requestId}");
        log.Raw(ReportLine(requestId, elapsed, log.Memory, log.InitDuration));

        // Nothing from the invocation is stored before it is masked: not its log, not the failure reason the
        // journal and the rotation record keep. Without a masker (the store could not be read) neither is kept.
        SecretMasker masker;
        try
        {
            masker = await MaskerForAsync(rotation.SecretArn, log.SensitiveValues).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLogWriteFailed(logger, logGroup, e.GetType().Name, e.Message);
            ThrowIfStoppedByShutdown(stoppedByShutdown, cancellationToken);
            return (result.Succeeded, result.Permanent, result.Reason is null ? null : $"{step.WireName()}: the step failed; its reason was not kept because the secret's values could not be read to mask it.");
        }

        try
        {
            var lines = log.Lines.Select(l => l with { Message = masker.Mask(l.Message, SecretRedaction.Mask) }).ToList();
            await logSink.AppendAsync(logGroup, StreamName(rotation), lines, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLogWriteFailed(logger, logGroup, e.GetType().Name, e.Message);
        }

        ThrowIfStoppedByShutdown(stoppedByShutdown, cancellationToken);
        return (result.Succeeded, result.Permanent, result.Reason is null ? null : masker.Mask(result.Reason, SecretRedaction.Mask));
    }

    /// <summary>A step stopped by the shutdown has no outcome to journal: it runs again on the next start.</summary>
    private static void ThrowIfStoppedByShutdown(bool stopped, CancellationToken cancellationToken)
    {
        if (stopped)
        {
            throw new OperationCanceledException(cancellationToken);
        }
    }

    /// <summary>Lambda's REPORT line; the memory and init fields only from a runtime that measured them (a handler's worker).</summary>
    public static string ReportLine(string requestId, double elapsedMs, (int MemorySize, int MaxMemoryUsed)? memory, TimeSpan? initDuration)
    {
        var line = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"REPORT RequestId: {requestId}\tDuration: {elapsedMs:F2} ms\tBilled Duration: {Math.Ceiling(elapsedMs)} ms\t"));
        if (memory is { } m)
        {
            line.Append(CultureInfo.InvariantCulture, $"Memory Size: {m.MemorySize} MB\tMax Memory Used: {m.MaxMemoryUsed} MB\t");
        }

        if (initDuration is { } init)
        {
            line.Append(CultureInfo.InvariantCulture, $"Init Duration: {init.TotalMilliseconds:F2} ms\t");
        }

        return line.ToString();
    }

    /// <summary>
    /// Marks success (labels checked, AWSPENDING stripped, dates moved), as the AWS backend does after finishSecret: in
    /// one transaction with the compare-and-swap of the record, so a rotation cancelled since it was read keeps its labels.
    /// </summary>
    private async Task CompleteAsync(RotationRecord rotation, long fencing, CancellationToken cancellationToken)
    {
        var outcome = await store.WriteAsync<RotationStatus?>(session =>
        {
            var now = timeProvider.GetUtcNow();
            var secret = session.FindByArn(rotation.SecretArn);
            var version = secret?.FindVersion(rotation.Token);
            if (secret is null || version is null)
            {
                return TrySave(session, rotation with { Status = RotationStatus.Abandoned, Reason = "The secret or its rotation version no longer exists.", UpdatedAt = now })?.Status;
            }

            if (rotation.Mode == RotationMode.Rotate && !version.HasStage(StagingLabels.Current))
            {
                return TrySave(session, rotation with
                {
                    Status = RotationStatus.Failed,
                    Reason = $"finishSecret returned, but version {rotation.Token} doesn't hold AWSCURRENT.",
                    UpdatedAt = now,
                })?.Status;
            }

            // The record first: no label moves for a rotation that changed since it was read.
            if (TrySave(session, rotation with { Status = RotationStatus.Succeeded, Reason = null, UpdatedAt = now, NextAttemptAt = null }) is null)
            {
                return null;
            }

            if (version.HasStage(StagingLabels.Pending))
            {
                StageRules.UpdateVersionStage(secret, StagingLabels.Pending, version.VersionId, null);
            }

            if (rotation.Mode == RotationMode.Rotate)
            {
                secret.LastRotatedDate = now;
                secret.LastChangedDate = now;
                secret.NextRotationDate = RotationSchedules.NextRotationDate(secret, now);
            }

            session.Save(secret);
            return RotationStatus.Succeeded;
        }, CancellationToken.None).ConfigureAwait(false);
        if (outcome is null)
        {
            LogStopped(logger, rotation.SecretArn, rotation.Token, ChangedReason);
            return;
        }

        LogCompleted(logger, rotation.SecretArn, rotation.Token, outcome.Value.ToString());
    }

    private const string ChangedReason = "the rotation record changed since it was read (cancelled with CancelRotateSecret, or taken over); this runner leaves it as it is";

    /// <summary>The record as saved, or null when it changed since <paramref name="rotation"/> was read (nothing written).</summary>
    private static RotationRecord? TrySave(ISyncSecretSession session, RotationRecord rotation)
    {
        try
        {
            return session.SaveRotation(rotation);
        }
        catch (RotationConflictException)
        {
            return null;
        }
    }

    private static string? AbandonedBy(Secret? secret, string token)
    {
        if (secret is null)
        {
            return "The secret no longer exists.";
        }

        var version = secret.FindVersion(token);
        return version is null
            ? $"Version {token} no longer exists."
            : version.HasStage(StagingLabels.Pending) || version.HasStage(StagingLabels.Current)
                ? null
                : $"Version {token} lost AWSPENDING (a new value was written during the rotation), so the rotation was abandoned.";
    }

    private IDisposable RenewLeaseWhileRunning(string lease, long fencing, CancellationToken cancellationToken)
    {
        var timer = new PeriodicTimer(options.LeaseLifetime / 3, timeProvider);
        _ = Task.Run(async () =>
        {
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    await store.WriteAsync(session => session.AcquireLease(lease, _node, timeProvider.GetUtcNow(), options.LeaseLifetime), cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // The step ended.
            }
        }, CancellationToken.None);
        return timer;
    }

    /// <summary>
    /// Waits for a retry, renewing the lease as it goes; ends early when the record changes (a CancelRotateSecret), so
    /// the lease is let go at once instead of after the retry delay.
    /// </summary>
    private async Task DelayWithLeaseAsync(RotationRecord rotation, string lease, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var period = options.LeaseLifetime / 3;
        for (var now = timeProvider.GetUtcNow(); now < until; now = timeProvider.GetUtcNow())
        {
            await Task.Delay(until - now < period ? until - now : period, timeProvider, cancellationToken).ConfigureAwait(false);
            var unchanged = await store.WriteAsync(session =>
            {
                session.AcquireLease(lease, _node, timeProvider.GetUtcNow(), options.LeaseLifetime);
                return session.FindRotation(rotation.SecretArn, rotation.Token)?.Version == rotation.Version;
            }, cancellationToken).ConfigureAwait(false);
            if (!unchanged)
            {
                return;
            }
        }
    }

    /// <summary>Read when the invocation has ended, so it covers the values the invocation wrote.</summary>
    private Task<SecretMasker> MaskerForAsync(string secretArn, IReadOnlyCollection<string> extraSecrets) =>
        store.ReadAsync(session => SecretRedaction.MaskerFor(services, session, secretArn, extraSecrets), CancellationToken.None);

    private static string StreamName(RotationRecord rotation) =>
        $"{rotation.StartedAt.UtcDateTime:yyyy/MM/dd}/[$LATEST]{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rotation.SecretArn + "|" + rotation.Token)))[..32]}";

    private static string RotationTokenFor(RotationRecord rotation) =>
        new Guid(SHA256.HashData(Encoding.UTF8.GetBytes("rotation-token|" + rotation.SecretArn + "|" + rotation.Token))[..16]).ToString();

    private enum StepStart
    {
        Started,
        LostLease,
        Abandoned,
        Changed,
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "resuming rotation of {SecretArn} (version {Token}) at {Step}")]
    private static partial void LogResuming(ILogger logger, string secretArn, string token, string step);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "rotation of {SecretArn} (version {Token}) ended: {Outcome}")]
    private static partial void LogCompleted(ILogger logger, string secretArn, string token, string outcome);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "rotation of {SecretArn}: {Step} failed (attempt {Attempt}); retrying in {DelaySeconds:F1} s")]
    private static partial void LogRetrying(ILogger logger, string secretArn, string step, int attempt, double delaySeconds);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "rotation of {SecretArn}: {Step} failed on attempt {Attempt} ({Why}); rotation stopped")]
    private static partial void LogFailed(ILogger logger, string secretArn, string step, int attempt, string why);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "rotation of {SecretArn} (version {Token}) stopped: {Why}")]
    private static partial void LogStopped(ILogger logger, string secretArn, string token, string why);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Debug, Message = "rotation of {SecretArn} is held by another runner")]
    private static partial void LogLeaseBusy(ILogger logger, string secretArn);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Error, Message = "rotation engine fault on {SecretArn} (version {Token}): {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogEngineFault(ILogger logger, string secretArn, string token, string exceptionType, string exceptionMessage);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "could not write rotation logs to {LogGroup}: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogLogWriteFailed(ILogger logger, string logGroup, string exceptionType, string exceptionMessage);
}
