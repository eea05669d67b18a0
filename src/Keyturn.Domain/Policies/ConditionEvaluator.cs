using System.Globalization;
using System.Net;

namespace Keyturn.Domain.Policies;

/// <summary>Decides Condition blocks against a request context, following IAM's condition operator rules.</summary>
internal static class ConditionEvaluator
{
    /// <summary>
    /// Every condition must hold (AND across operators and keys). A condition on a key Keyturn cannot evaluate
    /// (see <see cref="ConditionKeys"/>) takes the restrictive side: it holds in a Deny statement and fails in an
    /// Allow statement, whatever its operator, IfExists or Null.
    /// </summary>
    public static bool AllHold(IReadOnlyList<PolicyCondition> conditions, PolicyRequestContext context, bool variablesEnabled, PolicyEffect effect)
    {
        foreach (var condition in conditions)
        {
            var holds = DependsOnUnevaluableKey(condition, context, variablesEnabled)
                ? effect == PolicyEffect.Deny
                : Holds(condition, context, variablesEnabled);
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    public static bool DependsOnUnevaluableKey(PolicyCondition condition, PolicyRequestContext context, bool variablesEnabled) =>
        !context.IsEvaluable(condition.Key)
        || condition.Values.Any(v => PolicyVariables.KeysIn(v, variablesEnabled).Any(k => !context.IsEvaluable(k)));

    public static bool Holds(PolicyCondition condition, PolicyRequestContext context, bool variablesEnabled)
    {
        var op = condition.ParsedOperator;
        var present = context.TryGetValues(condition.Key, out var actual);

        if (op.Kind == ConditionOperatorKind.Null)
        {
            // "Null": "true" holds when the key is absent, "false" when it is present.
            return condition.Values.Any(v => bool.TryParse(v, out var wantsAbsent) && wantsAbsent != present);
        }

        if (!present)
        {
            // IAM: an absent key makes a condition false, except that IfExists and negated operators
            // ("the key must not match") hold, and ForAllValues holds vacuously over an empty set while
            // ForAnyValue has no value to satisfy it.
            return op.IfExists || op.Qualifier switch
            {
                ConditionSetQualifier.ForAllValues => true,
                ConditionSetQualifier.ForAnyValue => false,
                _ => op.IsNegated,
            };
        }

        // ForAnyValue: some request value satisfies the operator; ForAllValues: every one does. IAM requires a
        // set operator for a multivalued key: a bare operator on one that is present matches nothing, negated or
        // not, however many values the request carries (multivaluedness belongs to the key, not the request).
        return op.Qualifier switch
        {
            ConditionSetQualifier.ForAnyValue => actual!.Any(v => Satisfies(condition, op, v, context, variablesEnabled)),
            ConditionSetQualifier.ForAllValues => actual!.All(v => Satisfies(condition, op, v, context, variablesEnabled)),
            _ => !ConditionKeys.IsMultivalued(condition.Key) && actual!.Count == 1 && Satisfies(condition, op, actual[0], context, variablesEnabled),
        };
    }

    /// <summary>Whether one request value satisfies the operator: matches a policy value, or for a negated operator matches none.</summary>
    private static bool Satisfies(PolicyCondition condition, ConditionOperator op, string actual, PolicyRequestContext context, bool variablesEnabled)
    {
        var kind = op.PositiveKind;
        if (!TryPrepareActual(kind, actual, out var prepared))
        {
            // A value of the wrong type (e.g. "abc" for NumericLessThan) matches nothing, negated or not.
            return false;
        }

        var anyMatch = false;
        foreach (var raw in condition.Values)
        {
            if (PolicyVariables.TryExpand(raw, context, variablesEnabled, out var pattern) && Matches(kind, pattern, actual, prepared))
            {
                anyMatch = true;
                break;
            }
        }

        return op.IsNegated ? !anyMatch : anyMatch;
    }

    /// <summary>Checks that a policy value of a typed operator parses, so Parse can reject it with a clear message.</summary>
    public static bool IsValidPolicyValue(ConditionOperatorKind kind, string value)
    {
        // A policy variable is only known at evaluation time.
        if (value.Contains("${", StringComparison.Ordinal))
        {
            return true;
        }

        return kind switch
        {
            ConditionOperatorKind.NumericEquals or ConditionOperatorKind.NumericNotEquals
                or ConditionOperatorKind.NumericLessThan or ConditionOperatorKind.NumericLessThanEquals
                or ConditionOperatorKind.NumericGreaterThan or ConditionOperatorKind.NumericGreaterThanEquals
                => TryParseNumber(value, out _),
            ConditionOperatorKind.DateEquals or ConditionOperatorKind.DateNotEquals
                or ConditionOperatorKind.DateLessThan or ConditionOperatorKind.DateLessThanEquals
                or ConditionOperatorKind.DateGreaterThan or ConditionOperatorKind.DateGreaterThanEquals
                => TryParseDate(value, out _),
            ConditionOperatorKind.IpAddress or ConditionOperatorKind.NotIpAddress => TryParseNetwork(value, out _),
            ConditionOperatorKind.Null => bool.TryParse(value, out _),
            _ => true,
        };
    }

    private static bool TryPrepareActual(ConditionOperatorKind kind, string actual, out object? prepared)
    {
        prepared = null;
        switch (kind)
        {
            case ConditionOperatorKind.NumericEquals or ConditionOperatorKind.NumericLessThan
                or ConditionOperatorKind.NumericLessThanEquals or ConditionOperatorKind.NumericGreaterThan
                or ConditionOperatorKind.NumericGreaterThanEquals:
                if (!TryParseNumber(actual, out var number))
                {
                    return false;
                }

                prepared = number;
                return true;
            case ConditionOperatorKind.DateEquals or ConditionOperatorKind.DateLessThan
                or ConditionOperatorKind.DateLessThanEquals or ConditionOperatorKind.DateGreaterThan
                or ConditionOperatorKind.DateGreaterThanEquals:
                if (!TryParseDate(actual, out var date))
                {
                    return false;
                }

                prepared = date;
                return true;
            case ConditionOperatorKind.IpAddress:
                if (!IPAddress.TryParse(actual, out var address))
                {
                    return false;
                }

                prepared = address;
                return true;
            default:
                return true;
        }
    }

    private static bool Matches(ConditionOperatorKind kind, WildcardPattern pattern, string actual, object? prepared)
    {
        var text = pattern.Text;
        return kind switch
        {
            ConditionOperatorKind.StringEquals or ConditionOperatorKind.BinaryEquals =>
                string.Equals(text, actual, StringComparison.Ordinal),
            ConditionOperatorKind.StringEqualsIgnoreCase => string.Equals(text, actual, StringComparison.OrdinalIgnoreCase),
            ConditionOperatorKind.StringLike => pattern.IsMatch(actual, ignoreCase: false, arnSegments: false),
            ConditionOperatorKind.Bool => string.Equals(text, actual, StringComparison.OrdinalIgnoreCase),
            ConditionOperatorKind.NumericEquals => CompareNumber(text, prepared) is 0,
            ConditionOperatorKind.NumericLessThan => CompareNumber(text, prepared) is > 0,
            ConditionOperatorKind.NumericLessThanEquals => CompareNumber(text, prepared) is >= 0,
            ConditionOperatorKind.NumericGreaterThan => CompareNumber(text, prepared) is < 0,
            ConditionOperatorKind.NumericGreaterThanEquals => CompareNumber(text, prepared) is <= 0,
            ConditionOperatorKind.DateEquals => CompareDate(text, prepared) is 0,
            ConditionOperatorKind.DateLessThan => CompareDate(text, prepared) is > 0,
            ConditionOperatorKind.DateLessThanEquals => CompareDate(text, prepared) is >= 0,
            ConditionOperatorKind.DateGreaterThan => CompareDate(text, prepared) is < 0,
            ConditionOperatorKind.DateGreaterThanEquals => CompareDate(text, prepared) is <= 0,
            ConditionOperatorKind.IpAddress => TryParseNetwork(text, out var network) && network.Contains((IPAddress)prepared!),
            ConditionOperatorKind.ArnEquals or ConditionOperatorKind.ArnLike => ArnMatches(pattern, actual),
            _ => false,
        };
    }

    /// <summary>
    /// ArnEquals and ArnLike behave alike in IAM: each of the six colon-separated parts is matched on its own,
    /// case-sensitively, with wildcards. A pattern with fewer parts lets its last part cover the remainder.
    /// </summary>
    private static bool ArnMatches(WildcardPattern pattern, string actual)
    {
        var patternParts = pattern.SplitSegments(6);
        var actualParts = actual.Split(':', 6);
        if (actualParts.Length < patternParts.Length)
        {
            return false;
        }

        for (var k = 0; k < patternParts.Length; k++)
        {
            var segment = k == patternParts.Length - 1 ? string.Join(':', actualParts[k..]) : actualParts[k];
            if (!patternParts[k].IsMatch(segment, ignoreCase: false, arnSegments: false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>policy value compared with the request value: negative when the policy value is smaller; null when it does not parse.</summary>
    private static int? CompareNumber(string policyValue, object? prepared) =>
        TryParseNumber(policyValue, out var expected) ? expected.CompareTo((decimal)prepared!) : null;

    private static int? CompareDate(string policyValue, object? prepared) =>
        TryParseDate(policyValue, out var expected) ? expected.CompareTo((DateTimeOffset)prepared!) : null;

    private static bool TryParseNumber(string value, out decimal number) =>
        decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number);

    /// <summary>IAM dates are ISO 8601 or epoch seconds.</summary>
    private static bool TryParseDate(string value, out DateTimeOffset date)
    {
        if (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            try
            {
                date = DateTimeOffset.FromUnixTimeSeconds(seconds);
                return true;
            }
            catch (ArgumentOutOfRangeException)
            {
                date = default;
                return false;
            }
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date);
    }

    /// <summary>A CIDR block; a bare address means that single host.</summary>
    private static bool TryParseNetwork(string value, out IPNetwork network)
    {
        if (IPNetwork.TryParse(value, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(value, out var address))
        {
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }
}
