namespace Keyturn.Domain.Secrets;

/// <summary>
/// Rotation facts read off the labels. RotateSecret refuses to start a rotation ("A previous rotation isn't
/// complete. That rotation will be reattempted.") while a version holds AWSPENDING without AWSCURRENT; the
/// doctor's repairs must leave the labels in a state this rule accepts.
/// </summary>
public static class RotationState
{
    /// <summary>The version holding AWSPENDING without AWSCURRENT: a rotation that hasn't finished.</summary>
    public static SecretVersion? InProgressVersion(Secret secret) =>
        secret.HolderOf(StagingLabels.Pending) is { } pending && IsInProgress(pending.Stages) ? pending : null;

    /// <summary>The same rule on a label map (DescribeSecret's VersionIdsToStages): the id of the unfinished rotation's version, or null.</summary>
    public static string? InProgressVersion(IReadOnlyDictionary<string, IReadOnlyList<string>> versionIdsToStages)
    {
        foreach (var (versionId, stages) in versionIdsToStages)
        {
            if (IsInProgress(stages))
            {
                return versionId;
            }
        }

        return null;
    }

    /// <summary>Whether RotateSecret's label check lets a new rotation start.</summary>
    public static bool AcceptsRotation(IReadOnlyDictionary<string, IReadOnlyList<string>> versionIdsToStages) =>
        InProgressVersion(versionIdsToStages) is null;

    private static bool IsInProgress(IReadOnlyList<string> stages) =>
        stages.Contains(StagingLabels.Pending, StringComparer.Ordinal) && !stages.Contains(StagingLabels.Current, StringComparer.Ordinal);
}
