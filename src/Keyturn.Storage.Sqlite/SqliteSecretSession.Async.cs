using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Storage.Sqlite;

// Microsoft.Data.Sqlite does its I/O synchronously whatever the API, so the asynchronous port completes at once here.
internal sealed partial class SqliteSecretSession : ISecretSession
{
    ValueTask<IReadOnlyList<string>> ISecretSession.ListRegionsAsync(CancellationToken cancellationToken)
    {
        using var command = Command("SELECT DISTINCT region FROM secrets ORDER BY region");
        using var reader = command.ExecuteReader();
        var regions = new List<string>();
        while (reader.Read())
        {
            regions.Add(reader.GetString(0));
        }

        return new(regions);
    }

    ValueTask<Secret?> ISecretSession.FindByArnAsync(string arn, CancellationToken cancellationToken) => new(FindByArn(arn));

    ValueTask<Secret?> ISecretSession.FindByNameAsync(string region, string name, CancellationToken cancellationToken) => new(FindByName(region, name));

    ValueTask<IReadOnlyList<Secret>> ISecretSession.ListAsync(string region, CancellationToken cancellationToken) => new(List(region));

    ValueTask<IReadOnlyList<Secret>> ISecretSession.ListMetadataAsync(string region, CancellationToken cancellationToken) => new(ListMetadata(region));

    ValueTask<IReadOnlyList<SecretListingKey>> ISecretSession.ListKeysAsync(string region, CancellationToken cancellationToken) => new(ListKeys(region));

    ValueTask<IReadOnlyList<Secret>> ISecretSession.FindByArnsAsync(IReadOnlyCollection<string> arns, CancellationToken cancellationToken) => new(FindByArns(arns));

    ValueTask<IReadOnlyList<Secret>> ISecretSession.ListDueForPurgeAsync(DateTimeOffset now, CancellationToken cancellationToken) => new(ListDueForPurge(now));

    ValueTask<IReadOnlyList<Secret>> ISecretSession.ListRotationEnabledAsync(CancellationToken cancellationToken) => new(ListRotationEnabled());

    ValueTask<bool> ISecretSession.LoadValueAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken) => new(LoadValue(secret, version));

    ValueTask ISecretSession.SaveAsync(Secret secret, CancellationToken cancellationToken)
    {
        Save(secret);
        return ValueTask.CompletedTask;
    }

    ValueTask ISecretSession.SaveAccessAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken)
    {
        SaveAccess(secret, version);
        return ValueTask.CompletedTask;
    }

    ValueTask ISecretSession.DeleteAsync(Secret secret, CancellationToken cancellationToken)
    {
        Delete(secret);
        return ValueTask.CompletedTask;
    }

    ValueTask<AccessKeyRecord?> ISecretSession.FindAccessKeyAsync(string accessKeyId, CancellationToken cancellationToken) => new(FindAccessKey(accessKeyId));

    ValueTask<IReadOnlyList<AccessKeyRecord>> ISecretSession.ListAccessKeysAsync(CancellationToken cancellationToken) => new(ListAccessKeys());

    ValueTask ISecretSession.SaveAccessKeyAsync(AccessKeyRecord key, CancellationToken cancellationToken)
    {
        SaveAccessKey(key);
        return ValueTask.CompletedTask;
    }

    ValueTask<RotationRecord?> ISecretSession.FindRotationAsync(string secretArn, string token, CancellationToken cancellationToken) => new(FindRotation(secretArn, token));

    ValueTask<IReadOnlyList<RotationRecord>> ISecretSession.ListRotationsAsync(string? secretArn, bool openOnly, CancellationToken cancellationToken) => new(ListRotations(secretArn, openOnly));

    ValueTask<RotationRecord> ISecretSession.SaveRotationAsync(RotationRecord rotation, CancellationToken cancellationToken) => new(SaveRotation(rotation));

    ValueTask ISecretSession.AppendJournalAsync(JournalEntry entry, CancellationToken cancellationToken)
    {
        AppendJournal(entry);
        return ValueTask.CompletedTask;
    }

    ValueTask<IReadOnlyList<JournalEntry>> ISecretSession.ReadJournalAsync(string secretArn, string token, CancellationToken cancellationToken) => new(ReadJournal(secretArn, token));

    ValueTask<long?> ISecretSession.AcquireLeaseAsync(string resource, string owner, DateTimeOffset now, TimeSpan lifetime, Func<string, bool>? ownerIsGone, CancellationToken cancellationToken) => new(AcquireLease(resource, owner, now, lifetime, ownerIsGone));

    ValueTask<bool> ISecretSession.HoldsLeaseAsync(string resource, string owner, long fencing, DateTimeOffset now, CancellationToken cancellationToken) => new(HoldsLease(resource, owner, fencing, now));

    ValueTask ISecretSession.ReleaseLeaseAsync(string resource, string owner, CancellationToken cancellationToken)
    {
        ReleaseLease(resource, owner);
        return ValueTask.CompletedTask;
    }

    ValueTask<FunctionRecord?> ISecretSession.FindFunctionAsync(string name, CancellationToken cancellationToken) => new(FindFunction(name));

    ValueTask<IReadOnlyList<FunctionRecord>> ISecretSession.ListFunctionsAsync(CancellationToken cancellationToken) => new(ListFunctions());

    ValueTask ISecretSession.SaveFunctionAsync(FunctionRecord function, CancellationToken cancellationToken)
    {
        SaveFunction(function);
        return ValueTask.CompletedTask;
    }

    ValueTask<bool> ISecretSession.DeleteFunctionAsync(string name, CancellationToken cancellationToken) => new(DeleteFunction(name));

    ValueTask<FunctionPolicy?> ISecretSession.FindFunctionPolicyAsync(string name, CancellationToken cancellationToken) => new(FindFunctionPolicy(name));

    ValueTask ISecretSession.SaveFunctionPolicyAsync(FunctionPolicy policy, CancellationToken cancellationToken)
    {
        SaveFunctionPolicy(policy);
        return ValueTask.CompletedTask;
    }

    ValueTask<bool> ISecretSession.DeleteFunctionPolicyAsync(string name, CancellationToken cancellationToken) => new(DeleteFunctionPolicy(name));

    ValueTask<bool> ISecretSession.HoldsDataAsync(CancellationToken cancellationToken) => new(HoldsData());

    ValueTask<IReadOnlyList<string>> ISecretSession.SealingKeyIdsAsync(CancellationToken cancellationToken) => new(SealingKeyIds());

    ValueTask<IReadOnlyDictionary<string, long>> ISecretSession.CountSealedByKeyAsync(CancellationToken cancellationToken) => new(CountSealedByKey());

    ValueTask<IReadOnlyList<MasterKeyState>> ISecretSession.ListMasterKeysAsync(CancellationToken cancellationToken) => new(ListMasterKeys());

    ValueTask ISecretSession.SaveMasterKeyAsync(MasterKeyState key, CancellationToken cancellationToken)
    {
        SaveMasterKey(key);
        return ValueTask.CompletedTask;
    }

    ValueTask<IReadOnlyList<SealedBlob>> ISecretSession.ListSealedByOtherThanAsync(string keyId, int limit, CancellationToken cancellationToken) => new(ListSealedByOtherThan(keyId, limit));

    ValueTask<bool> ISecretSession.ReplaceSealedAsync(SealedBlob blob, byte[] replacement, CancellationToken cancellationToken) => new(ReplaceSealed(blob, replacement));
}
