namespace Keyturn.Domain.Policies;

/// <summary>
/// What evaluating a statement needs that does not depend on the request, worked out once per statement and
/// language version (whether policy variables expand) and then shared by every request: the Resource patterns, the
/// condition keys it reads with whether Keyturn can evaluate each, and its conditions' values already parsed.
/// Values holding a policy variable are still expanded per request.
/// </summary>
internal sealed class CompiledStatement
{
    public CompiledStatement(PolicyStatement statement, bool variables)
    {
        Resources = statement.Resources is { } resources ? Compile(resources, variables, ConditionOperatorKind.StringLike) : null;
        ResourceKeys = KeysIn(statement.Resources ?? [], variables);

        var referenced = new List<ConditionKeyRef>();
        foreach (var key in ConditionKeys.ReferencedKeys(statement, variables))
        {
            referenced.Add(new ConditionKeyRef(key));
        }

        ReferencedKeys = [.. referenced];
        var conditions = new CompiledCondition[statement.Conditions.Count];
        for (var i = 0; i < conditions.Length; i++)
        {
            conditions[i] = new CompiledCondition(statement.Conditions[i], variables);
        }

        Conditions = conditions;
    }

    /// <summary>Resource or NotResource patterns; null when the statement has neither.</summary>
    public PolicyValue[]? Resources { get; }

    /// <summary>The keys the Resource values' policy variables read.</summary>
    public ConditionKeyRef[] ResourceKeys { get; }

    /// <summary>Every key the statement's conditions and policy variables read (<see cref="ConditionKeys.ReferencedKeys"/>).</summary>
    public ConditionKeyRef[] ReferencedKeys { get; }

    public CompiledCondition[] Conditions { get; }

    internal static PolicyValue[] Compile(IReadOnlyList<string> values, bool variables, ConditionOperatorKind kind)
    {
        var compiled = new PolicyValue[values.Count];
        for (var i = 0; i < compiled.Length; i++)
        {
            compiled[i] = new PolicyValue(values[i], variables, kind);
        }

        return compiled;
    }

    internal static ConditionKeyRef[] KeysIn(IReadOnlyList<string> values, bool variables)
    {
        var keys = new List<ConditionKeyRef>();
        foreach (var value in values)
        {
            foreach (var key in PolicyVariables.KeysIn(value, variables))
            {
                keys.Add(new ConditionKeyRef(key));
            }
        }

        return [.. keys];
    }
}

/// <summary>One operator/key pair of a Condition block, ready to evaluate.</summary>
internal sealed class CompiledCondition
{
    public CompiledCondition(PolicyCondition condition, bool variables)
    {
        Operator = condition.ParsedOperator;
        Kind = Operator.PositiveKind;
        Key = new ConditionKeyRef(condition.Key);
        KeyIsMultivalued = ConditionKeys.IsMultivalued(condition.Key);
        Values = CompiledStatement.Compile(condition.Values, variables, Kind);
        ValueKeys = CompiledStatement.KeysIn(condition.Values, variables);
        foreach (var value in condition.Values)
        {
            // Null reads its values as written, never expanded.
            if (bool.TryParse(value, out var wantsAbsent))
            {
                NullHoldsWhenAbsent |= wantsAbsent;
                NullHoldsWhenPresent |= !wantsAbsent;
            }
        }
    }

    public ConditionOperator Operator { get; }

    /// <summary>The operator whose match a negated operator inverts (<see cref="ConditionOperator.PositiveKind"/>).</summary>
    public ConditionOperatorKind Kind { get; }

    public ConditionKeyRef Key { get; }

    public bool KeyIsMultivalued { get; }

    public PolicyValue[] Values { get; }

    /// <summary>The keys the values' policy variables read.</summary>
    public ConditionKeyRef[] ValueKeys { get; }

    /// <summary>For the Null operator: some value is "true" (holds when the key is absent) or "false" (when present).</summary>
    public bool NullHoldsWhenAbsent { get; }

    public bool NullHoldsWhenPresent { get; }
}

/// <summary>A condition key a statement reads, with whether Keyturn can evaluate it at all (<see cref="ConditionKeys.IsEvaluable"/>).</summary>
internal readonly record struct ConditionKeyRef
{
    public ConditionKeyRef(string name)
    {
        Name = name;
        IsEvaluable = ConditionKeys.IsEvaluable(name);
    }

    public string Name { get; }

    public bool IsEvaluable { get; }
}

/// <summary>
/// A Resource or condition value: its wildcard pattern and its reading as the operator's type, prepared once unless
/// a policy variable in it must be expanded for each request.
/// </summary>
internal sealed class PolicyValue
{
    private readonly WildcardPattern? _fixed;
    private readonly PolicyOperand _operand;

    public PolicyValue(string raw, bool variables, ConditionOperatorKind kind)
    {
        Raw = raw;
        Variables = variables;
        if (!PolicyVariables.NeedsExpansion(raw, variables))
        {
            _fixed = new WildcardPattern(raw);
            _operand = ConditionEvaluator.ParseOperand(kind, raw);
        }
    }

    public string Raw { get; }

    private bool Variables { get; }

    /// <summary>
    /// The value for this request. False when a policy variable names a key the request lacks and has no default:
    /// IAM then treats the value as matching nothing.
    /// </summary>
    public bool TryResolve(PolicyRequestContext? context, ConditionOperatorKind kind, out WildcardPattern pattern, out PolicyOperand operand)
    {
        if (_fixed is not null)
        {
            pattern = _fixed;
            operand = _operand;
            return true;
        }

        var resolved = PolicyVariables.TryExpand(Raw, context, Variables, out pattern);
        operand = resolved ? ConditionEvaluator.ParseOperand(kind, pattern.Text) : default;
        return resolved;
    }
}
