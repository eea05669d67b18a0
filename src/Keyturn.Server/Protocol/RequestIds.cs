using System.Security.Cryptography;

namespace Keyturn.Server.Protocol;

/// <summary>
/// Request ids in AWS's shape, a random (version 4) UUID, drawn from a per-thread block of random bytes refilled
/// 4 KiB at a time. <see cref="Guid.NewGuid"/> reads the kernel's random source for every id, a system call that was 8 %
/// of GetSecretValue's handler time in a profile; here one read serves 256 ids. An id is not a secret, only unique.
/// </summary>
internal static class RequestIds
{
    private const int BlockBytes = 4096;
    private const int IdBytes = 16;

    [ThreadStatic]
    private static byte[]? _threadBlock;

    [ThreadStatic]
    private static int _threadNext;

    public static string Next()
    {
        var block = _threadBlock;
        if (block is null || _threadNext > BlockBytes - IdBytes)
        {
            block = _threadBlock ??= new byte[BlockBytes];
            RandomNumberGenerator.Fill(block);
            _threadNext = 0;
        }

        Span<byte> bytes = stackalloc byte[IdBytes];
        block.AsSpan(_threadNext, IdBytes).CopyTo(bytes);
        _threadNext += IdBytes;

        // RFC 9562's version 4 and variant bits; Guid's span constructor reads its first three fields little-endian,
        // so the version nibble is the high half of byte 7.
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString();
    }
}
