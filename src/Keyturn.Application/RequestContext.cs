using Keyturn.Application.Security;

namespace Keyturn.Application;

/// <summary>Per-request facts from the transport: the caller, the region of its credential scope and the connection.</summary>
/// <param name="SourceIp">The client's address (aws:SourceIp); null for calls made inside the server, which policies testing it then treat restrictively.</param>
/// <param name="SecureTransport">Whether the request came over TLS (aws:SecureTransport).</param>
public sealed record RequestContext(string RequestId, string Region, CallerIdentity Caller, string? SourceIp = null, bool SecureTransport = false)
{
    /// <summary>The ARN partition for the region (aws, aws-cn, aws-us-gov).</summary>
    public string Partition => Region.StartsWith("cn-", StringComparison.Ordinal) ? "aws-cn"
        : Region.StartsWith("us-gov-", StringComparison.Ordinal) ? "aws-us-gov"
        : "aws";
}
