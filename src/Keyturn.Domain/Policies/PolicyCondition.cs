namespace Keyturn.Domain.Policies;

/// <summary>One operator/key pair of a Condition block, e.g. StringLike / aws:PrincipalArn / ["arn:...:user/app*"]. Immutable.</summary>
public sealed class PolicyCondition
{
    internal PolicyCondition(string operatorName, ConditionOperator parsedOperator, string key, IReadOnlyList<string> values)
    {
        Operator = operatorName;
        ParsedOperator = parsedOperator;
        Key = key;
        Values = values;
    }

    /// <summary>The operator as written, e.g. "StringEqualsIfExists" or "ForAnyValue:StringLike".</summary>
    public string Operator { get; }

    /// <summary>The condition key as written; matched case-insensitively.</summary>
    public string Key { get; }

    /// <summary>The policy values; the condition holds when any of them matches (negated operators: none).</summary>
    public IReadOnlyList<string> Values { get; }

    internal ConditionOperator ParsedOperator { get; }
}
