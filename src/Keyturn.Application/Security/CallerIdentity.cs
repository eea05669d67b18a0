using Keyturn.Domain.Policies;

namespace Keyturn.Application.Security;

/// <summary>Who signed the request: the root credentials, or an access key with its identity policy and tags (aws:PrincipalTag/*).</summary>
public sealed record CallerIdentity(
    string AccessKeyId, string PrincipalArn, bool IsRoot, PolicyDocument? IdentityPolicy, IReadOnlyDictionary<string, string>? Tags = null);
