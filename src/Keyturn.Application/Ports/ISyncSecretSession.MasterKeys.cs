namespace Keyturn.Application.Ports;

/// <summary>What is sealed by the master key: every blob of the store, found by the master key id its header records.</summary>
public partial interface ISyncSecretSession
{
    /// <summary>True when the store holds anything at all: secrets, access keys, functions or a registered master key.</summary>
    bool HoldsData();

    /// <summary>Every master key id that seals at least one blob (values, access keys' and functions' secret keys).</summary>
    IReadOnlyList<string> SealingKeyIds();

    /// <summary>How many blobs each master key id seals.</summary>
    IReadOnlyDictionary<string, long> CountSealedByKey();

    /// <summary>The master keys this store has been used with.</summary>
    IReadOnlyList<MasterKeyState> ListMasterKeys();

    void SaveMasterKey(MasterKeyState key);

    /// <summary>Up to <paramref name="limit"/> blobs sealed by any master key other than <paramref name="keyId"/>.</summary>
    IReadOnlyList<SealedBlob> ListSealedByOtherThan(string keyId, int limit);

    /// <summary>Replaces a blob if it is still the one listed (false when it changed or is gone meanwhile).</summary>
    bool ReplaceSealed(SealedBlob blob, byte[] replacement);
}
