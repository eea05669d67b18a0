using Keyturn.Domain.Errors;

namespace Keyturn.Domain.Secrets;

/// <summary>
/// The staging-label rules of Secrets Manager (spec §4). Pure: every label change in Keyturn goes
/// through here, and the caller persists the whole result in one transaction.
/// </summary>
public static class StageRules
{
    /// <summary>
    /// Moves <paramref name="label"/> onto <paramref name="target"/>. Moving AWSCURRENT hands
    /// AWSPREVIOUS to the version that held AWSCURRENT before (spec §4.2 attach).
    /// </summary>
    public static void Attach(Secret secret, string label, SecretVersion target)
    {
        var holder = secret.HolderOf(label);
        if (ReferenceEquals(holder, target))
        {
            return;
        }

        holder?.RemoveStage(label);
        target.AddStage(label);

        if (holder is not null && label == StagingLabels.Current)
        {
            secret.HolderOf(StagingLabels.Previous)?.RemoveStage(StagingLabels.Previous);
            holder.AddStage(StagingLabels.Previous);

            // The version AWSCURRENT leaves also loses AWSPENDING: AWS snapshots show it for value
            // writes, and the field report's roll-back (update-secret-version-stage AWSCURRENT off a
            // version labelled [AWSCURRENT, AWSPENDING]) left that version with [AWSPREVIOUS] only.
            holder.RemoveStage(StagingLabels.Pending);
        }
    }

    /// <summary>
    /// Labels a freshly written value (CreateSecret, PutSecretValue, UpdateSecret; spec §4.3).
    /// <paramref name="requestedStages"/> null means the default <c>["AWSCURRENT"]</c>.
    /// </summary>
    public static IReadOnlyList<string> ApplyValueWrite(Secret secret, SecretVersion written, IReadOnlyList<string>? requestedStages)
    {
        // The request's labels are read in place (no copy per write); the default is AWSCURRENT alone.
        var stages = requestedStages ?? DefaultStages;
        foreach (var version in secret.Versions)
        {
            if (ReferenceEquals(stages, version.Stages))
            {
                // A version's own label list changes as labels move: iterate a copy of it.
                stages = [.. stages];
                break;
            }
        }

        var hadCurrent = secret.HolderOf(StagingLabels.Current) is not null;

        // The first value of a secret always becomes AWSCURRENT.
        var addsCurrent = !hadCurrent && !Contains(stages, StagingLabels.Current);
        var movesCurrent = (addsCurrent || Contains(stages, StagingLabels.Current))
            && !ReferenceEquals(secret.HolderOf(StagingLabels.Current), written);
        if (movesCurrent && !Contains(stages, StagingLabels.Pending))
        {
            // A new current value abandons any rotation in flight: AWSPENDING disappears from every
            // version (Terraform clears in-rotation state this way; the old current loses it in Attach).
            secret.HolderOf(StagingLabels.Pending)?.RemoveStage(StagingLabels.Pending);
        }

        for (var i = 0; i < stages.Count; i++)
        {
            Attach(secret, stages[i], written);
        }

        if (addsCurrent)
        {
            Attach(secret, StagingLabels.Current, written);
        }

        EnsureLabelQuota(secret);
        return written.Stages;
    }

    /// <summary>UpdateSecretVersionStage (spec §4.2): a compare-and-swap of one label.</summary>
    public static void UpdateVersionStage(Secret secret, string label, string? removeFromVersionId, string? moveToVersionId)
    {
        var holder = secret.HolderOf(label);

        if (moveToVersionId is not null)
        {
            var target = secret.FindVersion(moveToVersionId)
                ?? throw new ServiceException(ErrorKind.InvalidParameter,
                    $"The parameter MoveToVersionId is invalid: version {moveToVersionId} doesn't exist for this secret.");

            if (holder is not null && !ReferenceEquals(holder, target))
            {
                if (removeFromVersionId is null)
                {
                    throw new ServiceException(ErrorKind.InvalidParameter,
                        $"The parameter RemoveFromVersionId can't be empty. Staging label {label} is currently attached to version {holder.VersionId}, so you must explicitly reference that version in RemoveFromVersionId.");
                }

                if (!string.Equals(removeFromVersionId, holder.VersionId, StringComparison.Ordinal))
                {
                    throw new ServiceException(ErrorKind.InvalidParameter,
                        $"The parameter RemoveFromVersionId doesn't match. Staging label {label} is currently attached to version {holder.VersionId}, not to version {removeFromVersionId}.");
                }
            }
            else if (holder is null && removeFromVersionId is not null && secret.FindVersion(removeFromVersionId) is null)
            {
                throw new ServiceException(ErrorKind.InvalidParameter,
                    $"The parameter RemoveFromVersionId is invalid: version {removeFromVersionId} doesn't exist for this secret.");
            }

            Attach(secret, label, target);
            EnsureLabelQuota(secret);
            return;
        }

        if (removeFromVersionId is null)
        {
            throw new ServiceException(ErrorKind.InvalidParameter,
                "You must specify at least one of RemoveFromVersionId and MoveToVersionId.");
        }

        var source = secret.FindVersion(removeFromVersionId)
            ?? throw new ServiceException(ErrorKind.InvalidParameter,
                $"The parameter RemoveFromVersionId is invalid: version {removeFromVersionId} doesn't exist for this secret.");

        if (!source.HasStage(label))
        {
            throw new ServiceException(ErrorKind.InvalidParameter,
                $"The staging label {label} isn't attached to version {removeFromVersionId}, so it can't be removed from it.");
        }

        if (label == StagingLabels.Current)
        {
            // A secret with a value always has exactly one AWSCURRENT (invariant 3).
            throw new ServiceException(ErrorKind.InvalidParameter,
                "You can't remove the staging label AWSCURRENT from a version without moving it to another version. Specify MoveToVersionId.");
        }

        source.RemoveStage(label);
    }

    private static readonly string[] DefaultStages = [StagingLabels.Current];

    private static bool Contains(IReadOnlyList<string> stages, string label)
    {
        for (var i = 0; i < stages.Count; i++)
        {
            if (string.Equals(stages[i], label, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>At most 20 distinct labels across all versions of a secret.</summary>
    public static void EnsureLabelQuota(Secret secret)
    {
        if (secret.DistinctLabelCount() > StagingLabels.MaxLabelsPerSecret)
        {
            throw new ServiceException(ErrorKind.LimitExceeded,
                $"You have exceeded the maximum number of staging labels ({StagingLabels.MaxLabelsPerSecret}) that can be attached to the versions of a secret.");
        }
    }
}
