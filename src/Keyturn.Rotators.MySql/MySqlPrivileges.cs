namespace Keyturn.Rotators.MySql;

/// <summary>
/// Which grants make an account too privileged to clone without an administrator's decision. A clone replays
/// every grant of its source, so the rules judge the source's <c>SHOW GRANTS</c> lines, and the lines of every
/// role it has, one by one.
/// </summary>
/// <remarks>
/// Privileged: any <c>WITH GRANT OPTION</c> or <c>WITH ADMIN OPTION</c> (the clone could hand its rights on);
/// PROXY (it logs in as another account); any privilege on <c>*.*</c> except the read-only monitoring ones in
/// <see cref="HarmlessGlobal"/>, which covers SUPER, ALL PRIVILEGES, CREATE USER, FILE, SHUTDOWN, RELOAD,
/// REPLICATION SLAVE, MariaDB's split SUPER privileges (BINLOG ADMIN, BINLOG REPLAY, CONNECTION ADMIN,
/// FEDERATED ADMIN, READ_ONLY ADMIN, REPLICATION MASTER ADMIN, REPLICATION SLAVE ADMIN, SET USER), MySQL 8's
/// dynamic *_ADMIN privileges and any privilege a later version adds; and any privilege but USAGE on the
/// <c>mysql</c> system schema, whether named or matched by a database pattern such as <c>`%`</c> (its tables
/// hold every account's grants and password hashes). Data privileges on *.* are refused for the same reason.
/// Accepted on *.*: PROCESS, BINLOG MONITOR (REPLICATION CLIENT), SLAVE MONITOR (REPLICA MONITOR) and SHOW
/// DATABASES, what monitoring agents are given: they change nothing and read no table data, though PROCESS shows
/// other sessions' statement text.
/// </remarks>
internal static class MySqlPrivileges
{
    public const string SystemSchema = "mysql";

    /// <summary>The privileges on *.* a clone may get.</summary>
    public static readonly IReadOnlySet<string> HarmlessGlobal = new HashSet<string>(StringComparer.Ordinal)
    {
        "USAGE",
        "PROCESS",
        "SHOW DATABASES",
        "REPLICATION CLIENT",
        "BINLOG MONITOR",
        "SLAVE MONITOR",
        "REPLICA MONITOR",
    };

    /// <summary>
    /// What in <paramref name="grant"/> is privileged, each as "<c>PRIVILEGE on TARGET</c>" to follow "has"; empty
    /// when nothing is. Roles granted are not followed here: the caller reads their grants and judges them too.
    /// </summary>
    public static IReadOnlyList<string> Reasons(MySqlGrant grant)
    {
        ArgumentNullException.ThrowIfNull(grant);
        var reasons = new List<string>();
        switch (grant.Kind)
        {
            case MySqlGrantKind.Roles when grant.WithOption:
                reasons.AddRange(grant.Items.Select(role => $"ADMIN OPTION on role {role}"));
                break;
            case MySqlGrantKind.Privileges:
                var target = grant.ParseTarget();
                foreach (var privilege in grant.Items.Select(Name).Distinct(StringComparer.Ordinal))
                {
                    if (privilege == "GRANT OPTION")
                    {
                        continue;
                    }

                    var shown = privilege == "ALL" ? "ALL PRIVILEGES" : privilege;
                    if (target.Scope == MySqlGrantScope.Account
                        || (target.Scope == MySqlGrantScope.Global && !HarmlessGlobal.Contains(privilege)))
                    {
                        reasons.Add($"{shown} on {grant.Target}");
                    }
                    else if (target.Scope != MySqlGrantScope.Global && privilege != "USAGE" && CoversSystemSchema(target))
                    {
                        reasons.Add($"{shown} on {grant.Target}, which covers the {SystemSchema} system schema");
                    }
                }

                if (grant.WithOption || grant.Items.Any(item => Name(item) == "GRANT OPTION"))
                {
                    reasons.Add($"GRANT OPTION on {grant.Target}");
                }

                break;
        }

        return reasons;
    }

    /// <summary>Whether a database name pattern (SQL LIKE, <c>\</c> escapes) matches <paramref name="name"/>, ignoring case.</summary>
    public static bool Matches(string pattern, string name)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(name);
        return Match(pattern, 0, name, 0);

        static bool Match(string p, int i, string s, int j)
        {
            while (i < p.Length)
            {
                var c = p[i];
                if (c == '%')
                {
                    for (var k = j; k <= s.Length; k++)
                    {
                        if (Match(p, i + 1, s, k))
                        {
                            return true;
                        }
                    }

                    return false;
                }

                if (j >= s.Length)
                {
                    return false;
                }

                if (c == '\\' && i + 1 < p.Length)
                {
                    i++;
                    c = p[i];
                }
                else if (c == '_')
                {
                    i++;
                    j++;
                    continue;
                }

                if (char.ToLowerInvariant(c) != char.ToLowerInvariant(s[j]))
                {
                    return false;
                }

                i++;
                j++;
            }

            return j == s.Length;
        }
    }

    private static bool CoversSystemSchema(MySqlGrantTarget target) =>
        target.Scope switch
        {
            MySqlGrantScope.Database => Matches(target.Database!, SystemSchema),
            MySqlGrantScope.Object => string.Equals(target.Database, SystemSchema, StringComparison.OrdinalIgnoreCase),
            _ => false,
        };

    /// <summary><c>select (`a`, `b`)</c> → <c>SELECT</c>: the privilege's name, upper case, single-spaced.</summary>
    private static string Name(string item)
    {
        var open = item.IndexOf('(', StringComparison.Ordinal);
        var name = open < 0 ? item : item[..open];
        return string.Join(' ', name.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToUpperInvariant() switch
        {
            "ALL PRIVILEGES" => "ALL",
            var other => other,
        };
    }
}
