using Keyturn.Application.Security;

namespace Keyturn.Application;

/// <summary>Per-request facts from the transport: the caller and the region of its credential scope.</summary>
public sealed record RequestContext(string RequestId, string Region, CallerIdentity Caller)
{
    /// <summary>The ARN partition for the region (aws, aws-cn, aws-us-gov).</summary>
    public string Partition => Region.StartsWith("cn-", StringComparison.Ordinal) ? "aws-cn"
        : Region.StartsWith("us-gov-", StringComparison.Ordinal) ? "aws-us-gov"
        : "aws";
}
