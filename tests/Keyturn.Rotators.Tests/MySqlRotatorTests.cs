using System.Text.RegularExpressions;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.MySql;
using Keyturn.Rotators.Tests.Infrastructure;
using MySqlConnector;

namespace Keyturn.Rotators.Tests;

[Collection(DatabaseCollection.Name)]
public sealed partial class MySqlRotatorTests(DatabaseServers servers) : DatabaseRotatorConformanceTests(servers)
{
    private MariaDbServer Server => Servers.MariaDb;

    protected override DatabaseConnection Master =>
        new("mariadb", "127.0.0.1", Server.Port, MariaDbServer.MasterUser, Server.MasterPassword, MariaDbServer.Database, SslMode.Prefer);

    protected override string WrongPasswordCode => "1045";

    protected override string EngineFamily => "mariadb";

    protected override IDatabaseRotator CreateRotator(DatabaseRotatorOptions options) => MySqlRotator.Create(options);

    protected override Task CreateUserAsync(string user, string password) =>
        Server.ExecuteAsRootAsync(
            $"CREATE USER `{user}`@`%` IDENTIFIED BY '{password}'",
            $"GRANT SELECT ON {MariaDbServer.Database}.lobby TO `{user}`@`%`");

    protected override Task GrantTablePrivilegesAsync(string user) =>
        Server.ExecuteAsRootAsync(
            $"GRANT SELECT, INSERT ON keyturn.orders TO `{user}`@`%`",
            $"GRANT SELECT (id, amount) ON keyturn.invoices TO `{user}`@`%`");

    protected override Task GrantDirectAsync(string user) =>
        Server.ExecuteAsRootAsync($"GRANT UPDATE ON keyturn.orders TO `{user}`@`%`");

    protected override Task GrantSourceOnlyAsync(string source) =>
        Server.ExecuteAsRootAsync($"GRANT DELETE ON keyturn.orders TO `{source}`@`%`");

    protected override async Task<long> CountOrdersAsync(DatabaseConnection user)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = "127.0.0.1",
            Port = (uint)Server.Port,
            UserID = user.Username,
            Password = user.Password,
            Database = MariaDbServer.Database,
            Pooling = false,
        };
        await using var connection = new MySqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand("SELECT COUNT(*) FROM orders", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [DatabaseFact]
    public async Task CloneUser_HostSpecificAccountWithRequireSslAndLimits_KeepsHostTlsAndLimits()
    {
        // aws-samples #101: the clone must live on the source's host, not on '%'.
        var source = NewName("hosted");
        var password = NewPassword();
        await Server.ExecuteAsRootAsync(
            $"CREATE USER `{source}`@`127.0.0.1` IDENTIFIED BY '{password}' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 500 MAX_USER_CONNECTIONS 4",
            $"GRANT SELECT ON keyturn.orders TO `{source}`@`127.0.0.1`");
        var clone = source + "_clone";
        var clonePassword = NewPassword();

        await Rotator.CloneUserAsync(Master, source, clone, clonePassword, allowPrivilegedRoles: false, CancellationToken.None);

        var accounts = await Server.QueryAsRootAsync($"SELECT Host, ssl_type, max_questions, max_user_connections FROM mysql.user WHERE User = '{clone}'");
        Assert.Equal(["127.0.0.1|ANY|500|4"], accounts);
        var sourcePrivileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        Assert.Equal(sourcePrivileges, await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
        Assert.Contains("{user}@`127.0.0.1`: REQUIRE SSL", sourcePrivileges);
        var tls = await Rotator.ProbeLoginAsync(As(clone, clonePassword) with { Ssl = SslMode.Prefer }, TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.True(tls.IsOk, tls.Message);
    }

    [DatabaseFact]
    public async Task CloneUser_WildcardsEscapesColumnsRolesAndGrantOption_ReplayedExactly()
    {
        // aws-samples #85: escaped wildcards must not turn into %% on each rotation.
        var source = NewName("wild");
        var role = NewName("role");
        var suffix = source.Replace("wild_", string.Empty, StringComparison.Ordinal);
        await Server.ExecuteAsRootAsync(
            $"CREATE DATABASE `shop_{suffix}`",
            $"CREATE DATABASE `a%b{suffix}`",
            $"CREATE TABLE `shop_{suffix}`.`t` (a INT, `we``ird col` INT)",
            $"CREATE ROLE `{role}`",
            $"GRANT SELECT ON keyturn.invoices TO `{role}`",
            $"GRANT `{role}` TO `{MariaDbServer.MasterUser}`@`%` WITH ADMIN OPTION",
            $"CREATE USER `{source}`@`%` IDENTIFIED BY 'x'",
            $"GRANT SELECT, INSERT ON `shop\\_{suffix}`.* TO `{source}`@`%` WITH GRANT OPTION",
            $"GRANT ALL PRIVILEGES ON `a\\%b{suffix}`.* TO `{source}`@`%`",
            $"GRANT SELECT (a, `we``ird col`), UPDATE (a) ON `shop_{suffix}`.`t` TO `{source}`@`%`",
            $"GRANT PROCESS ON *.* TO `{source}`@`%`",
            $"GRANT `{role}` TO `{source}`@`%`",
            $"SET DEFAULT ROLE `{role}` FOR `{source}`@`%`");
        var clone = source + "_clone";

        // WITH GRANT OPTION makes the source privileged: only an administrator's allowance lets it be cloned.
        await Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: true, CancellationToken.None);
        var cloneOfClone = NewName("again");
        await Rotator.CloneUserAsync(Master, clone, cloneOfClone, NewPassword(), allowPrivilegedRoles: true, CancellationToken.None);

        var sourceGrants = await ShowGrantsAsync(source);
        Assert.Equal(sourceGrants, await ShowGrantsAsync(clone));
        Assert.Equal(sourceGrants, await ShowGrantsAsync(cloneOfClone));
        Assert.Contains(sourceGrants, line => line.Contains($"`shop\\_{suffix}`", StringComparison.Ordinal));
        Assert.Contains(sourceGrants, line => line.Contains($"`a\\%b{suffix}`", StringComparison.Ordinal));
        Assert.DoesNotContain(sourceGrants, line => line.Contains("%%", StringComparison.Ordinal));
        var privileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        Assert.Equal(privileges, await Rotator.DescribePrivilegesAsync(Master, cloneOfClone, CancellationToken.None));
        Assert.Contains($"{{user}}@`%`: GRANT INSERT ON `shop\\_{suffix}`.* WITH GRANT OPTION", privileges);
        Assert.Contains($"{{user}}@`%`: DEFAULT ROLE `{role}`", privileges);
    }

    [DatabaseFact]
    public async Task UserWithSeveralHosts_EveryAccountIsChangedAndCloned()
    {
        var user = NewName("multi");
        await Server.ExecuteAsRootAsync(
            $"CREATE USER `{user}`@`%` IDENTIFIED BY 'one'",
            $"CREATE USER `{user}`@`127.0.0.1` IDENTIFIED BY 'two'",
            $"GRANT SELECT ON keyturn.orders TO `{user}`@`127.0.0.1`");
        var password = NewPassword();

        await Rotator.SetUserPasswordAsync(Master, user, password, CancellationToken.None);
        await Rotator.CloneUserAsync(Master, user, user + "_clone", password, allowPrivilegedRoles: false, CancellationToken.None);

        await AssertLogsInAsync(user, password);
        Assert.Equal(
            ["%", "127.0.0.1"],
            await Server.QueryAsRootAsync($"SELECT Host FROM mysql.user WHERE User = '{user}_clone' ORDER BY Host"));
        Assert.Equal(
            await Rotator.DescribePrivilegesAsync(Master, user, CancellationToken.None),
            await Rotator.DescribePrivilegesAsync(Master, user + "_clone", CancellationToken.None));
    }

    [DatabaseFact]
    public async Task SetPassword_Ed25519Account_KeepsItsPluginChain()
    {
        // SET PASSWORD ... = PASSWORD(?) hashes for the account's own plugins; ALTER USER ... IDENTIFIED BY would
        // have switched it to mysql_native_password and dropped unix_socket.
        var user = NewName("ed");
        await Server.ExecuteAsRootAsync($"CREATE USER `{user}`@`%` IDENTIFIED VIA ed25519 USING PASSWORD('old') OR unix_socket");
        var before = await Server.QueryAsRootAsync($"SHOW CREATE USER `{user}`@`%`");

        await Rotator.SetUserPasswordAsync(Master, user, NewPassword(), CancellationToken.None);
        await Rotator.CloneUserAsync(Master, user, user + "_clone", NewPassword(), allowPrivilegedRoles: false, CancellationToken.None);

        var after = await Server.QueryAsRootAsync($"SHOW CREATE USER `{user}`@`%`");
        Assert.Contains("IDENTIFIED VIA ed25519 USING", after[0], StringComparison.Ordinal);
        Assert.Contains("OR unix_socket", after[0], StringComparison.Ordinal);
        Assert.NotEqual(before, after);
        var clone = await Server.QueryAsRootAsync($"SELECT plugin FROM mysql.user WHERE User = '{user}_clone'");
        Assert.NotEmpty(clone);
    }

    [DatabaseFact]
    public async Task ProbeLogin_DatabaseTheUserMayNotUse_UnknownDatabase1044()
    {
        // MySQL answers 1044 rather than 1049 when the user has no rights there, whether or not it exists.
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password) with { DbName = "mysql" }, TimeSpan.FromSeconds(10), CancellationToken.None);
        var master = await Rotator.ProbeLoginAsync(Master with { DbName = "no_such_db" }, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal((LoginOutcome.Unknown, DatabaseReasons.UnknownDatabase, "1044"), (probe.Outcome, probe.Reason, probe.DriverCode));
        Assert.Equal((LoginOutcome.Unknown, DatabaseReasons.UnknownDatabase, "1049"), (master.Outcome, master.Reason, master.DriverCode));
    }

    [DatabaseFact]
    public async Task RoleWithTheSameName_IsNotAUser()
    {
        var role = NewName("justrole");
        await Server.ExecuteAsRootAsync($"CREATE ROLE `{role}`");

        Assert.False(await Rotator.UserExistsAsync(Master, role, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_GrantTheMasterCannotGive_FailsAndLeavesNoClone()
    {
        // aws-samples #90: a master without GRANT OPTION on a privilege can't copy it; nothing half-made stays.
        var limitedMaster = NewName("limited");
        var masterPassword = NewPassword();
        var (source, _) = await NewUserAsync();
        await Server.ExecuteAsRootAsync(
            $"CREATE USER `{limitedMaster}`@`%` IDENTIFIED BY '{masterPassword}'",
            $"GRANT CREATE USER, SELECT ON *.* TO `{limitedMaster}`@`%` WITH GRANT OPTION",
            $"GRANT DELETE ON keyturn.orders TO `{source}`@`%`");
        var clone = source + "_clone";

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master.WithCredentials(limitedMaster, masterPassword), source, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.PermissionDenied, error.Reason);
        Assert.False(await Rotator.UserExistsAsync(Master, clone, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_Root_RefusedWithItsPrivilegesNamedAndNoRootClone()
    {
        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, "root", "root_clone", NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.True(error.Reason == DatabaseReasons.PrivilegedUser, error.Message);
        Assert.False(error.IsTransient);
        Assert.Contains("Refusing to clone root: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("root@localhost has ALL PRIVILEGES on *.*", error.Message, StringComparison.Ordinal);
        Assert.Contains("root@localhost has GRANT OPTION on *.*", error.Message, StringComparison.Ordinal);
        Assert.Contains("root@localhost has PROXY on ``@`%`", error.Message, StringComparison.Ordinal);
        Assert.False(await Rotator.UserExistsAsync(Master, "root_clone", CancellationToken.None));
    }

    // {u} is the source account in SQL and its name in the reason; {r} a role of this case's own.
    [DatabaseTheory]
    [InlineData("GRANT SELECT ON keyturn.* TO {u} WITH GRANT OPTION", "{u}@% has GRANT OPTION on `keyturn`.*")]
    [InlineData("GRANT SUPER ON *.* TO {u}", "{u}@% has SUPER on *.*")]
    [InlineData("GRANT CONNECTION ADMIN, SET USER ON *.* TO {u}", "{u}@% has CONNECTION ADMIN on *.*; {u}@% has SET USER on *.*")]
    [InlineData("GRANT FILE ON *.* TO {u}", "{u}@% has FILE on *.*")]
    [InlineData("GRANT CREATE USER ON *.* TO {u}", "{u}@% has CREATE USER on *.*")]
    [InlineData("GRANT SELECT ON *.* TO {u}", "{u}@% has SELECT on *.*")]
    [InlineData("GRANT SELECT, UPDATE ON mysql.global_priv TO {u}", "{u}@% has SELECT on `mysql`.`global_priv`, which covers the mysql system schema")]
    [InlineData("GRANT SELECT ON `%`.* TO {u}", "{u}@% has SELECT on `%`.*, which covers the mysql system schema")]
    [InlineData("CREATE ROLE {r}; GRANT SUPER ON *.* TO {r}; GRANT {r} TO {u}", "{u}@%'s role {r}, which has SUPER on *.*")]
    [InlineData("CREATE ROLE {r}_in; GRANT FILE ON *.* TO {r}_in; CREATE ROLE {r}; GRANT {r}_in TO {r}; GRANT {r} TO {u}", "{u}@%'s role {r}_in, which has FILE on *.*")]
    [InlineData("CREATE ROLE {r}; GRANT SELECT ON keyturn.orders TO {r}; GRANT {r} TO {u} WITH ADMIN OPTION", "{u}@% has ADMIN OPTION on role `{r}`")]
    public async Task CloneUser_PrivilegedUser_RefusedWithTheReasonAndNoClone(string setup, string reason)
    {
        var (source, _) = await NewUserAsync();
        var role = NewName("power");
        await Server.ExecuteAsRootAsync(setup.Replace("{u}", $"`{source}`@`%`", StringComparison.Ordinal).Replace("{r}", role, StringComparison.Ordinal).Split("; "));
        var clone = source + "_clone";

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.PrivilegedUser, error.Reason);
        Assert.All(
            reason.Replace("{u}", source, StringComparison.Ordinal).Replace("{r}", role, StringComparison.Ordinal).Split("; "),
            expected => Assert.Contains(expected, error.Message, StringComparison.Ordinal));
        Assert.False(await Rotator.UserExistsAsync(Master, clone, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_OrdinaryAppUserWithSchemaGrantsAnOrdinaryRoleAndMonitoring_Clones()
    {
        var (source, _) = await NewUserAsync();
        var role = NewName("readers");
        await GrantTablePrivilegesAsync(source);
        await Server.ExecuteAsRootAsync(
            $"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON keyturn.* TO `{source}`@`%`",
            $"GRANT PROCESS, BINLOG MONITOR ON *.* TO `{source}`@`%`",
            $"CREATE ROLE `{role}`",
            $"GRANT SELECT ON keyturn.invoices TO `{role}`",
            $"GRANT `{role}` TO `{MariaDbServer.MasterUser}`@`%` WITH ADMIN OPTION",
            $"GRANT `{role}` TO `{source}`@`%`",
            $"SET DEFAULT ROLE `{role}` FOR `{source}`@`%`");
        var clone = source + "_clone";
        var password = NewPassword();

        await Rotator.CloneUserAsync(Master, source, clone, password, allowPrivilegedRoles: false, CancellationToken.None);

        await AssertLogsInAsync(clone, password);
        var privileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        Assert.Equal(privileges, await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
        Assert.Contains($"{{user}}@`%`: GRANT ROLE `{role}`", privileges);
    }

    [DatabaseFact]
    public async Task CloneUser_PrivilegedUserTheAdministratorAllows_ClonesAsBefore()
    {
        var (source, _) = await NewUserAsync();
        await Server.ExecuteAsRootAsync(
            $"GRANT SUPER, FILE, CREATE USER ON *.* TO `{source}`@`%`",
            $"GRANT SELECT ON keyturn.* TO `{source}`@`%` WITH GRANT OPTION");
        var clone = source + "_clone";

        await Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: true, CancellationToken.None);

        var privileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        Assert.Equal(privileges, await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
        Assert.Contains("{user}@`%`: GRANT SUPER ON *.*", privileges);
    }

    [DatabaseFact]
    public async Task DescribePrivilegeConcerns_AccountWithGrantOptionAndASuperRole_TheCloneRefusalsReasons()
    {
        var (user, _) = await NewUserAsync();
        var role = NewName("power");
        await Server.ExecuteAsRootAsync(
            $"GRANT SELECT ON keyturn.* TO `{user}`@`%` WITH GRANT OPTION",
            $"CREATE ROLE `{role}`",
            $"GRANT SUPER ON *.* TO `{role}`",
            $"GRANT `{role}` TO `{user}`@`%`");

        var concerns = await Rotator.DescribePrivilegeConcernsAsync(Master, user, CancellationToken.None);

        Assert.Equal([$"{user}@% has GRANT OPTION on `keyturn`.*", $"{user}@%'s role {role}, which has SUPER on *.*"], concerns);
        var refusal = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, user, user + "_clone", NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));
        Assert.Contains($"Refusing to clone {user}: {string.Join("; ", concerns)}.", refusal.Message, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task DescribePrivilegeConcerns_Root_NamesItsGlobalPrivileges()
    {
        var concerns = await Rotator.DescribePrivilegeConcernsAsync(Master, "root", CancellationToken.None);

        Assert.Contains("root@localhost has ALL PRIVILEGES on *.*", concerns);
        Assert.Contains("root@localhost has GRANT OPTION on *.*", concerns);
    }

    [DatabaseFact]
    public async Task DescribePrivilegeConcerns_AppAccountWithSchemaGrantsAndMonitoring_IsEmpty()
    {
        var (user, _) = await NewUserAsync();
        await Server.ExecuteAsRootAsync(
            $"GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX ON keyturn.* TO `{user}`@`%`",
            $"GRANT PROCESS, BINLOG MONITOR ON *.* TO `{user}`@`%`");

        Assert.Empty(await Rotator.DescribePrivilegeConcernsAsync(Master, user, CancellationToken.None));
    }

    // The server lists a column grant's columns in no fixed order.
    [GeneratedRegex(@"\(([^()]*)\)")]
    private static partial Regex ColumnList();

    private async Task<List<string>> ShowGrantsAsync(string user)
    {
        var lines = await Server.QueryAsRootAsync($"SHOW GRANTS FOR `{user}`@`%`");
        return lines
            .Select(line => line.Replace($"`{user}`@", "`U`@", StringComparison.Ordinal))
            .Select(line => line.Contains("IDENTIFIED BY PASSWORD", StringComparison.Ordinal) ? line[..line.IndexOf(" IDENTIFIED", StringComparison.Ordinal)] : line)
            .Select(line => ColumnList().Replace(line, m => "(" + string.Join(", ", m.Groups[1].Value.Split(", ").Order(StringComparer.Ordinal)) + ")"))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
