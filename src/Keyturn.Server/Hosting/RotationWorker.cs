using Keyturn.Application.Rotation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Keyturn.Server.Hosting;

/// <summary>
/// Ends function processes a crash left running, resumes rotations left open by a crash or restart, then starts due
/// rotations on schedule and, on a cluster, takes over the open rotations whose node died or stalled (their lease
/// expired). On shutdown it waits for the running steps to stop their functions (SIGTERM, the grace period, SIGKILL)
/// so that none outlives the server.
/// </summary>
public sealed partial class RotationWorker(
    RotationEngine engine,
    RotationScheduler scheduler,
    RotationOptions options,
    FunctionProcessRecords functionProcesses,
    TimeProvider timeProvider,
    ILogger<RotationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Before any step runs: a step resumed beside its own orphaned earlier invocation would run twice at once.
        functionProcesses.EnsureDirectory();
        await functionProcesses.StopLeftoversAsync(options.FunctionStopGrace).ConfigureAwait(false);
        await engine.ResumeOpenRotationsAsync(stoppingToken).ConfigureAwait(false);
        await Task.WhenAll(ScheduleAsync(stoppingToken), TakeOverAsync(stoppingToken)).ConfigureAwait(false);
    }

    private async Task ScheduleAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.SchedulerInterval, timeProvider);
        do
        {
            try
            {
                await scheduler.StartDueRotationsAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSchedulerFailed(logger, e.GetType().Name, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Looks for open rotations nobody runs every <see cref="RotationOptions.TakeoverInterval"/>, so a rotation whose node
    /// died is resumed by another within about that long of its lease expiring (at most one lease lifetime after its last
    /// renewal).
    /// </summary>
    private async Task TakeOverAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(options.TakeoverInterval.Ticks, (options.LeaseLifetime / 2).Ticks)), timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await engine.ResumeOrphanedAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSchedulerFailed(logger, e.GetType().Name, e.Message);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        engine.Stop();
        try
        {
            // The steps in flight stop their functions' process groups before they return.
            await engine.WaitForIdleAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogShutdownTimedOut(logger, engine.RunningCount);
        }
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "the rotation scheduler failed: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogSchedulerFailed(ILogger logger, string exceptionType, string exceptionMessage);

    [LoggerMessage(EventId = 2202, Level = LogLevel.Error, Message = "shutdown timed out with {Count} rotations still stopping their functions; the next start ends what they left running")]
    private static partial void LogShutdownTimedOut(ILogger logger, int count);
}
