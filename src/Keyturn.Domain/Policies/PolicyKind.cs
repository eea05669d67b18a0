namespace Keyturn.Domain.Policies;

/// <summary>Which placement rules <see cref="PolicyDocument.Parse(string, PolicyKind)"/> enforces on top of the shared grammar.</summary>
public enum PolicyKind
{
    /// <summary>Shared grammar only: Principal and Resource are both optional.</summary>
    Any,

    /// <summary>An identity policy (attached to an access key): Principal is forbidden and Resource or NotResource is required.</summary>
    Identity,

    /// <summary>A resource policy (attached to a secret): Principal or NotPrincipal is required; a missing Resource means the secret itself.</summary>
    Resource,
}
