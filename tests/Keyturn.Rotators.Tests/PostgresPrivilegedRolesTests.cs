using Keyturn.Rotators.PostgreSql;

namespace Keyturn.Rotators.Tests;

/// <summary>Which roles a PostgreSQL clone must not reach; the source here is always <c>app</c> unless named.</summary>
public sealed class PostgresPrivilegedRolesTests
{
    public static TheoryData<string, string, string[], string[]> Cases => new()
    {
        // name, source, reach ("role [via a,b] [|ATTRIBUTE,...]", source first), expected reasons
        { "a plain login role is not privileged", "app", ["app"], [] },
        { "a superuser source is named as one", "postgres", ["postgres|SUPERUSER"], ["postgres is a superuser"] },
        {
            "CREATEROLE, REPLICATION and BYPASSRLS on the source are each named", "app", ["app|CREATEROLE,REPLICATION,BYPASSRLS"],
            ["app has CREATEROLE", "app has REPLICATION", "app has BYPASSRLS"]
        },
        { "CREATEDB is accepted", "app", ["app|CREATEDB"], [] },
        { "membership in a superuser role is privileged", "app", ["app", "boss|SUPERUSER"], ["app is a member of boss, which is a superuser"] },
        {
            "a superuser reached through a NOINHERIT group still counts", "app", ["app", "ops", "boss via ops|SUPERUSER"],
            ["app is a member of boss (through ops), which is a superuser"]
        },
        {
            "a group role with CREATEROLE or BYPASSRLS is privileged", "app", ["app", "admins|CREATEROLE", "auditors|BYPASSRLS"],
            ["app is a member of admins, which has CREATEROLE", "app is a member of auditors, which has BYPASSRLS"]
        },
        { "ordinary groups nested in ordinary groups are fine", "app", ["app", "readers", "staff via readers|CREATEDB"], [] },
        {
            "pg_write_server_files writes server files", "app", ["app", "pg_write_server_files"],
            ["app is a member of pg_write_server_files, which writes files on the database server"]
        },
        {
            "pg_execute_server_program reached through a group runs programs", "app", ["app", "etl", "pg_execute_server_program via etl"],
            ["app is a member of pg_execute_server_program (through etl), which runs programs on the database server"]
        },
        {
            "pg_read_all_data is refused although read-only, for it reads pg_authid", "app", ["app", "pg_read_all_data"],
            ["app is a member of pg_read_all_data, which reads every table, pg_authid's password verifiers included"]
        },
        {
            "the other PostgreSQL 15 write and admin roles are refused", "app",
            ["app", "pg_write_all_data", "pg_read_server_files", "pg_signal_backend", "pg_checkpoint"],
            [
                "app is a member of pg_write_all_data, which writes every table",
                "app is a member of pg_read_server_files, which reads files on the database server",
                "app is a member of pg_signal_backend, which cancels and terminates other sessions",
                "app is a member of pg_checkpoint, which runs CHECKPOINT",
            ]
        },
        {
            "the monitoring roles are accepted", "app",
            ["app", "pg_monitor", "pg_read_all_settings via pg_monitor", "pg_read_all_stats via pg_monitor", "pg_stat_scan_tables via pg_monitor"],
            []
        },
        { "owning the database is accepted", "app", ["app", "pg_database_owner"], [] },
        {
            "a predefined role of a later version is refused until someone judges it", "app", ["app", "pg_new_power"],
            ["app is a member of pg_new_power, which is a predefined role not known to be harmless"]
        },
        {
            "a role reached twice is reported once, by its nearest path", "app", ["app", "boss|SUPERUSER", "ops", "boss via ops|SUPERUSER"],
            ["app is a member of boss, which is a superuser"]
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reasons_Cases(string name, string source, string[] reach, string[] expected)
    {
        var reasons = PostgresPrivilegedRoles.Reasons(source, reach.Select(Reach));

        Assert.True(expected.SequenceEqual(reasons), $"{name}: expected [{string.Join("; ", expected)}], got [{string.Join("; ", reasons)}]");
    }

    private static PostgresRoleReach Reach(string text)
    {
        var bar = text.Split('|');
        var attributes = bar.Length > 1 ? bar[1].Split(',') : [];
        var words = bar[0].Split(" via ");
        var via = words.Length > 1 ? words[1].Split(',') : [];
        return new PostgresRoleReach(
            words[0],
            via,
            attributes.Contains("SUPERUSER"),
            attributes.Contains("CREATEROLE"),
            attributes.Contains("REPLICATION"),
            attributes.Contains("BYPASSRLS"),
            attributes.Contains("CREATEDB"));
    }
}
