using System.Net;
using System.Net.Sockets;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;
using SslMode = Keyturn.Application.Rotation.SslMode;

namespace Keyturn.Rotators.Tests;

[Collection(DatabaseCollection.Name)]
public sealed class PostgreSqlRotatorTests(DatabaseServers servers) : DatabaseRotatorConformanceTests(servers)
{
    private PostgresServer Server => Servers.Postgres;

    protected override DatabaseConnection Master =>
        new("postgres", "127.0.0.1", Server.Port, PostgresServer.MasterUser, Server.MasterPassword, PostgresServer.Database, SslMode.Prefer);

    protected override string WrongPasswordCode => "28P01";

    protected override string EngineFamily => "postgres";

    protected override IDatabaseRotator CreateRotator(DatabaseRotatorOptions options) => PostgreSqlRotator.Create(options);

    protected override Task CreateUserAsync(string user, string password) =>
        ExecuteAsMasterAsync($"CREATE ROLE \"{user}\" LOGIN PASSWORD '{password}'");

    protected override Task GrantTablePrivilegesAsync(string user) =>
        ExecuteAsMasterAsync(
            $"GRANT SELECT, INSERT ON orders TO \"{user}\"",
            $"GRANT SELECT (id, amount) ON invoices TO \"{user}\"",
            $"GRANT USAGE ON SEQUENCE order_numbers TO \"{user}\"",
            $"GRANT USAGE, CREATE ON SCHEMA shared TO \"{user}\"");

    protected override Task GrantDirectAsync(string user) =>
        ExecuteAsMasterAsync($"GRANT UPDATE ON orders TO \"{user}\"");

    // Table privileges granted to the source later reach the clone through membership (see the test below), so
    // what the clone can miss is an attribute, which membership never passes on.
    protected override Task GrantSourceOnlyAsync(string source) =>
        ExecuteAsMasterAsync($"ALTER ROLE \"{source}\" CREATEDB");

    protected override async Task<long> CountOrdersAsync(DatabaseConnection user)
    {
        await using var connection = new NpgsqlConnection(Server.ConnectionString(user.Username, user.Password));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM orders", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [DatabaseFact]
    public async Task CloneUser_TablePrivilegeGrantedToSourceLater_ReachesTheCloneThroughMembership()
    {
        var (source, _) = await NewUserAsync();
        var clone = source + "_clone";
        await Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None);

        await GrantTablePrivilegesAsync(source);

        Assert.Equal(
            await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None),
            await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_CopiesAttributesAndSettingsThatMembershipDoesNotCarry()
    {
        var (source, _) = await NewUserAsync();
        await ExecuteAsMasterAsync(
            $"ALTER ROLE \"{source}\" CREATEDB CONNECTION LIMIT 7",
            $"ALTER ROLE \"{source}\" SET search_path = '$user', public, 'odd, \"schema'",
            $"ALTER ROLE \"{source}\" SET statement_timeout = '5s'",
            $"ALTER ROLE \"{source}\" IN DATABASE {PostgresServer.Database} SET work_mem = '3MB'",
            $"ALTER ROLE \"{source}\" SET application_name = 'it''s \\ mine'");
        var clone = source + "_clone";
        var password = NewPassword();

        await Rotator.CloneUserAsync(Master, source, clone, password, allowPrivilegedRoles: false, CancellationToken.None);

        var sourcePrivileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        Assert.Equal(sourcePrivileges, await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
        Assert.Contains("attribute CONNECTION LIMIT 7", sourcePrivileges);
        Assert.Contains("attribute CREATEDB", sourcePrivileges);
        Assert.Contains("setting search_path=\"$user\", public, \"odd, \"\"schema\"", sourcePrivileges);
        Assert.Contains($"setting in database {PostgresServer.Database} work_mem=3MB", sourcePrivileges);
        await using var connection = new NpgsqlConnection(Server.ConnectionString(clone, password));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('search_path') || ' / ' || current_setting('application_name')", connection);
        Assert.Equal("\"$user\", public, \"odd, \"\"schema\" / it's \\ mine", await command.ExecuteScalarAsync());
    }

    [DatabaseFact]
    public async Task CloneUser_SettingTheMasterMayNotCopy_FailsAndLeavesNoClone()
    {
        // log_statement can only be set by a superuser; the whole clone is one transaction.
        var (source, _) = await NewUserAsync();
        await Server.ExecuteAsSuperuserAsync("postgres", $"ALTER ROLE \"{source}\" SET log_statement = 'all'");
        var clone = source + "_clone";

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.PermissionDenied, error.Reason);
        Assert.Equal("42501", error.DriverCode);
        Assert.False(await Rotator.UserExistsAsync(Master, clone, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_BypassRlsIsNotCopied_AndShowsAsADifference()
    {
        var (source, _) = await NewUserAsync();
        await Server.ExecuteAsSuperuserAsync("postgres", $"ALTER ROLE \"{source}\" BYPASSRLS");
        var clone = source + "_clone";

        // BYPASSRLS makes the source privileged: only an administrator's allowance lets it be cloned.
        await Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: true, CancellationToken.None);

        var missing = (await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None))
            .Except(await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
        Assert.Equal(["attribute BYPASSRLS"], missing);
    }

    [DatabaseFact]
    public async Task CloneUser_SecretNamesPostgresAndTheMasterIsASuperuser_RefusedBeforeAnyStatementAndNoPostgresClone()
    {
        // Issue 9's reproduction: alternating users on a secret whose username is postgres ran CREATE ROLE
        // postgres_clone ... and GRANT postgres TO postgres_clone, a superuser login for whoever reads AWSPENDING.
        var master = Master.WithCredentials(PostgresServer.Superuser, Server.SuperuserPassword);
        var clone = BuiltInEngines.AlternateUsername(PostgresServer.Superuser, "postgres");

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(master, PostgresServer.Superuser, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.PrivilegedUser, error.Reason);
        Assert.False(error.IsTransient);
        Assert.Contains("Refusing to clone postgres: postgres is a superuser", error.Message, StringComparison.Ordinal);
        Assert.False(await Rotator.UserExistsAsync(master, clone, CancellationToken.None));
        Assert.DoesNotContain(clone, await File.ReadAllTextAsync(Server.LogPath), StringComparison.Ordinal);
    }

    // {s} is the source role, {g} a role of this case's own; the statements run as the superuser.
    [DatabaseTheory]
    [InlineData("CREATE ROLE {g} SUPERUSER; GRANT {g} TO {s}", "{s} is a member of {g}, which is a superuser")]
    [InlineData(
        "CREATE ROLE {g}_boss SUPERUSER; CREATE ROLE {g} NOINHERIT; GRANT {g}_boss TO {g}; GRANT {g} TO {s}",
        "{s} is a member of {g}_boss (through {g}), which is a superuser")]
    [InlineData("GRANT pg_write_server_files TO {s}", "{s} is a member of pg_write_server_files, which writes files on the database server")]
    [InlineData(
        "CREATE ROLE {g}; GRANT pg_execute_server_program TO {g}; GRANT {g} TO {s}",
        "{s} is a member of pg_execute_server_program (through {g}), which runs programs on the database server")]
    [InlineData("GRANT pg_read_all_data TO {s}", "{s} is a member of pg_read_all_data, which reads every table, pg_authid's password verifiers included")]
    [InlineData("ALTER ROLE {s} CREATEROLE", "{s} has CREATEROLE")]
    [InlineData("ALTER ROLE {s} BYPASSRLS", "{s} has BYPASSRLS")]
    [InlineData("ALTER ROLE {s} REPLICATION", "{s} has REPLICATION")]
    [InlineData("CREATE ROLE {g} CREATEROLE; GRANT {g} TO {s}", "{s} is a member of {g}, which has CREATEROLE")]
    public async Task CloneUser_PrivilegedSource_RefusedWithTheReasonAndNoClone(string setup, string reason)
    {
        var (source, _) = await NewUserAsync();
        var group = NewName("grp");
        await Server.ExecuteAsSuperuserAsync(
            PostgresServer.Database,
            setup.Replace("{s}", source, StringComparison.Ordinal).Replace("{g}", group, StringComparison.Ordinal).Split("; "));
        var clone = source + "_clone";

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.PrivilegedUser, error.Reason);
        Assert.Contains(reason.Replace("{s}", source, StringComparison.Ordinal).Replace("{g}", group, StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
        Assert.False(await Rotator.UserExistsAsync(Master, clone, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_OrdinaryAppRoleInAnOrdinaryGroupWithMonitoringAndCreateDb_Clones()
    {
        var (source, _) = await NewUserAsync();
        var group = NewName("readers");
        await GrantTablePrivilegesAsync(source);
        await Server.ExecuteAsSuperuserAsync(
            PostgresServer.Database,
            $"CREATE ROLE {group}",
            $"GRANT SELECT ON invoices TO {group}",
            $"GRANT {group} TO {source}",
            $"GRANT pg_monitor TO {source}",
            $"ALTER ROLE {source} CREATEDB");
        var clone = source + "_clone";
        var password = NewPassword();

        await Rotator.CloneUserAsync(Master, source, clone, password, allowPrivilegedRoles: false, CancellationToken.None);

        await AssertLogsInAsync(clone, password);
        var privileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        Assert.Equal(privileges, await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
        Assert.Contains("table public.invoices: SELECT", privileges);
        Assert.Contains("member of pg_monitor", privileges);
    }

    [DatabaseFact]
    public async Task CloneUser_PrivilegedSourceTheAdministratorAllows_ClonesAsBefore()
    {
        var (source, _) = await NewUserAsync();
        var boss = NewName("boss");
        await Server.ExecuteAsSuperuserAsync(
            PostgresServer.Database,
            $"CREATE ROLE {boss} SUPERUSER",
            $"GRANT {boss} TO {source}",
            $"GRANT pg_execute_server_program TO {source}",
            $"ALTER ROLE {source} CREATEROLE");
        var clone = source + "_clone";

        await Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: true, CancellationToken.None);

        var privileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        Assert.Equal(privileges, await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None));
        Assert.Contains("member of pg_execute_server_program", privileges);
        Assert.True(await Server.ScalarAsSuperuserAsync<bool>("SELECT pg_has_role(@clone, @boss, 'MEMBER')", ("clone", clone), ("boss", boss)));
    }

    [DatabaseFact]
    public async Task DescribePrivilegeConcerns_SuperuserWithServerProgramsThroughAGroup_TheCloneRefusalsReasons()
    {
        var (boss, _) = await NewUserAsync();
        var group = NewName("grp");
        await Server.ExecuteAsSuperuserAsync(
            PostgresServer.Database,
            $"ALTER ROLE {boss} SUPERUSER",
            $"CREATE ROLE {group}",
            $"GRANT pg_execute_server_program TO {group}",
            $"GRANT {group} TO {boss}");

        var concerns = await Rotator.DescribePrivilegeConcernsAsync(Master, boss, CancellationToken.None);

        Assert.Equal(
            [$"{boss} is a superuser", $"{boss} is a member of pg_execute_server_program (through {group}), which runs programs on the database server"],
            concerns);
        var refusal = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, boss, boss + "_clone", NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));
        Assert.Contains($"Refusing to clone {boss}: {string.Join("; ", concerns)}.", refusal.Message, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task DescribePrivilegeConcerns_AppRoleWithMonitoringAndCreateDb_IsEmpty()
    {
        var (user, _) = await NewUserAsync();
        await GrantTablePrivilegesAsync(user);
        await Server.ExecuteAsSuperuserAsync(PostgresServer.Database, $"GRANT pg_monitor TO {user}", $"ALTER ROLE {user} CREATEDB");

        Assert.Empty(await Rotator.DescribePrivilegeConcernsAsync(Master, user, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task DescribePrivileges_TableCreatedByTheClone_ShowsTheOwnershipDrift()
    {
        // aws-samples #56: objects the clone creates belong to the clone, so the source can't use them.
        var (source, _) = await NewUserAsync();
        await GrantTablePrivilegesAsync(source);
        var clone = source + "_clone";
        var password = NewPassword();
        await Rotator.CloneUserAsync(Master, source, clone, password, allowPrivilegedRoles: false, CancellationToken.None);
        await using (var connection = new NpgsqlConnection(Server.ConnectionString(clone, password)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE TABLE shared.made_by_{clone} (id int)", connection);
            await command.ExecuteNonQueryAsync();
        }

        var extra = (await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None))
            .Except(await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None))
            .ToList();

        Assert.Contains($"table shared.made_by_{clone}: OWNER", extra);
    }

    [DatabaseFact]
    public async Task SetUserPassword_StoresAScramVerifier_AndThePlaintextNeverReachesTheServer()
    {
        var (user, _) = await NewUserAsync();
        var password = "Never-Logged-" + Guid.NewGuid().ToString("N");

        await Rotator.SetUserPasswordAsync(Master, user, password, CancellationToken.None);
        await Rotator.SetOwnPasswordAsync(As(user, password), password + "2", CancellationToken.None);
        await Rotator.CloneUserAsync(Master, user, user + "_clone", password + "3", allowPrivilegedRoles: false, CancellationToken.None);

        var stored = await Server.ScalarAsSuperuserAsync<string>("SELECT rolpassword FROM pg_authid WHERE rolname = @name", ("name", user));
        Assert.StartsWith("SCRAM-SHA-256$4096:", stored, StringComparison.Ordinal);
        await AssertLogsInAsync(user, password + "2");
        var log = await File.ReadAllTextAsync(Server.LogPath);
        Assert.Contains($"ALTER ROLE \"{user}\" WITH PASSWORD", log, StringComparison.Ordinal);
        Assert.DoesNotContain(password, log, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task SetUserPassword_ServerAsksForMd5_StoresTheMd5VerifierTheServerWouldCompute()
    {
        await ExecuteAsMasterAsync($"DROP ROLE IF EXISTS {PostgresServer.Md5User}", $"CREATE ROLE {PostgresServer.Md5User} LOGIN");
        var md5Master = Master with { Username = PostgresServer.Md5MasterUser };
        var password = NewPassword();

        await Rotator.SetUserPasswordAsync(md5Master, PostgresServer.Md5User, password, CancellationToken.None);

        var stored = await Server.ScalarAsSuperuserAsync<string>("SELECT rolpassword FROM pg_authid WHERE rolname = @name", ("name", PostgresServer.Md5User));
        var expected = await Server.ScalarAsSuperuserAsync<string>("SELECT 'md5' || md5(@password || @name)", ("password", password), ("name", PostgresServer.Md5User));
        Assert.Equal(expected, stored);
        await AssertLogsInAsync(PostgresServer.Md5User, password);
    }

    [DatabaseFact]
    public async Task RoleNames_WithQuotesSpacesAndCase_AreQuotedExactly()
    {
        var source = $"Odd \"Name\"; DROP ROLE {PostgresServer.MasterUser}; {Guid.NewGuid().ToString("N")[..6]}";
        await ExecuteAsMasterAsync($"CREATE ROLE \"{source.Replace("\"", "\"\"", StringComparison.Ordinal)}\" LOGIN PASSWORD 'x'");
        var password = NewPassword();
        var clone = BuiltInEngines.AlternateUsername(source, "postgres");

        await Rotator.SetUserPasswordAsync(Master, source, password, CancellationToken.None);
        await Rotator.CloneUserAsync(Master, source, clone, password, allowPrivilegedRoles: false, CancellationToken.None);

        await AssertLogsInAsync(source, password);
        await AssertLogsInAsync(clone, password);
        Assert.True(await Rotator.UserExistsAsync(Master, PostgresServer.MasterUser, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_NameLongerThan63Bytes_RefusedBeforeThePostgresTruncatesIt()
    {
        var (source, _) = await NewUserAsync();

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, source, new string('c', 64), NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.Unsupported, error.Reason);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_PgHbaRejectsPlaintext_UnknownTlsNotAuthFailed(bool loginOnly)
    {
        await ExecuteAsMasterAsync($"DROP ROLE IF EXISTS {PostgresServer.TlsOnlyUser}", $"CREATE ROLE {PostgresServer.TlsOnlyUser} LOGIN PASSWORD 'Tls-0nly'");

        var plaintext = await Rotator.ProbeLoginAsync(As(PostgresServer.TlsOnlyUser, "Tls-0nly") with { Ssl = SslMode.Disable }, TimeSpan.FromSeconds(10), loginOnly, CancellationToken.None);
        var tls = await Rotator.ProbeLoginAsync(As(PostgresServer.TlsOnlyUser, "Tls-0nly") with { Ssl = SslMode.Prefer }, TimeSpan.FromSeconds(10), loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Unknown, plaintext.Outcome);
        Assert.Equal(DatabaseReasons.Tls, plaintext.Reason);
        Assert.Equal("28000", plaintext.DriverCode);
        Assert.True(tls.IsOk, tls.Message);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_NoConnectPrivilege_UnknownDatabase(bool loginOnly)
    {
        var (user, password) = await NewUserAsync();
        var database = "locked_" + user;
        await ExecuteAsMasterAsync($"CREATE DATABASE {database}", $"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC");

        var probe = await Rotator.ProbeLoginAsync(As(user, password) with { DbName = database }, TimeSpan.FromSeconds(10), loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Unknown, probe.Outcome);
        Assert.Equal(DatabaseReasons.UnknownDatabase, probe.Reason);
        Assert.Equal("42501", probe.DriverCode);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_NoDbName_UsesThePostgresDatabase(bool loginOnly)
    {
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password) with { DbName = null }, TimeSpan.FromSeconds(10), loginOnly, CancellationToken.None);

        Assert.True(probe.IsOk, probe.Message);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_Md5StoredPassword_OkAndWrongPasswordAuthFailed(bool loginOnly)
    {
        // pg_hba.conf asks this user for md5, and its password is stored as md5: the server sends the md5 challenge.
        var password = NewPassword();
        await ExecuteAsMasterAsync(
            $"DROP ROLE IF EXISTS {PostgresServer.Md5User}",
            "SET password_encryption = 'md5'",
            $"CREATE ROLE {PostgresServer.Md5User} LOGIN PASSWORD '{password}'");

        var ok = await Rotator.ProbeLoginAsync(As(PostgresServer.Md5User, password), TimeSpan.FromSeconds(10), loginOnly, CancellationToken.None);
        var wrong = await Rotator.ProbeLoginAsync(As(PostgresServer.Md5User, password + "x"), TimeSpan.FromSeconds(10), loginOnly, CancellationToken.None);

        Assert.True(ok.IsOk, ok.Message);
        Assert.Equal(LoginOutcome.AuthFailed, wrong.Outcome);
        Assert.Equal("28P01", wrong.DriverCode);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_NoLoginRole_AuthFailedNotOk(bool loginOnly)
    {
        // The password is right but the role may not log in: the server says so before ReadyForQuery.
        var (user, password) = await NewUserAsync();
        await ExecuteAsMasterAsync($"ALTER ROLE {user} NOLOGIN");

        var probe = await Rotator.ProbeLoginAsync(As(user, password), TimeSpan.FromSeconds(10), loginOnly, CancellationToken.None);

        Assert.False(probe.IsOk, probe.Message);
        Assert.Equal("28000", probe.DriverCode);
    }

    [Fact]
    public async Task ProbeLogin_LoginOnly_ServerThatSkipsTheScramProof_IsNotOk()
    {
        // A peer that asks for SCRAM, takes the client's first message and then claims success without the
        // server's signature (not a server that knows the password) must never count as a working password.
        using var fake = new TcpListener(IPAddress.Loopback, 0);
        fake.Start();
        var serving = Task.Run(async () =>
        {
            using var client = await fake.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var buffer = new byte[4096];
            _ = await stream.ReadAsync(buffer);
            await stream.WriteAsync(Message('R', [0, 0, 0, 10, .. "SCRAM-SHA-256"u8, 0, 0]));
            _ = await stream.ReadAsync(buffer);
            await stream.WriteAsync(Message('R', [0, 0, 0, 0]));
            await stream.WriteAsync(Message('Z', [(byte)'I']));
            _ = await stream.ReadAsync(buffer);
        });
        var connection = As("app", "Secret-123") with { Port = ((IPEndPoint)fake.LocalEndpoint).Port, Ssl = SslMode.Disable };

        var probe = await Rotator.ProbeLoginAsync(connection, TimeSpan.FromSeconds(5), loginOnly: true, CancellationToken.None);

        Assert.Equal(LoginOutcome.Unknown, probe.Outcome);
        Assert.Contains("SCRAM", probe.Message, StringComparison.Ordinal);
        fake.Stop();
        await serving.WaitAsync(TimeSpan.FromSeconds(5));

        static byte[] Message(char type, byte[] body) => [(byte)type, .. BitConverter.IsLittleEndian ? BitConverter.GetBytes(body.Length + 4).Reverse() : BitConverter.GetBytes(body.Length + 4), .. body];
    }

    private async Task ExecuteAsMasterAsync(params string[] statements)
    {
        await using var connection = new NpgsqlConnection(Server.ConnectionString(PostgresServer.MasterUser, Server.MasterPassword));
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }
}
