using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.MySql;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>A Keyturn server next to throwaway PostgreSQL 15 and MariaDB servers.</summary>
public sealed class RotationEnvironment : IAsyncLifetime
{
    public DatabaseServers Databases { get; } = new();

    public KeyturnProcess Server { get; private set; } = null!;

    public AwsCli Cli { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Databases.InitializeAsync();
        Server = await TestServers.StartAsync();
        Cli = new AwsCli(Server);

        // The tests keep their master secrets under these names; alternating users reads a master only when an
        // administrator allowed it for the function.
        foreach (var function in new[] { "keyturn-postgresql-alternating-users", "keyturn-mysql-alternating-users" })
        {
            await Server.FunctionsAsync("policy", function, "--allow-master", "master/*", "--allow-master", "doctor-state/master/*");
        }
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await Databases.DisposeAsync();
    }

    /// <summary>The secret's line of <c>keyturn rotations</c> (its latest rotation's state), or "(no status line)".</summary>
    public async Task<string> RotationStatusAsync(string name)
    {
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "rotations", "--data-dir", Server.DataDirectory], Server, Server.AdminEnvironment);
        return result.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal)) ?? "(no status line)";
    }

    /// <summary>Waits until the secret's status line shows <paramref name="state"/>; returns the line.</summary>
    public async Task<string> WaitForRotationStateAsync(string name, TimeSpan timeout, string state)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var line = await RotationStatusAsync(name);
            if (line.Contains(" " + state, StringComparison.Ordinal))
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{name} never reached '{state}': {line}");
            await Task.Delay(200);
        }
    }

    /// <summary>Calls RotateSecret with <paramref name="function"/> (and a 30-day schedule unless <paramref name="rules"/> is false); returns the new version's id.</summary>
    public async Task<string> StartRotationAsync(string name, string function, bool rules = true)
    {
        var args = new List<string> { "secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{function}" };
        if (rules)
        {
            args.AddRange(["--rotation-rules", "AutomaticallyAfterDays=30"]);
        }

        return (await Cli.JsonAsync([.. args])).GetProperty("VersionId").GetString()!;
    }

    /// <summary>Waits until <paramref name="token"/> alone holds AWSCURRENT, failing with the status line at <paramref name="deadline"/>.</summary>
    public async Task WaitUntilCurrentAsync(string name, string token, DateTime deadline)
    {
        while (true)
        {
            var stages = (await Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("VersionIdsToStages");
            if (stages.TryGetProperty(token, out var labels) && labels.EnumerateArray().Select(l => l.GetString()).SequenceEqual(["AWSCURRENT"]))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"rotation of {name} did not finish: {await RotationStatusAsync(name)}");
            await Task.Delay(200);
        }
    }

    /// <summary>The JSON value of the version holding <paramref name="stage"/>.</summary>
    public async Task<JsonElement> ValueAsync(string name, string stage) =>
        JsonDocument.Parse((await Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name, "--version-stage", stage)).GetProperty("SecretString").GetString()!).RootElement.Clone();

    /// <summary>Asserts the secret's VersionIdsToStages is exactly one label on each given version.</summary>
    public async Task AssertLabelsAsync(string name, params (string Version, string Label)[] expected)
    {
        var stages = (await Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("VersionIdsToStages");
        Assert.Equal(expected.Length, stages.EnumerateObject().Count());
        foreach (var (version, label) in expected)
        {
            Assert.Equal([label], stages.GetProperty(version).EnumerateArray().Select(e => e.GetString()));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class RotationEnvironmentCollection : ICollectionFixture<RotationEnvironment>
{
    public const string Name = "keyturn with databases";
}

/// <summary>
/// The four built-in functions end to end against real databases, driven by the AWS CLI: the new
/// password logs in, the old one no longer does (single user), both users stay valid with equal
/// privileges (alternating users); and failures end in the documented label state with nobody locked out.
/// </summary>
[Collection(RotationEnvironmentCollection.Name)]
public sealed class BuiltInRotationTests(RotationEnvironment env)
{
    // The test's own login check: generous, as a login on a busy machine can take seconds; the outcome is the point, not its speed.
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(30);
    private readonly IDatabaseRotator _postgres = PostgreSqlRotator.Create();
    private readonly IDatabaseRotator _mysql = MySqlRotator.Create();

    [DatabaseFact]
    public async Task PostgreSqlSingleUser_RotatesThePassword()
    {
        var user = "app_" + Suffix();
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD 'initial-Pw-1'");
        var name = "pg/single/" + user;
        await CreateAsync(name, Pg(user, "initial-Pw-1"));

        await RotateAsync(name, "keyturn-postgresql-single-user");

        var rotated = await CurrentAsync(name);
        Assert.NotEqual("initial-Pw-1", rotated.GetProperty("password").GetString());
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user, rotated.GetProperty("password").GetString()!), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.AuthFailed, (await _postgres.ProbeLoginAsync(PgConnection(user, "initial-Pw-1"), Probe, default)).Outcome);
        var previous = await ValueAsync(name, "AWSPREVIOUS");
        Assert.Equal("initial-Pw-1", previous.GetProperty("password").GetString());
        Assert.Equal("keep-me", rotated.GetProperty("custom").GetString());
    }

    [DatabaseFact]
    public async Task PostgreSqlAlternatingUsers_CloneIsEqualAndBothLogIn()
    {
        var user = "alt_" + Suffix();
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database,
            $"CREATE ROLE {user} LOGIN PASSWORD 'alt-initial-1'", $"GRANT SELECT ON orders TO {user}");
        var master = await MasterAsync("pg", Pg(PostgresServer.MasterUser, env.Databases.Postgres.MasterPassword));
        var name = "pg/alt/" + user;
        await CreateAsync(name, Pg(user, "alt-initial-1", master));

        await RotateAsync(name, "keyturn-postgresql-alternating-users");
        var first = await CurrentAsync(name);
        Assert.Equal(user + "_clone", first.GetProperty("username").GetString());
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user + "_clone", first.GetProperty("password").GetString()!), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user, "alt-initial-1"), Probe, default)).Outcome);
        var masterConnection = PgConnection(PostgresServer.MasterUser, env.Databases.Postgres.MasterPassword);
        Assert.Equal(await _postgres.DescribePrivilegesAsync(masterConnection, user, default), await _postgres.DescribePrivilegesAsync(masterConnection, user + "_clone", default));

        // The next rotation switches back to the original user with a new password.
        await RotateAsync(name, "keyturn-postgresql-alternating-users", rules: false);
        var second = await CurrentAsync(name);
        Assert.Equal(user, second.GetProperty("username").GetString());
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user, second.GetProperty("password").GetString()!), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user + "_clone", first.GetProperty("password").GetString()!), Probe, default)).Outcome);
    }

    [DatabaseFact]
    public async Task PostgreSqlAlternatingUsers_SecretNamingTheSuperuser_FailsPermanentlyWithoutCloningIt()
    {
        // Issue 9's reproduction: a secret naming postgres, rotated with alternating users by a superuser master,
        // made postgres_clone a member of postgres, and the clone's password sat in AWSPENDING.
        var postgres = env.Databases.Postgres;
        var master = await MasterAsync("pg-super", Pg(PostgresServer.Superuser, postgres.SuperuserPassword));
        var name = "app/evil/" + Suffix();
        var v1 = await CreateAsync(name, Pg(PostgresServer.Superuser, postgres.SuperuserPassword, master));

        var token = await StartRotationAsync(name, "keyturn-postgresql-alternating-users");
        var state = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");

        Assert.Contains("setSecret: Refusing to clone postgres: postgres is a superuser", state, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (token, "AWSPENDING"));
        var superuser = PgConnection(PostgresServer.Superuser, postgres.SuperuserPassword);
        Assert.False(await _postgres.UserExistsAsync(superuser, "postgres_clone", default));
    }

    // The administrator's per-function allowance is what lets a privileged user be cloned: refused by default,
    // cloned after `functions policy --allow-privileged-clone`, refused again after `--deny-privileged-clone`.
    // CREATEROLE stands in for privilege so that no superuser clone is left behind.
    [DatabaseFact]
    public async Task PostgreSqlAlternatingUsers_PrivilegedUser_IsClonedOnlyWhileTheAdministratorAllowsIt()
    {
        const string Function = "keyturn-postgresql-alternating-users";
        var postgres = env.Databases.Postgres;
        var user = "admin_" + Suffix();
        await postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN CREATEROLE PASSWORD 'admin-initial-1'");
        try
        {
            var master = await MasterAsync("pg", Pg(PostgresServer.MasterUser, postgres.MasterPassword));
            var name = "app/admin/" + user;
            var v1 = await CreateAsync(name, Pg(user, "admin-initial-1", master));
            var superuser = PgConnection(PostgresServer.Superuser, postgres.SuperuserPassword);

            var refusedToken = await StartRotationAsync(name, Function);
            var refused = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");
            Assert.Contains($"setSecret: Refusing to clone {user}: {user} has CREATEROLE", refused, StringComparison.Ordinal);
            Assert.False(await _postgres.UserExistsAsync(superuser, user + "_clone", default));
            await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (refusedToken, "AWSPENDING"));

            // An operator clears the failed attempt, as after any permanent failure, before rotating again.
            await env.Cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSPENDING", "--remove-from-version-id", refusedToken);
            try
            {
                Assert.Contains("Privileged users may be cloned: yes.", await env.Server.FunctionsAsync("policy", Function, "--allow-privileged-clone"), StringComparison.Ordinal);
                await RotateAsync(name, Function, rules: false);
            }
            finally
            {
                Assert.Contains("Privileged users may be cloned: no.", await env.Server.FunctionsAsync("policy", Function, "--deny-privileged-clone"), StringComparison.Ordinal);
            }

            var cloned = await CurrentAsync(name);
            Assert.Equal(user + "_clone", cloned.GetProperty("username").GetString());
            Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user + "_clone", cloned.GetProperty("password").GetString()!), Probe, default)).Outcome);
            Assert.True(await postgres.ScalarAsSuperuserAsync<bool>("SELECT rolcreaterole FROM pg_roles WHERE rolname = @name", ("name", user + "_clone")));

            // Denied again: the next rotation, back to the original (privileged) user, is refused.
            var deniedToken = await StartRotationAsync(name, Function, rules: false);
            var denied = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");
            Assert.Contains($"setSecret: Refusing to set the password of {user}: {user} has CREATEROLE", denied, StringComparison.Ordinal);
            Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user, "admin-initial-1"), Probe, default)).Outcome);
            Assert.Equal("AWSPENDING", Assert.Single((await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name))
                .GetProperty("VersionIdsToStages").GetProperty(deniedToken).EnumerateArray()).GetString());
        }
        finally
        {
            await postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"DROP ROLE IF EXISTS {user}_clone", $"DROP ROLE IF EXISTS {user}");
        }
    }

    // Alternating users sets the password of an alternate user that already exists through the master. When that
    // user is a superuser, whoever holds the ordinary user's password and can read AWSPENDING would get its login.
    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PostgreSqlAlternatingUsers_ExistingAlternateUserIsASuperuser_FailsPermanentlyWithoutChangingItsPassword(bool secretNamesTheClone)
    {
        var postgres = env.Databases.Postgres;
        var boss = "boss_" + Suffix();
        var (named, privileged) = secretNamesTheClone ? (boss + "_clone", boss) : (boss, boss + "_clone");
        await postgres.ExecuteAsSuperuserAsync(
            PostgresServer.Database,
            $"CREATE ROLE {named} LOGIN PASSWORD 'named-initial-1'",
            $"CREATE ROLE {privileged} LOGIN SUPERUSER PASSWORD 'boss-own-1'");
        var master = await MasterAsync("pg-super", Pg(PostgresServer.Superuser, postgres.SuperuserPassword));
        var name = "app/boss/" + named;
        var v1 = await CreateAsync(name, Pg(named, "named-initial-1", master));

        var token = await StartRotationAsync(name, "keyturn-postgresql-alternating-users");
        var state = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");

        Assert.Contains($"setSecret: Refusing to set the password of {privileged}: {privileged} is a superuser", state, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (token, "AWSPENDING"));
        var pending = await ValueAsync(name, "AWSPENDING");
        Assert.Equal(privileged, pending.GetProperty("username").GetString());
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(privileged, "boss-own-1"), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.AuthFailed, (await _postgres.ProbeLoginAsync(PgConnection(privileged, pending.GetProperty("password").GetString()!), Probe, default)).Outcome);
    }

    [DatabaseFact]
    public async Task MySqlSingleUser_RotatesThePassword()
    {
        var user = "app_" + Suffix();
        await env.Databases.MariaDb.ExecuteAsRootAsync($"CREATE USER '{user}'@'%' IDENTIFIED BY 'initial-Pw-1'", $"GRANT SELECT ON {MariaDbServer.Database}.* TO '{user}'@'%'");
        var name = "mysql/single/" + user;
        await CreateAsync(name, My(user, "initial-Pw-1"));

        await RotateAsync(name, "keyturn-mysql-single-user");

        var rotated = await CurrentAsync(name);
        Assert.Equal(LoginOutcome.Ok, (await _mysql.ProbeLoginAsync(MyConnection(user, rotated.GetProperty("password").GetString()!), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.AuthFailed, (await _mysql.ProbeLoginAsync(MyConnection(user, "initial-Pw-1"), Probe, default)).Outcome);
    }

    [DatabaseFact]
    public async Task MySqlAlternatingUsers_CloneIsEqualAndBothLogIn()
    {
        var user = "alt_" + Suffix();
        await env.Databases.MariaDb.ExecuteAsRootAsync($"CREATE USER '{user}'@'%' IDENTIFIED BY 'alt-initial-1'", $"GRANT SELECT, INSERT ON {MariaDbServer.Database}.* TO '{user}'@'%'");
        var master = await MasterAsync("mysql", My(MariaDbServer.MasterUser, env.Databases.MariaDb.MasterPassword));
        var name = "mysql/alt/" + user;
        await CreateAsync(name, My(user, "alt-initial-1", master));

        await RotateAsync(name, "keyturn-mysql-alternating-users");

        var rotated = await CurrentAsync(name);
        Assert.Equal(user + "_clone", rotated.GetProperty("username").GetString());
        Assert.Equal(LoginOutcome.Ok, (await _mysql.ProbeLoginAsync(MyConnection(user + "_clone", rotated.GetProperty("password").GetString()!), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.Ok, (await _mysql.ProbeLoginAsync(MyConnection(user, "alt-initial-1"), Probe, default)).Outcome);
        var masterConnection = MyConnection(MariaDbServer.MasterUser, env.Databases.MariaDb.MasterPassword);
        Assert.Equal(await _mysql.DescribePrivilegesAsync(masterConnection, user, default), await _mysql.DescribePrivilegesAsync(masterConnection, user + "_clone", default));
    }

    [DatabaseFact]
    public async Task MySqlAlternatingUsers_ExistingAlternateUserHasSuper_FailsPermanentlyWithoutChangingItsPassword()
    {
        var mariaDb = env.Databases.MariaDb;
        var user = "boss_" + Suffix();
        await mariaDb.ExecuteAsRootAsync(
            $"CREATE USER '{user}'@'%' IDENTIFIED BY 'named-initial-1'",
            $"GRANT SELECT ON {MariaDbServer.Database}.* TO '{user}'@'%'",
            $"CREATE USER '{user}_clone'@'%' IDENTIFIED BY 'boss-own-1'",
            $"GRANT SELECT ON {MariaDbServer.Database}.* TO '{user}_clone'@'%'",
            $"GRANT SUPER ON *.* TO '{user}_clone'@'%'");
        var master = await MasterAsync("mysql", My(MariaDbServer.MasterUser, mariaDb.MasterPassword));
        var name = "app/boss/" + user;
        var v1 = await CreateAsync(name, My(user, "named-initial-1", master));

        var token = await StartRotationAsync(name, "keyturn-mysql-alternating-users");
        var state = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");

        Assert.Contains($"setSecret: Refusing to set the password of {user}_clone: {user}_clone@% has SUPER on *.*", state, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (token, "AWSPENDING"));
        var pending = await ValueAsync(name, "AWSPENDING");
        Assert.Equal(LoginOutcome.Ok, (await _mysql.ProbeLoginAsync(MyConnection(user + "_clone", "boss-own-1"), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.AuthFailed, (await _mysql.ProbeLoginAsync(MyConnection(user + "_clone", pending.GetProperty("password").GetString()!), Probe, default)).Outcome);
    }

    [DatabaseFact]
    public async Task PasswordChangedOutOfBand_FailsPermanentlyWithReasons_LabelsUntouched()
    {
        var user = "oob_" + Suffix();
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD 'initial-Pw-1'");
        var name = "pg/oob/" + user;
        var v1 = await CreateAsync(name, Pg(user, "initial-Pw-1"));
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"ALTER ROLE {user} PASSWORD 'changed-by-a-dba'");

        var token = await StartRotationAsync(name, "keyturn-postgresql-single-user");
        var state = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");

        Assert.Contains("setSecret: Unable to log into database with previous, current, or pending secret", state, StringComparison.Ordinal);
        Assert.Contains("current: wrong-password [28P01]", state, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (token, "AWSPENDING"));
    }

    [DatabaseFact]
    public async Task DatabaseUnreachable_RetriesAsTransientThenFails_NoLockout()
    {
        var user = "down_" + Suffix();
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD 'initial-Pw-1'");
        var name = "pg/down/" + user;
        var closedPort = FreePort.Next();
        var v1 = await CreateAsync(name, Pg(user, "initial-Pw-1") with { Port = closedPort });

        var token = await StartRotationAsync(name, "keyturn-postgresql-single-user");
        var state = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "retrying");

        Assert.Contains("unreachable", state, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (token, "AWSPENDING"));
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user, "initial-Pw-1"), Probe, default)).Outcome);
    }

    [DatabaseFact]
    public async Task WrongMasterSecret_FailsBeforeTouchingAnyUser()
    {
        var user = "badm_" + Suffix();
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD 'alt-initial-1'");
        var master = await MasterAsync("pg-wrong", Pg(PostgresServer.MasterUser, "not-the-master-password"));
        var name = "pg/badmaster/" + user;
        var v1 = await CreateAsync(name, Pg(user, "alt-initial-1", master));

        var token = await StartRotationAsync(name, "keyturn-postgresql-alternating-users");
        var state = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");

        Assert.Contains("Unable to log into database using credentials in master secret", state, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, "AWSCURRENT"), (token, "AWSPENDING"));
        Assert.Equal(LoginOutcome.AuthFailed, (await _postgres.ProbeLoginAsync(PgConnection(user + "_clone", "x"), Probe, default)).Outcome);
        Assert.Equal(LoginOutcome.Ok, (await _postgres.ProbeLoginAsync(PgConnection(user, "alt-initial-1"), Probe, default)).Outcome);
    }

    [DatabaseFact]
    public async Task MissingFields_FailPermanentlyWithAClearMessage()
    {
        var name = "pg/incomplete/" + Suffix();
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", """{"engine":"postgres","username":"nobody","password":"x1234567"}""");

        await StartRotationAsync(name, "keyturn-postgresql-single-user");
        var state = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(60), "failed");

        Assert.Contains("host", state, StringComparison.Ordinal);
    }

    private record DbSecret(string Engine, string Host, int Port, string Username, string Password, string DbName, string? MasterArn)
    {
        public string Json => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["engine"] = Engine,
            ["host"] = Host,
            ["port"] = Port,
            ["username"] = Username,
            ["password"] = Password,
            ["dbname"] = DbName,
            ["masterarn"] = MasterArn,
            ["custom"] = "keep-me",
        }.Where(p => p.Value is not null).ToDictionary());
    }

    private DbSecret Pg(string user, string password, string? master = null) =>
        new("postgres", "127.0.0.1", env.Databases.Postgres.Port, user, password, PostgresServer.Database, master);

    private DbSecret My(string user, string password, string? master = null) =>
        new("mariadb", "127.0.0.1", env.Databases.MariaDb.Port, user, password, MariaDbServer.Database, master);

    private DatabaseConnection PgConnection(string user, string password) =>
        new("postgres", "127.0.0.1", env.Databases.Postgres.Port, user, password, PostgresServer.Database, SslMode.Disable);

    private DatabaseConnection MyConnection(string user, string password) =>
        new("mariadb", "127.0.0.1", env.Databases.MariaDb.Port, user, password, MariaDbServer.Database, SslMode.Disable);

    private async Task<string> CreateAsync(string name, DbSecret secret) =>
        (await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", secret.Json)).GetProperty("VersionId").GetString()!;

    private async Task<string> MasterAsync(string kind, DbSecret secret) =>
        (await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", $"master/{kind}/{Suffix()}", "--secret-string", secret.Json)).GetProperty("ARN").GetString()!;

    private Task<string> StartRotationAsync(string name, string function, bool rules = true) => env.StartRotationAsync(name, function, rules);

    private async Task RotateAsync(string name, string function, bool rules = true) =>
        await env.WaitUntilCurrentAsync(name, await StartRotationAsync(name, function, rules), DateTime.UtcNow.AddSeconds(60));

    private Task<JsonElement> ValueAsync(string name, string stage) => env.ValueAsync(name, stage);

    private Task<JsonElement> CurrentAsync(string name) => ValueAsync(name, "AWSCURRENT");

    private Task AssertLabelsAsync(string name, params (string Version, string Label)[] expected) => env.AssertLabelsAsync(name, expected);

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];
}
