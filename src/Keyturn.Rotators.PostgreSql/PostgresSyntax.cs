using System.Text;

namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// Quoting for the few places PostgreSQL can't take a bound parameter (utility statements such as
/// <c>CREATE ROLE</c>, <c>ALTER ROLE</c> and <c>GRANT</c>).
/// </summary>
internal static class PostgresSyntax
{
    /// <summary>PostgreSQL keeps NAMEDATALEN - 1 bytes of an identifier and silently drops the rest.</summary>
    public const int MaxIdentifierBytes = 63;

    /// <summary>
    /// Always double-quotes, like <c>quote_ident</c> does whenever it must: the name is used exactly as given
    /// (case kept), and an embedded double quote is doubled.
    /// </summary>
    public static string QuoteIdentifier(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A PostgreSQL identifier can't be empty or contain NUL.", nameof(name));
        }

        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// An escape-string literal (<c>E'...'</c>) whose meaning does not depend on <c>standard_conforming_strings</c>:
    /// backslashes are doubled and single quotes doubled, and nothing else is special inside it. The connection
    /// always uses UTF-8, so no multi-byte sequence can swallow an escape.
    /// </summary>
    public static string QuoteLiteral(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A PostgreSQL string can't contain NUL.", nameof(value));
        }

        var builder = new StringBuilder(value.Length + 4).Append("E'");
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '\\' => "\\\\",
                '\'' => "''",
                _ => c.ToString(),
            });
        }

        return builder.Append('\'').ToString();
    }

    /// <summary>Checks a role name before it reaches the server: non-empty, no NUL, at most 63 bytes (never truncated).</summary>
    public static bool IsValidRoleName(string name) =>
        name.Length > 0
        && !name.Contains('\0', StringComparison.Ordinal)
        && Encoding.UTF8.GetByteCount(name) <= MaxIdentifierBytes;

    /// <summary>
    /// A configuration parameter name as it may follow <c>SET</c>: each dot-separated part quoted, so custom
    /// parameters such as <c>app.tenant</c> work too.
    /// </summary>
    public static string QuoteSettingName(string name) =>
        string.Join('.', name.Split('.').Select(part => QuoteIdentifier(part.ToLowerInvariant())));

    /// <summary>
    /// Parameters whose list elements the server quotes as identifiers when it stores them
    /// (<c>GUC_LIST_QUOTE</c>): <c>SET search_path = 'a, b'</c> would mean one schema called "a, b".
    /// </summary>
    public static bool IsQuotedList(string settingName) =>
        settingName.ToLowerInvariant() is "search_path" or "temp_tablespaces" or "session_preload_libraries"
            or "local_preload_libraries" or "shared_preload_libraries" or "unix_socket_directories";

    /// <summary>Splits a stored list value such as <c>"$user", public, "My ""x"""</c> into its elements.</summary>
    public static IReadOnlyList<string> SplitQuotedList(string value)
    {
        var elements = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < value.Length && char.IsWhiteSpace(value[i]))
            {
                i++;
            }

            var element = new StringBuilder();
            if (i < value.Length && value[i] == '"')
            {
                // A quoted element: up to the closing quote, "" standing for one quote.
                for (i++; i < value.Length; i++)
                {
                    if (value[i] == '"')
                    {
                        if (i + 1 < value.Length && value[i + 1] == '"')
                        {
                            element.Append('"');
                            i++;
                            continue;
                        }

                        i++;
                        break;
                    }

                    element.Append(value[i]);
                }

                while (i < value.Length && value[i] != ',')
                {
                    i++;
                }

                elements.Add(element.ToString());
            }
            else
            {
                while (i < value.Length && value[i] != ',')
                {
                    element.Append(value[i++]);
                }

                elements.Add(element.ToString().Trim());
            }

            if (i >= value.Length)
            {
                return elements;
            }

            i++;
        }
    }
}
