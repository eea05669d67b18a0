namespace Keyturn.Application.Ports;

/// <summary>What is sealed by the master key: every blob of the store, found by the master key id its header records.</summary>
public partial interface ISecretSession
{
    /// <summary>True when the store holds anything at all: secrets, access keys, functions or a registered master key.</summary>
    ValueTask<bool> HoldsDataAsync(CancellationToken cancellationToken);

    /// <summary>Every master key id that seals at least one blob (values, access keys' and functions' secret keys).</summary>
    ValueTask<IReadOnlyList<string>> SealingKeyIdsAsync(CancellationToken cancellationToken);

    /// <summary>How many blobs each master key id seals.</summary>
    ValueTask<IReadOnlyDictionary<string, long>> CountSealedByKeyAsync(CancellationToken cancellationToken);

    /// <summary>The master keys this store has been used with.</summary>
    ValueTask<IReadOnlyList<MasterKeyState>> ListMasterKeysAsync(CancellationToken cancellationToken);

    ValueTask SaveMasterKeyAsync(MasterKeyState key, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> blobs sealed by any master key other than <paramref name="keyId"/>.</summary>
    ValueTask<IReadOnlyList<SealedBlob>> ListSealedByOtherThanAsync(string keyId, int limit, CancellationToken cancellationToken);

    /// <summary>Replaces a blob if it is still the one listed (false when it changed or is gone meanwhile).</summary>
    ValueTask<bool> ReplaceSealedAsync(SealedBlob blob, byte[] replacement, CancellationToken cancellationToken);
}

/// <summary>A master key the store has been used with; a retired key may no longer seal anything (the store refuses it).</summary>
public sealed record MasterKeyState(string KeyId, DateTimeOffset AddedDate, DateTimeOffset? RetiredDate);

public enum SealedKind
{
    SecretValue,
    AccessKeySecret,
    FunctionKeySecret,

    /// <summary>A handler or command function's environment variables (<c>functions register --env</c>).</summary>
    FunctionEnvironment,
}

/// <summary>One sealed blob and what its associated data is built from: the secret ARN and version, the access key id, or the function name.</summary>
public sealed record SealedBlob(SealedKind Kind, string Owner, string? VersionId, byte[] Ciphertext);
