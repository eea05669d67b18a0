using System.Diagnostics.CodeAnalysis;

namespace Keyturn.Domain.Policies;

/// <summary>A parsed, immutable IAM-style policy document.</summary>
public sealed class PolicyDocument
{
    internal PolicyDocument(string? version, string? id, IReadOnlyList<PolicyStatement> statements, int sourceLength)
    {
        Version = version;
        Id = id;
        Statements = statements;
        SourceLength = sourceLength;
    }

    /// <summary>"2012-10-17", "2008-10-17", or null when the document has no Version.</summary>
    public string? Version { get; }

    public string? Id { get; }

    public IReadOnlyList<PolicyStatement> Statements { get; }

    /// <summary>Length in characters of the JSON this was parsed from (resource policies are capped at 20480).</summary>
    public int SourceLength { get; }

    /// <summary>IAM only expands ${...} policy variables under the 2012-10-17 language version.</summary>
    internal bool SupportsPolicyVariables => Version == "2012-10-17";

    private HashSet<string>? _referencedKeys;

    /// <summary>
    /// Every condition key a statement tests or a policy variable reads, compared case-insensitively: evaluation looks up
    /// no other key, so a caller may leave every other one out of the request's context. Computed once per document.
    /// </summary>
    public IReadOnlySet<string> ReferencedKeys => _referencedKeys ??= CollectReferencedKeys();

    /// <summary>True when a key of <see cref="ReferencedKeys"/> satisfies <paramref name="match"/> (no enumerator is allocated).</summary>
    public bool ReferencesAny(Func<string, bool> match)
    {
        ArgumentNullException.ThrowIfNull(match);
        foreach (var key in _referencedKeys ??= CollectReferencedKeys())
        {
            if (match(key))
            {
                return true;
            }
        }

        return false;
    }

    private HashSet<string> CollectReferencedKeys()
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var statement in Statements)
        {
            keys.UnionWith(ConditionKeys.ReferencedKeys(statement, SupportsPolicyVariables));
        }

        return keys;
    }

    /// <summary>Parses with the shared grammar; Principal and Resource are optional. Throws <see cref="PolicyParseException"/>.</summary>
    public static PolicyDocument Parse(string json) => PolicyParser.Parse(json, PolicyKind.Any);

    /// <summary>Parses and also enforces the placement rules of <paramref name="kind"/>. Throws <see cref="PolicyParseException"/>.</summary>
    public static PolicyDocument Parse(string json, PolicyKind kind) => PolicyParser.Parse(json, kind);

    public static bool TryParse(string json, [NotNullWhen(true)] out PolicyDocument? document, [NotNullWhen(false)] out string? error) =>
        TryParse(json, PolicyKind.Any, out document, out error);

    public static bool TryParse(
        string json,
        PolicyKind kind,
        [NotNullWhen(true)] out PolicyDocument? document,
        [NotNullWhen(false)] out string? error)
    {
        try
        {
            document = PolicyParser.Parse(json, kind);
            error = null;
            return true;
        }
        catch (PolicyParseException ex)
        {
            document = null;
            error = ex.Message;
            return false;
        }
    }
}
