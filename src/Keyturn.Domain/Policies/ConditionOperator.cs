namespace Keyturn.Domain.Policies;

/// <summary>The base condition operators of the IAM grammar.</summary>
internal enum ConditionOperatorKind
{
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// <summary>The ForAllValues:/ForAnyValue: set qualifier.</summary>
internal enum ConditionSetQualifier
{
    None,
    ForAllValues,
    ForAnyValue,
}

/// <summary>A parsed operator name: qualifier, base operator, IfExists suffix.</summary>
internal sealed record ConditionOperator(ConditionOperatorKind Kind, bool IfExists, ConditionSetQualifier Qualifier)
{
    private const string IfExistsSuffix = "IfExists";

    /// <summary>Negated operators hold when no value matches, including when the key is absent.</summary>
    public bool IsNegated => Kind is ConditionOperatorKind.StringNotEquals
        or ConditionOperatorKind.StringNotEqualsIgnoreCase
        or ConditionOperatorKind.StringNotLike
        or ConditionOperatorKind.NumericNotEquals
        or ConditionOperatorKind.DateNotEquals
        or ConditionOperatorKind.NotIpAddress
        or ConditionOperatorKind.ArnNotEquals
        or ConditionOperatorKind.ArnNotLike;

    /// <summary>The operator whose match a negated operator inverts; the operator itself otherwise.</summary>
    public ConditionOperatorKind PositiveKind => Kind switch
    {
        ConditionOperatorKind.StringNotEquals => ConditionOperatorKind.StringEquals,
        ConditionOperatorKind.StringNotEqualsIgnoreCase => ConditionOperatorKind.StringEqualsIgnoreCase,
        ConditionOperatorKind.StringNotLike => ConditionOperatorKind.StringLike,
        ConditionOperatorKind.NumericNotEquals => ConditionOperatorKind.NumericEquals,
        ConditionOperatorKind.DateNotEquals => ConditionOperatorKind.DateEquals,
        ConditionOperatorKind.NotIpAddress => ConditionOperatorKind.IpAddress,
        ConditionOperatorKind.ArnNotEquals => ConditionOperatorKind.ArnEquals,
        ConditionOperatorKind.ArnNotLike => ConditionOperatorKind.ArnLike,
        _ => Kind,
    };

    /// <summary>Parses "ForAnyValue:StringLikeIfExists"-style names. Operator names match case-insensitively.</summary>
    public static bool TryParse(string name, out ConditionOperator? parsed, out string? error)
    {
        parsed = null;
        error = null;
        var rest = name;
        var qualifier = ConditionSetQualifier.None;
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var prefix = rest[..colon];
            if (!Enum.TryParse(prefix, ignoreCase: true, out qualifier) || qualifier == ConditionSetQualifier.None || !IsLettersOnly(prefix))
            {
                error = $"unknown condition set qualifier \"{prefix}\" (expected ForAllValues or ForAnyValue)";
                return false;
            }

            rest = rest[(colon + 1)..];
        }

        var ifExists = false;
        if (rest.Length > IfExistsSuffix.Length && rest.EndsWith(IfExistsSuffix, StringComparison.OrdinalIgnoreCase))
        {
            ifExists = true;
            rest = rest[..^IfExistsSuffix.Length];
        }

        // Enum.TryParse also accepts numbers and comma lists; only bare names are operators.
        if (!IsLettersOnly(rest) || !Enum.TryParse(rest, ignoreCase: true, out ConditionOperatorKind kind))
        {
            error = $"unknown condition operator \"{name}\"";
            return false;
        }

        if (kind == ConditionOperatorKind.Null && ifExists)
        {
            error = "the Null condition operator cannot take the IfExists suffix";
            return false;
        }

        parsed = new ConditionOperator(kind, ifExists, qualifier);
        return true;
    }

    private static bool IsLettersOnly(string value) => value.Length > 0 && value.All(char.IsAsciiLetter);
}
