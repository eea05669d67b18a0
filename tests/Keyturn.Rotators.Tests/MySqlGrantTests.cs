using Keyturn.Rotators.MySql;

namespace Keyturn.Rotators.Tests;

public sealed class MySqlGrantTests
{
    [Theory]
    // MariaDB's USAGE line carries the password hash and account options; none of them is replayed.
    [InlineData(
        "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*D821809F681A40A6E379B50D0463EFAE20BDD122' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 50",
        "GRANT USAGE ON *.* TO `app_clone`@`%`")]
    [InlineData(
        "GRANT SELECT, INSERT ON `shop\\_x`.* TO `app`@`%` WITH GRANT OPTION",
        "GRANT SELECT, INSERT ON `shop\\_x`.* TO `app_clone`@`%` WITH GRANT OPTION")]
    [InlineData(
        "GRANT ALL PRIVILEGES ON `a\\%b`.* TO `app`@`%`",
        "GRANT ALL PRIVILEGES ON `a\\%b`.* TO `app_clone`@`%`")]
    [InlineData(
        "GRANT SELECT (`a`, `b, c`), UPDATE (`a`) ON `db`.`t` TO `app`@`%`",
        "GRANT SELECT (`a`, `b, c`), UPDATE (`a`) ON `db`.`t` TO `app_clone`@`%`")]
    // Names that contain the keywords the parser looks for.
    [InlineData(
        "GRANT SELECT ON `x TO y`.`ON` TO `app`@`%`",
        "GRANT SELECT ON `x TO y`.`ON` TO `app_clone`@`%`")]
    [InlineData(
        "GRANT `approle` TO `app`@`%` WITH ADMIN OPTION",
        "GRANT `approle` TO `app_clone`@`%` WITH ADMIN OPTION")]
    [InlineData(
        "SET DEFAULT ROLE `approle` FOR `app`@`%`",
        "SET DEFAULT ROLE `approle` FOR `app_clone`@`%`")]
    [InlineData(
        "GRANT PROXY ON ''@'%' TO 'app'@'%' WITH GRANT OPTION",
        "GRANT PROXY ON ''@'%' TO `app_clone`@`%` WITH GRANT OPTION")]
    [InlineData(
        "REVOKE INSERT ON `mysql`.* FROM `app`@`%`",
        "REVOKE INSERT ON `mysql`.* FROM `app_clone`@`%`")]
    public void ReplayFor_ServerLines_KeepPrivilegeTextAndReplaceOnlyTheGrantee(string line, string expected)
    {
        var grant = MySqlGrant.Parse(line, "app", "%");

        Assert.Equal(expected, grant.ReplayFor(MySqlSyntax.Account("app_clone", "%")));
    }

    [Fact]
    public void Parse_GranteeWithQuotesInName_Unquoted()
    {
        var grant = MySqlGrant.Parse("GRANT SELECT ON *.* TO `we``ird`@`10.0.%`", "we`ird", "10.0.%");

        Assert.Equal(["SELECT"], grant.Items);
        Assert.Equal("GRANT SELECT ON *.* TO `x`@`10.0.%`", grant.ReplayFor(MySqlSyntax.Account("x", "10.0.%")));
    }

    [Fact]
    public void Parse_LineForAnotherAccount_Refused()
    {
        Assert.Throws<FormatException>(() => MySqlGrant.Parse("GRANT SELECT ON *.* TO `other`@`%`", "app", "%"));
        Assert.Throws<FormatException>(() => MySqlGrant.Parse("GRANT SELECT ON *.* TO `app`@`localhost`", "app", "%"));
        Assert.Throws<FormatException>(() => MySqlGrant.Parse("CREATE USER `app`@`%`", "app", "%"));
    }

    [Fact]
    public void Describe_ColumnGrants_OneLinePerColumnAndPrivilege()
    {
        var grant = MySqlGrant.Parse("GRANT SELECT (`b`, `a`), UPDATE (`a`) ON `db`.`t` TO `app`@`%` WITH GRANT OPTION", "app", "%");

        Assert.Equal(
            [
                "{user}@`%`: GRANT SELECT (`b`) ON `db`.`t` WITH GRANT OPTION",
                "{user}@`%`: GRANT SELECT (`a`) ON `db`.`t` WITH GRANT OPTION",
                "{user}@`%`: GRANT UPDATE (`a`) ON `db`.`t` WITH GRANT OPTION",
            ],
            grant.Describe("{user}@`%`"));
    }

    [Theory]
    [InlineData("plain", "`plain`")]
    [InlineData("back`tick", "`back``tick`")]
    [InlineData("quote'and\\slash", "`quote'and\\slash`")]
    public void QuoteIdentifier_OnlyBackticksAreDoubled(string name, string expected)
    {
        Assert.Equal(expected, MySqlSyntax.QuoteIdentifier(name));
    }
}
