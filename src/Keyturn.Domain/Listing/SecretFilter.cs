using System.Text;
using System.Text.RegularExpressions;

namespace Keyturn.Domain.Listing;

/// <summary>
/// ListSecrets <c>Filters</c>: validation and matching.
/// </summary>
/// <remarks>
/// Semantics (API reference <c>Filter</c>; LocalStack's AWS-validated <c>test_list_secrets_filtering</c>):
/// <list type="bullet">
/// <item>Filters AND together; the values of one filter OR together.</item>
/// <item>A value starting with <c>!</c> negates: the secret must not match it. Several negated values
/// in one filter must all fail to match, and when a filter also has plain values the secret must match
/// one of those as well (include-then-exclude; AWS doesn't document the mix, moto ORs everything).</item>
/// <item><c>name</c>, <c>tag-key</c>, <c>tag-value</c>, <c>primary-region</c>, <c>owning-service</c>:
/// case-sensitive prefix of the whole attribute (any tag for the tag keys).</item>
/// <item><c>description</c>: case-insensitive; the value is split into words and every word must
/// prefix some word of the description (<c>"a secret"</c> matches "an secret", not "asecret").</item>
/// <item><c>all</c>: like <c>description</c>, but a value matches when all its words are found in one
/// of the name, the description, a tag key or a tag value.</item>
/// </list>
/// Words are runs of letters and digits, split again where lowercase turns to uppercase, between letters
/// and digits (user guide: <c>credsDatabase#892</c> searches <c>creds</c>, <c>Database</c>, <c>892</c>), and
/// where uppercase turns to lowercase: the last capital of a run starts the next word, so <c>SecretFTag</c> is
/// <c>Secret</c>, <c>F</c>, <c>Tag</c> and <c>COMPANYthings</c> is <c>COMPAN</c>, <c>Ythings</c>.
/// </remarks>
public static partial class SecretFilter
{
    public const int MaxFilters = 10;
    public const int MaxValues = 10;
    public const int MaxValueLength = 512;
    public const string ValuePattern = @"^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$";

    /// <summary>The filter keys in the API model's order.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["description", "name", "tag-key", "tag-value", "primary-region", "owning-service", "all"];

    /// <summary>
    /// Returns null when AWS would accept the filters, else the error it would return.
    /// Model constraints (key enum, value count, length and pattern, filter count) are checked first
    /// and reported together as one <c>ValidationException</c>, as the AWS request validator does;
    /// only then does a missing key or values list give moto's <c>InvalidParameterException</c>.
    /// </summary>
    public static FilterError? Validate(IReadOnlyList<ListFilter>? filters)
    {
        if (filters is null)
        {
            return null;
        }

        var violations = new List<string>();
        if (filters.Count > MaxFilters)
        {
            violations.Add($"Value '{Render(filters)}' at 'filters' failed to satisfy constraint: Member must have length less than or equal to {MaxFilters}");
        }

        for (var i = 0; i < filters.Count; i++)
        {
            var filter = filters[i];
            var path = $"filters.{i + 1}.member";
            if (filter?.Key is { } key && !Keys.Contains(key, StringComparer.Ordinal))
            {
                violations.Add($"Value '{key}' at '{path}.key' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", Keys)}]");
            }

            if (filter?.Values is not { } values)
            {
                continue;
            }

            if (values.Count < 1)
            {
                violations.Add($"Value '[]' at '{path}.values' failed to satisfy constraint: Member must have length greater than or equal to 1");
            }
            else if (values.Count > MaxValues)
            {
                violations.Add($"Value '{Render(values)}' at '{path}.values' failed to satisfy constraint: Member must have length less than or equal to {MaxValues}");
            }

            var memberViolations = new List<string>();
            if (values.Any(v => v is not null && v.Length > MaxValueLength))
            {
                memberViolations.Add($"Member must have length less than or equal to {MaxValueLength}");
            }

            if (values.Any(v => v is not null && !ValueRegex().IsMatch(v)))
            {
                memberViolations.Add($"Member must satisfy regular expression pattern: {ValuePattern}");
            }

            if (memberViolations.Count > 0)
            {
                violations.Add($"Value '{Render(values)}' at '{path}.values' failed to satisfy constraint: Member must satisfy constraint: [{string.Join(", ", memberViolations)}]");
            }
        }

        if (violations.Count > 0)
        {
            var noun = violations.Count == 1 ? "error" : "errors";
            return new FilterError(
                FilterError.Validation,
                $"{violations.Count} validation {noun} detected: {string.Join("; ", violations)}");
        }

        foreach (var filter in filters)
        {
            if (filter?.Key is null)
            {
                return new FilterError(FilterError.InvalidParameter, "Invalid filter key");
            }

            if (filter.Values is null || filter.Values.Any(v => v is null))
            {
                return new FilterError(FilterError.InvalidParameter, $"Invalid filter values for key: {filter.Key}");
            }
        }

        return null;
    }

    /// <summary>Whether the secret passes every filter. Filters must have passed <see cref="Validate"/>.</summary>
    public static bool Matches(SecretListingView secret, IReadOnlyList<ListFilter>? filters)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return filters is null || filters.All(f => MatchesFilter(secret, f));
    }

    private static bool MatchesFilter(SecretListingView secret, ListFilter filter)
    {
        var hasPlain = false;
        var matchedPlain = false;
        foreach (var value in filter.Values)
        {
            if (value.StartsWith('!'))
            {
                if (MatchesValue(secret, filter.Key, value[1..]))
                {
                    return false;
                }
            }
            else
            {
                hasPlain = true;
                matchedPlain = matchedPlain || MatchesValue(secret, filter.Key, value);
            }
        }

        return !hasPlain || matchedPlain;
    }

    private static bool MatchesValue(SecretListingView secret, string key, string value) => key switch
    {
        "name" => secret.Name.StartsWith(value, StringComparison.Ordinal),
        "description" => secret.Description is { } description && WordsMatch(value, description),
        "tag-key" => secret.Tags.Any(t => t.Key.StartsWith(value, StringComparison.Ordinal)),
        "tag-value" => secret.Tags.Any(t => t.Value.StartsWith(value, StringComparison.Ordinal)),
        "primary-region" => secret.PrimaryRegion?.StartsWith(value, StringComparison.Ordinal) == true,
        "owning-service" => secret.OwningService?.StartsWith(value, StringComparison.Ordinal) == true,
        "all" => SearchableFields(secret).Any(field => WordsMatch(value, field)),
        _ => throw new ArgumentException($"Unknown filter key '{key}'; validate filters first.", nameof(key)),
    };

    private static IEnumerable<string> SearchableFields(SecretListingView secret)
    {
        yield return secret.Name;
        if (secret.Description is { } description)
        {
            yield return description;
        }

        foreach (var tag in secret.Tags)
        {
            yield return tag.Key;
            yield return tag.Value;
        }
    }

    /// <summary>Every word of the query prefixes some word of the text, ignoring case. No query words, no match.</summary>
    private static bool WordsMatch(string query, string text)
    {
        var queryWords = Words(query);
        if (queryWords.Count == 0)
        {
            return false;
        }

        var textWords = Words(text);
        return queryWords.All(q => textWords.Any(w => w.StartsWith(q, StringComparison.OrdinalIgnoreCase)));
    }

    internal static List<string> Words(string text)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var previous = '\0';
        foreach (var c in text)
        {
            if (!char.IsLetterOrDigit(c))
            {
                Flush();
                previous = '\0';
                continue;
            }

            var boundary = previous != '\0'
                && ((char.IsLower(previous) && char.IsUpper(c))
                    || (char.IsLetter(previous) && char.IsDigit(c))
                    || (char.IsDigit(previous) && char.IsLetter(c)));
            if (boundary)
            {
                Flush();
            }
            else if (char.IsUpper(previous) && char.IsLower(c) && current.Length > 1)
            {
                // Uppercase to lowercase: the capital just read begins the new word.
                current.Length--;
                Flush();
                current.Append(previous);
            }

            current.Append(c);
            previous = c;
        }

        Flush();
        return words;

        void Flush()
        {
            if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
    }

    private static string Render(IEnumerable<string?> values) => $"[{string.Join(", ", values)}]";

    private static string Render(IEnumerable<ListFilter?> filters) =>
        $"[{string.Join(", ", filters.Select(f => f is null ? "null" : $"Filter(Key={f.Key}, Values={Render(f.Values ?? [])})"))}]";

    [GeneratedRegex(ValuePattern, RegexOptions.CultureInvariant)]
    private static partial Regex ValueRegex();
}
