using Keyturn.Application.Ports;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Keyturn.Server.Hosting;

/// <summary>Deletes secrets whose recovery window has ended (DeleteSecret without force).</summary>
public sealed partial class DeletionPurgeService(ISecretStore store, TimeProvider timeProvider, ServerOptions options, ILogger<DeletionPurgeService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.PurgeInterval, timeProvider);
        do
        {
            try
            {
                var purged = await store.WriteAsync(async (session, ct) =>
                {
                    var due = await session.ListDueForPurgeAsync(timeProvider.GetUtcNow(), ct).ConfigureAwait(false);
                    foreach (var secret in due)
                    {
                        await session.DeleteAsync(secret, ct).ConfigureAwait(false);
                    }

                    return due.Select(s => s.Arn).ToList();
                }, stoppingToken).ConfigureAwait(false);
                foreach (var arn in purged)
                {
                    LogPurged(logger, arn);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPurgeFailed(logger, e.GetType().Name, e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "purged secret {Arn} after its recovery window")]
    private static partial void LogPurged(ILogger logger, string arn);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "purging deleted secrets failed: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogPurgeFailed(ILogger logger, string exceptionType, string exceptionMessage);
}
