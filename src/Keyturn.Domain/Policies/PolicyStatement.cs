namespace Keyturn.Domain.Policies;

/// <summary>The Effect of a statement.</summary>
public enum PolicyEffect
{
    Allow,
    Deny,
}

/// <summary>One parsed statement of a <see cref="PolicyDocument"/>. Immutable.</summary>
public sealed class PolicyStatement
{
    internal PolicyStatement(
        int index,
        string? sid,
        PolicyEffect effect,
        IReadOnlyList<string> actions,
        bool isNotAction,
        IReadOnlyList<string>? resources,
        bool isNotResource,
        PolicyPrincipal? principal,
        bool isNotPrincipal,
        IReadOnlyList<PolicyCondition> conditions)
    {
        Index = index;
        Sid = sid;
        Effect = effect;
        Actions = actions;
        IsNotAction = isNotAction;
        Resources = resources;
        IsNotResource = isNotResource;
        Principal = principal;
        IsNotPrincipal = isNotPrincipal;
        Conditions = conditions;
    }

    /// <summary>Zero-based position in the document, used in messages.</summary>
    public int Index { get; }

    public string? Sid { get; }

    public PolicyEffect Effect { get; }

    /// <summary>The values of Action, or of NotAction when <see cref="IsNotAction"/>.</summary>
    public IReadOnlyList<string> Actions { get; }

    public bool IsNotAction { get; }

    /// <summary>
    /// The values of Resource, or of NotResource when <see cref="IsNotResource"/>. Null when the statement has
    /// neither, which resource policies use to mean "this secret"; evaluation then treats it as "*".
    /// </summary>
    public IReadOnlyList<string>? Resources { get; }

    public bool IsNotResource { get; }

    /// <summary>The Principal, or the NotPrincipal when <see cref="IsNotPrincipal"/>; null when the statement has neither.</summary>
    public PolicyPrincipal? Principal { get; }

    public bool IsNotPrincipal { get; }

    /// <summary>Every condition must hold for the statement to apply (AND across operators and keys).</summary>
    public IReadOnlyList<PolicyCondition> Conditions { get; }

    private WildcardPattern[]? _actionPatterns;
    private CompiledStatement? _compiled;
    private CompiledStatement? _compiledWithVariables;

    /// <summary>The Action or NotAction values as patterns, built once.</summary>
    internal WildcardPattern[] ActionPatterns => _actionPatterns ??= [.. Actions.Select(a => new WildcardPattern(a))];

    /// <summary>The statement prepared for evaluation, built once per language version (benign race: both builds are equal).</summary>
    internal CompiledStatement Compiled(bool variables) =>
        variables ? _compiledWithVariables ??= new CompiledStatement(this, true) : _compiled ??= new CompiledStatement(this, false);

    /// <summary>"Statement 2 (Sid "ReadApp")", for error messages.</summary>
    internal string Label => Describe(Index, Sid);

    internal static string Describe(int index, string? sid) =>
        sid is null ? $"Statement {index}" : $"Statement {index} (Sid \"{sid}\")";
}
