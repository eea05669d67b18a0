namespace Keyturn.Domain.Policies;

/// <summary>The outcome of evaluating one policy, or of combining several.</summary>
public enum PolicyDecision
{
    /// <summary>No statement applied: denied unless another policy allows.</summary>
    ImplicitDeny,

    /// <summary>At least one Allow statement applied and no Deny did.</summary>
    Allow,

    /// <summary>A Deny statement applied; nothing can override it.</summary>
    ExplicitDeny,
}
