using System.Buffers;
using System.Security.Cryptography;

namespace Keyturn.Application.Crypto;

/// <summary>
/// A decrypted value in a pooled array: no garbage-collected copy of the plaintext is left behind. Disposing wipes
/// the bytes before the array goes back to its pool; the owner disposes it once the value has been written out.
/// </summary>
public sealed class PooledPlaintext : IDisposable
{
    private readonly ArrayPool<byte> _pool;
    private byte[]? _array;

    internal PooledPlaintext(ArrayPool<byte> pool, int length)
    {
        _pool = pool;
        _array = pool.Rent(Math.Max(length, 1));
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => (_array ?? throw new ObjectDisposedException(nameof(PooledPlaintext))).AsSpan(0, Length);

    internal Span<byte> Writable => _array.AsSpan(0, Length);

    public void Dispose()
    {
        if (_array is { } array)
        {
            _array = null;
            CryptographicOperations.ZeroMemory(array.AsSpan(0, Length));
            _pool.Return(array);
        }
    }
}
