using Keyturn.Application.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Ports;

/// <summary>The synchronous port being retired: every caller moves to <see cref="ISecretSession"/>.</summary>
public partial interface ISyncSecretSession
{
    /// <summary>Loads a secret with its versions and labels (values are loaded on demand).</summary>
    Secret? FindByArn(string arn);

    Secret? FindByName(string region, string name);

    /// <summary>Every secret of a region, with versions and labels but without values.</summary>
    IReadOnlyList<Secret> List(string region);

    /// <summary>Every secret of a region with its metadata only (no versions): enough to filter and sort a listing.</summary>
    IReadOnlyList<Secret> ListMetadata(string region);

    /// <summary>
    /// Every secret of a region reduced to what the usual listing needs (name, creation and deletion dates): a
    /// ListSecrets page sorted by creation date or name, filtered by name at most, reads these instead of every
    /// secret's metadata.
    /// </summary>
    IReadOnlyList<SecretListingKey> ListKeys(string region);

    /// <summary>The secrets with these ARNs, with versions and labels, in no particular order.</summary>
    IReadOnlyList<Secret> FindByArns(IReadOnlyCollection<string> arns);

    /// <summary>Secrets (all regions) whose scheduled deletion date has passed.</summary>
    IReadOnlyList<Secret> ListDueForPurge(DateTimeOffset now);

    /// <summary>Secrets (all regions) that have rotation enabled.</summary>
    IReadOnlyList<Secret> ListRotationEnabled();

    /// <summary>Reads the encrypted value of a version into <see cref="SecretVersion.Value"/>; false if it has none.</summary>
    bool LoadValue(Secret secret, SecretVersion version);

    /// <summary>Inserts or updates the secret, its versions, labels and changed values; drops versions no longer present.</summary>
    void Save(Secret secret);

    /// <summary>Records a read without touching anything else (LastAccessedDate, day resolution).</summary>
    void SaveAccess(Secret secret, SecretVersion version);

    void Delete(Secret secret);

    AccessKeyRecord? FindAccessKey(string accessKeyId);

    IReadOnlyList<AccessKeyRecord> ListAccessKeys();

    void SaveAccessKey(AccessKeyRecord key);

    // Rotation bookkeeping lives in the same transactions as the labels it describes, so a crash
    // can never separate "AWSPENDING was attached" from "a rotation is open for it".
    RotationRecord? FindRotation(string secretArn, string token);

    /// <summary>Rotations, newest first; all secrets when <paramref name="secretArn"/> is null.</summary>
    IReadOnlyList<RotationRecord> ListRotations(string? secretArn, bool openOnly);

    /// <summary>
    /// Compare-and-swap: creates the record when <see cref="RotationRecord.Version"/> is 0 and none exists, or updates
    /// it when the stored revision still equals <see cref="RotationRecord.Version"/>. Returns the record as stored (its
    /// new revision); throws <see cref="RotationConflictException"/>, writing nothing, when the record changed since it
    /// was read (or already exists).
    /// </summary>
    RotationRecord SaveRotation(RotationRecord rotation);

    void AppendJournal(JournalEntry entry);

    IReadOnlyList<JournalEntry> ReadJournal(string secretArn, string token);

    /// <summary>
    /// Takes or renews a lease; returns its fencing token, or null while another live owner holds it.
    /// <paramref name="ownerIsGone"/> lets the caller take over at once from an owner it knows has died.
    /// </summary>
    long? AcquireLease(string resource, string owner, DateTimeOffset now, TimeSpan lifetime, Func<string, bool>? ownerIsGone = null);

    /// <summary>True when <paramref name="owner"/> still holds the lease with that fencing token.</summary>
    bool HoldsLease(string resource, string owner, long fencing, DateTimeOffset now);

    void ReleaseLease(string resource, string owner);

    FunctionRecord? FindFunction(string name);

    IReadOnlyList<FunctionRecord> ListFunctions();

    void SaveFunction(FunctionRecord function);

    bool DeleteFunction(string name);

    /// <summary>The administrator's settings for a function, or null when none were made (the default).</summary>
    FunctionPolicy? FindFunctionPolicy(string name);

    void SaveFunctionPolicy(FunctionPolicy policy);

    bool DeleteFunctionPolicy(string name);
}
