using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Keyturn.Protocol.SigV4;

/// <summary>
/// Signs requests with AWS Signature Version 4 the way botocore does for non-S3 services (path double-encoded,
/// payload hash always computed, <c>X-Amz-Content-Sha256</c> not sent).
/// </summary>
public static class SigV4Signer
{
    // Headers botocore never signs: proxies and HTTP stacks rewrite them.
    private static readonly string[] UnsignedHeaders = ["authorization", "expect", "user-agent", "x-amzn-trace-id"];

    private static readonly SigV4SigningKeyCache SigningKeys = new(256);

    /// <summary>
    /// Signs with the <c>Authorization</c> header. <paramref name="headers"/> are the headers the request will carry
    /// (all are signed; <c>Host</c> is taken from <paramref name="uri"/> when absent). Returns the headers to add:
    /// <c>X-Amz-Date</c>, <c>X-Amz-Security-Token</c> when there is a session token, and <c>Authorization</c>.
    /// The path signed is <c>uri.AbsolutePath</c>, i.e. the escaped path that goes on the wire.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Sign(
        string method,
        Uri uri,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        ReadOnlySpan<byte> body,
        SigV4Credentials credentials,
        string region,
        string service,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(credentials);
        var parts = CreateSignature(method, uri, headers, body, credentials, region, service, now);
        var added = new List<KeyValuePair<string, string>>(3) { new("X-Amz-Date", parts.AmzDate) };
        if (credentials.SessionToken is not null)
        {
            added.Add(new("X-Amz-Security-Token", credentials.SessionToken));
        }

        added.Add(new("Authorization", parts.Authorization));
        return added;
    }

    /// <summary>
    /// Creates a presigned URL (query authentication) valid for <paramref name="expires"/> (1 second to 7 days).
    /// The payload hash is that of an empty body, as botocore's presigner uses for non-S3 services.
    /// </summary>
    public static Uri Presign(
        string method,
        Uri uri,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        SigV4Credentials credentials,
        string region,
        string service,
        DateTimeOffset now,
        TimeSpan expires)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(credentials);
        var seconds = (long)expires.TotalSeconds;
        if (seconds < 1 || seconds > 604800 || expires != TimeSpan.FromSeconds(seconds))
        {
            throw new ArgumentOutOfRangeException(nameof(expires), "Presigned URLs last a whole number of seconds from 1 to 604800.");
        }

        var amzDate = SigV4Messages.Format(now);
        var signedHeaderList = CollectSignedHeaders(uri, headers, amzDate: null, sessionToken: null);
        var signedHeaders = SignedHeaderNames(signedHeaderList);
        var scope = Scope(amzDate, region, service);

        var query = new StringBuilder(uri.Query.TrimStart('?'));
        void Add(string name, string value)
        {
            if (query.Length > 0)
            {
                query.Append('&');
            }

            query.Append(name).Append('=').Append(SigV4Canonicalizer.Encode(value));
        }

        Add("X-Amz-Algorithm", SigV4Canonicalizer.Algorithm);
        Add("X-Amz-Credential", credentials.AccessKeyId + "/" + scope);
        Add("X-Amz-Date", amzDate);
        Add("X-Amz-Expires", seconds.ToString(CultureInfo.InvariantCulture));
        Add("X-Amz-SignedHeaders", signedHeaders);
        if (credentials.SessionToken is not null)
        {
            Add("X-Amz-Security-Token", credentials.SessionToken);
        }

        var rawQuery = query.ToString();
        var payloadHash = PayloadHash(headers, []);
        var signature = ComputeSignature(
            method, uri.AbsolutePath, rawQuery, signedHeaderList, signedHeaders, payloadHash, credentials.SecretAccessKey,
            amzDate, region, service).Signature;
        Add(SigV4Canonicalizer.SignatureParameter, signature);
        return new Uri(uri.GetLeftPart(UriPartial.Path) + "?" + query);
    }

    /// <summary>Everything the header form computes; exposed to tests to compare with published vectors.</summary>
    internal static SigV4SignatureParts CreateSignature(
        string method,
        Uri uri,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        ReadOnlySpan<byte> body,
        SigV4Credentials credentials,
        string region,
        string service,
        DateTimeOffset now) =>
        CreateSignature(method, uri.AbsolutePath, uri.Query.TrimStart('?'), uri, headers, body, credentials, region, service, now);

    /// <summary>As above, with the raw path and query given separately (the test suite has paths no Uri keeps).</summary>
    internal static SigV4SignatureParts CreateSignature(
        string method,
        string rawPath,
        string rawQuery,
        Uri? uri,
        IReadOnlyList<KeyValuePair<string, string>> headers,
        ReadOnlySpan<byte> body,
        SigV4Credentials credentials,
        string region,
        string service,
        DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentException.ThrowIfNullOrEmpty(service);

        var amzDate = SigV4Messages.Format(now);
        var signedHeaderList = CollectSignedHeaders(uri, headers, amzDate, credentials.SessionToken);
        var signedHeaders = SignedHeaderNames(signedHeaderList);
        var payloadHash = PayloadHash(headers, body);
        var parts = ComputeSignature(
            method, rawPath, rawQuery, signedHeaderList, signedHeaders, payloadHash, credentials.SecretAccessKey, amzDate, region, service);
        var authorization =
            $"{SigV4Canonicalizer.Algorithm} Credential={credentials.AccessKeyId}/{Scope(amzDate, region, service)}, " +
            $"SignedHeaders={signedHeaders}, Signature={parts.Signature}";
        return parts with { Authorization = authorization };
    }

    internal static string Scope(string amzDate, string region, string service) =>
        $"{amzDate[..8]}/{region}/{service}/{SigV4Canonicalizer.Terminator}";

    private static SigV4SignatureParts ComputeSignature(
        string method,
        string rawPath,
        string rawQuery,
        IReadOnlyList<KeyValuePair<string, string>> signedHeaderList,
        string signedHeaders,
        string payloadHash,
        string secretAccessKey,
        string amzDate,
        string region,
        string service)
    {
        var buffer = SigV4TextBuffer.Rent();
        try
        {
            SigV4Canonicalizer.AppendCanonicalRequest(
                buffer, method, rawPath, rawQuery, excludeSignatureParameter: true, signedHeaderList, signedHeaders, payloadHash);
            var canonicalLength = buffer.Length;
            Span<byte> hash = stackalloc byte[32];
            buffer.HashUtf8(0, hash);

            buffer.Append(SigV4Canonicalizer.Algorithm);
            buffer.Append('\n');
            buffer.Append(amzDate);
            buffer.Append('\n');
            buffer.Append(Scope(amzDate, region, service));
            buffer.Append('\n');
            buffer.Append(Convert.ToHexStringLower(hash));

            var key = SigningKeys.Get(secretAccessKey, amzDate.AsSpan(0, 8), region, service);
            Span<byte> signature = stackalloc byte[32];
            buffer.HmacUtf8(key, canonicalLength, signature);
            return new SigV4SignatureParts(
                amzDate,
                buffer.ToString(0, canonicalLength),
                buffer.ToString(canonicalLength, buffer.Length - canonicalLength),
                Convert.ToHexStringLower(signature),
                Authorization: string.Empty);
        }
        finally
        {
            SigV4TextBuffer.Return(buffer);
        }
    }

    // The signer decides what it signs: the caller's headers (minus those stacks rewrite), Host, the date and token.
    private static List<KeyValuePair<string, string>> CollectSignedHeaders(
        Uri? uri, IReadOnlyList<KeyValuePair<string, string>> headers, string? amzDate, string? sessionToken)
    {
        var list = new List<KeyValuePair<string, string>>(headers.Count + 3);
        var hasHost = false;
        foreach (var header in headers)
        {
            var name = header.Key.ToLowerInvariant();
            if (Array.IndexOf(UnsignedHeaders, name) >= 0
                || (amzDate is not null && name == "x-amz-date")
                || (sessionToken is not null && name == "x-amz-security-token"))
            {
                continue;
            }

            hasHost |= name == "host";
            list.Add(new(name, header.Value));
        }

        if (!hasHost)
        {
            if (uri is null)
            {
                throw new ArgumentException("A Host header is required when no URI is given.", nameof(headers));
            }

            list.Add(new("host", HostHeader(uri)));
        }

        if (amzDate is not null)
        {
            list.Add(new("x-amz-date", amzDate));
        }

        if (sessionToken is not null)
        {
            list.Add(new("x-amz-security-token", sessionToken));
        }

        return list;
    }

    /// <summary>The Host value HttpClient sends: lower-case host, port only when not the scheme's default.</summary>
    internal static string HostHeader(Uri uri)
    {
        var host = uri.HostNameType == UriHostNameType.IPv6 && !uri.IdnHost.StartsWith('[') ? $"[{uri.IdnHost}]" : uri.IdnHost;
        return uri.IsDefaultPort ? host : $"{host}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";
    }

    private static string SignedHeaderNames(List<KeyValuePair<string, string>> headers)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var header in headers)
        {
            names.Add(header.Key);
        }

        return string.Join(';', names);
    }

    // Like botocore: an explicit X-Amz-Content-Sha256 header is the payload hash; otherwise hash the body.
    private static string PayloadHash(IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlySpan<byte> body)
    {
        foreach (var header in headers)
        {
            if (header.Key.Equals("x-amz-content-sha256", StringComparison.OrdinalIgnoreCase))
            {
                return header.Value.Trim();
            }
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        return Convert.ToHexStringLower(hash);
    }
}
