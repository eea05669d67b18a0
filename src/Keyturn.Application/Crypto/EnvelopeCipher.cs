using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Keyturn.Application.Crypto;

/// <summary>
/// AES-256-GCM envelope encryption: every value gets its own random data key, which is itself
/// encrypted ("wrapped") by the master key. The blob records the master key id, so the store knows which keys
/// its data needs and a master-key rotation re-wraps only the data key (<see cref="Rewrap"/>), never the value.
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

    private readonly MasterKeyring _keyring;

    public EnvelopeCipher(byte[] masterKey)
        : this(MasterKeyring.Fixed(masterKey))
    {
    }

    public EnvelopeCipher(MasterKeyring keyring) => _keyring = keyring;

    public MasterKeyring Keyring => _keyring;

    /// <summary>The id of the master key that seals new data.</summary>
    public string KeyId => _keyring.Primary.Id;

    /// <summary>The master key id a blob records, or null when it isn't a Keyturn blob.</summary>
    public static string? KeyIdOf(ReadOnlySpan<byte> blob) =>
        blob.Length >= Magic.Length + 1 && blob[..Magic.Length].SequenceEqual(Magic) && blob.Length >= Magic.Length + 1 + blob[Magic.Length]
            ? Encoding.ASCII.GetString(blob.Slice(Magic.Length + 1, blob[Magic.Length]))
            : null;

    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, string context) => Encrypt(plaintext, context.AsSpan());

    /// <summary>
    /// Seals <paramref name="plaintext"/> for <paramref name="context"/>. The blob is the one allocation of the managed
    /// heap besides the data key's AES-GCM context: the key id is written straight into it, the associated data is
    /// on the stack for the usual ARN|version context, and the master key's context is this thread's cached one.
    /// </summary>
    public byte[] Encrypt(ReadOnlySpan<byte> plaintext, ReadOnlySpan<char> context)
    {
        var master = _keyring.SealingKey();
        var keyIdLength = Encoding.ASCII.GetByteCount(master.Id);
        var headerLength = Magic.Length + 1 + keyIdLength;
        var blob = new byte[headerLength + NonceSize + KeySize + TagSize + NonceSize + TagSize + plaintext.Length];
        var span = blob.AsSpan();
        Magic.CopyTo(span);
        span[Magic.Length] = (byte)keyIdLength;
        var keyId = span.Slice(Magic.Length + 1, keyIdLength);
        Encoding.ASCII.GetBytes(master.Id, keyId);

        var offset = headerLength;
        var wrapNonce = span.Slice(offset, NonceSize);
        var wrappedKey = span.Slice(offset += NonceSize, KeySize);
        var wrapTag = span.Slice(offset += KeySize, TagSize);
        var nonce = span.Slice(offset += TagSize, NonceSize);
        var tag = span.Slice(offset += NonceSize, TagSize);
        var ciphertext = span[(offset + TagSize)..];

        var aadLength = Encoding.UTF8.GetByteCount(context);
        Span<byte> aad = aadLength <= 512 ? stackalloc byte[aadLength] : new byte[aadLength];
        Encoding.UTF8.GetBytes(context, aad);
        var wrapAadLength = keyIdLength + 1 + aadLength;
        Span<byte> wrapAad = wrapAadLength <= 640 ? stackalloc byte[wrapAadLength] : new byte[wrapAadLength];
        keyId.CopyTo(wrapAad);
        wrapAad[keyIdLength] = (byte)'|';
        aad.CopyTo(wrapAad[(keyIdLength + 1)..]);

        Span<byte> dataKey = stackalloc byte[KeySize];
        RandomNumberGenerator.Fill(dataKey);
        RandomNumberGenerator.Fill(wrapNonce);
        RandomNumberGenerator.Fill(nonce);
        try
        {
            WrapCipher(master).Encrypt(wrapNonce, dataKey, wrappedKey, wrapTag, wrapAad);
            using var data = new AesGcm(dataKey, TagSize);
            data.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }

        return blob;
    }

    /// <exception cref="CryptographicException">The blob was sealed by a key not held, for another context, or tampered with.</exception>
    public byte[] Decrypt(ReadOnlySpan<byte> blob, string context)
    {
        var parts = Parse(blob);
        var plaintext = new byte[blob.Length - parts.Ciphertext];
        DecryptInto(blob, parts, context, plaintext);
        return plaintext;
    }

    /// <summary>Decrypts into a pooled array that the caller disposes (which wipes it) once the value is written out.</summary>
    /// <exception cref="CryptographicException">The blob was sealed by a key not held, for another context, or tampered with.</exception>
    public PooledPlaintext DecryptPooled(ReadOnlySpan<byte> blob, ReadOnlySpan<char> context, ArrayPool<byte>? pool = null)
    {
        var parts = Parse(blob);
        var plaintext = new PooledPlaintext(pool ?? ArrayPool<byte>.Shared, blob.Length - parts.Ciphertext);
        try
        {
            DecryptInto(blob, parts, context, plaintext.Writable);
            return plaintext;
        }
        catch
        {
            plaintext.Dispose();
            throw;
        }
    }

    private void DecryptInto(ReadOnlySpan<byte> blob, BlobParts parts, ReadOnlySpan<char> context, Span<byte> plaintext)
    {
        // The associated data on the stack for the usual ARN|version context: no array per read.
        var aadLength = Encoding.UTF8.GetByteCount(context);
        Span<byte> aad = aadLength <= 512 ? stackalloc byte[aadLength] : new byte[aadLength];
        Encoding.UTF8.GetBytes(context, aad);
        Span<byte> dataKey = stackalloc byte[KeySize];
        try
        {
            Unwrap(blob, parts, aad, dataKey);
            using var data = new AesGcm(dataKey, TagSize);
            data.Decrypt(blob.Slice(parts.Nonce, NonceSize), blob[parts.Ciphertext..], blob.Slice(parts.Tag, TagSize), plaintext, aad);
        }
        catch
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    /// <summary>
    /// The same blob with its data key re-wrapped by the sealing key (the value's ciphertext is untouched), or null
    /// when that key already seals it. The context must be the one the blob was sealed for.
    /// </summary>
    /// <exception cref="CryptographicException">The blob was sealed by a key not held, for another context, or tampered with.</exception>
    public byte[]? Rewrap(ReadOnlySpan<byte> blob, string context)
    {
        var master = _keyring.SealingKey();
        var parts = Parse(blob);
        var oldKeyId = blob.Slice(Magic.Length + 1, blob[Magic.Length]);
        var newKeyId = Encoding.ASCII.GetBytes(master.Id);
        if (oldKeyId.SequenceEqual(newKeyId))
        {
            return null;
        }

        var aad = Encoding.UTF8.GetBytes(context);
        Span<byte> dataKey = stackalloc byte[KeySize];
        try
        {
            Unwrap(blob, parts, aad, dataKey);
            var headerLength = Magic.Length + 1 + newKeyId.Length;
            var body = blob[(parts.WrapNonce + NonceSize + KeySize + TagSize)..];
            var result = new byte[headerLength + NonceSize + KeySize + TagSize + body.Length];
            var span = result.AsSpan();
            Magic.CopyTo(span);
            span[Magic.Length] = (byte)newKeyId.Length;
            newKeyId.CopyTo(span[(Magic.Length + 1)..]);
            var wrapNonce = span.Slice(headerLength, NonceSize);
            RandomNumberGenerator.Fill(wrapNonce);
            using (var wrap = new AesGcm(master.Key, TagSize))
            {
                wrap.Encrypt(wrapNonce, dataKey, span.Slice(headerLength + NonceSize, KeySize), span.Slice(headerLength + NonceSize + KeySize, TagSize), WrapAssociatedData(newKeyId, aad));
            }

            body.CopyTo(span[(headerLength + NonceSize + KeySize + TagSize)..]);
            return result;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(dataKey);
        }
    }

    private static BlobParts Parse(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < Magic.Length + 1 || !blob[..Magic.Length].SequenceEqual(Magic))
        {
            throw new CryptographicException("Unrecognized ciphertext format.");
        }

        var headerLength = Magic.Length + 1 + blob[Magic.Length];
        if (blob.Length < headerLength + NonceSize + KeySize + TagSize + NonceSize + TagSize)
        {
            throw new CryptographicException("Truncated ciphertext.");
        }

        var nonce = headerLength + NonceSize + KeySize + TagSize;
        return new BlobParts(headerLength, nonce, nonce + NonceSize, nonce + NonceSize + TagSize);
    }

    private void Unwrap(ReadOnlySpan<byte> blob, BlobParts parts, ReadOnlySpan<byte> aad, Span<byte> dataKey)
    {
        var keyId = blob.Slice(Magic.Length + 1, blob[Magic.Length]);
        var master = FindMasterKey(keyId)
            ?? throw new CryptographicException("The value was sealed by a master key that is not configured.");
        var wrapAad = keyId.Length + 1 + aad.Length <= 640 ? stackalloc byte[keyId.Length + 1 + aad.Length] : new byte[keyId.Length + 1 + aad.Length];
        keyId.CopyTo(wrapAad);
        wrapAad[keyId.Length] = (byte)'|';
        aad.CopyTo(wrapAad[(keyId.Length + 1)..]);
        WrapCipher(master).Decrypt(blob.Slice(parts.WrapNonce, NonceSize), blob.Slice(parts.WrapNonce + NonceSize, KeySize),
            blob.Slice(parts.WrapNonce + NonceSize + KeySize, TagSize), dataKey, wrapAad);
    }

    /// <summary>The configured key whose id the blob records, matched without decoding the id to a string.</summary>
    private MasterKey? FindMasterKey(ReadOnlySpan<byte> keyId)
    {
        // Indexed: a foreach over the interface would box the list's enumerator on every read.
        var keys = _keyring.Keys;
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            if (key.Id.Length == keyId.Length && Ascii.Equals(keyId, key.Id))
            {
                return key;
            }
        }

        return _keyring.Find(Encoding.ASCII.GetString(keyId));
    }

    // One AES-GCM context per thread for the last master key it unwrapped with: creating one per read was a native
    // allocation and a key schedule per request. Keyed by the key object, so a rotated keyring never reuses an old one.
    [ThreadStatic]
    private static (MasterKey Key, AesGcm Cipher)? _threadWrapCipher;

    private static AesGcm WrapCipher(MasterKey master)
    {
        if (_threadWrapCipher is { } cached && ReferenceEquals(cached.Key, master))
        {
            return cached.Cipher;
        }

        _threadWrapCipher?.Cipher.Dispose();
        var cipher = new AesGcm(master.Key, TagSize);
        _threadWrapCipher = (master, cipher);
        return cipher;
    }

    private static byte[] WrapAssociatedData(ReadOnlySpan<byte> keyId, byte[] context)
    {
        var result = new byte[keyId.Length + 1 + context.Length];
        keyId.CopyTo(result);
        result[keyId.Length] = (byte)'|';
        context.CopyTo(result, keyId.Length + 1);
        return result;
    }

    private readonly record struct BlobParts(int WrapNonce, int Nonce, int Tag, int Ciphertext);
}
