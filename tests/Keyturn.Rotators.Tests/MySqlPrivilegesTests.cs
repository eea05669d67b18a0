using Keyturn.Rotators.MySql;

namespace Keyturn.Rotators.Tests;

/// <summary>Which MySQL/MariaDB grants a clone must not replay without an administrator's decision.</summary>
public sealed class MySqlPrivilegesTests
{
    public static TheoryData<string, string, string[]> Lines => new()
    {
        // name, SHOW GRANTS line, expected reasons (each follows "... has")
        { "an ordinary schema grant is fine", "GRANT SELECT, INSERT, UPDATE, DELETE ON `shop`.* TO `app`@`%`", [] },
        { "ALL PRIVILEGES on the application's own schema is fine", "GRANT ALL PRIVILEGES ON `shop`.* TO `app`@`%`", [] },
        { "table and column grants are fine", "GRANT SELECT (`a`, `b`), UPDATE (`a`) ON `shop`.`t` TO `app`@`%`", [] },
        { "a routine grant is fine", "GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `app`@`%`", [] },
        {
            "MariaDB's USAGE line with a password hash and options is fine",
            "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 50", []
        },
        {
            "the monitoring privileges on *.* are accepted",
            "GRANT PROCESS, SHOW DATABASES, BINLOG MONITOR, SLAVE MONITOR ON *.* TO `exporter`@`%`", []
        },
        { "MySQL's REPLICATION CLIENT is the same monitoring privilege", "GRANT PROCESS, REPLICATION CLIENT ON *.* TO `exporter`@`%`", [] },
        {
            "root's ALL PRIVILEGES WITH GRANT OPTION names both",
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION", ["ALL PRIVILEGES on *.*", "GRANT OPTION on *.*"]
        },
        {
            "GRANT OPTION on an application schema is privileged",
            "GRANT SELECT ON `shop`.* TO `app`@`%` WITH GRANT OPTION", ["GRANT OPTION on `shop`.*"]
        },
        { "GRANT OPTION listed as a privilege is privileged too", "GRANT SELECT, GRANT OPTION ON `shop`.`t` TO `app`@`%`", ["GRANT OPTION on `shop`.`t`"] },
        { "SUPER is privileged", "GRANT SUPER ON *.* TO `app`@`%`", ["SUPER on *.*"] },
        {
            "the server-administration privileges are each named",
            "GRANT RELOAD, SHUTDOWN, FILE, CREATE USER, REPLICATION SLAVE ON *.* TO `app`@`%`",
            ["RELOAD on *.*", "SHUTDOWN on *.*", "FILE on *.*", "CREATE USER on *.*", "REPLICATION SLAVE on *.*"]
        },
        {
            "MariaDB's split SUPER privileges are privileged",
            "GRANT BINLOG ADMIN, BINLOG REPLAY, CONNECTION ADMIN, FEDERATED ADMIN, READ_ONLY ADMIN, REPLICATION MASTER ADMIN, REPLICATION SLAVE ADMIN, SET USER ON *.* TO `app`@`%`",
            [
                "BINLOG ADMIN on *.*", "BINLOG REPLAY on *.*", "CONNECTION ADMIN on *.*", "FEDERATED ADMIN on *.*", "READ_ONLY ADMIN on *.*",
                "REPLICATION MASTER ADMIN on *.*", "REPLICATION SLAVE ADMIN on *.*", "SET USER on *.*",
            ]
        },
        {
            "MySQL 8's dynamic admin privileges are privileged, unknown ones included",
            "GRANT SYSTEM_VARIABLES_ADMIN,ROLE_ADMIN,SET_USER_ID,SOME_FUTURE_ADMIN ON *.* TO `app`@`%`",
            ["SYSTEM_VARIABLES_ADMIN on *.*", "ROLE_ADMIN on *.*", "SET_USER_ID on *.*", "SOME_FUTURE_ADMIN on *.*"]
        },
        { "data privileges on *.* reach the system schema's password hashes", "GRANT SELECT ON *.* TO `app`@`%`", ["SELECT on *.*"] },
        {
            "a grant on the mysql schema is privileged",
            "GRANT SELECT ON `mysql`.* TO `app`@`%`", ["SELECT on `mysql`.*, which covers the mysql system schema"]
        },
        {
            "a grant on one mysql table is privileged",
            "GRANT SELECT, UPDATE ON `mysql`.`global_priv` TO `app`@`%`",
            ["SELECT on `mysql`.`global_priv`, which covers the mysql system schema", "UPDATE on `mysql`.`global_priv`, which covers the mysql system schema"]
        },
        {
            "a database pattern that matches mysql is privileged",
            "GRANT INSERT ON `my%`.* TO `app`@`%`", ["INSERT on `my%`.*, which covers the mysql system schema"]
        },
        {
            "a wildcard database pattern covers mysql",
            "GRANT SELECT ON `%`.* TO `app`@`%`", ["SELECT on `%`.*, which covers the mysql system schema"]
        },
        {
            "an underscore wildcard matches mysql too",
            "GRANT DELETE ON `m_sql`.* TO `app`@`%`", ["DELETE on `m_sql`.*, which covers the mysql system schema"]
        },
        { "an escaped underscore is literal and misses mysql", "GRANT DELETE ON `m\\_sql`.* TO `app`@`%`", [] },
        { "a table in a database merely named like a pattern is literal", "GRANT SELECT ON `m_sql`.`t` TO `app`@`%`", [] },
        { "PROXY lets it log in as another account", "GRANT PROXY ON ``@`%` TO `root`@`localhost` WITH GRANT OPTION", ["PROXY on ``@`%`", "GRANT OPTION on ``@`%`"] },
        { "a role is judged by its own grants, not here", "GRANT `approle` TO `app`@`%`", [] },
        { "ADMIN OPTION on a role is privileged", "GRANT `approle` TO `app`@`%` WITH ADMIN OPTION", ["ADMIN OPTION on role `approle`"] },
        { "a MariaDB role's grant line is judged the same way", "GRANT SUPER ON *.* TO `powerful`", ["SUPER on *.*"] },
        { "revocations and default roles give nothing", "REVOKE INSERT ON `mysql`.* FROM `app`@`%`", [] },
    };

    [Theory]
    [MemberData(nameof(Lines))]
    public void Reasons_Lines(string name, string line, string[] expected)
    {
        var reasons = MySqlPrivileges.Reasons(MySqlGrant.Parse(line));

        Assert.True(expected.SequenceEqual(reasons), $"{name}: expected [{string.Join("; ", expected)}], got [{string.Join("; ", reasons)}]");
    }

    [Theory]
    [InlineData("mysql", "mysql", true)]
    [InlineData("MySQL", "mysql", true)]
    [InlineData("%", "mysql", true)]
    [InlineData("my%", "mysql", true)]
    [InlineData("%sql", "mysql", true)]
    [InlineData("m_sql", "mysql", true)]
    [InlineData("m\\_sql", "mysql", false)]
    [InlineData("mysql\\%", "mysql", false)]
    [InlineData("mysql_", "mysql", false)]
    [InlineData("shop", "mysql", false)]
    [InlineData("mysq", "mysql", false)]
    public void Matches_DatabasePatterns_FollowLike(string pattern, string name, bool expected)
    {
        Assert.Equal(expected, MySqlPrivileges.Matches(pattern, name));
    }

    [Theory]
    [InlineData("GRANT SELECT ON *.* TO `a`@`%`", "Global", null)]
    [InlineData("GRANT SELECT ON `sh\\_op`.* TO `a`@`%`", "Database", "sh\\_op")]
    [InlineData("GRANT SELECT ON `we``ird`.`t` TO `a`@`%`", "Object", "we`ird")]
    [InlineData("GRANT EXECUTE ON FUNCTION `db`.`f` TO `a`@`%`", "Object", "db")]
    [InlineData("GRANT EXECUTE ON PACKAGE BODY `db`.`p` TO `a`@`%`", "Object", "db")]
    [InlineData("GRANT SELECT ON db.* TO a@'%'", "Database", "db")]
    [InlineData("GRANT SELECT ON db.t TO a@'%'", "Object", "db")]
    [InlineData("GRANT PROXY ON ''@'%' TO `a`@`%`", "Account", null)]
    public void ParseTarget_ServerForms_GiveScopeAndDatabase(string line, string scope, string? database)
    {
        Assert.Equal(new MySqlGrantTarget(Enum.Parse<MySqlGrantScope>(scope), database), MySqlGrant.Parse(line).ParseTarget());
    }

    [Fact]
    public void Parse_MariaDbRoleGrantee_HasNoHost()
    {
        var grant = MySqlGrant.Parse("GRANT `inner` TO `outer`");

        Assert.Equal(("outer", string.Empty, MySqlGrantKind.Roles), (grant.User, grant.Host, grant.Kind));
        Assert.Equal(["`inner`"], grant.Items);
    }
}
