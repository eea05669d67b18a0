using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// One label change the doctor may make. Every one is a compare-and-swap against the diagnosed state
/// (RemoveFromVersionId names the version that held the label when the secret was examined), and
/// <see cref="VerifyVersionId"/> names the version whose credentials must log in afterwards.
/// </summary>
public abstract record RepairAction(string Description, string? VerifyVersionId)
{
    /// <summary>The equivalent AWS CLI command, for people who want to do it by hand.</summary>
    public abstract string AwsCliCommand(string secretId);
}

/// <summary>Takes a label off a version (e.g. a stale AWSPENDING).</summary>
public sealed record RemoveLabel(string Label, string VersionId, string Why)
    : RepairAction($"Remove {Label} from version {VersionId}: {Why}", null)
{
    public override string AwsCliCommand(string secretId) =>
        $"aws secretsmanager update-secret-version-stage --secret-id {secretId} --version-stage {Label} --remove-from-version-id {VersionId}";
}

/// <summary>Moves AWSCURRENT (AWSPREVIOUS follows on its own); <see cref="FromVersionId"/> null when no version holds it.</summary>
public sealed record MoveCurrent(string ToVersionId, string? FromVersionId, string Why)
    : RepairAction($"Move AWSCURRENT to version {ToVersionId}{(FromVersionId is null ? "" : $" (from {FromVersionId})")}: {Why}", ToVersionId)
{
    public override string AwsCliCommand(string secretId) =>
        $"aws secretsmanager update-secret-version-stage --secret-id {secretId} --version-stage {StagingLabels.Current} --move-to-version-id {ToVersionId}"
        + (FromVersionId is null ? "" : $" --remove-from-version-id {FromVersionId}");
}

/// <summary>
/// Break-glass: no stored credential works, so set a new password through the master secret, store it
/// as a new version and make it AWSCURRENT. Only with an explicit flag.
/// </summary>
public sealed record BreakGlassReset(string? FromVersionId, string Why)
    : RepairAction($"Reset the password through the master secret and make the new version AWSCURRENT: {Why}", null)
{
    public override string AwsCliCommand(string secretId) =>
        $"# as the master user: ALTER USER ... PASSWORD '<new>'; then: aws secretsmanager put-secret-value --secret-id {secretId} --secret-string '<json with the new password>'";
}
