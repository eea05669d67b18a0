using Keyturn.Application.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Ports;

/// <summary>The operations available inside one store transaction (see <see cref="ISecretStore"/> for the locking rule).</summary>
public partial interface ISecretSession
{
    /// <summary>Loads a secret with its versions and labels (values are loaded on demand); for update in a write unit.</summary>
    ValueTask<Secret?> FindByArnAsync(string arn, CancellationToken cancellationToken);

    /// <summary>Like <see cref="FindByArnAsync"/>, by region and name.</summary>
    ValueTask<Secret?> FindByNameAsync(string region, string name, CancellationToken cancellationToken);

    /// <summary>Every region that holds at least one secret, in ordinal order (a whole-store copy walks them).</summary>
    ValueTask<IReadOnlyList<string>> ListRegionsAsync(CancellationToken cancellationToken);

    /// <summary>Every secret of a region, with versions and labels but without values.</summary>
    ValueTask<IReadOnlyList<Secret>> ListAsync(string region, CancellationToken cancellationToken);

    /// <summary>Every secret of a region with its metadata only (no versions): enough to filter and sort a listing.</summary>
    ValueTask<IReadOnlyList<Secret>> ListMetadataAsync(string region, CancellationToken cancellationToken);

    /// <summary>
    /// Every secret of a region reduced to what the usual listing needs (name, creation and deletion dates): a
    /// ListSecrets page sorted by creation date or name, filtered by name at most, reads these instead of every
    /// secret's metadata.
    /// </summary>
    ValueTask<IReadOnlyList<SecretListingKey>> ListKeysAsync(string region, CancellationToken cancellationToken);

    /// <summary>The secrets with these ARNs, with versions and labels, in no particular order.</summary>
    ValueTask<IReadOnlyList<Secret>> FindByArnsAsync(IReadOnlyCollection<string> arns, CancellationToken cancellationToken);

    /// <summary>Secrets (all regions) whose scheduled deletion date has passed.</summary>
    ValueTask<IReadOnlyList<Secret>> ListDueForPurgeAsync(DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Secrets (all regions) that have rotation enabled.</summary>
    ValueTask<IReadOnlyList<Secret>> ListRotationEnabledAsync(CancellationToken cancellationToken);

    /// <summary>Reads the encrypted value of a version into <see cref="SecretVersion.Value"/>; false if it has none.</summary>
    ValueTask<bool> LoadValueAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken);

    /// <summary>Inserts or updates the secret, its versions, labels and changed values; drops versions no longer present.</summary>
    ValueTask SaveAsync(Secret secret, CancellationToken cancellationToken);

    /// <summary>Records a read without touching anything else (LastAccessedDate, day resolution).</summary>
    ValueTask SaveAccessAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken);

    ValueTask DeleteAsync(Secret secret, CancellationToken cancellationToken);

    ValueTask<AccessKeyRecord?> FindAccessKeyAsync(string accessKeyId, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<AccessKeyRecord>> ListAccessKeysAsync(CancellationToken cancellationToken);

    ValueTask SaveAccessKeyAsync(AccessKeyRecord key, CancellationToken cancellationToken);

    // Rotation bookkeeping lives in the same transactions as the labels it describes, so a crash
    // can never separate "AWSPENDING was attached" from "a rotation is open for it".
    ValueTask<RotationRecord?> FindRotationAsync(string secretArn, string token, CancellationToken cancellationToken);

    /// <summary>Rotations, newest first; all secrets when <paramref name="secretArn"/> is null.</summary>
    ValueTask<IReadOnlyList<RotationRecord>> ListRotationsAsync(string? secretArn, bool openOnly, CancellationToken cancellationToken);

    /// <summary>
    /// Compare-and-swap: creates the record when <see cref="RotationRecord.Version"/> is 0 and none exists, or updates
    /// it when the stored revision still equals <see cref="RotationRecord.Version"/>. Returns the record as stored (its
    /// new revision); throws <see cref="RotationConflictException"/>, writing nothing, when the record changed since it
    /// was read (or already exists).
    /// </summary>
    ValueTask<RotationRecord> SaveRotationAsync(RotationRecord rotation, CancellationToken cancellationToken);

    ValueTask AppendJournalAsync(JournalEntry entry, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<JournalEntry>> ReadJournalAsync(string secretArn, string token, CancellationToken cancellationToken);

    /// <summary>
    /// Takes or renews a lease; returns its fencing token, or null while another live owner holds it. Every takeover
    /// from another owner issues a larger token than any before it on that resource.
    /// <paramref name="ownerIsGone"/> lets the caller take over at once from an owner it knows has died.
    /// </summary>
    ValueTask<long?> AcquireLeaseAsync(string resource, string owner, DateTimeOffset now, TimeSpan lifetime, Func<string, bool>? ownerIsGone, CancellationToken cancellationToken);

    /// <summary>True when <paramref name="owner"/> still holds the lease with that fencing token.</summary>
    ValueTask<bool> HoldsLeaseAsync(string resource, string owner, long fencing, DateTimeOffset now, CancellationToken cancellationToken);

    ValueTask ReleaseLeaseAsync(string resource, string owner, CancellationToken cancellationToken);

    ValueTask<FunctionRecord?> FindFunctionAsync(string name, CancellationToken cancellationToken);

    ValueTask<IReadOnlyList<FunctionRecord>> ListFunctionsAsync(CancellationToken cancellationToken);

    ValueTask SaveFunctionAsync(FunctionRecord function, CancellationToken cancellationToken);

    ValueTask<bool> DeleteFunctionAsync(string name, CancellationToken cancellationToken);

    /// <summary>The administrator's settings for a function, or null when none were made (the default).</summary>
    ValueTask<FunctionPolicy?> FindFunctionPolicyAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every policy an administrator set, by function name (a whole-store copy moves them all).</summary>
    ValueTask<IReadOnlyList<FunctionPolicy>> ListFunctionPoliciesAsync(CancellationToken cancellationToken);

    ValueTask SaveFunctionPolicyAsync(FunctionPolicy policy, CancellationToken cancellationToken);

    ValueTask<bool> DeleteFunctionPolicyAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A secret as <see cref="ISecretSession.ListKeysAsync"/> reads it.</summary>
public sealed record SecretListingKey(string Arn, string Name, DateTimeOffset CreatedDate, DateTimeOffset? DeletionDate, bool IsDeleted);
