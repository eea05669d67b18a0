using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Keyturn.Application.Crypto;

/// <summary>
/// AES-256-GCM envelope encryption: every value gets its own random data key, which is itself
/// encrypted ("wrapped") by the master key. The blob records the master key id, so the master key
/// can be rotated later without guessing which key sealed which value.
/// </summary>
/// <remarks>
/// Layout: magic "KT1" | key id length (1 byte) | key id (ASCII) | wrap nonce (12) | wrapped data key (32)
/// | wrap tag (16) | nonce (12) | tag (16) | ciphertext. The caller's context (e.g. secret ARN and
/// version id) is bound as associated data, so a ciphertext copied to another row fails to decrypt.
/// </remarks>
public sealed class EnvelopeCipher
{
    private const int KeySize = 32;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private static readonly byte[] Magic = "KT1"u8.ToArray();

    private readonly byte[] _masterKey;

    public EnvelopeCipher(byte[] masterKey)
    {
        if (masterKey.Length != KeySize)
        {
            throw new ArgumentException("The master key must be 32 bytes (AES-256).", nameof(masterKey));
        }

        _masterKey = (byte[])masterKey.Clone();
        KeyId = "mk-" + Convert.ToHexStringLower(SHA256.HashData(_masterKey))[..12];
    }

    /// <summary>A non-secret fingerprint of the master key.</summary>
    public string KeyId { get; }

    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, string context)
    {
        var keyId = Encoding.ASCII.GetBytes(KeyId);
        var headerLength = Magic.Length + 1 + keyId.Length;
        var blob = new byte[headerLength + NonceSize + KeySize + TagSize + NonceSize + TagSize + plaintext.Length];
        var span = blob.AsSpan();
        Magic.CopyTo(span);
        span[Magic.Length] = (byte)keyId.Length;
        keyId.CopyTo(span[(Magic.Length + 1)..]);

        var offset = headerLength;
        var wrapNonce = span.Slice(offset, NonceSize);
        var wrappedKey = span.Slice(offset += NonceSize, KeySize);
        var wrapTag = span.Slice(offset += KeySize, TagSize);
        var nonce = span.Slice(offset += TagSize, NonceSize);
        var tag = span.Slice(offset += NonceSize, TagSize);
        var ciphertext = span[(offset + TagSize)..];

        Span<byte> dataKey = stackalloc byte[KeySize];
        RandomNumberGenerator.Fill(dataKey);
        RandomNumberGenerator.Fill(wrapNonce);
        RandomNumberGenerator.Fill(nonce);
        var aad = Encoding.UTF8.GetBytes(context);
        try
        {
            using (var wrap = new AesGcm(_masterKey, TagSize))
            {
                wrap.Encrypt(wrapNonce, dataKey, wrappedKey, wrapTag, WrapAssociatedData(keyId, aad));
            }

            using var data = new AesGcm(dataKey, TagSize);
            data.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }

        return blob;
    }

    /// <exception cref="CryptographicException">The blob was sealed by another key, for another context, or tampered with.</exception>
    public byte[] Decrypt(ReadOnlySpan<byte> blob, string context)
    {
        if (blob.Length < Magic.Length + 1 || !blob[..Magic.Length].SequenceEqual(Magic))
        {
            throw new CryptographicException("Unrecognized ciphertext format.");
        }

        var keyIdLength = blob[Magic.Length];
        var headerLength = Magic.Length + 1 + keyIdLength;
        if (blob.Length < headerLength + NonceSize + KeySize + TagSize + NonceSize + TagSize)
        {
            throw new CryptographicException("Truncated ciphertext.");
        }

        var keyId = blob.Slice(Magic.Length + 1, keyIdLength);
        if (!keyId.SequenceEqual(Encoding.ASCII.GetBytes(KeyId)))
        {
            throw new CryptographicException("The value was encrypted with a different master key.");
        }

        var offset = headerLength;
        var wrapNonce = blob.Slice(offset, NonceSize);
        var wrappedKey = blob.Slice(offset += NonceSize, KeySize);
        var wrapTag = blob.Slice(offset += KeySize, TagSize);
        var nonce = blob.Slice(offset += TagSize, NonceSize);
        var tag = blob.Slice(offset += NonceSize, TagSize);
        var ciphertext = blob[(offset + TagSize)..];

        var aad = Encoding.UTF8.GetBytes(context);
        Span<byte> dataKey = stackalloc byte[KeySize];
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using (var wrap = new AesGcm(_masterKey, TagSize))
            {
                wrap.Decrypt(wrapNonce, wrappedKey, wrapTag, dataKey, WrapAssociatedData(keyId, aad));
            }

            using var data = new AesGcm(dataKey, TagSize);
            data.Decrypt(nonce, ciphertext, tag, plaintext, aad);
            return plaintext;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static byte[] WrapAssociatedData(ReadOnlySpan<byte> keyId, byte[] context)
    {
        var result = new byte[keyId.Length + 1 + context.Length];
        keyId.CopyTo(result);
        result[keyId.Length] = (byte)'|';
        context.CopyTo(result, keyId.Length + 1);
        return result;
    }
}
