namespace Keyturn.Protocol.SigV4;

/// <summary>An AWS access key pair, optionally with a session token.</summary>
public sealed record SigV4Credentials(string AccessKeyId, string SecretAccessKey, string? SessionToken = null)
{
    // Records print every property; keep the secret out of logs and exception messages.
    public override string ToString() =>
        $"SigV4Credentials {{ AccessKeyId = {AccessKeyId}, SessionToken = {(SessionToken is null ? "none" : "set")} }}";
}
