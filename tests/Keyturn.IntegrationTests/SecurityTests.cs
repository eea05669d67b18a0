using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// Secrets stay secret: values never reach logs, error messages or the database file in plaintext;
/// keys with policies only reach what they are allowed to; revoked keys stop working.
/// </summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private KeyturnProcess _server = null!;

    public async Task InitializeAsync() => _server = await KeyturnProcess.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SecretValues_NeverInLogsErrorsOrDatabase()
    {
        var cli = new AwsCli(_server);
        var marker = "kt-marker-" + Guid.NewGuid().ToString("N");
        var binaryMarker = "kt-binary-" + Guid.NewGuid().ToString("N");
        var binaryFile = Path.Combine(_server.DataDirectory, "..", "bin-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(binaryFile, Encoding.UTF8.GetBytes(binaryMarker));
        try
        {
            await cli.JsonAsync("secretsmanager", "create-secret", "--name", "leak/check", "--secret-string", marker + "-v1");
            await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", "leak/check", "--secret-string", marker + "-v2");
            await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", "leak/check", "--secret-binary", "fileb://" + binaryFile);
            Assert.Equal(marker + "-v2", (await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "leak/check", "--version-stage", "AWSPREVIOUS")).GetProperty("SecretString").GetString());

            // Error paths that carry a value: token reuse with a different value, an oversized value, a bad name.
            var token = Guid.NewGuid().ToString();
            await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", "leak/check", "--secret-string", marker + "-v3", "--client-request-token", token);
            var reuse = await cli.ErrorAsync("ResourceExistsException", "secretsmanager", "put-secret-value", "--secret-id", "leak/check", "--secret-string", marker + "-v4", "--client-request-token", token);
            Assert.DoesNotContain(marker, reuse, StringComparison.Ordinal);
            var tooBig = await cli.ErrorAsync("ValidationException", "secretsmanager", "create-secret", "--name", "leak/big", "--secret-string", marker + new string('x', 65536));
            Assert.DoesNotContain(marker, tooBig, StringComparison.Ordinal);
            var badName = await cli.ErrorAsync("ValidationException", "secretsmanager", "create-secret", "--name", "bad name", "--secret-string", marker + "-v5");
            Assert.DoesNotContain(marker, badName, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(binaryFile);
        }

        Assert.Equal(0, await _server.StopAsync());
        Assert.DoesNotContain(marker, _server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.SecretAccessKey, _server.Output, StringComparison.Ordinal);
        foreach (var file in Directory.GetFiles(_server.DataDirectory))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.True(IndexOf(bytes, Encoding.UTF8.GetBytes(marker)) < 0, $"{Path.GetFileName(file)} holds a secret value in plaintext");
            Assert.True(IndexOf(bytes, Encoding.UTF8.GetBytes(binaryMarker)) < 0, $"{Path.GetFileName(file)} holds a binary secret in plaintext");
        }

        if (!OperatingSystem.IsWindows())
        {
            foreach (var file in new[] { "keyturn.db", "master.key" })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_server.DataDirectory, file)));
            }
        }
    }

    [Fact]
    public async Task AccessKeyPolicy_AppKeyReadsOnlyItsOwnSecrets_RevokedKeyIsRejected()
    {
        var root = new AwsCli(_server);
        await root.JsonAsync("secretsmanager", "create-secret", "--name", "app/db", "--secret-string", "app-value");
        await root.JsonAsync("secretsmanager", "create-secret", "--name", "ops/db", "--secret-string", "ops-value");

        const string policy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"arn:aws:secretsmanager:*:*:secret:app/*"}]}""";
        var created = await _server.KeysAsync("create", "app-reader", "--policy", policy);
        var id = KeyturnProcess.KeyLine(created, "aws_access_key_id");
        var secret = KeyturnProcess.KeyLine(created, "aws_secret_access_key");
        var app = new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = id, ["AWS_SECRET_ACCESS_KEY"] = secret };

        var allowed = await Cli(app, "secretsmanager", "get-secret-value", "--secret-id", "app/db");
        Assert.True(allowed.ExitCode == 0, allowed.ToString());
        Assert.Equal("app-value", JsonDocument.Parse(allowed.Stdout).RootElement.GetProperty("SecretString").GetString());

        var denied = await Cli(app, "secretsmanager", "get-secret-value", "--secret-id", "ops/db");
        Assert.Contains("(AccessDeniedException)", denied.Stderr, StringComparison.Ordinal);
        Assert.Contains($"User: arn:aws:iam::000000000000:user/app-reader is not authorized to perform: secretsmanager:GetSecretValue", denied.Stderr, StringComparison.Ordinal);
        var write = await Cli(app, "secretsmanager", "put-secret-value", "--secret-id", "app/db", "--secret-string", "nope");
        Assert.Contains("(AccessDeniedException)", write.Stderr, StringComparison.Ordinal);

        // A resource policy on ops/db can grant the same key access, and an explicit Deny beats the identity policy.
        await root.JsonAsync("secretsmanager", "put-resource-policy", "--secret-id", "ops/db", "--resource-policy",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/app-reader"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}""");
        Assert.Equal(0, (await Cli(app, "secretsmanager", "get-secret-value", "--secret-id", "ops/db")).ExitCode);
        await root.JsonAsync("secretsmanager", "put-resource-policy", "--secret-id", "app/db", "--resource-policy",
            """{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}""");
        Assert.Contains("(AccessDeniedException)", (await Cli(app, "secretsmanager", "get-secret-value", "--secret-id", "app/db")).Stderr, StringComparison.Ordinal);

        var list = await _server.KeysAsync("list");
        Assert.Contains(id, list, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list, StringComparison.Ordinal);

        await _server.KeysAsync("revoke", id);
        // Refused within the key cache's lifetime: poll until then instead of sleeping through it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1.5);
        ToolResult revoked;
        do
        {
            revoked = await Cli(app, "secretsmanager", "describe-secret", "--secret-id", "app/db");
        }
        while (!revoked.Stderr.Contains("(UnrecognizedClientException)", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        Assert.Contains("(UnrecognizedClientException)", revoked.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Reproduced escalation: a tagger key under the AWS-recommended guard (Deny TagResource when aws:TagKeys has
    /// "team") tagged prod/db with team=app, because the request carried no aws:TagKeys, and a reader limited to
    /// secretsmanager:ResourceTag/team = app then read it.
    /// </summary>
    [Fact]
    public async Task TagKeysGuard_TaggerCannotAddTheTeamTag_SoTheTeamReaderCannotReadProd()
    {
        var root = new AwsCli(_server);
        await root.JsonAsync("secretsmanager", "create-secret", "--name", "prod/db", "--secret-string", "prod-value");
        var tagger = await KeyAsync("tagger", """
            {"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Action": "secretsmanager:TagResource", "Resource": "*"},
              {"Effect": "Deny", "Action": "secretsmanager:TagResource", "Resource": "*",
               "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}}]}
            """);
        var reader = await KeyAsync("team-reader", """
            {"Version": "2012-10-17", "Statement": [
              {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
               "Condition": {"StringEquals": {"secretsmanager:ResourceTag/team": "app"}}}]}
            """);

        var escalation = await Cli(tagger, "secretsmanager", "tag-resource", "--secret-id", "prod/db", "--tags", "Key=env,Value=prod", "Key=team,Value=app");
        Assert.Contains("(AccessDeniedException)", escalation.Stderr, StringComparison.Ordinal);
        Assert.Contains("is not authorized to perform: secretsmanager:TagResource", escalation.Stderr, StringComparison.Ordinal);
        var harmless = await Cli(tagger, "secretsmanager", "tag-resource", "--secret-id", "prod/db", "--tags", "Key=env,Value=prod");
        Assert.True(harmless.ExitCode == 0, harmless.ToString());

        var tags = (await root.JsonAsync("secretsmanager", "describe-secret", "--secret-id", "prod/db")).GetProperty("Tags");
        Assert.DoesNotContain(tags.EnumerateArray(), t => t.GetProperty("Key").GetString() == "team");
        var read = await Cli(reader, "secretsmanager", "get-secret-value", "--secret-id", "prod/db");
        Assert.Contains("(AccessDeniedException)", read.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("prod-value", read.Stdout + read.Stderr, StringComparison.Ordinal);
    }

    /// <summary>aws:SourceIp and aws:SecureTransport come from the connection, aws:PrincipalTag/* from the key's tags.</summary>
    [Fact]
    public async Task ConnectionAndKeyTags_ReachPolicies_AndUnevaluableKeysAreRefused()
    {
        var root = new AwsCli(_server);
        await root.JsonAsync("secretsmanager", "create-secret", "--name", "app/db", "--secret-string", "app-value", "--tags", "Key=team,Value=app");
        await root.JsonAsync("secretsmanager", "create-secret", "--name", "ops/db", "--secret-string", "ops-value", "--tags", "Key=team,Value=ops");

        // Attribute-based access: the key's team tag must equal the secret's.
        var abac = await KeyAsync("abac", """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
              "Condition": {"StringEquals": {"secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}"}}}]}
            """, "--tag", "team=app", "--tag", "cost-center=42");
        Assert.Equal(0, (await Cli(abac, "secretsmanager", "get-secret-value", "--secret-id", "app/db")).ExitCode);
        Assert.Contains("(AccessDeniedException)", (await Cli(abac, "secretsmanager", "get-secret-value", "--secret-id", "ops/db")).Stderr, StringComparison.Ordinal);

        // The tests reach the server from 127.0.0.1 over plain HTTP.
        var loopbackOnly = await KeyAsync("loopback", """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]}
            """);
        var privateOnly = await KeyAsync("private-net", """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}
            """);
        var tlsOnly = await KeyAsync("tls-only", """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
              {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
            """);
        Assert.Equal(0, (await Cli(loopbackOnly, "secretsmanager", "get-secret-value", "--secret-id", "app/db")).ExitCode);
        Assert.Contains("(AccessDeniedException)", (await Cli(privateOnly, "secretsmanager", "get-secret-value", "--secret-id", "app/db")).Stderr, StringComparison.Ordinal);
        Assert.Contains("(AccessDeniedException)", (await Cli(tlsOnly, "secretsmanager", "get-secret-value", "--secret-id", "app/db")).Stderr, StringComparison.Ordinal);

        // keys create refuses a key Keyturn cannot evaluate, naming it; nothing is created.
        var refused = await ExternalTool.RunAsync("dotnet",
            [KeyturnProcess.KeyturnDll, "keys", "create", "org-bound", "--data-dir", _server.DataDirectory, "--policy",
             """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}"""],
            _server,
            new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = _server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = _server.SecretAccessKey });
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("aws:PrincipalOrgID", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("org-bound", await _server.KeysAsync("list"), StringComparison.Ordinal);

        // A resource policy may use it (AWS accepts any key): ValidateResourcePolicy names it, and its Deny applies even to root.
        const string OrgPolicy = """{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}""";
        var validation = await root.JsonAsync("secretsmanager", "validate-resource-policy", "--secret-id", "ops/db", "--resource-policy", OrgPolicy);
        Assert.False(validation.GetProperty("PolicyValidationPassed").GetBoolean());
        var error = Assert.Single(validation.GetProperty("ValidationErrors").EnumerateArray());
        Assert.Equal("UNSUPPORTED_CONDITION_KEY", error.GetProperty("CheckName").GetString());
        Assert.Contains("aws:PrincipalOrgID", error.GetProperty("ErrorMessage").GetString(), StringComparison.Ordinal);
        await root.JsonAsync("secretsmanager", "put-resource-policy", "--secret-id", "ops/db", "--resource-policy", OrgPolicy);
        await root.ErrorAsync("AccessDeniedException", "secretsmanager", "get-secret-value", "--secret-id", "ops/db");
        Assert.Contains("aws:PrincipalOrgID", _server.Output, StringComparison.Ordinal);
    }

    private async Task<Dictionary<string, string>> KeyAsync(string name, string policy, params string[] options)
    {
        var created = await _server.KeysAsync(["create", name, "--policy", policy, .. options]);
        return new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = KeyturnProcess.KeyLine(created, "aws_access_key_id"),
            ["AWS_SECRET_ACCESS_KEY"] = KeyturnProcess.KeyLine(created, "aws_secret_access_key"),
        };
    }

    [Fact]
    public async Task KeysCreate_DuplicateOrMalformedUserName_IsRefused()
    {
        var first = await _server.KeysAsync("create", "dup-user");
        var id = KeyturnProcess.KeyLine(first, "aws_access_key_id");

        // IAM user names are unique ignoring case; a second live key would share every grant made to user/dup-user.
        var duplicate = await Keyturn("keys", "create", "DUP-USER", "--data-dir", _server.DataDirectory);
        Assert.Equal(2, duplicate.ExitCode);
        Assert.Equal($"User with name dup-user already exists. Revoke its key {id} first (keyturn keys revoke {id}).", duplicate.Stderr.Trim());

        var malformed = await Keyturn("keys", "create", "app reader", "--data-dir", _server.DataDirectory);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Equal(
            "1 validation error detected: Value 'app reader' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+",
            malformed.Stderr.Trim());
        Assert.Equal(2, (await Keyturn("keys", "create", new string('u', 65), "--data-dir", _server.DataDirectory)).ExitCode);
        Assert.DoesNotContain("app reader", await _server.KeysAsync("list"), StringComparison.Ordinal);

        // Once revoked, the name is free again (as a deleted IAM user's is).
        await _server.KeysAsync("revoke", id);
        Assert.Contains("aws_access_key_id", await _server.KeysAsync("create", "dup-user"), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadListen => new()
    {
        { "nohost:4566", "--listen must be HOST:PORT with an IP address or localhost as HOST, got 'nohost:4566'." },
        { "127.0.0.1", "--listen must be HOST:PORT, got '127.0.0.1'." },
    };

    [Theory]
    [MemberData(nameof(BadListen))]
    public async Task Serve_BadListen_FailsInOneLine(string listen, string message)
    {
        var directory = TestDirectories.Create("keyturn-it-");
        var result = await Keyturn("serve", "--listen", listen, "--data-dir", directory);
        TestDirectories.Delete(directory);

        // Checked with the transport options before anything starts: the usage error alone, exit code 2.
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(message, result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortInUse_FailsInOneLine()
    {
        var port = new Uri(_server.Endpoint).Port;

        var directory = TestDirectories.Create("keyturn-it-");
        var result = await Keyturn("serve", "--listen", $"127.0.0.1:{port}", "--data-dir", directory);
        TestDirectories.Delete(directory);

        AssertOneLineFailure(result, $"Failed to bind to address http://127.0.0.1:{port}: address already in use.");
    }

    [Fact]
    public async Task Serve_DataDirectoryIsAFile_FailsInOneLine()
    {
        var file = Path.GetTempFileName();

        var result = await Keyturn("serve", "--listen", "127.0.0.1:0", "--data-dir", file);
        TestDirectories.Delete(file);

        AssertOneLineFailure(result, $"The file '{file}' already exists.");
    }

    private static void AssertOneLineFailure(ToolResult result, string message)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal($"keyturn serve: {message} (set KEYTURN_DEBUG=1 for details)", result.Stderr.Trim());
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    private Task<ToolResult> Keyturn(params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, .. arguments], _server,
            new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = _server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = _server.SecretAccessKey },
            TimeSpan.FromSeconds(60));

    private Task<ToolResult> Cli(Dictionary<string, string> environment, params string[] arguments) =>
        ExternalTool.RunAsync(AwsCli.Path, [.. arguments, "--endpoint-url", _server.Endpoint, "--output", "json"], _server, environment);

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
