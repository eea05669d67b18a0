using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The reproduced attack, end to end with the AWS CLI, a real server and two real PostgreSQL servers: a key confined
/// to app/* writes a secret naming the real server's master and a server it controls, then rotates it with the
/// built-in alternating-users function. Each layer refuses on its own, and no role is ever created.
/// </summary>
[Collection(RotationEnvironmentCollection.Name)]
public sealed class RotationAuthorityAttackTests(RotationEnvironment env) : IAsyncLifetime
{
    private const string Alternating = "keyturn-postgresql-alternating-users";
    private const string AlternatingArn = "arn:aws:lambda:us-east-1:000000000000:function:" + Alternating;

    // The server the attacker controls: it knows its superuser's password.
    private readonly PostgresServer _attackers = new();

    public async Task InitializeAsync()
    {
        if (DatabaseServers.SkipReason is null)
        {
            await _attackers.StartAsync(null);
        }
    }

    public async Task DisposeAsync() => await _attackers.StopAsync();

    [DatabaseFact]
    public async Task AppKey_RotatingWithTheRealMaster_IsRefusedAtEveryLayer_NoRoleCreated()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var masterName = $"attack/pg-master-{suffix}";
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", masterName, "--secret-string", Json(env.Databases.Postgres.Port, PostgresServer.MasterUser, env.Databases.Postgres.MasterPassword, null));
        var evil = Json(_attackers.Port, PostgresServer.Superuser, _attackers.SuperuserPassword, masterName);
        const string appPolicy = """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:CreateSecret","secretsmanager:PutSecretValue","secretsmanager:GetSecretValue","secretsmanager:RotateSecret"],"Resource":"arn:aws:secretsmanager:*:*:secret:app/*"}]}
            """;
        var app = await KeyAsync("attacker-" + suffix, appPolicy);
        var invoker = await KeyAsync("attacker-invoke-" + suffix, appPolicy.Replace("}]}", """},{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"*"}]}""", StringComparison.Ordinal));
        Assert.Equal(0, (await Cli(app, "secretsmanager", "create-secret", "--name", $"app/evil-{suffix}", "--secret-string", evil)).ExitCode);

        // 1. The key may not invoke the function.
        var noInvoke = await Cli(app, "secretsmanager", "rotate-secret", "--secret-id", $"app/evil-{suffix}", "--rotation-lambda-arn", AlternatingArn);
        Assert.Contains("(AccessDeniedException)", noInvoke.Stderr, StringComparison.Ordinal);
        Assert.Contains("lambda:InvokeFunction", noInvoke.Stderr, StringComparison.Ordinal);

        // 2. Allowed to invoke, it still may not have the function use a master it can't read.
        var noMaster = await Cli(invoker, "secretsmanager", "rotate-secret", "--secret-id", $"app/evil-{suffix}", "--rotation-lambda-arn", AlternatingArn);
        Assert.Contains("(AccessDeniedException)", noMaster.Stderr, StringComparison.Ordinal);
        Assert.Contains($"secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:{masterName}", noMaster.Stderr, StringComparison.Ordinal);

        // 3. Even root configuring the rotation: the function reads only masters an administrator allowed for it.
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", $"app/evil-root-{suffix}", "--secret-string", evil);
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", $"app/evil-root-{suffix}", "--rotation-lambda-arn", AlternatingArn);
        var notAllowed = await env.WaitForRotationStateAsync($"app/evil-root-{suffix}", TimeSpan.FromSeconds(60), "failed");
        Assert.Contains($"is not allowed to read the master secret {masterName}", notAllowed, StringComparison.Ordinal);
        Assert.Contains($"keyturn functions policy {Alternating} --allow-master '{masterName}'", notAllowed, StringComparison.Ordinal);

        // 4. With the master allowed, a secret naming another server than the master's is refused.
        await FunctionsAsync("policy", Alternating, "--allow-master", masterName);
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", $"app/evil-port-{suffix}", "--secret-string", evil);
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", $"app/evil-port-{suffix}", "--rotation-lambda-arn", AlternatingArn);
        var mismatch = await env.WaitForRotationStateAsync($"app/evil-port-{suffix}", TimeSpan.FromSeconds(60), "failed");
        Assert.Contains($"port {env.Databases.Postgres.Port} vs {_attackers.Port}", mismatch, StringComparison.Ordinal);

        // ... and so is the same server with another database.
        var otherDatabase = Json(env.Databases.Postgres.Port, PostgresServer.MasterUser, env.Databases.Postgres.MasterPassword, masterName, dbName: "postgres");
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", $"app/evil-db-{suffix}", "--secret-string", otherDatabase);
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", $"app/evil-db-{suffix}", "--rotation-lambda-arn", AlternatingArn);
        var databaseMismatch = await env.WaitForRotationStateAsync($"app/evil-db-{suffix}", TimeSpan.FromSeconds(60), "failed");
        Assert.Contains($"database '{PostgresServer.Database}' vs 'postgres'", databaseMismatch, StringComparison.Ordinal);

        // The clones the attack secrets would have produced (other tests of the collection create their own clones).
        foreach (var server in new[] { env.Databases.Postgres, _attackers })
        {
            Assert.Equal(0L, await server.ScalarAsSuperuserAsync<long>(
                $"SELECT count(*) FROM pg_roles WHERE rolname IN ('{PostgresServer.Superuser}_clone', '{PostgresServer.MasterUser}_clone')"));
        }
    }

    [Fact]
    public async Task GetFunctionConfiguration_NeedsLambdaPermissionOnTheFunction()
    {
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var reader = await KeyAsync("lambda-reader-" + suffix, """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"lambda:GetFunctionConfiguration","Resource":"arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user"}]}
            """);

        var allowed = await Cli(reader, "lambda", "get-function-configuration", "--function-name", "keyturn-postgresql-single-user");
        var denied = await Cli(reader, "lambda", "get-function-configuration", "--function-name", Alternating);
        var elsewhere = await env.Cli.RunAsync("lambda", "get-function-configuration", "--function-name", "arn:aws:lambda:eu-west-1:000000000000:function:" + Alternating);

        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Contains("(AccessDeniedException)", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains("lambda:GetFunctionConfiguration", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains("(ResourceNotFoundException)", elsewhere.Stderr, StringComparison.Ordinal);
    }

    private static string Json(int port, string user, string password, string? master, string dbName = PostgresServer.Database) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["engine"] = "postgres",
            ["host"] = "127.0.0.1",
            ["port"] = port,
            ["username"] = user,
            ["password"] = password,
            ["dbname"] = dbName,
            ["masterarn"] = master,
        }.Where(p => p.Value is not null).ToDictionary());

    private async Task<Dictionary<string, string>> KeyAsync(string name, string policy)
    {
        var created = await env.Server.KeysAsync("create", name, "--policy", policy);
        return new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = KeyturnProcess.KeyLine(created, "aws_access_key_id"),
            ["AWS_SECRET_ACCESS_KEY"] = KeyturnProcess.KeyLine(created, "aws_secret_access_key"),
        };
    }

    private Task<string> FunctionsAsync(params string[] arguments) => env.Server.FunctionsAsync(arguments);

    private Task<ToolResult> Cli(Dictionary<string, string> environment, params string[] arguments) =>
        ExternalTool.RunAsync(AwsCli.Path, [.. arguments, "--endpoint-url", env.Server.Endpoint, "--output", "json"], env.Server, environment);
}
