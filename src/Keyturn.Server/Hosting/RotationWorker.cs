using Keyturn.Application.Rotation;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Keyturn.Server.Hosting;

/// <summary>Resumes rotations left open by a crash or restart, then starts due rotations on schedule.</summary>
public sealed partial class RotationWorker(RotationEngine engine, RotationScheduler scheduler, RotationOptions options, TimeProvider timeProvider, ILogger<RotationWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await engine.ResumeOpenRotationsAsync(stoppingToken).ConfigureAwait(false);
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        engine.Stop();
    }

    [LoggerMessage(EventId = 2201, Level = LogLevel.Warning, Message = "the rotation scheduler failed: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogSchedulerFailed(ILogger logger, string exceptionType, string exceptionMessage);
}
