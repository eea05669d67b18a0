using System.Buffers;
using System.Security.Cryptography;

namespace Keyturn.Server.Protocol;

/// <summary>
/// A response body in pooled arrays. A GetSecretValue body holds the plaintext, so every array is wiped before it
/// goes back to the pool: when the writer grows and when it is disposed after the response is written.
/// </summary>
public sealed class PooledBufferWriter(ArrayPool<byte>? pool = null, int initialCapacity = 1024) : IBufferWriter<byte>, IDisposable
{
    private readonly ArrayPool<byte> _pool = pool ?? ArrayPool<byte>.Shared;
    private byte[]? _buffer;
    private int _written;

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public int WrittenCount => _written;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_buffer is null || _written + count > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => Ensure(sizeHint).AsMemory(_written);

    public Span<byte> GetSpan(int sizeHint = 0) => Ensure(sizeHint).AsSpan(_written);

    private byte[] Ensure(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (_buffer is null)
        {
            _buffer = _pool.Rent(Math.Max(needed, initialCapacity));
        }
        else if (needed > _buffer.Length)
        {
            var larger = _pool.Rent(Math.Max(needed, _buffer.Length * 2));
            _buffer.AsSpan(0, _written).CopyTo(larger);
            Release(_buffer);
            _buffer = larger;
        }

        return _buffer;
    }

    private void Release(byte[] buffer)
    {
        CryptographicOperations.ZeroMemory(buffer.AsSpan(0, _written));
        _pool.Return(buffer);
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            Release(buffer);
            _written = 0;
        }
    }
}
