namespace Keyturn.Rotators.MySql;

/// <summary>
/// Quoting for account names. MySQL and MariaDB accept user and host parts as backtick-quoted identifiers, in which
/// only the backtick itself is special (doubled) whatever <c>sql_mode</c> says; string values (passwords, TLS
/// subjects) always travel as MySqlConnector parameters, which escape for the session's backslash mode.
/// </summary>
internal static class MySqlSyntax
{
    public static string QuoteIdentifier(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A MySQL name can't contain NUL.", nameof(name));
        }

        return "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";
    }

    /// <summary><c>`user`@`host`</c>.</summary>
    public static string Account(string user, string host) => $"{QuoteIdentifier(user)}@{QuoteIdentifier(host)}";
}
