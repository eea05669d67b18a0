using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// PBKDF2-HMAC-SHA256 for one 32-byte block, SCRAM's SaltedPassword: 4,096 iterations of HMAC per login, the bulk of
/// a login probe's client CPU. Through <see cref="Rfc2898DeriveBytes"/> each iteration pays OpenSSL's EVP context copies,
/// allocations and cleansing, about twice the hashing itself. Here HMAC's inner and outer key states are computed
/// once and each iteration is two calls of OpenSSL's SHA-256 block function (SHA-NI where the CPU has it) on fixed
/// padded blocks. Where libcrypto doesn't export that function, <see cref="Rfc2898DeriveBytes.Pbkdf2(byte[], byte[], int, HashAlgorithmName, int)"/>.
/// </summary>
internal static unsafe partial class ScramPbkdf2
{
    private const int BlockSize = 64;

    // SHA256_CTX: h[8], Nl, Nh, data[16], num, md_len (OpenSSL 1.1 and 3). Only h is read and written here.
    private const int ContextSize = 112;

    private static readonly uint[] InitialState =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

    private static readonly bool Available = Probe();

    public static byte[] DeriveKey(byte[] password, byte[] salt, int iterations)
    {
        if (!Available)
        {
            return Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        }

        Span<byte> key = stackalloc byte[BlockSize];
        key.Clear();
        if (password.Length > BlockSize)
        {
            SHA256.HashData(password, key);
        }
        else
        {
            password.CopyTo(key);
        }

        var context = stackalloc byte[ContextSize];
        Span<uint> inner = stackalloc uint[8];
        Span<uint> outer = stackalloc uint[8];
        Span<byte> pad = stackalloc byte[BlockSize];
        for (var i = 0; i < BlockSize; i++)
        {
            pad[i] = (byte)(key[i] ^ 0x36);
        }

        Compress(context, InitialState, pad, inner);
        for (var i = 0; i < BlockSize; i++)
        {
            pad[i] = (byte)(key[i] ^ 0x5c);
        }

        Compress(context, InitialState, pad, outer);

        // U1 = HMAC(password, salt || INT(1)) once, the ordinary way; then U(n+1) = HMAC(password, U(n)) on blocks
        // that only ever hold a 32-byte message after a 64-byte key block: 768 bits, one padded block each.
        var u = HMACSHA256.HashData(password, (byte[])[.. salt, 0, 0, 0, 1]);
        var result = (byte[])u.Clone();
        Span<byte> block = stackalloc byte[BlockSize];
        block.Clear();
        block[32] = 0x80;
        BinaryPrimitives.WriteUInt64BigEndian(block[56..], (BlockSize + 32) * 8);
        Span<uint> state = stackalloc uint[8];
        for (var n = 1; n < iterations; n++)
        {
            u.CopyTo(block);
            Compress(context, inner, block, state);
            WriteDigest(state, block);
            Compress(context, outer, block, state);
            WriteDigest(state, u);
            for (var i = 0; i < 32; i++)
            {
                result[i] ^= u[i];
            }
        }

        CryptographicOperations.ZeroMemory(key);
        CryptographicOperations.ZeroMemory(pad);
        CryptographicOperations.ZeroMemory(block);
        CryptographicOperations.ZeroMemory(u);
        CryptographicOperations.ZeroMemory(new Span<byte>(context, ContextSize));
        return result;
    }

    private static void Compress(byte* context, ReadOnlySpan<uint> from, ReadOnlySpan<byte> block, Span<uint> to)
    {
        var h = new Span<uint>(context, 8);
        from.CopyTo(h);
        fixed (byte* data = block)
        {
            SHA256_Transform(context, data);
        }

        h.CopyTo(to);
    }

    private static void WriteDigest(ReadOnlySpan<uint> state, Span<byte> destination)
    {
        for (var i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[(i * 4)..], state[i]);
        }
    }

    /// <summary>Whether the block function is there and gives SHA-256's answer for "abc".</summary>
    private static bool Probe()
    {
        try
        {
            var context = stackalloc byte[ContextSize];
            Span<byte> block = stackalloc byte[BlockSize];
            block.Clear();
            "abc"u8.CopyTo(block);
            block[3] = 0x80;
            block[63] = 24;
            Span<uint> state = stackalloc uint[8];
            Compress(context, InitialState, block, state);
            Span<byte> digest = stackalloc byte[32];
            WriteDigest(state, digest);
            return digest.SequenceEqual(SHA256.HashData("abc"u8));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libcrypto.so.3")]
    [SuppressGCTransition]
    private static partial void SHA256_Transform(byte* context, byte* data);
}
