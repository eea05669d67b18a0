using System.Security.Cryptography;
using System.Text;

namespace Keyturn.Protocol.SigV4;

/// <summary>
/// A growable char buffer reused per thread, so building a canonical request allocates nothing once warm.
/// </summary>
internal sealed class SigV4TextBuffer
{
    // Requests bigger than this are rare; do not keep their buffers alive on the thread.
    private const int MaxRetainedChars = 16 * 1024;

    [ThreadStatic]
    private static SigV4TextBuffer? _threadCached;

    private char[] _chars = new char[1024];
    private byte[] _bytes = new byte[1024];

    public int Length { get; private set; }

    /// <summary>Takes the thread's buffer (or a new one when it is already in use) and clears it.</summary>
    public static SigV4TextBuffer Rent()
    {
        var buffer = _threadCached ?? new SigV4TextBuffer();
        _threadCached = null;
        buffer.Length = 0;
        return buffer;
    }

    /// <summary>Hands the buffer back to the thread.</summary>
    public static void Return(SigV4TextBuffer buffer)
    {
        if (buffer._chars.Length <= MaxRetainedChars)
        {
            _threadCached = buffer;
        }
    }

    public ReadOnlySpan<char> AsSpan() => _chars.AsSpan(0, Length);

    public ReadOnlySpan<char> AsSpan(int start) => _chars.AsSpan(start, Length - start);

    public void Truncate(int length) => Length = length;

    public void Append(char value)
    {
        if (Length == _chars.Length)
        {
            Grow(1);
        }

        _chars[Length++] = value;
    }

    public void Append(ReadOnlySpan<char> value)
    {
        if (Length + value.Length > _chars.Length)
        {
            Grow(value.Length);
        }

        value.CopyTo(_chars.AsSpan(Length));
        Length += value.Length;
    }

    /// <summary>Writes the SHA-256 of the UTF-8 encoding of <paramref name="start"/>.. into <paramref name="hash"/>.</summary>
    public void HashUtf8(int start, Span<byte> hash)
    {
        var chars = AsSpan(start);
        var max = Encoding.UTF8.GetMaxByteCount(chars.Length);
        if (max > _bytes.Length)
        {
            _bytes = new byte[Math.Max(max, _bytes.Length * 2)];
        }

        var count = Encoding.UTF8.GetBytes(chars, _bytes);
        SHA256.HashData(_bytes.AsSpan(0, count), hash);
    }

    /// <summary>Writes the HMAC-SHA256 of the UTF-8 encoding of <paramref name="start"/>.. into <paramref name="mac"/>.</summary>
    public void HmacUtf8(ReadOnlySpan<byte> key, int start, Span<byte> mac)
    {
        var chars = AsSpan(start);
        var max = Encoding.UTF8.GetMaxByteCount(chars.Length);
        if (max > _bytes.Length)
        {
            _bytes = new byte[Math.Max(max, _bytes.Length * 2)];
        }

        var count = Encoding.UTF8.GetBytes(chars, _bytes);
        HMACSHA256.HashData(key, _bytes.AsSpan(0, count), mac);
    }

    public string ToString(int start, int length) => new(_chars, start, length);

    public override string ToString() => new(_chars, 0, Length);

    private void Grow(int needed)
    {
        var next = new char[Math.Max(_chars.Length * 2, Length + needed)];
        _chars.AsSpan(0, Length).CopyTo(next);
        _chars = next;
    }
}
