namespace Keyturn.Domain.Policies;

/// <summary>Evaluates policies the way IAM does for a request within one account (and, for completeness, across accounts).</summary>
public static class PolicyEvaluator
{
    /// <summary>
    /// Evaluates one policy. A Deny statement that applies wins at once; otherwise any Allow statement that
    /// applies allows. For resource policies a statement must also match its Principal/NotPrincipal; a statement
    /// with neither never applies. Identity policies ignore Principal (the caller is the key they are attached to).
    /// </summary>
    public static PolicyDecision Evaluate(PolicyDocument policy, AuthorizationRequest request, bool isResourcePolicy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return EvaluateCore(policy, PolicyRequestContext.From(request), isResourcePolicy).Decision;
    }

    /// <summary>
    /// IAM's combination: an explicit Deny in any policy wins. Otherwise, within one account, the request is
    /// allowed when an identity policy allows it, when the resource policy allows it by naming the caller (its ARN
    /// or "*"), or when the caller is the account's root user, which IAM allows by default. A resource policy that
    /// names only the caller's account ("123456789012" or ":root") delegates to the identity policies and grants
    /// nothing on its own. Across accounts both sides must allow.
    /// </summary>
    public static PolicyDecision Authorize(
        IEnumerable<PolicyDocument> identityPolicies,
        PolicyDocument? resourcePolicy,
        AuthorizationRequest request)
    {
        ArgumentNullException.ThrowIfNull(identityPolicies);
        var context = PolicyRequestContext.From(request);

        var identityAllows = false;
        foreach (var policy in identityPolicies)
        {
            ArgumentNullException.ThrowIfNull(policy, nameof(identityPolicies));
            var decision = EvaluateCore(policy, context, isResourcePolicy: false).Decision;
            if (decision == PolicyDecision.ExplicitDeny)
            {
                return PolicyDecision.ExplicitDeny;
            }

            identityAllows |= decision == PolicyDecision.Allow;
        }

        return Combine(identityAllows, resourcePolicy, context);
    }

    /// <summary>As <see cref="Authorize(IEnumerable{PolicyDocument}, PolicyDocument?, AuthorizationRequest)"/> for a caller with at most one identity policy (an access key's).</summary>
    public static PolicyDecision Authorize(PolicyDocument? identityPolicy, PolicyDocument? resourcePolicy, AuthorizationRequest request)
    {
        var context = PolicyRequestContext.From(request);
        var decision = identityPolicy is null ? PolicyDecision.ImplicitDeny : EvaluateCore(identityPolicy, context, isResourcePolicy: false).Decision;
        return decision == PolicyDecision.ExplicitDeny
            ? PolicyDecision.ExplicitDeny
            : Combine(decision == PolicyDecision.Allow, resourcePolicy, context);
    }

    /// <summary>The resource policy's part and the account rules, once no identity policy denied.</summary>
    private static PolicyDecision Combine(bool identityAllows, PolicyDocument? resourcePolicy, PolicyRequestContext context)
    {
        var request = context.Request;
        var resource = resourcePolicy is null
            ? new PolicyOutcome(PolicyDecision.ImplicitDeny, DirectAllow: false)
            : EvaluateCore(resourcePolicy, context, isResourcePolicy: true);
        if (resource.Decision == PolicyDecision.ExplicitDeny)
        {
            return PolicyDecision.ExplicitDeny;
        }

        // Identity policies cannot be attached to the root user; IAM lets it do anything not explicitly denied.
        var isRoot = Arns.TryRootAccountOf(request.PrincipalArn, out var rootAccount) && rootAccount.SequenceEqual(request.AccountId);
        identityAllows |= isRoot;

        var sameAccount = !Arns.TryAccountOf(request.Resource, out var resourceAccount) || resourceAccount.SequenceEqual(request.AccountId);
        var allowed = sameAccount
            ? identityAllows || resource.DirectAllow
            : identityAllows && resource.Decision == PolicyDecision.Allow;
        return allowed ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny;
    }

    internal static PolicyOutcome EvaluateCore(PolicyDocument policy, PolicyRequestContext context, bool isResourcePolicy)
    {
        var variables = policy.SupportsPolicyVariables;
        var allowed = false;
        var directAllow = false;
        var statements = policy.Statements;
        for (var i = 0; i < statements.Count; i++)
        {
            var statement = statements[i];
            var match = Applies(statement, context, isResourcePolicy, variables);
            if (match == PrincipalMatch.None)
            {
                continue;
            }

            if (statement.Effect == PolicyEffect.Deny)
            {
                return new PolicyOutcome(PolicyDecision.ExplicitDeny, DirectAllow: false);
            }

            allowed = true;
            directAllow |= match == PrincipalMatch.Direct;
        }

        return new PolicyOutcome(allowed ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny, directAllow);
    }

    /// <summary>Whether the statement applies, and through which kind of principal match.</summary>
    private static PrincipalMatch Applies(PolicyStatement statement, PolicyRequestContext context, bool isResourcePolicy, bool variables)
    {
        var request = context.Request;
        var match = PrincipalMatch.Direct;
        if (isResourcePolicy)
        {
            if (statement.Principal is null)
            {
                return PrincipalMatch.None;
            }

            var principal = statement.Principal.Match(request.PrincipalArn, request.AccountId);

            // NotPrincipal applies to everyone it does not name, which is a direct grant like "*".
            match = statement.IsNotPrincipal
                ? principal == PrincipalMatch.None ? PrincipalMatch.Direct : PrincipalMatch.None
                : principal;
            if (match == PrincipalMatch.None)
            {
                return PrincipalMatch.None;
            }
        }

        if (!ActionMatches(statement, request.Action))
        {
            return PrincipalMatch.None;
        }

        // Fail closed on keys Keyturn cannot evaluate: an Allow that depends on one grants nothing, and a Deny
        // counts each part that depends on one as matching, so the policy is never weaker than on AWS.
        var compiled = statement.Compiled(variables);
        var deny = statement.Effect == PolicyEffect.Deny;
        var unknownInResource = AnyUnevaluable(compiled.ResourceKeys, context);
        if (!deny && AnyUnevaluable(compiled.ReferencedKeys, context))
        {
            return PrincipalMatch.None;
        }

        if (!(deny && unknownInResource) && !ResourceMatches(statement, context, variables))
        {
            return PrincipalMatch.None;
        }

        return ConditionEvaluator.AllHold(compiled.Conditions, context, statement.Effect) ? match : PrincipalMatch.None;
    }

    private static bool AnyUnevaluable(ConditionKeyRef[] keys, PolicyRequestContext context)
    {
        foreach (var key in keys)
        {
            if (!context.IsEvaluable(key))
            {
                return true;
            }
        }

        return false;
    }

    internal static bool ActionMatches(PolicyStatement statement, string action)
    {
        var any = false;
        foreach (var pattern in statement.ActionPatterns)
        {
            // Actions compare case-insensitively: "SecretsManager:getsecretvalue" names the same action.
            if (pattern.IsMatch(action, ignoreCase: true, arnSegments: false))
            {
                any = true;
                break;
            }
        }

        return statement.IsNotAction ? !any : any;
    }

    internal static bool ResourceMatches(PolicyStatement statement, PolicyRequestContext? context, bool variables, string? resourceOverride = null)
    {
        // A resource policy statement without Resource covers the secret it is attached to.
        if (statement.Compiled(variables).Resources is not { } patterns)
        {
            return true;
        }

        var resource = resourceOverride ?? context?.Request.Resource ?? "*";
        var any = false;
        foreach (var value in patterns)
        {
            // ARNs compare case-sensitively; an unresolvable policy variable matches nothing.
            if (value.TryResolve(context, ConditionOperatorKind.StringLike, out var pattern, out _)
                && pattern.IsMatch(resource, ignoreCase: false, arnSegments: true))
            {
                any = true;
                break;
            }
        }

        return statement.IsNotResource ? !any : any;
    }
}

/// <summary>One policy's decision, plus whether an Allow came from a statement naming the caller directly.</summary>
internal readonly record struct PolicyOutcome(PolicyDecision Decision, bool DirectAllow);
