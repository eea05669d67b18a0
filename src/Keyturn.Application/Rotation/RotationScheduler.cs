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
/// <para>
/// On a cluster every node runs this pass. Each due secret is opened in its own write unit, which reads the secret and
/// its rotations for update and decides again, so two nodes never open the same rotation twice; the candidates are
/// taken in random order and no more than this node has free slots for, so the work spreads over the nodes instead of
/// queueing on whichever scanned first.
/// </para>
/// </summary>
public sealed partial class RotationScheduler(SecretServices services, ISecretStore store, IRotationLauncher launcher, TimeProvider timeProvider, ILogger<RotationScheduler> logger)
{
    public async Task<int> StartDueRotationsAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var due = await store.ReadAsync(async (session, ct) =>
            (await session.ListRotationEnabledAsync(ct).ConfigureAwait(false)).Where(s => IsDue(s, now)).Select(s => s.Arn).ToArray(), cancellationToken).ConfigureAwait(false);
        Random.Shared.Shuffle(due);

        var started = 0;
        foreach (var arn in due)
        {
            if (launcher.FreeSlots <= 0)
            {
                // Busy: the others (or this node's next pass) take the rest.
                break;
            }

            var newToken = Guid.NewGuid().ToString();
            var versionCreated = services.Now;
            var token = await store.WriteAsync((session, ct) => OpenAsync(session, arn, newToken, versionCreated, now, ct), cancellationToken).ConfigureAwait(false);
            if (token is null)
            {
                continue;
            }

            LogScheduled(logger, arn, token);
            launcher.Launch(arn, token);
            started++;
        }

        return started;
    }

    private static bool IsDue(Secret secret, DateTimeOffset now) =>
        !secret.IsDeleted && RotationSchedules.DueAt(secret) is { } dueAt && dueAt <= now;

    /// <summary>Opens the secret's due rotation, or null when it isn't due (any more): read again under the unit's lock.</summary>
    private static async ValueTask<string?> OpenAsync(ISecretSession session, string arn, string newToken, DateTimeOffset versionCreated, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var secret = await session.FindByArnAsync(arn, cancellationToken).ConfigureAwait(false);
        if (secret is null || !IsDue(secret, now))
        {
            return null;
        }

        var rotations = await session.ListRotationsAsync(secret.Arn, openOnly: false, cancellationToken).ConfigureAwait(false);
        if (rotations.Any(r => r.Status.IsOpen()))
        {
            return null;
        }

        var pending = RotationState.InProgressVersion(secret);
        if (pending is not null)
        {
            var failed = rotations.FirstOrDefault(r => r.Token == pending.VersionId && r.Status == RotationStatus.Failed);
            if (failed is null || RotationSchedules.RetryAt(secret, failed.UpdatedAt) is not { } retryAt || retryAt > now)
            {
                // Someone else's AWSPENDING, or already re-attempted in this window: leave it to the doctor.
                return null;
            }

            try
            {
                await session.SaveRotationAsync(failed with { Status = RotationStatus.Retrying, UpdatedAt = now, NextAttemptAt = null, Reason = "re-attempted in the next rotation window" }, cancellationToken).ConfigureAwait(false);
            }
            catch (RotationConflictException)
            {
                // It changed since it was listed: whoever changed it decides; the next pass looks again.
                return null;
            }

            return pending.VersionId;
        }

        var version = new SecretVersion(newToken, versionCreated);
        secret.AddVersion(version);
        StageRules.Attach(secret, StagingLabels.Pending, version);
        VersionRetention.Enforce(secret, now);
        await session.SaveAsync(secret, cancellationToken).ConfigureAwait(false);
        await session.SaveRotationAsync(new RotationRecord(secret.Arn, newToken, secret.Rotation!.LambdaArn!, RotationMode.Rotate, RotationStatus.Pending, null, 0, null, now, now, null), cancellationToken).ConfigureAwait(false);
        return newToken;
    }

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "scheduled rotation of {SecretArn} started (version {Token})")]
    private static partial void LogScheduled(ILogger logger, string secretArn, string token);
}
