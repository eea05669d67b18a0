using System.Text;

namespace Keyturn.Protocol.SigV4;

/// <summary>
/// Builds the SigV4 canonical request. Shared by the signer and the verifier so the two cannot drift apart.
/// Rules follow botocore's <c>SigV4Auth</c> (the client the CLI and boto3 use) for non-S3 services.
/// </summary>
internal static class SigV4Canonicalizer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string Terminator = "aws4_request";
    public const string SignatureParameter = "X-Amz-Signature";

    private const string UpperHex = "0123456789ABCDEF";

    /// <summary>
    /// Appends <c>method \n uri \n query \n headers \n signed-headers \n payload-hash</c>.
    /// </summary>
    public static void AppendCanonicalRequest(
        SigV4TextBuffer buffer,
        string method,
        string rawPath,
        string rawQuery,
        bool excludeSignatureParameter,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        ReadOnlySpan<char> signedHeaders,
        ReadOnlySpan<char> payloadHash)
    {
        buffer.Append(method);
        buffer.Append('\n');
        AppendCanonicalUri(buffer, rawPath);
        buffer.Append('\n');
        AppendCanonicalQuery(buffer, rawQuery, excludeSignatureParameter);
        buffer.Append('\n');
        AppendCanonicalHeaders(buffer, headers, signedHeaders);
        buffer.Append('\n');
        buffer.Append(signedHeaders);
        buffer.Append('\n');
        buffer.Append(payloadHash);
    }

    /// <summary>
    /// Normalises the raw (still percent-encoded) path and encodes it once more: non-S3 services sign the
    /// path double-encoded, exactly as botocore's <c>quote(normalize_url_path(path), safe='/~')</c>.
    /// </summary>
    public static void AppendCanonicalUri(SigV4TextBuffer buffer, string rawPath)
    {
        if (rawPath.Length == 0 || rawPath == "/")
        {
            buffer.Append('/');
            return;
        }

        var path = NeedsNormalization(rawPath) ? RemoveDotSegments(rawPath) : rawPath;
        AppendPathEncoded(buffer, path);
    }

    /// <summary>
    /// Decodes each name and value, re-encodes them per RFC 3986 and sorts by name, then value, byte-wise.
    /// </summary>
    public static void AppendCanonicalQuery(SigV4TextBuffer buffer, string rawQuery, bool excludeSignatureParameter)
    {
        if (rawQuery.Length == 0)
        {
            return;
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var range in rawQuery.AsSpan().Split('&'))
        {
            var segment = rawQuery.AsSpan(range);
            if (segment.IsEmpty)
            {
                continue;
            }

            var equals = segment.IndexOf('=');
            var name = CanonicalQueryComponent(equals < 0 ? segment : segment[..equals]);
            if (excludeSignatureParameter && name == SignatureParameter)
            {
                continue;
            }

            var value = equals < 0 ? string.Empty : CanonicalQueryComponent(segment[(equals + 1)..]);
            pairs.Add(new KeyValuePair<string, string>(name, value));
        }

        pairs.Sort(static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.Key, b.Key);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });

        for (var i = 0; i < pairs.Count; i++)
        {
            if (i > 0)
            {
                buffer.Append('&');
            }

            buffer.Append(pairs[i].Key);
            buffer.Append('=');
            buffer.Append(pairs[i].Value);
        }
    }

    /// <summary>
    /// One <c>name:value</c> line per signed header: lowercase name, values trimmed with inner whitespace runs
    /// collapsed, repeated headers joined with ',' in the order received.
    /// </summary>
    public static void AppendCanonicalHeaders(
        SigV4TextBuffer buffer, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlySpan<char> signedHeaders)
    {
        foreach (var range in signedHeaders.Split(';'))
        {
            var name = signedHeaders[range];
            if (name.IsEmpty)
            {
                continue;
            }

            foreach (var c in name)
            {
                buffer.Append(char.ToLowerInvariant(c));
            }

            buffer.Append(':');
            if (!AppendHeaderValues(buffer, headers, name) && name.Equals(":authority", StringComparison.OrdinalIgnoreCase))
            {
                // HTTP/2 clients may sign :authority; servers see it as Host.
                AppendHeaderValues(buffer, headers, "host");
            }

            buffer.Append('\n');
        }
    }

    /// <summary>Appends the value trimmed, with every inner whitespace run collapsed to one space.</summary>
    public static void AppendTrimmedValue(SigV4TextBuffer buffer, ReadOnlySpan<char> value)
    {
        value = value.Trim(" \t\r\n\v\f");
        var pendingSpace = false;
        foreach (var c in value)
        {
            if (c is ' ' or '\t' or '\r' or '\n' or '\v' or '\f')
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace)
            {
                buffer.Append(' ');
                pendingSpace = false;
            }

            buffer.Append(c);
        }
    }

    /// <summary>Percent-encodes per RFC 3986 (unreserved characters stay), as UTF-8, upper-case hex.</summary>
    public static string Encode(string value)
    {
        if (IsAllUnreserved(value))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length * 3);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && IsUnreserved((char)rune.Value))
            {
                builder.Append((char)rune.Value);
                continue;
            }

            var count = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < count; i++)
            {
                builder.Append('%').Append(UpperHex[utf8[i] >> 4]).Append(UpperHex[utf8[i] & 0xF]);
            }
        }

        return builder.ToString();
    }

    /// <summary>Decodes a query component: %XX escapes and '+' as a space (form encoding).</summary>
    public static string DecodeQueryComponent(ReadOnlySpan<char> value)
    {
        if (value.IndexOfAny('%', '+') < 0)
        {
            return value.ToString();
        }

        return Encoding.UTF8.GetString(DecodeToBytes(value));
    }

    public static bool IsUnreserved(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.' or '_' or '~';

    private static bool AppendHeaderValues(
        SigV4TextBuffer buffer, IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlySpan<char> name)
    {
        var found = false;
        for (var i = 0; i < headers.Count; i++)
        {
            var header = headers[i];
            if (!name.Equals(header.Key, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (found)
            {
                buffer.Append(',');
            }

            AppendTrimmedValue(buffer, header.Value);
            found = true;
        }

        return found;
    }

    private static string CanonicalQueryComponent(ReadOnlySpan<char> raw)
    {
        if (IsAllUnreserved(raw))
        {
            return raw.ToString();
        }

        var bytes = DecodeToBytes(raw);
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b < 0x80 && IsUnreserved((char)b))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(UpperHex[b >> 4]).Append(UpperHex[b & 0xF]);
            }
        }

        return builder.ToString();
    }

    // Decodes to bytes rather than a string so invalid UTF-8 escapes round-trip unchanged.
    private static byte[] DecodeToBytes(ReadOnlySpan<char> raw)
    {
        var bytes = new List<byte>(raw.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '%' && i + 2 < raw.Length && IsHex(raw[i + 1]) && IsHex(raw[i + 2]))
            {
                bytes.Add((byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2])));
                i += 2;
            }
            else if (c == '+')
            {
                bytes.Add((byte)' ');
            }
            else if (c < 0x80)
            {
                bytes.Add((byte)c);
            }
            else
            {
                var length = char.IsHighSurrogate(c) && i + 1 < raw.Length && char.IsLowSurrogate(raw[i + 1]) ? 2 : 1;
                var rune = length == 2 ? new Rune(c, raw[i + 1]) : (Rune.IsValid(c) ? new Rune(c) : Rune.ReplacementChar);
                var count = rune.EncodeToUtf8(utf8);
                for (var j = 0; j < count; j++)
                {
                    bytes.Add(utf8[j]);
                }

                i += length - 1;
            }
        }

        return [.. bytes];
    }

    private static void AppendPathEncoded(SigV4TextBuffer buffer, string value)
    {
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in value.EnumerateRunes())
        {
            if (rune.IsAscii && (IsUnreserved((char)rune.Value) || rune.Value == '/'))
            {
                buffer.Append((char)rune.Value);
                continue;
            }

            var count = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < count; i++)
            {
                buffer.Append('%');
                buffer.Append(UpperHex[utf8[i] >> 4]);
                buffer.Append(UpperHex[utf8[i] & 0xF]);
            }
        }
    }

    // Cheap pre-check so the common path ("/", "/foo/bar") skips the segment split.
    private static bool NeedsNormalization(string path) =>
        path[0] != '/'
        || path.Contains("//", StringComparison.Ordinal)
        || path.Contains("/./", StringComparison.Ordinal)
        || path.Contains("/../", StringComparison.Ordinal)
        || path.EndsWith("/.", StringComparison.Ordinal)
        || path.EndsWith("/..", StringComparison.Ordinal);

    // RFC 3986 5.2.4 plus collapsing of empty segments, as botocore's remove_dot_segments.
    private static string RemoveDotSegments(string path)
    {
        var output = new List<string>();
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (output.Count > 0)
                {
                    output.RemoveAt(output.Count - 1);
                }

                continue;
            }

            output.Add(segment);
        }

        var first = path[0] == '/' ? "/" : string.Empty;
        var last = path[^1] == '/' && output.Count > 0 ? "/" : string.Empty;
        return first + string.Join('/', output) + last;
    }

    private static bool IsAllUnreserved(ReadOnlySpan<char> value)
    {
        foreach (var c in value)
        {
            if (!IsUnreserved(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f') or (>= 'A' and <= 'F');

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
