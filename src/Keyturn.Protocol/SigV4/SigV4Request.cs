namespace Keyturn.Protocol.SigV4;

/// <summary>
/// The parts of an HTTP request that SigV4 verification needs. The server builds it from ASP.NET Core's request.
/// </summary>
/// <param name="Method">The HTTP method, e.g. <c>POST</c>.</param>
/// <param name="Path">
/// The path exactly as it arrived on the wire, still percent-encoded (ASP.NET Core: <c>IHttpRequestFeature.RawTarget</c>
/// up to the '?'), because non-S3 services sign the encoded path encoded once more.
/// </param>
/// <param name="QueryString">The raw query without the leading '?', or "" when there is none.</param>
/// <param name="Headers">Every header as received; names in any case, a repeated header as separate entries.</param>
/// <param name="Body">The complete request body.</param>
public sealed record SigV4Request(
    string Method,
    string Path,
    string QueryString,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    ReadOnlyMemory<byte> Body);
