using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Ports;

/// <summary>The operations available inside one store transaction.</summary>
public interface ISecretSession
{
    /// <summary>Loads a secret with its versions and labels (values are loaded on demand).</summary>
    Secret? FindByArn(string arn);

    Secret? FindByName(string region, string name);

    /// <summary>Every secret of a region, with versions and labels but without values.</summary>
    IReadOnlyList<Secret> List(string region);

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
}
