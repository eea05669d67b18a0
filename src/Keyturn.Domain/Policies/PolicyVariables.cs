using System.Text;

namespace Keyturn.Domain.Policies;

/// <summary>
/// Expands IAM policy variables (<c>${aws:username}</c>, <c>${key, 'default'}</c>, <c>${*}</c>, <c>${?}</c>,
/// <c>${$}</c>) in Resource and Condition values. IAM only expands them under Version 2012-10-17; older
/// documents treat the text literally.
/// </summary>
internal static class PolicyVariables
{
    /// <summary>
    /// Expands <paramref name="raw"/>. Returns false when a variable names a key the request lacks and has no
    /// default: IAM then treats that value as matching nothing.
    /// </summary>
    public static bool TryExpand(string raw, PolicyRequestContext? context, bool enabled, out WildcardPattern pattern)
    {
        if (!NeedsExpansion(raw, enabled))
        {
            pattern = new WildcardPattern(raw);
            return true;
        }

        var text = new StringBuilder(raw.Length);
        var literal = new List<bool>(raw.Length);
        var i = 0;
        while (i < raw.Length)
        {
            if (raw[i] == '$' && i + 1 < raw.Length && raw[i + 1] == '{' && TryReadVariable(raw, i + 2, out var body, out var end))
            {
                if (!TryResolve(body, context, out var value))
                {
                    pattern = new WildcardPattern(raw);
                    return false;
                }

                text.Append(value);
                literal.AddRange(Enumerable.Repeat(true, value.Length));
                i = end + 1;
                continue;
            }

            // Malformed "${" without a closing brace stays literal text, as do all other characters.
            text.Append(raw[i]);
            literal.Add(false);
            i++;
        }

        pattern = new WildcardPattern(text.ToString(), [.. literal]);
        return true;
    }

    /// <summary>False when <paramref name="raw"/> reads the same for every request: variables are off, or it has none.</summary>
    public static bool NeedsExpansion(string raw, bool enabled) => enabled && raw.Contains("${", StringComparison.Ordinal);

    /// <summary>The condition keys the variables in <paramref name="raw"/> read (not the <c>${*}</c>-style escapes).</summary>
    public static IEnumerable<string> KeysIn(string raw, bool enabled)
    {
        if (!enabled)
        {
            yield break;
        }

        var i = raw.IndexOf("${", StringComparison.Ordinal);
        while (i >= 0)
        {
            if (!TryReadVariable(raw, i + 2, out var body, out var end))
            {
                yield break;
            }

            var trimmed = body.Trim();
            var comma = trimmed.IndexOf(',', StringComparison.Ordinal);
            var key = (comma >= 0 ? trimmed[..comma] : trimmed).Trim();
            if (key.Length > 0 && key is not ("*" or "?" or "$"))
            {
                yield return key;
            }

            i = raw.IndexOf("${", end + 1, StringComparison.Ordinal);
        }
    }

    /// <summary>Finds the closing brace, skipping braces inside a quoted default.</summary>
    private static bool TryReadVariable(string raw, int start, out string body, out int end)
    {
        var inQuote = false;
        for (var i = start; i < raw.Length; i++)
        {
            if (raw[i] == '\'')
            {
                inQuote = !inQuote;
            }
            else if (raw[i] == '}' && !inQuote)
            {
                body = raw[start..i];
                end = i;
                return true;
            }
        }

        body = string.Empty;
        end = -1;
        return false;
    }

    private static bool TryResolve(string body, PolicyRequestContext? context, out string value)
    {
        var trimmed = body.Trim();
        if (trimmed is "*" or "?" or "$")
        {
            value = trimmed;
            return true;
        }

        string? fallback = null;
        var key = trimmed;
        var comma = trimmed.IndexOf(',', StringComparison.Ordinal);
        if (comma >= 0)
        {
            key = trimmed[..comma].Trim();
            var quoted = trimmed[(comma + 1)..].Trim();
            if (quoted.Length < 2 || quoted[0] != '\'' || quoted[^1] != '\'')
            {
                value = string.Empty;
                return false;
            }

            // A doubled quote inside the default stands for one quote.
            fallback = quoted[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (key.Length > 0 && context is not null && context.TryGetValue(key, out var found))
        {
            value = found;
            return true;
        }

        value = fallback ?? string.Empty;
        return fallback is not null;
    }
}
