namespace Keyturn.Domain.Policies;

/// <summary>
/// The <c>CheckName</c> values <see cref="ResourcePolicyValidator"/> reports. AWS documents the three checks
/// ValidateResourcePolicy runs (syntax, broad access via Zelkova, caller lockout) and the
/// <c>CheckName</c>/<c>ErrorMessage</c> shape, but publishes no list of the names, so these are inferred.
/// </summary>
public static class PolicyCheckNames
{
    /// <summary>Grammar problems a parser accepts but AWS rejects: missing Principal, bad principal, duplicate Sid, size.</summary>
    public const string SyntaxCheck = "SYNTAX_CHECK";

    /// <summary>An Action that cannot apply to a secret (another service, or no such Secrets Manager action).</summary>
    public const string UnsupportedAction = "UNSUPPORTED_ACTION";

    /// <summary>A condition key Keyturn cannot evaluate; the statement then takes its restrictive outcome.</summary>
    public const string UnsupportedConditionKey = "UNSUPPORTED_CONDITION_KEY";

    /// <summary>The policy grants access to every principal without a restricting condition (BlockPublicPolicy).</summary>
    public const string PublicPolicy = "PUBLIC_POLICY";

    /// <summary>The policy denies everyone the actions needed to change or remove it.</summary>
    public const string LockoutCheck = "LOCKOUT_CHECK";
}
