using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.MySql;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>The AWS-sample tests' own Keyturn server and databases, so they run beside the built-in rotation tests.</summary>
[CollectionDefinition(Name)]
public sealed class AwsSamplesCollection : ICollectionFixture<RotationEnvironment>
{
    public const string Name = "keyturn with databases for AWS's samples";
}

/// <summary>
/// AWS's six published database rotation functions (TestData/aws-rotation-samples, unmodified), registered with
/// <c>--handler</c> and rotating a real PostgreSQL 15 or MariaDB user twice: after each rotation the labels are as
/// AWS leaves them, the AWSCURRENT password logs in, and the previous one no longer does (single user) or still
/// does for the other user (multi user, the username alternating).
/// </summary>
[Collection(AwsSamplesCollection.Name)]
public sealed class AwsRotationSampleTests(RotationEnvironment env)
{
    private const string Initial = "Initial-Pw-1";
    private const int PasswordLength = 24;

    // AWS's default for the console's templates: no character that needs quoting in a connection string.
    private const string ExcludeCharacters = ":/@\"'\\";
    // The test's own login check: generous, as a login on a busy machine can take seconds; the outcome is the point, not its speed.
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(30);

    /// <summary>Where the copied samples land beside the tests.</summary>
    public static string SampleDirectory(string folder) => Path.Combine(AppContext.BaseDirectory, "TestData", "aws-rotation-samples", folder);

    [DatabaseTheory]
    [InlineData("SecretsManagerRDSPostgreSQLRotationSingleUser")]
    [InlineData("SecretsManagerRDSPostgreSQLRotationMultiUser")]
    [InlineData("SecretsManagerRDSMySQLRotationSingleUser")]
    [InlineData("SecretsManagerRDSMySQLRotationMultiUser")]
    [InlineData("SecretsManagerRDSMariaDBRotationSingleUser")]
    [InlineData("SecretsManagerRDSMariaDBRotationMultiUser")]
    public async Task UnmodifiedSample_RotatesARealUserTwice_AndTheCurrentPasswordLogsIn(string folder)
    {
        var target = Target.For(folder, env.Databases);
        var suffix = Guid.NewGuid().ToString("N")[..6];

        // At most 10 characters: the MySQL multi-user sample refuses a clone name longer than 16 by default.
        var user = "sa_" + suffix;
        await target.CreateUserAsync(env.Databases, user);

        var function = "aws-" + folder["SecretsManagerRDS".Length..].ToLowerInvariant() + "-" + suffix;
        await env.Server.FunctionsAsync("register", function, "--handler", "lambda_function.lambda_handler", "--code", SampleDirectory(folder),
            "--env", $"PASSWORD_LENGTH={PasswordLength}", "--env", $"EXCLUDE_CHARACTERS={ExcludeCharacters}");
        string? master = null;
        if (target.MultiUser)
        {
            var masterName = "sample-master/" + suffix;
            await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", masterName, "--secret-string", target.Secret(target.MasterUser, target.MasterPassword(env.Databases), null));
            await env.Server.FunctionsAsync("policy", function, "--allow-master", masterName);
            master = masterName;
        }

        var name = "sample/" + folder + "/" + suffix;
        var v1 = (await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", target.Secret(user, Initial, master)))
            .GetProperty("VersionId").GetString()!;
        var rotator = target.Rotator();
        async Task<LoginOutcome> LoginAsync(string username, string password) =>
            (await rotator.ProbeLoginAsync(target.Connection(username, password), Probe, default)).Outcome;

        // Both rotations within one bound: a sample that hangs or retries fails here rather than slowing CI down.
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var first = await env.StartRotationAsync(name, function);
        await env.WaitUntilCurrentAsync(name, first, deadline);

        await env.AssertLabelsAsync(name, (v1, "AWSPREVIOUS"), (first, "AWSCURRENT"));
        var afterFirst = await env.ValueAsync(name, "AWSCURRENT");
        var firstUser = afterFirst.GetProperty("username").GetString()!;
        var firstPassword = afterFirst.GetProperty("password").GetString()!;
        Assert.Equal(target.MultiUser ? user + "_clone" : user, firstUser);
        Assert.Equal(PasswordLength, firstPassword.Length);
        Assert.DoesNotContain(firstPassword, c => ExcludeCharacters.Contains(c, StringComparison.Ordinal));
        Assert.Equal(LoginOutcome.Ok, await LoginAsync(firstUser, firstPassword));
        Assert.Equal(target.MultiUser ? LoginOutcome.Ok : LoginOutcome.AuthFailed, await LoginAsync(user, Initial));

        // The second rotation reuses the stored function, as RotateSecret without a function does on AWS.
        var second = (await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name)).GetProperty("VersionId").GetString()!;
        await env.WaitUntilCurrentAsync(name, second, deadline);

        await env.AssertLabelsAsync(name, (first, "AWSPREVIOUS"), (second, "AWSCURRENT"));
        var afterSecond = await env.ValueAsync(name, "AWSCURRENT");
        var secondPassword = afterSecond.GetProperty("password").GetString()!;
        Assert.Equal(user, afterSecond.GetProperty("username").GetString());
        Assert.NotEqual(firstPassword, secondPassword);
        Assert.Equal(LoginOutcome.Ok, await LoginAsync(user, secondPassword));
        Assert.Equal(target.MultiUser ? LoginOutcome.Ok : LoginOutcome.AuthFailed, await LoginAsync(firstUser, firstPassword));
        Assert.Equal(target.Engine, afterSecond.GetProperty("engine").GetString());

        // The sample's own log lines reached the function's log group.
        var events = (await env.Cli.JsonAsync("logs", "filter-log-events", "--log-group-name", "/aws/lambda/" + function)).GetProperty("events")
            .EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
        Assert.Contains(events, e => e.Contains($"finishSecret: Successfully set AWSCURRENT stage to version {second}", StringComparison.Ordinal));
    }

    /// <summary>
    /// A server started from a shell with pyenv, a virtualenv or conda first on PATH: that python3 cannot import
    /// Debian's drivers (here it cannot start at all), and the sample still runs, with the system's interpreter.
    /// </summary>
    [DatabaseFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AnotherPython3FirstOnPath_HandlersStillRunWithTheSystemInterpreter()
    {
        var bin = Directory.CreateTempSubdirectory("keyturn-path-").FullName;
        var impostor = Path.Combine(bin, "python3");
        await File.WriteAllTextAsync(impostor, "#!/bin/sh\necho \"ModuleNotFoundError: No module named 'pg' (not the system python3)\" >&2\nexit 1\n");
        File.SetUnixFileMode(impostor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var server = await KeyturnProcess.StartAsync(environment: new Dictionary<string, string> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") });
        const string Folder = "SecretsManagerRDSPostgreSQLRotationSingleUser";
        var target = Target.For(Folder, env.Databases);
        var user = "sp_" + Guid.NewGuid().ToString("N")[..6];
        await target.CreateUserAsync(env.Databases, user);
        await server.FunctionsAsync("register", "pg-sample", "--handler", "lambda_function.lambda_handler", "--code", SampleDirectory(Folder));
        var cli = new AwsCli(server);
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", "sample/path", "--secret-string", target.Secret(user, Initial, null));

        await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "sample/path", "--rotation-lambda-arn", "pg-sample");
        await WaitForLastRotatedAsync(server, "sample/path", TimeSpan.FromSeconds(60));

        var current = JsonDocument.Parse((await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "sample/path")).GetProperty("SecretString").GetString()!).RootElement;
        Assert.Equal(LoginOutcome.Ok, (await target.Rotator().ProbeLoginAsync(target.Connection(user, current.GetProperty("password").GetString()!), Probe, default)).Outcome);
        Directory.Delete(bin, recursive: true);
    }

    /// <summary>Waits until the secret has a LastRotatedDate; fails with <c>keyturn rotations</c> and the secret's log after <paramref name="timeout"/>.</summary>
    public static async Task<JsonElement> WaitForLastRotatedAsync(KeyturnProcess server, string name, TimeSpan timeout)
    {
        var cli = new AwsCli(server);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var described = await cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name);
            if (described.TryGetProperty("LastRotatedDate", out _))
            {
                return described;
            }

            if (DateTime.UtcNow > deadline)
            {
                var root = new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = server.SecretAccessKey };
                var rotations = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "rotations", "--data-dir", server.DataDirectory], server, root);
                var logs = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "logs", name, "--data-dir", server.DataDirectory], server, root);
                Assert.Fail($"{name} was not rotated within {timeout.TotalSeconds} s:\n{rotations.Stdout}\n{logs.Stdout}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The database a sample rotates and the secret shape it expects.</summary>
    private sealed record Target(string Engine, bool MultiUser)
    {
        private bool Postgres => Engine == "postgres";

        public string MasterUser => Postgres ? PostgresServer.MasterUser : MariaDbServer.MasterUser;

        private int Port { get; init; }

        public static Target For(string folder, DatabaseServers databases)
        {
            var engine = folder.Contains("PostgreSQL", StringComparison.Ordinal) ? "postgres" : folder.Contains("MySQL", StringComparison.Ordinal) ? "mysql" : "mariadb";
            return new Target(engine, folder.EndsWith("MultiUser", StringComparison.Ordinal))
            {
                Port = engine == "postgres" ? databases.Postgres.Port : databases.MariaDb.Port,
            };
        }

        public string MasterPassword(DatabaseServers databases) => Postgres ? databases.Postgres.MasterPassword : databases.MariaDb.MasterPassword;

        public IDatabaseRotator Rotator() => Postgres ? PostgreSqlRotator.Create() : MySqlRotator.Create();

        public DatabaseConnection Connection(string user, string password) =>
            new(Postgres ? "postgres" : "mariadb", "127.0.0.1", Port, user, password, Postgres ? PostgresServer.Database : MariaDbServer.Database, SslMode.Disable);

        /// <summary>
        /// The fields the samples read. The MySQL and MariaDB samples try TLS first with Amazon Linux's CA bundle
        /// (/etc/pki/tls/cert.pem), which Debian does not have, so their secrets say <c>"ssl": false</c>; the
        /// PostgreSQL samples fall back to a plain connection by themselves.
        /// </summary>
        public string Secret(string user, string password, string? master)
        {
            var fields = new Dictionary<string, object>
            {
                ["engine"] = Engine,
                ["host"] = "127.0.0.1",
                ["port"] = Port,
                ["username"] = user,
                ["password"] = password,
                ["dbname"] = Postgres ? PostgresServer.Database : MariaDbServer.Database,
            };
            if (!Postgres)
            {
                fields["ssl"] = false;
            }

            if (master is not null)
            {
                fields["masterarn"] = master;
            }

            return JsonSerializer.Serialize(fields);
        }

        public Task CreateUserAsync(DatabaseServers databases, string user) =>
            Postgres
                ? databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{Initial}'", $"GRANT SELECT ON orders TO {user}")
                : databases.MariaDb.ExecuteAsRootAsync($"CREATE USER '{user}'@'%' IDENTIFIED BY '{Initial}'", $"GRANT SELECT ON {MariaDbServer.Database}.* TO '{user}'@'%'");
    }
}
