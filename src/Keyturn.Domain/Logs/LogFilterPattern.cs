using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Keyturn.Domain.Logs;

/// <summary>
/// CloudWatch Logs' filter pattern for unstructured events, term and phrase forms only:
/// space-separated terms are all required, <c>"a quoted phrase"</c> is one term, <c>?term</c>s are
/// alternatives (at least one must appear), <c>-term</c>s must not appear, and an empty pattern (or
/// <c>""</c>) matches everything. Terms match as case-sensitive substrings, as CloudWatch's do.
/// </summary>
public sealed class LogFilterPattern
{
    private readonly string[] _required;
    private readonly string[] _alternatives;
    private readonly string[] _excluded;

    private LogFilterPattern(string[] required, string[] alternatives, string[] excluded)
    {
        _required = required;
        _alternatives = alternatives;
        _excluded = excluded;
    }

    public static LogFilterPattern All { get; } = new([], [], []);

    /// <summary>Terms every match contains; a store can use them to narrow its scan before <see cref="IsMatch"/>.</summary>
    public IReadOnlyList<string> RequiredTerms => _required;

    /// <summary>The <c>?term</c>s, at least one of which every match contains (none: no such condition); a store can narrow its scan with them too.</summary>
    public IReadOnlyList<string> AlternativeTerms => _alternatives;

    public bool MatchesEverything => _required.Length == 0 && _alternatives.Length == 0 && _excluded.Length == 0;

    public static LogFilterPattern Parse(string? text) =>
        TryParse(text, out var pattern, out var error) ? pattern : throw new FormatException(error);

    /// <summary>Parses a pattern; <paramref name="error"/> says why one is refused, in words a caller can act on.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out LogFilterPattern? pattern, [NotNullWhen(false)] out string? error)
    {
        pattern = null;
        var trimmed = (text ?? "").Trim();
        error = Unsupported(trimmed);
        if (error is not null)
        {
            return false;
        }

        List<string> required = [], alternatives = [], excluded = [];
        var i = 0;
        while (i < trimmed.Length)
        {
            if (char.IsWhiteSpace(trimmed[i]))
            {
                i++;
                continue;
            }

            var list = trimmed[i] switch
            {
                '?' => alternatives,
                '-' => excluded,
                _ => required,
            };
            var start = i;
            if (list != required)
            {
                i++;
                if (i == trimmed.Length || char.IsWhiteSpace(trimmed[i]))
                {
                    error = $"Invalid filter pattern: '{trimmed[start]}' must be followed by a term.";
                    return false;
                }
            }

            if (!TryReadTerm(trimmed, ref i, out var term, out error))
            {
                return false;
            }

            // An empty or blank phrase is CloudWatch's "match everything"; it constrains nothing.
            if (term.Length > 0 || list == excluded)
            {
                list.Add(term);
            }
        }

        pattern = required.Count == 0 && alternatives.Count == 0 && excluded.Count == 0
            ? All
            : new LogFilterPattern([.. required], [.. alternatives], [.. excluded]);
        return true;
    }

    public bool IsMatch(string message)
    {
        foreach (var term in _required)
        {
            if (!message.Contains(term, StringComparison.Ordinal))
            {
                return false;
            }
        }

        foreach (var term in _excluded)
        {
            if (message.Contains(term, StringComparison.Ordinal))
            {
                return false;
            }
        }

        if (_alternatives.Length == 0)
        {
            return true;
        }

        foreach (var term in _alternatives)
        {
            if (message.Contains(term, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static string? Unsupported(string pattern)
    {
        if (pattern.StartsWith('{'))
        {
            return "JSON filter patterns ({ $.field = value }) are not supported; use terms, ?alternatives, -exclusions and \"quoted phrases\".";
        }

        if (pattern.StartsWith('['))
        {
            return "Space-delimited filter patterns ([field1, field2, ...]) are not supported; use terms, ?alternatives, -exclusions and \"quoted phrases\".";
        }

        if (pattern.Length > 1 && pattern.StartsWith('%') && pattern.EndsWith('%'))
        {
            return "Regular-expression filter patterns (%regex%) are not supported; use terms, ?alternatives, -exclusions and \"quoted phrases\".";
        }

        // Log events are text; a NUL or other control character in a term could only reach the store's text index.
        foreach (var c in pattern)
        {
            if (char.IsControl(c) && !char.IsWhiteSpace(c))
            {
                return $"Invalid filter pattern: control character U+{(int)c:X4} is not allowed.";
            }
        }

        return null;
    }

    private static bool TryReadTerm(string text, ref int i, out string term, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (text[i] != '"')
        {
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
            {
                if (text[i] == '"')
                {
                    term = "";
                    error = "Invalid filter pattern: a quotation mark may only open or close a phrase.";
                    return false;
                }

                i++;
            }

            term = text[start..i];
            return true;
        }

        var phrase = new StringBuilder();
        i++;
        while (i < text.Length && text[i] != '"')
        {
            // \" and \\ put a quotation mark or a backslash inside a phrase.
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\')
            {
                i++;
            }

            phrase.Append(text[i]);
            i++;
        }

        if (i == text.Length)
        {
            term = "";
            error = "Invalid filter pattern: a quoted phrase is not closed.";
            return false;
        }

        i++;
        if (i < text.Length && !char.IsWhiteSpace(text[i]))
        {
            term = "";
            error = "Invalid filter pattern: a closing quotation mark must be followed by a space.";
            return false;
        }

        term = string.IsNullOrWhiteSpace(phrase.ToString()) ? "" : phrase.ToString();
        return true;
    }
}
