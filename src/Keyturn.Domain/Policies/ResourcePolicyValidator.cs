namespace Keyturn.Domain.Policies;

/// <summary>
/// The checks behind ValidateResourcePolicy and PutResourcePolicy's BlockPublicPolicy. AWS documents three checks
/// (syntax, broad access, caller lockout) and the CheckName/ErrorMessage shape but not the names or messages, so
/// those are inferred (see <see cref="PolicyCheckNames"/>). Malformed JSON never gets here: Parse reports it.
/// </summary>
public static class ResourcePolicyValidator
{
    /// <summary>ValidateResourcePolicy and PutResourcePolicy cap ResourcePolicy at 20480 characters.</summary>
    public const int MaxPolicyLength = 20480;

    private const string PutResourcePolicy = "secretsmanager:PutResourcePolicy";
    private const string DeleteResourcePolicy = "secretsmanager:DeleteResourcePolicy";

    /// <summary>
    /// Keys whose fixed values confine a "*" principal to known callers or networks. Inferred from the S3 Block
    /// Public Access definition of a non-public policy, which IAM Access Analyzer also follows.
    /// </summary>
    private static readonly HashSet<string> RestrictingKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceOwner",
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:userid",
        "aws:username",
    };

    /// <summary>Returns the problems found; an empty list means the policy passed.</summary>
    /// <param name="policy">The parsed policy (any <see cref="PolicyKind"/>).</param>
    /// <param name="secretArn">The secret the policy is for, when known; statements whose Resource excludes it cannot make it public or lock it.</param>
    public static IReadOnlyList<PolicyValidationError> Validate(PolicyDocument policy, string? secretArn)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var errors = new List<PolicyValidationError>();

        if (policy.SourceLength > MaxPolicyLength)
        {
            errors.Add(new(PolicyCheckNames.SyntaxCheck,
                $"The resource policy is {policy.SourceLength} characters long; the maximum is {MaxPolicyLength}."));
        }

        var sids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var statement in policy.Statements)
        {
            CheckSyntax(statement, sids, errors);
        }

        foreach (var statement in policy.Statements)
        {
            CheckActions(statement, errors);
        }

        foreach (var statement in policy.Statements)
        {
            var unevaluable = ConditionKeys.ReferencedKeys(statement, policy.SupportsPolicyVariables)
                .Where(k => !ConditionKeys.IsEvaluable(k))
                .Distinct(StringComparer.OrdinalIgnoreCase);
            foreach (var key in unevaluable)
            {
                errors.Add(new(PolicyCheckNames.UnsupportedConditionKey,
                    $"{statement.Label} uses the condition key \"{key}\", which Keyturn cannot evaluate: " +
                    (statement.Effect == PolicyEffect.Deny ? "the statement denies as if the condition held." : "the statement never allows.")));
            }
        }

        foreach (var statement in policy.Statements)
        {
            if (IsPublicStatement(statement, policy, secretArn))
            {
                errors.Add(new(PolicyCheckNames.PublicPolicy,
                    $"{statement.Label} allows every principal (\"*\") without a condition that limits who can use it, so it grants public access to the secret."));
            }
        }

        foreach (var statement in policy.Statements)
        {
            if (LocksOut(statement, policy, secretArn))
            {
                errors.Add(new(PolicyCheckNames.LockoutCheck,
                    $"{statement.Label} denies {PutResourcePolicy} and {DeleteResourcePolicy} to every principal without a condition, so no one could change or remove this policy."));
            }
        }

        return errors.AsReadOnly();
    }

    /// <summary>
    /// True when an Allow statement that reaches Secrets Manager actions names every principal ("*",
    /// {"AWS": "*"} or a NotPrincipal) and has no condition pinning the caller, account, organization or network
    /// to fixed values. This is what BlockPublicPolicy rejects.
    /// </summary>
    public static bool IsPublic(PolicyDocument policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Statements.Any(s => IsPublicStatement(s, policy, secretArn: null));
    }

    private static void CheckSyntax(PolicyStatement statement, Dictionary<string, int> sids, List<PolicyValidationError> errors)
    {
        if (statement.Sid is { } sid && !sids.TryAdd(sid, statement.Index))
        {
            errors.Add(new(PolicyCheckNames.SyntaxCheck,
                $"{statement.Label} reuses the Sid of statement {sids[sid]}; statement IDs must be unique within a policy."));
        }

        if (statement.Principal is null)
        {
            errors.Add(new(PolicyCheckNames.SyntaxCheck,
                $"{statement.Label} has no Principal or NotPrincipal element; a resource policy must say whom each statement applies to."));
            return;
        }

        foreach (var value in statement.Principal.Aws)
        {
            if (!Arns.IsValidAwsPrincipal(value))
            {
                errors.Add(new(PolicyCheckNames.SyntaxCheck,
                    $"{statement.Label} names the principal \"{value}\", which is neither \"*\", a 12-digit account ID nor an IAM or STS ARN."));
            }
        }
    }

    private static void CheckActions(PolicyStatement statement, List<PolicyValidationError> errors)
    {
        // NotAction lists exclusions, so foreign actions there grant nothing and are harmless.
        if (statement.IsNotAction)
        {
            return;
        }

        foreach (var action in statement.Actions)
        {
            if (action == "*")
            {
                continue;
            }

            var prefix = action[..action.IndexOf(':', StringComparison.Ordinal)];
            if (!string.Equals(prefix, SecretsManagerActions.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(new(PolicyCheckNames.UnsupportedAction,
                    $"{statement.Label} uses the action \"{action}\", which does not apply to secrets; a secret's resource policy can only grant {SecretsManagerActions.Prefix} actions."));
            }
            else if (!SecretsManagerActions.All.Any(known => new WildcardPattern(action).IsMatch(known, ignoreCase: true, arnSegments: false)))
            {
                errors.Add(new(PolicyCheckNames.UnsupportedAction,
                    $"{statement.Label} uses the action \"{action}\", which matches no Secrets Manager action."));
            }
        }
    }

    private static bool IsPublicStatement(PolicyStatement statement, PolicyDocument policy, string? secretArn) =>
        statement.Effect == PolicyEffect.Allow
        && statement.Principal is not null
        && (statement.IsNotPrincipal || statement.Principal.IncludesEveryone)
        && SecretsManagerActions.All.Any(action => PolicyEvaluator.ActionMatches(statement, action))
        && CoversSecret(statement, policy, secretArn, assumeWhenUnknown: true)
        && !statement.Conditions.Any(IsRestricting);

    private static bool LocksOut(PolicyStatement statement, PolicyDocument policy, string? secretArn) =>
        statement.Effect == PolicyEffect.Deny
        && statement.Principal is { IncludesEveryone: true }
        && !statement.IsNotPrincipal
        && statement.Conditions.Count == 0
        && PolicyEvaluator.ActionMatches(statement, PutResourcePolicy)
        && PolicyEvaluator.ActionMatches(statement, DeleteResourcePolicy)
        && CoversSecret(statement, policy, secretArn, assumeWhenUnknown: false);

    /// <summary>
    /// Whether the statement's Resource reaches the secret. Without a secret ARN only "*" (or no Resource) is
    /// certain: the public check assumes coverage to stay safe, the lockout check does not to avoid false alarms.
    /// </summary>
    private static bool CoversSecret(PolicyStatement statement, PolicyDocument policy, string? secretArn, bool assumeWhenUnknown)
    {
        if (statement.Resources is null)
        {
            return true;
        }

        if (secretArn is null)
        {
            return assumeWhenUnknown || (!statement.IsNotResource && statement.Resources.Contains("*"));
        }

        return PolicyEvaluator.ResourceMatches(statement, context: null, policy.SupportsPolicyVariables, secretArn);
    }

    /// <summary>A positive, non-IfExists condition on a restricting key whose values are all specific.</summary>
    private static bool IsRestricting(PolicyCondition condition)
    {
        var op = condition.ParsedOperator;
        if (op.IfExists || op.IsNegated || op.Qualifier == ConditionSetQualifier.ForAllValues || !RestrictingKeys.Contains(condition.Key))
        {
            return false;
        }

        if (op.Kind is not (ConditionOperatorKind.StringEquals or ConditionOperatorKind.StringEqualsIgnoreCase
            or ConditionOperatorKind.StringLike or ConditionOperatorKind.ArnEquals or ConditionOperatorKind.ArnLike
            or ConditionOperatorKind.IpAddress))
        {
            return false;
        }

        return condition.Values.Count > 0 && condition.Values.All(v => IsSpecificValue(condition.Key, v));
    }

    /// <summary>
    /// A value that pins callers down: ARNs need a wildcard-free account, other keys no wildcard at all, and an
    /// address range must not be the whole internet. "arn:aws:iam::*:user/app" still admits every account.
    /// </summary>
    private static bool IsSpecificValue(string key, string value)
    {
        if (key.Equals("aws:SourceIp", StringComparison.OrdinalIgnoreCase))
        {
            return value is not ("0.0.0.0/0" or "::/0");
        }

        if (key.Equals("aws:PrincipalArn", StringComparison.OrdinalIgnoreCase) || key.Equals("aws:SourceArn", StringComparison.OrdinalIgnoreCase))
        {
            var parts = value.Split(':', 6);
            // ARNs without an account segment (S3 buckets) must then be fully fixed.
            return parts.Length == 6 && (parts[4].Length > 0 ? !HasWildcard(parts[4]) : !HasWildcard(value));
        }

        return value.Length > 0 && !HasWildcard(value);
    }

    private static bool HasWildcard(string value) => value.AsSpan().IndexOfAny('*', '?') >= 0;
}
