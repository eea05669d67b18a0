using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Storage.Sqlite;

// The synchronous port, kept only while the rotation engine still uses it; it goes with ISyncSecretSession. Every
// asynchronous call of this session has completed when it returns (see the class), so Result and GetResult never wait.
internal sealed partial class SqliteSecretSession : ISyncSecretSession
{
    Secret? ISyncSecretSession.FindByArn(string arn) => FindByArnAsync(arn, default).Result;

    Secret? ISyncSecretSession.FindByName(string region, string name) => FindByNameAsync(region, name, default).Result;

    IReadOnlyList<Secret> ISyncSecretSession.List(string region) => ListAsync(region, default).Result;

    IReadOnlyList<Secret> ISyncSecretSession.ListMetadata(string region) => ListMetadataAsync(region, default).Result;

    IReadOnlyList<SecretListingKey> ISyncSecretSession.ListKeys(string region) => ListKeysAsync(region, default).Result;

    IReadOnlyList<Secret> ISyncSecretSession.FindByArns(IReadOnlyCollection<string> arns) => FindByArnsAsync(arns, default).Result;

    IReadOnlyList<Secret> ISyncSecretSession.ListDueForPurge(DateTimeOffset now) => ListDueForPurgeAsync(now, default).Result;

    IReadOnlyList<Secret> ISyncSecretSession.ListRotationEnabled() => ListRotationEnabledAsync(default).Result;

    bool ISyncSecretSession.LoadValue(Secret secret, SecretVersion version) => LoadValueAsync(secret, version, default).Result;

    void ISyncSecretSession.Save(Secret secret) => SaveAsync(secret, default).GetAwaiter().GetResult();

    void ISyncSecretSession.SaveAccess(Secret secret, SecretVersion version) => SaveAccessAsync(secret, version, default).GetAwaiter().GetResult();

    void ISyncSecretSession.Delete(Secret secret) => DeleteAsync(secret, default).GetAwaiter().GetResult();

    AccessKeyRecord? ISyncSecretSession.FindAccessKey(string accessKeyId) => FindAccessKeyAsync(accessKeyId, default).Result;

    IReadOnlyList<AccessKeyRecord> ISyncSecretSession.ListAccessKeys() => ListAccessKeysAsync(default).Result;

    void ISyncSecretSession.SaveAccessKey(AccessKeyRecord key) => SaveAccessKeyAsync(key, default).GetAwaiter().GetResult();

    RotationRecord? ISyncSecretSession.FindRotation(string secretArn, string token) => FindRotationAsync(secretArn, token, default).Result;

    IReadOnlyList<RotationRecord> ISyncSecretSession.ListRotations(string? secretArn, bool openOnly) => ListRotationsAsync(secretArn, openOnly, default).Result;

    RotationRecord ISyncSecretSession.SaveRotation(RotationRecord rotation) => SaveRotationAsync(rotation, default).Result;

    void ISyncSecretSession.AppendJournal(JournalEntry entry) => AppendJournalAsync(entry, default).GetAwaiter().GetResult();

    IReadOnlyList<JournalEntry> ISyncSecretSession.ReadJournal(string secretArn, string token) => ReadJournalAsync(secretArn, token, default).Result;

    long? ISyncSecretSession.AcquireLease(string resource, string owner, DateTimeOffset now, TimeSpan lifetime, Func<string, bool>? ownerIsGone) =>
        AcquireLeaseAsync(resource, owner, now, lifetime, ownerIsGone, default).Result;

    bool ISyncSecretSession.HoldsLease(string resource, string owner, long fencing, DateTimeOffset now) => HoldsLeaseAsync(resource, owner, fencing, now, default).Result;

    void ISyncSecretSession.ReleaseLease(string resource, string owner) => ReleaseLeaseAsync(resource, owner, default).GetAwaiter().GetResult();

    FunctionRecord? ISyncSecretSession.FindFunction(string name) => FindFunctionAsync(name, default).Result;

    IReadOnlyList<FunctionRecord> ISyncSecretSession.ListFunctions() => ListFunctionsAsync(default).Result;

    void ISyncSecretSession.SaveFunction(FunctionRecord function) => SaveFunctionAsync(function, default).GetAwaiter().GetResult();

    bool ISyncSecretSession.DeleteFunction(string name) => DeleteFunctionAsync(name, default).Result;

    FunctionPolicy? ISyncSecretSession.FindFunctionPolicy(string name) => FindFunctionPolicyAsync(name, default).Result;

    void ISyncSecretSession.SaveFunctionPolicy(FunctionPolicy policy) => SaveFunctionPolicyAsync(policy, default).GetAwaiter().GetResult();

    bool ISyncSecretSession.DeleteFunctionPolicy(string name) => DeleteFunctionPolicyAsync(name, default).Result;

    bool ISyncSecretSession.HoldsData() => HoldsDataAsync(default).Result;

    IReadOnlyList<string> ISyncSecretSession.SealingKeyIds() => SealingKeyIdsAsync(default).Result;

    IReadOnlyDictionary<string, long> ISyncSecretSession.CountSealedByKey() => CountSealedByKeyAsync(default).Result;

    IReadOnlyList<MasterKeyState> ISyncSecretSession.ListMasterKeys() => ListMasterKeysAsync(default).Result;

    void ISyncSecretSession.SaveMasterKey(MasterKeyState key) => SaveMasterKeyAsync(key, default).GetAwaiter().GetResult();

    IReadOnlyList<SealedBlob> ISyncSecretSession.ListSealedByOtherThan(string keyId, int limit) => ListSealedByOtherThanAsync(keyId, limit, default).Result;

    bool ISyncSecretSession.ReplaceSealed(SealedBlob blob, byte[] replacement) => ReplaceSealedAsync(blob, replacement, default).Result;
}
