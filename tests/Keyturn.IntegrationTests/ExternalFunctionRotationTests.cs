using System.Diagnostics;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// Rotation through an external function written in Python with boto3 (AWS's rotation template),
/// driven by the real AWS CLI and boto3, including a server killed with SIGKILL inside each step.
/// </summary>
public sealed class ExternalFunctionRotationTests : IAsyncLifetime
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Scripts", "template_rotation_function.py");

    private readonly string _dataDirectory = Directory.CreateTempSubdirectory("keyturn-rot-").FullName;
    private readonly Dictionary<string, string> _root = new()
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = "AKIAROTATIONTEST0001",
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = "rotation-test-secret-key-0001",
    };

    private KeyturnProcess _server = null!;

    public async Task InitializeAsync()
    {
        await RegisterAsync("template", $"/usr/bin/python3 {Script}");
        _server = await KeyturnProcess.StartAsync(_dataDirectory, _root);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AwsCli_RotateSecret_WithPythonTemplateFunction_Completes()
    {
        var cli = new AwsCli(_server);
        var created = await cli.JsonAsync("secretsmanager", "create-secret", "--name", "ext/one", "--secret-string", "initial");
        var v1 = created.GetProperty("VersionId").GetString()!;

        var rotated = await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "ext/one",
            "--rotation-lambda-arn", "arn:aws:lambda:us-east-1:000000000000:function:template", "--rotation-rules", "AutomaticallyAfterDays=7");
        var token = rotated.GetProperty("VersionId").GetString()!;

        var described = await WaitForRotationAsync(cli, "ext/one");
        var stages = described.GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], stages.GetProperty(token).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["AWSPREVIOUS"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(7, described.GetProperty("RotationRules").GetProperty("AutomaticallyAfterDays").GetInt32());
        Assert.True(described.TryGetProperty("NextRotationDate", out _));
        Assert.NotEqual("initial", (await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "ext/one")).GetProperty("SecretString").GetString());

        // A second rotation with no parameters reuses the stored function and rules (spec case 47).
        var again = await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "ext/one");
        var token2 = again.GetProperty("VersionId").GetString()!;
        await WaitUntilAsync(async () => (await cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", "ext/one"))
            .GetProperty("VersionIdsToStages").TryGetProperty(token2, out var s) && s.EnumerateArray().Any(e => e.GetString() == "AWSCURRENT"));
    }

    [Fact]
    public async Task Boto3_RotateSecret_WithPythonTemplateFunction_Completes()
    {
        var script = Path.Combine(_dataDirectory, "drive.py");
        await File.WriteAllTextAsync(script, """
            import os, time, boto3
            c = boto3.client("secretsmanager", endpoint_url=os.environ["KEYTURN_ENDPOINT"])
            v1 = c.create_secret(Name="ext/boto3", SecretString="initial")["VersionId"]
            t = c.rotate_secret(SecretId="ext/boto3", RotationLambdaARN="template", RotationRules={"ScheduleExpression": "rate(10 days)"})["VersionId"]
            for _ in range(300):
                d = c.describe_secret(SecretId="ext/boto3")
                if "LastRotatedDate" in d:
                    break
                time.sleep(0.1)
            assert d["VersionIdsToStages"] == {v1: ["AWSPREVIOUS"], t: ["AWSCURRENT"]}, d["VersionIdsToStages"]
            assert d["RotationRules"]["ScheduleExpression"] == "rate(10 days)", d["RotationRules"]
            assert d["RotationRules"]["AutomaticallyAfterDays"] == 10, d["RotationRules"]
            try:
                c.rotate_secret(SecretId="ext/boto3", RotationLambdaARN="arn:aws:lambda:us-east-1:000000000000:function:nope")
                raise SystemExit("expected AccessDeniedException")
            except c.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "AccessDeniedException", e.response
            print("ok")
            """);

        var result = await ExternalTool.RunAsync("/usr/bin/python3", [script], _server);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task AwsCli_RotateSecret_OverHttps_FunctionReachesTheServerThroughItsCaBundle()
    {
        // The command gets the https endpoint and AWS_CA_BUNDLE (the self-signed certificate); without them its boto3
        // calls fail verification and the rotation never completes.
        await _server.DisposeAsync();
        _server = await KeyturnProcess.StartAsync(_dataDirectory, _root, TlsSettings.SelfSigned);
        var cli = new AwsCli(_server);
        var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", "ext/tls", "--secret-string", "initial")).GetProperty("VersionId").GetString()!;

        var token = (await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "ext/tls",
            "--rotation-lambda-arn", "template", "--rotation-rules", "AutomaticallyAfterDays=7")).GetProperty("VersionId").GetString()!;

        var stages = (await WaitForRotationAsync(cli, "ext/tls")).GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], stages.GetProperty(token).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["AWSPREVIOUS"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task FunctionFailingAtEachStep_LeavesDocumentedLabels()
    {
        foreach (var step in new[] { "createSecret", "setSecret", "testSecret", "finishSecret" })
        {
            var name = "ext/fail-" + step;
            await RegisterAsync("fail-" + step, $"/usr/bin/python3 {Script} --fail-at {step}");
            var cli = new AwsCli(_server);
            var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", "initial")).GetProperty("VersionId").GetString()!;

            // Registering happened after start: the function is found in the store per call.
            var token = (await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", "fail-" + step,
                "--rotation-rules", "AutomaticallyAfterDays=1")).GetProperty("VersionId").GetString()!;
            await WaitUntilAsync(async () => (await RotationsAsync()).Contains(name, StringComparison.Ordinal)
                && (await RotationsAsync()).Split('\n').Any(l => l.StartsWith(name + " ", StringComparison.Ordinal) && (l.Contains(" failed", StringComparison.Ordinal) || l.Contains("retrying", StringComparison.Ordinal))));

            var stages = (await cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("VersionIdsToStages");
            Assert.Equal(["AWSCURRENT"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["AWSPENDING"], stages.GetProperty(token).EnumerateArray().Select(e => e.GetString()));
            Assert.Equal("initial", (await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name)).GetProperty("SecretString").GetString());
            var refused = await cli.ErrorAsync("InvalidRequestException", "secretsmanager", "rotate-secret", "--secret-id", name);
            Assert.Contains("A previous rotation isn't complete. That rotation will be reattempted.", refused, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("createSecret")]
    [InlineData("setSecret")]
    [InlineData("testSecret")]
    [InlineData("finishSecret")]
    public async Task ServerKilledInsideStep_RestartResumesAndCompletes(string step)
    {
        var pauseFile = Path.Combine(_dataDirectory, "pause-" + step);
        await RegisterAsync("pausing-" + step, $"/usr/bin/python3 {Script} --pause-at {step} --pause-file {pauseFile}");
        await _server.DisposeAsync();
        _server = await KeyturnProcess.StartAsync(_dataDirectory, _root);
        var cli = new AwsCli(_server);
        var name = "ext/kill-" + step;
        var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", "initial")).GetProperty("VersionId").GetString()!;
        await File.WriteAllTextAsync(pauseFile, "");

        var token = (await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", "pausing-" + step,
            "--rotation-rules", "AutomaticallyAfterDays=1")).GetProperty("VersionId").GetString()!;
        await WaitUntilAsync(() => Task.FromResult(File.Exists(pauseFile + ".reached")));

        // SIGKILL the server (and the function it runs) in the middle of the step.
        await _server.DisposeAsync();
        File.Delete(pauseFile);
        _server = await KeyturnProcess.StartAsync(_dataDirectory, _root);
        cli = new AwsCli(_server);

        var described = await WaitForRotationAsync(cli, name);
        var stages = described.GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], stages.GetProperty(token).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["AWSPREVIOUS"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));
    }

    private async Task RegisterAsync(string name, string command)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { KeyturnProcess.KeyturnDll, "functions", "register", name, "--command", command, "--data-dir", _dataDirectory })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in _root)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, output);
    }

    private async Task<string> RotationsAsync()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { KeyturnProcess.KeyturnDll, "rotations", "--data-dir", _dataDirectory })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in _root)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output;
    }

    private static async Task<JsonElement> WaitForRotationAsync(AwsCli cli, string name)
    {
        JsonElement described = default;
        await WaitUntilAsync(async () =>
        {
            described = await cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name);
            return described.TryGetProperty("LastRotatedDate", out _);
        });
        return described;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the rotation did not reach the expected state within 90 s");
            await Task.Delay(200);
        }
    }
}
