namespace Keyturn.Application.Crypto;

/// <summary>
/// The KMS calls the master-key provider needs: a new data key under a KMS key (plaintext and KMS's
/// ciphertext blob), and the plaintext back from the blob. Only the blob is ever written to disk.
/// </summary>
public interface IKmsKeyService
{
    Task<(byte[] Plaintext, byte[] CiphertextBlob)> GenerateDataKeyAsync(string kmsKeyId, CancellationToken cancellationToken);

    Task<byte[]> DecryptAsync(string kmsKeyId, byte[] ciphertextBlob, CancellationToken cancellationToken);
}
