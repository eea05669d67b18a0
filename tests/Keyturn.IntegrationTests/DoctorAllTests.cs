using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// <c>keyturn doctor --all</c> over a fleet built for real on its own server (so the fleet is exactly what the test
/// made): secrets rotated successfully on PostgreSQL and MariaDB, one never rotated, three stuck the ways the field
/// report met (a pending password never applied, the lockout trap, AWSCURRENT ahead of the database), and one with
/// rotation off, which <c>--all</c> leaves out. The quick check must call the healthy ones healthy and pass every
/// other to the full diagnosis; a caller refused BatchGetSecretValue must get the same answers.
/// </summary>
[Collection(RotationEnvironmentCollection.Name)]
public sealed class DoctorAllTests(RotationEnvironment env) : IAsyncLifetime
{
    private readonly List<string> _passwords = [];
    private KeyturnProcess _server = null!;
    private AwsCli _cli = null!;

    public async Task InitializeAsync()
    {
        _server = await KeyturnProcess.StartAsync();
        _cli = new AwsCli(_server);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [DatabaseFact]
    public async Task All_QuickChecksTheHealthyAndDiagnosesTheStuck_SameWithoutBatchGetSecretValue()
    {
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);

        // Rotated for real by the built-in functions: AWSCURRENT and AWSPREVIOUS, a LastRotatedDate.
        var pg = await PgUserAsync();
        expected[await SecretAsync("fleet/pg-rotated", Pg(pg.User, pg.Password))] = "Healthy";
        var my = await MyUserAsync();
        expected[await SecretAsync("fleet/my-rotated", My(my.User, my.Password))] = "Healthy";
        await RotateAsync("fleet/pg-rotated", "keyturn-postgresql-single-user");
        await RotateAsync("fleet/my-rotated", "keyturn-mysql-single-user");

        // Rotation enabled, never rotated (the dry run only ran testSecret).
        var fresh = await PgUserAsync();
        expected[await SecretAsync("fleet/pg-fresh", Pg(fresh.User, fresh.Password), rotation: true)] = "Healthy";

        // The seed's stuck AWSPENDING: a pending password the database never got.
        var stuck = await PgUserAsync();
        expected[await SecretAsync("fleet/pending-not-applied", Pg(stuck.User, stuck.Password), rotation: true)] = "PendingNotApplied";
        await PutAsync("fleet/pending-not-applied", Pg(stuck.User, NewPassword()), "AWSPENDING");

        // The lockout trap: the database has the pending password, AWSCURRENT the old one.
        var ahead = await PgUserAsync();
        expected[await SecretAsync("fleet/database-ahead", Pg(ahead.User, ahead.Password), rotation: true)] = "DatabaseAhead";
        var applied = NewPassword();
        await PutAsync("fleet/database-ahead", Pg(ahead.User, applied), "AWSPENDING");
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"ALTER ROLE {ahead.User} PASSWORD '{applied}'");

        // AWSCURRENT moved to a password the database never got; AWSPREVIOUS still works. Its labels look finished,
        // so the quick check runs first, its login fails, and the full diagnosis takes over.
        var labels = await PgUserAsync();
        expected[await SecretAsync("fleet/labels-ahead", Pg(labels.User, labels.Password), rotation: true)] = "LabelsAhead";
        await PutAsync("fleet/labels-ahead", Pg(labels.User, NewPassword()), "AWSCURRENT");

        // Rotation off: not part of --all.
        var off = await PgUserAsync();
        await SecretAsync("fleet/rotation-off", Pg(off.User, off.Password));

        var root = await DoctorAllAsync(new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = _server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = _server.SecretAccessKey });
        Assert.Equal(1, root.ExitCode);
        Assert.Equal(expected.OrderBy(p => p.Key, StringComparer.Ordinal), root.States.OrderBy(p => p.Key, StringComparer.Ordinal));

        // A key that may do everything but BatchGetSecretValue: the quick checks read each value with GetSecretValue.
        var policy = """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":["secretsmanager:*","logs:*","lambda:GetFunctionConfiguration"],"Resource":"*"},
              {"Effect":"Deny","Action":"secretsmanager:BatchGetSecretValue","Resource":"*"}]}
            """;
        var key = await _server.KeysAsync("create", "doctor-no-batch", "--policy", policy);
        var restricted = await DoctorAllAsync(new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = KeyturnProcess.KeyLine(key, "aws_access_key_id"), ["AWS_SECRET_ACCESS_KEY"] = KeyturnProcess.KeyLine(key, "aws_secret_access_key") });
        Assert.Equal(1, restricted.ExitCode);
        Assert.Equal(root.States.OrderBy(p => p.Key, StringComparer.Ordinal), restricted.States.OrderBy(p => p.Key, StringComparer.Ordinal));

        // The human output: a table and the summary line, the stuck ones first.
        var human = await RunDoctorAsync(["--all"], new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = _server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = _server.SecretAccessKey });
        Assert.Equal(1, human.ExitCode);
        Assert.Contains("6 secrets with rotation enabled: 3 healthy, 3 need attention.", human.Stdout, StringComparison.Ordinal);
        var rows = human.Stdout.Split('\n').Where(l => l.StartsWith("fleet/", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, rows.Count);
        Assert.All(rows.Take(3), r => Assert.DoesNotContain("Healthy", r.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], StringComparison.Ordinal));
    }

    private async Task<(int ExitCode, Dictionary<string, string> States)> DoctorAllAsync(Dictionary<string, string> environment)
    {
        var result = await RunDoctorAsync(["--all", "--json"], environment);
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in JsonDocument.Parse(result.Stdout).RootElement.GetProperty("secrets").EnumerateArray())
        {
            Assert.True(entry.GetProperty("error").ValueKind == JsonValueKind.Null, $"{entry.GetProperty("secret")}: {entry.GetProperty("error")}");
            states[entry.GetProperty("secret").GetString()!] = entry.GetProperty("state").GetString()!;
        }

        return (result.ExitCode, states);
    }

    private async Task<ToolResult> RunDoctorAsync(string[] arguments, Dictionary<string, string> environment)
    {
        environment["NO_COLOR"] = "1";
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", "--endpoint-url", _server.Endpoint, .. arguments], _server, environment);
        Assert.True(result.ExitCode is 0 or 1, $"doctor {string.Join(' ', arguments)} exited {result.ExitCode}: {result.Stderr}");
        foreach (var password in _passwords)
        {
            Assert.False(result.Stdout.Contains(password, StringComparison.Ordinal) || result.Stderr.Contains(password, StringComparison.Ordinal), "a password was printed");
        }

        return result;
    }

    /// <summary>Creates the secret; with <paramref name="rotation"/>, enables rotation without rotating (AWS's dry run: testSecret only).</summary>
    private async Task<string> SecretAsync(string name, string value, bool rotation = false)
    {
        await _cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", value);
        if (rotation)
        {
            await _cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", Function("keyturn-postgresql-single-user"),
                "--rotation-rules", "AutomaticallyAfterDays=30", "--no-rotate-immediately");
            await WaitAsync(name, d => d.TryGetProperty("RotationEnabled", out var on) && on.GetBoolean() && !Labels(d).Contains("AWSPENDING"));
        }

        return name;
    }

    private async Task RotateAsync(string name, string function)
    {
        var token = (await _cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", Function(function),
            "--rotation-rules", "AutomaticallyAfterDays=30")).GetProperty("VersionId").GetString()!;
        await WaitAsync(name, d => d.GetProperty("VersionIdsToStages").TryGetProperty(token, out var stages) && stages.EnumerateArray().Any(s => s.GetString() == "AWSCURRENT")
            && !Labels(d).Contains("AWSPENDING"));
    }

    private async Task WaitAsync(string name, Func<JsonElement, bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var described = await _cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name);
            if (done(described))
            {
                return;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"{name} did not settle: {described}");
            await Task.Delay(200);
        }
    }

    private static List<string> Labels(JsonElement described) =>
        described.TryGetProperty("VersionIdsToStages", out var map) ? map.EnumerateObject().SelectMany(v => v.Value.EnumerateArray().Select(s => s.GetString()!)).ToList() : [];

    private async Task PutAsync(string name, string value, string stage) =>
        await _cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string", value, "--version-stages", stage);

    private static string Function(string name) => $"arn:aws:lambda:us-east-1:000000000000:function:{name}";

    private string NewPassword()
    {
        var password = "Pw" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        _passwords.Add(password);
        return password;
    }

    private async Task<(string User, string Password)> PgUserAsync()
    {
        var user = "fleet_" + Guid.NewGuid().ToString("N")[..10];
        var password = NewPassword();
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
        return (user, password);
    }

    private async Task<(string User, string Password)> MyUserAsync()
    {
        var user = "fleet_" + Guid.NewGuid().ToString("N")[..10];
        var password = NewPassword();
        await env.Databases.MariaDb.ExecuteAsRootAsync($"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'", $"GRANT SELECT ON {MariaDbServer.Database}.* TO '{user}'@'%'");
        return (user, password);
    }

    private string Pg(string user, string password) => Value("postgres", env.Databases.Postgres.Port, user, password, PostgresServer.Database);

    private string My(string user, string password) => Value("mariadb", env.Databases.MariaDb.Port, user, password, MariaDbServer.Database);

    private static string Value(string engine, int port, string user, string password, string dbName) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["engine"] = engine, ["host"] = "127.0.0.1", ["port"] = port, ["username"] = user, ["password"] = password, ["dbname"] = dbName });

}
