namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// One role a clone could act as: the source itself or a role the source is a member of, directly or through
/// <see cref="Via"/> (the roles in between, nearest first). On PostgreSQL 15 every membership allows
/// <c>SET ROLE</c>, whatever INHERIT says, so each of these roles' attributes is within the clone's reach.
/// </summary>
internal sealed record PostgresRoleReach(string Role, IReadOnlyList<string> Via, bool Superuser, bool CreateRole, bool Replication, bool BypassRls, bool CreateDb);

/// <summary>
/// Which roles a clone must not reach without an administrator's decision. The clone is a member of its source
/// (<c>GRANT source TO clone</c>), so it can <c>SET ROLE</c> to the source and to everything the source is a
/// member of: a superuser anywhere in that chain makes the clone a superuser.
/// </summary>
/// <remarks>
/// Privileged: SUPERUSER; CREATEROLE (on PostgreSQL 15 it grants membership in any non-superuser role,
/// <c>pg_execute_server_program</c> included); REPLICATION (its replication slots decode
/// every table's changes, whatever the table's grants); BYPASSRLS; and every predefined <c>pg_*</c> role not in <see cref="Harmless"/>, so a
/// predefined role of a later version is refused until someone decides otherwise.
/// Accepted: CREATEDB (creates empty databases; it reads no existing data and copies no database it does not
/// own); <c>pg_database_owner</c> (only the rights of the database's owner; it cannot be granted); and the
/// monitoring roles <c>pg_monitor</c>, <c>pg_read_all_settings</c>, <c>pg_read_all_stats</c> and
/// <c>pg_stat_scan_tables</c>, which change nothing and read no table data (what they expose is server settings
/// and other sessions' activity, statement text included); they are what monitoring agents are given, and those
/// agents' credentials are ordinary rotation targets. <c>pg_read_all_data</c> is not accepted although it is
/// read-only: it reads <c>pg_authid</c>, and an md5 verifier there logs in as its role.
/// </remarks>
internal static class PostgresPrivilegedRoles
{
    /// <summary>Predefined roles a clone may reach.</summary>
    public static readonly IReadOnlySet<string> Harmless = new HashSet<string>(StringComparer.Ordinal)
    {
        "pg_database_owner",
        "pg_monitor",
        "pg_read_all_settings",
        "pg_read_all_stats",
        "pg_stat_scan_tables",
    };

    private static readonly Dictionary<string, string> Known = new(StringComparer.Ordinal)
    {
        ["pg_read_all_data"] = "reads every table, pg_authid's password verifiers included",
        ["pg_write_all_data"] = "writes every table",
        ["pg_read_server_files"] = "reads files on the database server",
        ["pg_write_server_files"] = "writes files on the database server",
        ["pg_execute_server_program"] = "runs programs on the database server",
        ["pg_signal_backend"] = "cancels and terminates other sessions",
        ["pg_checkpoint"] = "runs CHECKPOINT",
        ["pg_create_subscription"] = "creates subscriptions",
        ["pg_use_reserved_connections"] = "uses the connections reserved for administrators",
        ["pg_maintain"] = "runs VACUUM, ANALYZE, REINDEX, REFRESH and LOCK on every table",
    };

    /// <summary>
    /// Why a clone of <paramref name="source"/> would be privileged, one sentence per finding; empty when it
    /// would not. <paramref name="reach"/> holds the source itself (with no <see cref="PostgresRoleReach.Via"/>)
    /// and each role it is a member of, nearest paths first; a role listed twice is judged once.
    /// </summary>
    public static IReadOnlyList<string> Reasons(string source, IEnumerable<PostgresRoleReach> reach)
    {
        ArgumentNullException.ThrowIfNull(reach);
        var reasons = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in reach)
        {
            if (!seen.Add(role.Role))
            {
                continue;
            }

            var self = role.Role == source && role.Via.Count == 0;
            var who = self
                ? source
                : $"{source} is a member of {role.Role}{(role.Via.Count > 0 ? $" (through {string.Join(", ", role.Via)})" : string.Empty)}, which";
            if (role.Superuser)
            {
                reasons.Add($"{who} is a superuser");
            }

            foreach (var (held, attribute) in new[] { (role.CreateRole, "CREATEROLE"), (role.Replication, "REPLICATION"), (role.BypassRls, "BYPASSRLS") })
            {
                if (held)
                {
                    reasons.Add($"{who} has {attribute}");
                }
            }

            if (!self && IsPredefined(role.Role) && !Harmless.Contains(role.Role))
            {
                reasons.Add(Known.TryGetValue(role.Role, out var power)
                    ? $"{who} {power}"
                    : $"{who} is a predefined role not known to be harmless");
            }
        }

        return reasons;
    }

    /// <summary>PostgreSQL reserves names starting with <c>pg_</c> for its predefined roles.</summary>
    private static bool IsPredefined(string role) => role.StartsWith("pg_", StringComparison.Ordinal);
}
