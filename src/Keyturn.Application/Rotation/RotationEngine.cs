using System.Collections.Concurrent;
using Keyturn.Application.Logs;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Runs rotations in the background: one step at a time, a journal entry committed before each step and after it,
/// retries with backoff for transient errors, and a clean stop with the reason for permanent ones. A runner works
/// under the secret's lease (<see cref="RotationLease"/>): every write it makes (journal, record, labels, completion)
/// is fenced by the lease's token, so on a cluster each rotation has one runner at a time and a runner that lost the
/// lease (taken over after a pause, a partition, a crash) can change nothing. After a crash,
/// <see cref="ResumeOpenRotationsAsync"/> (and <see cref="ResumeOrphanedAsync"/> on every node) continues every open
/// rotation from its first unfinished step; the steps are idempotent, so repeating a half-done one is safe.
/// </summary>
public sealed partial class RotationEngine(
    ISecretStore store,
    SecretServices services,
    RotationFunctionRegistry functions,
    ILogSink logSink,
    RotationOptions options,
    TimeProvider timeProvider,
    ILogger<RotationEngine> logger,
    RotationNode? node = null) : IRotationLauncher, IDisposable
{
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(options.MaxConcurrentRotations, options.MaxConcurrentRotations);
    private readonly CancellationTokenSource _stopping = new();
    private readonly RotationStepExecutor _executor = new(services, functions, logSink, options, timeProvider, logger);
    private bool _disposed;

    /// <summary>This engine's lease owner id, unique across the cluster.</summary>
    public RotationNode Node { get; } = node ?? RotationNode.ForThisProcess();

    /// <summary>Rotations running in this process (for status output and tests).</summary>
    public int RunningCount => _running.Count(r => !r.Value.IsCompleted);

    /// <inheritdoc/>
    public int FreeSlots => Math.Max(0, options.MaxConcurrentRotations - RunningCount);

    public void Launch(string secretArn, string token) => Start(secretArn, token, waitForLease: true, onlyIfIdle: false);

    /// <summary>
    /// Continues every rotation left open (after a restart or a crash), waiting out a lease that is still live: after a
    /// restart of this node, its own earlier runner's lease.
    /// </summary>
    public async Task ResumeOpenRotationsAsync(CancellationToken cancellationToken)
    {
        foreach (var rotation in await OpenRotationsAsync(cancellationToken).ConfigureAwait(false))
        {
            LogResuming(logger, rotation.SecretArn, rotation.Token, rotation.Step?.WireName() ?? "start");
            Launch(rotation.SecretArn, rotation.Token);
        }
    }

    /// <summary>
    /// One pass of the cluster's takeover: starts a runner for open rotations nobody here runs, in random order (so two
    /// nodes don't contend for the same first one) and only while slots are free (a busy node leaves the rest to the
    /// others). A runner that finds the lease held by a live owner ends at once; one whose owner died or was paused
    /// past its lease takes over. Returns how many runners it started.
    /// </summary>
    public async Task<int> ResumeOrphanedAsync(CancellationToken cancellationToken)
    {
        var open = (await OpenRotationsAsync(cancellationToken).ConfigureAwait(false)).ToArray();
        Random.Shared.Shuffle(open);
        var started = 0;
        foreach (var rotation in open)
        {
            if (FreeSlots == 0)
            {
                break;
            }

            if (Start(rotation.SecretArn, rotation.Token, waitForLease: false, onlyIfIdle: true))
            {
                started++;
            }
        }

        return started;
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

    private ValueTask<IReadOnlyList<RotationRecord>> OpenRotationsAsync(CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.ListRotationsAsync(null, openOnly: true, ct), cancellationToken);

    private bool Start(string secretArn, string token, bool waitForLease, bool onlyIfIdle)
    {
        lock (_running)
        {
            var busy = _running.TryGetValue(secretArn, out var existing) && !existing.IsCompleted;
            if (_disposed || (busy && onlyIfIdle))
            {
                return false;
            }

            // One runner per secret in this process. A runner still busy with the secret may already be past its last
            // look at the rotations (releasing its lease after completing), so a new launch runs after it instead of
            // being dropped; a repeated launch of the same rotation then finds it closed and ends.
            _running[secretArn] = busy
                ? existing!.ContinueWith(_ => RunGuardedAsync(secretArn, token, waitForLease), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap()
                : Task.Run(() => RunGuardedAsync(secretArn, token, waitForLease));
            return true;
        }
    }

    private async Task RunGuardedAsync(string secretArn, string token, bool waitForLease)
    {
        try
        {
            await _slots.WaitAsync(_stopping.Token).ConfigureAwait(false);
            try
            {
                await RunAsync(secretArn, token, waitForLease, _stopping.Token).ConfigureAwait(false);
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
        catch (LeaseLostException e)
        {
            // Not a fault: another runner holds the rotation now and goes on from the journal.
            LogLeaseLost(logger, secretArn, token, e.Fence.Token);
        }
        catch (Exception e)
        {
            LogEngineFault(logger, secretArn, token, e.GetType().Name, e.Message);
        }
    }

    private async Task RunAsync(string secretArn, string token, bool waitForLease, CancellationToken cancellationToken)
    {
        // An explicit launch waits out a live lease for up to three lifetimes (this node's own earlier runner finishing,
        // or a restarted node's); the takeover pass doesn't wait: the next pass looks again.
        var lease = await RotationLease.AcquireAsync(
            store, Node, secretArn, waitForLease ? options.LeaseLifetime * 3 : TimeSpan.Zero,
            async ct => (await FindRotationAsync(secretArn, token, ct).ConfigureAwait(false))?.Status.IsOpen() == true,
            options, timeProvider, logger, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            // Another live runner holds this secret and keeps renewing; it will finish the rotation.
            LogLeaseBusy(logger, secretArn);
            return;
        }

        await using (lease.ConfigureAwait(false))
        {
            var waited = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                // Everything below is decided from what is stored now, under a lease renewed just before: a runner that
                // lost it since its last step (a retry wait longer than the lease, a pause) stops here.
                await lease.RefreshAsync(cancellationToken).ConfigureAwait(false);
                var rotation = await FindRotationAsync(secretArn, token, cancellationToken).ConfigureAwait(false);
                var journal = rotation is null
                    ? []
                    : await store.ReadAsync((session, ct) => session.ReadJournalAsync(secretArn, token, ct), cancellationToken).ConfigureAwait(false);
                switch (RotationDecision.Decide(rotation, journal, timeProvider.GetUtcNow()))
                {
                    case RotationDecision.Stop stop:
                        if (waited)
                        {
                            LogStopped(logger, secretArn, token, $"{stop.Why} after waiting to retry");
                        }

                        return;
                    case RotationDecision.WaitUntil wait:
                        // Read again after waiting: a CancelRotateSecret while the retry waited has closed the rotation.
                        await WaitForRetryAsync(rotation!, wait.At, cancellationToken).ConfigureAwait(false);
                        waited = true;
                        break;
                    case RotationDecision.Complete:
                        await CompleteAsync(rotation!, lease).ConfigureAwait(false);
                        return;
                    case RotationDecision.Run run:
                        if (!await RunStepAsync(rotation!, run.Step, run.Attempt, lease, cancellationToken).ConfigureAwait(false))
                        {
                            return;
                        }

                        break;
                }
            }
        }
    }

    private ValueTask<RotationRecord?> FindRotationAsync(string secretArn, string token, CancellationToken cancellationToken) =>
        store.ReadAsync((session, ct) => session.FindRotationAsync(secretArn, token, ct), cancellationToken);

    /// <summary>
    /// Runs one attempt of one step; false when the rotation stopped (failed, abandoned, cancelled). Every record write
    /// is a compare-and-swap on the copy <paramref name="rotation"/> was read at: when the record moved on (a
    /// CancelRotateSecret), the step doesn't start, or its outcome doesn't overwrite the record, and the rotation stops.
    /// <para>
    /// Why a runner that loses its lease mid-step can't set the database password twice to different values: the step's
    /// external effect happens between its fenced begin entry and its fenced end entry. Once another node took the lease
    /// (after it expired: a paused runner is never judged dead early), the stale runner's end entry, next step, label
    /// moves and completion are all refused, so it can neither move the rotation on nor start another one; the new owner
    /// sees a begun step without an end and repeats it, exactly as after a crash (the built-in functions probe which
    /// password logs in before changing it). What the stale runner may still apply is the one command already in flight,
    /// and that carries the AWSPENDING value of this rotation's own token, which never changes once written (a
    /// different value under the same version id is refused): the same password the new owner sets and then makes
    /// AWSCURRENT. Its running step is also cancelled the moment its lease is lost or not renewed in time.
    /// </para>
    /// </summary>
    private async Task<bool> RunStepAsync(RotationRecord rotation, RotationStep step, int attempt, RotationLease lease, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var (started, running) = await lease.WriteAsync<(StepStart, RotationRecord?)>(async (session, ct) =>
        {
            // A value write during the rotation took AWSPENDING away: AWS calls that abandoning it.
            if (rotation.Mode == RotationMode.Rotate && AbandonedBy(await session.FindByArnAsync(rotation.SecretArn, ct).ConfigureAwait(false), rotation.Token) is { } why)
            {
                var abandoned = await TrySaveAsync(session, rotation with { Status = RotationStatus.Abandoned, Reason = why, UpdatedAt = now, NextAttemptAt = null }, ct).ConfigureAwait(false);
                return (abandoned is null ? StepStart.Changed : StepStart.Abandoned, null);
            }

            // The record first: the journal's begin entry is written only for a step that really starts.
            if (await TrySaveAsync(session, rotation with { Status = RotationStatus.Running, Step = step, Attempt = attempt, Reason = null, UpdatedAt = now, NextAttemptAt = null }, ct).ConfigureAwait(false) is not { } saved)
            {
                return (StepStart.Changed, null);
            }

            await session.AppendJournalAsync(new JournalEntry(rotation.SecretArn, rotation.Token, step, attempt, JournalPhase.Begin, null, null, now, Node.Id, lease.Fence.Token), ct).ConfigureAwait(false);
            return (StepStart.Started, saved);
        }, cancellationToken).ConfigureAwait(false);

        if (running is null)
        {
            LogStopped(logger, rotation.SecretArn, rotation.Token, started == StepStart.Changed ? ChangedReason : started.ToString());
            return false;
        }

        var outcome = await _executor.InvokeAsync(running, step, attempt, lease, cancellationToken).ConfigureAwait(false);
        await FaultInjection.PauseAsync("invoked", step, cancellationToken).ConfigureAwait(false);
        var end = timeProvider.GetUtcNow();
        var retry = !outcome.Succeeded && options.Retry.ShouldRetry(attempt, outcome.Permanent);
        var delay = retry ? options.Retry.DelayAfter(attempt, Random.Shared.NextDouble()) : TimeSpan.Zero;
        var ended = await lease.WriteAsync(async (session, ct) =>
        {
            // The journal keeps what the invocation did even when the rotation was cancelled meanwhile; the record doesn't change then.
            await session.AppendJournalAsync(new JournalEntry(rotation.SecretArn, rotation.Token, step, attempt, JournalPhase.End, outcome.Succeeded, outcome.Reason, end, Node.Id, lease.Fence.Token), ct).ConfigureAwait(false);
            var status = outcome.Succeeded ? RotationStatus.Running : retry ? RotationStatus.Retrying : RotationStatus.Failed;
            return await TrySaveAsync(session, running with
            {
                Status = status,
                Step = step,
                Attempt = attempt,
                Reason = outcome.Succeeded ? null : outcome.Reason,
                UpdatedAt = end,
                NextAttemptAt = retry ? end + delay : null,
            }, ct).ConfigureAwait(false) is not null;
        }, CancellationToken.None).ConfigureAwait(false);
        await FaultInjection.PauseAsync("end", step, cancellationToken).ConfigureAwait(false);

        if (!ended)
        {
            LogStopped(logger, rotation.SecretArn, rotation.Token, ChangedReason);
            return false;
        }

        if (outcome.Succeeded)
        {
            return true;
        }

        if (retry)
        {
            LogRetrying(logger, rotation.SecretArn, step.WireName(), attempt, delay.TotalSeconds);
            return true;
        }

        LogFailed(logger, rotation.SecretArn, step.WireName(), attempt, outcome.Permanent ? "permanent" : "attempts exhausted");
        return false;
    }

    /// <summary>
    /// Marks success (labels checked, AWSPENDING stripped, dates moved), as the AWS backend does after finishSecret: in
    /// one fenced transaction with the compare-and-swap of the record, so a rotation cancelled since it was read keeps
    /// its labels and a runner that lost its lease moves none.
    /// </summary>
    private async Task CompleteAsync(RotationRecord rotation, RotationLease lease)
    {
        var now = timeProvider.GetUtcNow();
        var outcome = await lease.WriteAsync<RotationStatus?>(async (session, ct) =>
        {
            var secret = await session.FindByArnAsync(rotation.SecretArn, ct).ConfigureAwait(false);
            var version = secret?.FindVersion(rotation.Token);
            if (secret is null || version is null)
            {
                return (await TrySaveAsync(session, rotation with { Status = RotationStatus.Abandoned, Reason = "The secret or its rotation version no longer exists.", UpdatedAt = now }, ct).ConfigureAwait(false))?.Status;
            }

            if (rotation.Mode == RotationMode.Rotate && !version.HasStage(StagingLabels.Current))
            {
                return (await TrySaveAsync(session, rotation with
                {
                    Status = RotationStatus.Failed,
                    Reason = $"finishSecret returned, but version {rotation.Token} doesn't hold AWSCURRENT.",
                    UpdatedAt = now,
                }, ct).ConfigureAwait(false))?.Status;
            }

            // The record first: no label moves for a rotation that changed since it was read.
            if (await TrySaveAsync(session, rotation with { Status = RotationStatus.Succeeded, Reason = null, UpdatedAt = now, NextAttemptAt = null }, ct).ConfigureAwait(false) is null)
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

            await session.SaveAsync(secret, ct).ConfigureAwait(false);
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
    private static async ValueTask<RotationRecord?> TrySaveAsync(ISecretSession session, RotationRecord rotation, CancellationToken cancellationToken)
    {
        try
        {
            return await session.SaveRotationAsync(rotation, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Waits for a retry (the lease renews itself meanwhile); ends early when the record changes (a CancelRotateSecret),
    /// so the lease is let go at once instead of after the retry delay.
    /// </summary>
    private async Task WaitForRetryAsync(RotationRecord rotation, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var period = options.LeaseLifetime / 3;
        for (var now = timeProvider.GetUtcNow(); now < until; now = timeProvider.GetUtcNow())
        {
            await Task.Delay(until - now < period ? until - now : period, timeProvider, cancellationToken).ConfigureAwait(false);
            if ((await FindRotationAsync(rotation.SecretArn, rotation.Token, cancellationToken).ConfigureAwait(false))?.Version != rotation.Version)
            {
                return;
            }
        }
    }

    private enum StepStart
    {
        Started,
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

    [LoggerMessage(EventId = 2009, Level = LogLevel.Information, Message = "rotation of {SecretArn} (version {Token}) left to another runner: this one's lease (fencing token {Fencing}) was lost, and nothing more was written")]
    private static partial void LogLeaseLost(ILogger logger, string secretArn, string token, long fencing);
}
