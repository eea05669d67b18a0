using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Keyturn.Protocol.SigV4;

/// <summary>
/// Caches derived signing keys per secret, scope date, region and service. Deriving one costs four HMACs,
/// and a key stays valid for a whole day, so nearly every request hits the cache.
/// </summary>
internal sealed class SigV4SigningKeyCache(int capacity)
{
    private readonly ConcurrentDictionary<Entry, byte[]> _keys = new();

    /// <summary>Returns kSigning; <paramref name="date"/> is the scope date, <c>yyyyMMdd</c>.</summary>
    public byte[] Get(string secretAccessKey, ReadOnlySpan<char> date, string region, string service)
    {
        if (!int.TryParse(date, NumberStyles.None, CultureInfo.InvariantCulture, out var dateKey))
        {
            return Derive(secretAccessKey, date, region, service);
        }

        var entry = new Entry(secretAccessKey, dateKey, region, service);
        if (_keys.TryGetValue(entry, out var key))
        {
            return key;
        }

        key = Derive(secretAccessKey, date, region, service);

        // Crude bound: a miss is rare (new key or new day), so wiping everything when full is cheap and
        // keeps a flood of random credentials from growing the cache without limit.
        if (_keys.Count >= capacity)
        {
            _keys.Clear();
        }

        _keys[entry] = key;
        return key;
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] Derive(string secretAccessKey, ReadOnlySpan<char> date, string region, string service)
    {
        var secret = Encoding.UTF8.GetBytes("AWS4" + secretAccessKey);
        try
        {
            Span<byte> a = stackalloc byte[32];
            Span<byte> b = stackalloc byte[32];
            HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(date.ToArray()), a);
            HMACSHA256.HashData(a, Encoding.UTF8.GetBytes(region), b);
            HMACSHA256.HashData(b, Encoding.UTF8.GetBytes(service), a);
            HMACSHA256.HashData(a, "aws4_request"u8, b);
            return b.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private readonly record struct Entry(string Secret, int Date, string Region, string Service);
}
