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
    public static bool AllHold(CompiledCondition[] conditions, PolicyRequestContext context, PolicyEffect effect)
    {
        foreach (var condition in conditions)
        {
            var holds = DependsOnUnevaluableKey(condition, context)
                ? effect == PolicyEffect.Deny
                : Holds(condition, context);
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }

    public static bool DependsOnUnevaluableKey(CompiledCondition condition, PolicyRequestContext context)
    {
        if (!context.IsEvaluable(condition.Key))
        {
            return true;
        }

        foreach (var key in condition.ValueKeys)
        {
            if (!context.IsEvaluable(key))
            {
                return true;
            }
        }

        return false;
    }

    public static bool Holds(CompiledCondition condition, PolicyRequestContext context)
    {
        var op = condition.Operator;
        var present = context.TryGetValues(condition.Key.Name, out var actual);

        if (op.Kind == ConditionOperatorKind.Null)
        {
            // "Null": "true" holds when the key is absent, "false" when it is present.
            return present ? condition.NullHoldsWhenPresent : condition.NullHoldsWhenAbsent;
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
        switch (op.Qualifier)
        {
            case ConditionSetQualifier.ForAnyValue:
                for (var i = 0; i < actual.Count; i++)
                {
                    if (Satisfies(condition, actual[i], context))
                    {
                        return true;
                    }
                }

                return false;
            case ConditionSetQualifier.ForAllValues:
                for (var i = 0; i < actual.Count; i++)
                {
                    if (!Satisfies(condition, actual[i], context))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return !condition.KeyIsMultivalued && actual.Count == 1 && Satisfies(condition, actual[0], context);
        }
    }

    /// <summary>Whether one request value satisfies the operator: matches a policy value, or for a negated operator matches none.</summary>
    private static bool Satisfies(CompiledCondition condition, string actual, PolicyRequestContext context)
    {
        var kind = condition.Kind;
        if (!TryPrepareActual(kind, actual, context, out var prepared))
        {
            // A value of the wrong type (e.g. "abc" for NumericLessThan) matches nothing, negated or not.
            return false;
        }

        var anyMatch = false;
        foreach (var value in condition.Values)
        {
            if (value.TryResolve(context, kind, out var pattern, out var typed) && Matches(kind, pattern, typed, actual, prepared))
            {
                anyMatch = true;
                break;
            }
        }

        return condition.Operator.IsNegated ? !anyMatch : anyMatch;
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

    private static bool TryPrepareActual(ConditionOperatorKind kind, string actual, PolicyRequestContext context, out RequestOperand prepared)
    {
        prepared = default;
        switch (kind)
        {
            case ConditionOperatorKind.NumericEquals or ConditionOperatorKind.NumericLessThan
                or ConditionOperatorKind.NumericLessThanEquals or ConditionOperatorKind.NumericGreaterThan
                or ConditionOperatorKind.NumericGreaterThanEquals:
                if (!TryParseNumber(actual, out var number))
                {
                    return false;
                }

                prepared = new RequestOperand(number, default, null);
                return true;
            case ConditionOperatorKind.DateEquals or ConditionOperatorKind.DateLessThan
                or ConditionOperatorKind.DateLessThanEquals or ConditionOperatorKind.DateGreaterThan
                or ConditionOperatorKind.DateGreaterThanEquals:
                if (!TryParseDate(actual, out var date))
                {
                    return false;
                }

                prepared = new RequestOperand(default, date, null);
                return true;
            case ConditionOperatorKind.IpAddress:
                // aws:SourceIp is parsed once per request however many statements test it.
                if (!context.TryParseAddress(actual, out var address))
                {
                    return false;
                }

                prepared = new RequestOperand(default, default, address);
                return true;
            default:
                return true;
        }
    }

    /// <summary>A policy value read as the operator's type; <see cref="PolicyOperand.Parsed"/> is false when it is not one.</summary>
    public static PolicyOperand ParseOperand(ConditionOperatorKind kind, string text)
    {
        switch (kind)
        {
            case ConditionOperatorKind.NumericEquals or ConditionOperatorKind.NumericLessThan
                or ConditionOperatorKind.NumericLessThanEquals or ConditionOperatorKind.NumericGreaterThan
                or ConditionOperatorKind.NumericGreaterThanEquals:
                return TryParseNumber(text, out var number) ? new PolicyOperand(true, number, default, default) : default;
            case ConditionOperatorKind.DateEquals or ConditionOperatorKind.DateLessThan
                or ConditionOperatorKind.DateLessThanEquals or ConditionOperatorKind.DateGreaterThan
                or ConditionOperatorKind.DateGreaterThanEquals:
                return TryParseDate(text, out var date) ? new PolicyOperand(true, default, date, default) : default;
            case ConditionOperatorKind.IpAddress:
                return TryParseNetwork(text, out var network) ? new PolicyOperand(true, default, default, network) : default;
            default:
                return default;
        }
    }

    private static bool Matches(ConditionOperatorKind kind, WildcardPattern pattern, in PolicyOperand typed, string actual, in RequestOperand prepared)
    {
        var text = pattern.Text;
        return kind switch
        {
            ConditionOperatorKind.StringEquals or ConditionOperatorKind.BinaryEquals =>
                string.Equals(text, actual, StringComparison.Ordinal),
            ConditionOperatorKind.StringEqualsIgnoreCase => string.Equals(text, actual, StringComparison.OrdinalIgnoreCase),
            ConditionOperatorKind.StringLike => pattern.IsMatch(actual, ignoreCase: false, arnSegments: false),
            ConditionOperatorKind.Bool => string.Equals(text, actual, StringComparison.OrdinalIgnoreCase),
            ConditionOperatorKind.NumericEquals => CompareNumber(typed, prepared) is 0,
            ConditionOperatorKind.NumericLessThan => CompareNumber(typed, prepared) is > 0,
            ConditionOperatorKind.NumericLessThanEquals => CompareNumber(typed, prepared) is >= 0,
            ConditionOperatorKind.NumericGreaterThan => CompareNumber(typed, prepared) is < 0,
            ConditionOperatorKind.NumericGreaterThanEquals => CompareNumber(typed, prepared) is <= 0,
            ConditionOperatorKind.DateEquals => CompareDate(typed, prepared) is 0,
            ConditionOperatorKind.DateLessThan => CompareDate(typed, prepared) is > 0,
            ConditionOperatorKind.DateLessThanEquals => CompareDate(typed, prepared) is >= 0,
            ConditionOperatorKind.DateGreaterThan => CompareDate(typed, prepared) is < 0,
            ConditionOperatorKind.DateGreaterThanEquals => CompareDate(typed, prepared) is <= 0,
            ConditionOperatorKind.IpAddress => typed.Parsed && typed.Network.Contains(prepared.Address!),
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
        var patternParts = pattern.ArnSegments;
        Span<Range> actualParts = stackalloc Range[6];
        var count = actual.Length == 0 ? 1 : actual.AsSpan().Split(actualParts, ':');
        if (actual.Length == 0)
        {
            actualParts[0] = default;
        }

        if (count < patternParts.Length)
        {
            return false;
        }

        for (var k = 0; k < patternParts.Length; k++)
        {
            // The last pattern part takes the rest of the value, colons included.
            var segment = k == patternParts.Length - 1 ? actual.AsSpan(actualParts[k].Start.Value) : actual.AsSpan(actualParts[k]);
            if (!patternParts[k].IsMatch(segment, ignoreCase: false, arnSegments: false))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>policy value compared with the request value: negative when the policy value is smaller; null when it does not parse.</summary>
    private static int? CompareNumber(in PolicyOperand policyValue, in RequestOperand prepared) =>
        policyValue.Parsed ? policyValue.Number.CompareTo(prepared.Number) : null;

    private static int? CompareDate(in PolicyOperand policyValue, in RequestOperand prepared) =>
        policyValue.Parsed ? policyValue.Date.CompareTo(prepared.Date) : null;

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

/// <summary>A policy value read as its operator's type, once per policy unless a policy variable makes it per request.</summary>
internal readonly record struct PolicyOperand(bool Parsed, decimal Number, DateTimeOffset Date, IPNetwork Network);

/// <summary>A request value read as the operator's type.</summary>
internal readonly record struct RequestOperand(decimal Number, DateTimeOffset Date, IPAddress? Address);
