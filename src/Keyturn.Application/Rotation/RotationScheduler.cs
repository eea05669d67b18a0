using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Starts the rotations that are due: a secret with rotation enabled whose window has opened. A
/// secret whose last rotation failed and still holds AWSPENDING gets that same rotation re-attempted
/// (as AWS does: "That rotation will be reattempted"); otherwise a new version is created.
/// </summary>
public sealed partial class RotationScheduler(SecretServices services, IRotationLauncher launcher, TimeProvider timeProvider, ILogger<RotationScheduler> logger)
{
    public async Task<int> StartDueRotationsAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var started = await services.Store.WriteAsync(async (session, ct) =>
        {
            var launched = new List<(string Arn, string Token)>();
            foreach (var secret in await session.ListRotationEnabledAsync(ct).ConfigureAwait(false))
            {
                if (secret.IsDeleted || RotationSchedules.DueAt(secret) is not { } dueAt || dueAt > now)
                {
                    continue;
                }

                var rotations = await session.ListRotationsAsync(secret.Arn, openOnly: false, ct).ConfigureAwait(false);
                if (rotations.Any(r => r.Status.IsOpen()))
                {
                    continue;
                }

                var pending = RotationState.InProgressVersion(secret);
                if (pending is not null)
                {
                    var failed = rotations.FirstOrDefault(r => r.Token == pending.VersionId && r.Status == RotationStatus.Failed);
                    if (failed is null || RotationSchedules.RetryAt(secret, failed.UpdatedAt) is not { } retryAt || retryAt > now)
                    {
                        // Someone else's AWSPENDING, or already re-attempted in this window: leave it to the doctor.
                        continue;
                    }

                    try
                    {
                        await session.SaveRotationAsync(
                            failed with { Status = RotationStatus.Retrying, UpdatedAt = now, NextAttemptAt = null, Reason = "re-attempted in the next rotation window" },
                            ct).ConfigureAwait(false);
                    }
                    catch (RotationConflictException)
                    {
                        // It changed since it was listed: whoever changed it decides; the next pass looks again.
                        continue;
                    }

                    launched.Add((secret.Arn, pending.VersionId));
                    continue;
                }

                var token = Guid.NewGuid().ToString();
                var version = new SecretVersion(token, services.Now);
                secret.AddVersion(version);
                StageRules.Attach(secret, StagingLabels.Pending, version);
                VersionRetention.Enforce(secret, now);
                await session.SaveAsync(secret, ct).ConfigureAwait(false);
                await session.SaveRotationAsync(
                    new RotationRecord(secret.Arn, token, secret.Rotation!.LambdaArn!, RotationMode.Rotate, RotationStatus.Pending, null, 0, null, now, now, null),
                    ct).ConfigureAwait(false);
                launched.Add((secret.Arn, token));
            }

            return launched;
        }, cancellationToken).ConfigureAwait(false);

        foreach (var (arn, token) in started)
        {
            LogScheduled(logger, arn, token);
            launcher.Launch(arn, token);
        }

        return started.Count;
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "scheduled rotation of {SecretArn} started (version {Token})")]
    private static partial void LogScheduled(ILogger logger, string secretArn, string token);
}
