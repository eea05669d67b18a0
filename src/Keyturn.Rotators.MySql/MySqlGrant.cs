using System.Text;

namespace Keyturn.Rotators.MySql;

/// <summary>
/// One line of <c>SHOW GRANTS</c>, taken apart with a small tokenizer that respects backtick, single- and
/// double-quoted names and parentheses, so a database called <c>a TO b</c> or <c>shop\_x</c> can't confuse it.
/// Replaying uses the privilege and object text exactly as the server printed it (the server quoted it), so
/// wildcard escapes such as <c>\_</c> and <c>\%</c> survive unchanged; AWS's function instead pushed the text
/// through Python's <c>%</c> formatting and doubled <c>%</c> on every rotation (aws-samples issue #85). The
/// grantee, the password hash and account options are never replayed: the clone gets its own grantee and
/// password, and REQUIRE and resource limits are copied from <c>mysql.user</c> when the clone is created.
/// </summary>
internal sealed record MySqlGrant(MySqlGrantKind Kind, IReadOnlyList<string> Items, string? Target, string User, string Host, bool WithOption)
{
    /// <summary>
    /// Parses a line for the account <paramref name="user"/>@<paramref name="host"/>; throws
    /// <see cref="FormatException"/> if the line is not a form this parser knows or names another grantee.
    /// </summary>
    public static MySqlGrant Parse(string line, string user, string host)
    {
        var grant = Parse(line);
        if (grant.User != user || grant.Host != host)
        {
            throw new FormatException($"A grant line names the account {grant.User}@{grant.Host}, not {user}@{host}.");
        }

        return grant;
    }

    /// <summary>
    /// Parses a line for whichever grantee it names: an account, or a MariaDB role, which has no host (its
    /// <see cref="Host"/> is then empty, as in <c>mysql.user</c>). Throws <see cref="FormatException"/> if the line
    /// is not a form this parser knows.
    /// </summary>
    public static MySqlGrant Parse(string line)
    {
        var tokens = Tokenize(line);
        if (tokens.Count < 3)
        {
            throw Unknown(line);
        }

        var first = tokens[0].Text.ToUpperInvariant();
        MySqlGrantKind kind;
        int itemsStart, granteeKeyword;
        int? onKeyword = null;
        if (first == "GRANT" || first == "REVOKE")
        {
            var keyword = first == "GRANT" ? "TO" : "FROM";
            granteeKeyword = FindWord(tokens, keyword, 1);
            var on = FindWord(tokens, "ON", 1, granteeKeyword);
            itemsStart = 1;
            if (on >= 0)
            {
                onKeyword = on;
                kind = first == "GRANT" ? MySqlGrantKind.Privileges : MySqlGrantKind.Revoke;
            }
            else if (first == "GRANT")
            {
                kind = MySqlGrantKind.Roles;
            }
            else
            {
                throw Unknown(line);
            }
        }
        else if (first == "SET" && tokens.Count > 3 && tokens[1].Is("DEFAULT") && tokens[2].Is("ROLE"))
        {
            kind = MySqlGrantKind.DefaultRole;
            itemsStart = 3;
            granteeKeyword = FindWord(tokens, "FOR", 3);
        }
        else
        {
            throw Unknown(line);
        }

        if (granteeKeyword < 0)
        {
            throw Unknown(line);
        }

        var itemsEnd = onKeyword ?? granteeKeyword;
        var items = SplitTopLevel(line, tokens, itemsStart, itemsEnd);
        string? target = null;
        if (onKeyword is { } onIndex)
        {
            target = Slice(line, tokens, onIndex + 1, granteeKeyword);
        }

        // The grantee: name @ host (each quoted or bare), or a MariaDB role's bare name.
        var g = granteeKeyword + 1;
        if (g >= tokens.Count)
        {
            throw Unknown(line);
        }

        var grantUser = tokens[g].Value;
        var grantHost = string.Empty;
        var afterGrantee = g + 1;
        if (g + 1 < tokens.Count && tokens[g + 1].Text == "@")
        {
            if (g + 2 >= tokens.Count)
            {
                throw Unknown(line);
            }

            grantHost = tokens[g + 2].Value;
            afterGrantee = g + 3;
        }

        // After the grantee: IDENTIFIED ... and REQUIRE ... (account properties, dropped) and WITH options, of
        // which only GRANT OPTION and ADMIN OPTION belong to the grant.
        var withOption = false;
        for (var i = afterGrantee; i < tokens.Count; i++)
        {
            if (tokens[i].Depth == 0 && tokens[i].Is("OPTION") && i > 0 && (tokens[i - 1].Is("GRANT") || tokens[i - 1].Is("ADMIN")))
            {
                withOption = true;
            }
        }

        return new MySqlGrant(kind, items, target, grantUser, grantHost, withOption);
    }

    /// <summary>The statement that gives <paramref name="account"/> (already quoted) the same grant.</summary>
    public string ReplayFor(string account) =>
        Kind switch
        {
            MySqlGrantKind.Privileges => $"GRANT {string.Join(", ", Items)} ON {Target} TO {account}{(WithOption ? " WITH GRANT OPTION" : string.Empty)}",
            MySqlGrantKind.Revoke => $"REVOKE {string.Join(", ", Items)} ON {Target} FROM {account}",
            MySqlGrantKind.Roles => $"GRANT {string.Join(", ", Items)} TO {account}{(WithOption ? " WITH ADMIN OPTION" : string.Empty)}",
            MySqlGrantKind.DefaultRole => $"SET DEFAULT ROLE {string.Join(", ", Items)} FOR {account}",
            _ => throw new InvalidOperationException($"Unknown grant kind {Kind}."),
        };

    /// <summary>One normalized line per privilege, role or revocation, prefixed with <paramref name="account"/>.</summary>
    public IEnumerable<string> Describe(string account) =>
        Items.SelectMany(SplitColumns).Select(item => Kind switch
        {
            MySqlGrantKind.Privileges => $"{account}: GRANT {item} ON {Target}{(WithOption ? " WITH GRANT OPTION" : string.Empty)}",
            MySqlGrantKind.Revoke => $"{account}: REVOKE {item} ON {Target}",
            MySqlGrantKind.Roles => $"{account}: GRANT ROLE {item}{(WithOption ? " WITH ADMIN OPTION" : string.Empty)}",
            MySqlGrantKind.DefaultRole => $"{account}: DEFAULT ROLE {item}",
            _ => throw new InvalidOperationException($"Unknown grant kind {Kind}."),
        });

    /// <summary>
    /// What <see cref="Target"/> names, taken apart: <c>*.*</c>, a database (<c>`db`.*</c>, whose name is a
    /// LIKE pattern), one object (<c>`db`.`t`</c>, <c>PROCEDURE `db`.`p`</c>; the name is literal) or, for
    /// PROXY, an account. Throws <see cref="FormatException"/> for a form this parser does not know.
    /// </summary>
    public MySqlGrantTarget ParseTarget()
    {
        if (Target is null)
        {
            throw new InvalidOperationException("Only privilege grants and revocations have a target.");
        }

        var tokens = Tokenize(Target);
        var i = 0;
        while (i < tokens.Count && tokens[i].Text == tokens[i].Value
            && (tokens[i].Is("TABLE") || tokens[i].Is("FUNCTION") || tokens[i].Is("PROCEDURE") || tokens[i].Is("PACKAGE") || tokens[i].Is("BODY")))
        {
            i++;
        }

        var rest = tokens.Skip(i).ToList();
        if (rest.Count == 3 && rest[1].Text == "@")
        {
            return new MySqlGrantTarget(MySqlGrantScope.Account, null);
        }

        if (rest.Count == 1 && rest[0].Text == rest[0].Value)
        {
            // Unquoted: *.*, db.*, db.t
            var dot = rest[0].Text.IndexOf('.', StringComparison.Ordinal);
            if (rest[0].Text == "*.*")
            {
                return new MySqlGrantTarget(MySqlGrantScope.Global, null);
            }

            if (dot > 0 && dot < rest[0].Text.Length - 1)
            {
                var database = rest[0].Text[..dot];
                return new MySqlGrantTarget(rest[0].Text[(dot + 1)..] == "*" ? MySqlGrantScope.Database : MySqlGrantScope.Object, database);
            }
        }
        else if (rest.Count == 2 && rest[0].Text != rest[0].Value && rest[1].Text == ".*")
        {
            return new MySqlGrantTarget(MySqlGrantScope.Database, rest[0].Value);
        }
        else if (rest.Count == 3 && rest[0].Text != rest[0].Value && rest[1].Text == ".")
        {
            return new MySqlGrantTarget(MySqlGrantScope.Object, rest[0].Value);
        }
        else if (rest.Count == 2 && rest[0].Text != rest[0].Value && rest[1].Text.StartsWith('.') && rest[1].Text.Length > 1)
        {
            // `db`.t
            return new MySqlGrantTarget(MySqlGrantScope.Object, rest[0].Value);
        }

        throw new FormatException($"Unrecognised grant target: {Target}");
    }

    /// <summary>
    /// <c>SELECT (`b`, `a`)</c> → <c>SELECT (`a`)</c> and <c>SELECT (`b`)</c>: the server lists a column grant's
    /// columns in no fixed order, so each column becomes its own line.
    /// </summary>
    private static IEnumerable<string> SplitColumns(string item)
    {
        var open = item.IndexOf('(', StringComparison.Ordinal);
        if (open < 0 || !item.EndsWith(')'))
        {
            return [item];
        }

        var privilege = item[..open].TrimEnd();
        var inner = item[(open + 1)..^1];
        var tokens = Tokenize(inner);
        return SplitTopLevel(inner, tokens, 0, tokens.Count).Select(column => $"{privilege} ({column})");
    }

    private static FormatException Unknown(string line)
    {
        var shown = line.Length > 80 ? line[..80] + "..." : line;
        return new FormatException($"Unrecognised SHOW GRANTS line: {shown}");
    }

    private static int FindWord(List<Token> tokens, string word, int start, int end = int.MaxValue)
    {
        for (var i = start; i < Math.Min(end, tokens.Count); i++)
        {
            if (tokens[i].Depth == 0 && tokens[i].Is(word))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Slice(string line, List<Token> tokens, int from, int to) =>
        from >= to ? string.Empty : line[tokens[from].Start..tokens[to - 1].End].Trim();

    private static List<string> SplitTopLevel(string line, List<Token> tokens, int from, int to)
    {
        var items = new List<string>();
        var start = from;
        for (var i = from; i <= to; i++)
        {
            if (i == to || (tokens[i].Text == "," && tokens[i].Depth == 0))
            {
                if (i > start)
                {
                    items.Add(Slice(line, tokens, start, i));
                }

                start = i + 1;
            }
        }

        return items;
    }

    private static List<Token> Tokenize(string line)
    {
        var tokens = new List<Token>();
        var depth = 0;
        var i = 0;
        while (i < line.Length)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            var start = i;
            if (c is '`' or '\'' or '"')
            {
                var value = new StringBuilder();
                i++;
                while (i < line.Length)
                {
                    if (line[i] == c)
                    {
                        if (i + 1 < line.Length && line[i + 1] == c)
                        {
                            value.Append(c);
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    if (c != '`' && line[i] == '\\' && i + 1 < line.Length)
                    {
                        value.Append(line[i + 1]);
                        i += 2;
                        continue;
                    }

                    value.Append(line[i++]);
                }

                tokens.Add(new Token(line[start..i], value.ToString(), start, i, depth));
                continue;
            }

            if (c is '(' or ')' or ',' or '@')
            {
                if (c == ')')
                {
                    depth--;
                }

                tokens.Add(new Token(c.ToString(), c.ToString(), start, i + 1, depth));
                if (c == '(')
                {
                    depth++;
                }

                i++;
                continue;
            }

            while (i < line.Length && !char.IsWhiteSpace(line[i]) && line[i] is not ('`' or '\'' or '"' or '(' or ')' or ',' or '@'))
            {
                i++;
            }

            var word = line[start..i];
            tokens.Add(new Token(word, word, start, i, depth));
        }

        return tokens;
    }

    private sealed record Token(string Text, string Value, int Start, int End, int Depth)
    {
        public bool Is(string word) => Text.Equals(word, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>A grant's target: its scope and, for a database or an object, the database name (unquoted).</summary>
internal sealed record MySqlGrantTarget(MySqlGrantScope Scope, string? Database);

internal enum MySqlGrantScope
{
    /// <summary><c>*.*</c>: every database, the system schema included, and the server itself.</summary>
    Global,

    /// <summary><c>`db`.*</c>: the name is a LIKE pattern (<c>%</c>, <c>_</c>, <c>\</c> escapes).</summary>
    Database,

    /// <summary>A table, column set or routine in one database, named literally.</summary>
    Object,

    /// <summary>PROXY's target account.</summary>
    Account,
}

internal enum MySqlGrantKind
{
    Privileges,
    Revoke,
    Roles,
    DefaultRole,
}
