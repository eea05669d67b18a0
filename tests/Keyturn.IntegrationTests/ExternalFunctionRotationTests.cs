using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// Rotation through an external function written in Python with boto3 (AWS's rotation template),
/// driven by the real AWS CLI and boto3, including a server killed with SIGKILL inside each step.
/// </summary>
public sealed class ExternalFunctionRotationTests : IAsyncLifetime
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Scripts", "template_rotation_function.py");

    private readonly string _dataDirectory = TestDirectories.Create("keyturn-rot-");

    /// <summary>Outside the data directory: where a function writes what the test must find nowhere else.</summary>
    private readonly string _outside = TestDirectories.Create("keyturn-leak-");
    private readonly Dictionary<string, string> _root = new()
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = "AKIAROTATIONTEST0001",
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = "rotation-test-secret-key-0001",
    };

    private KeyturnProcess _server = null!;

    public async Task InitializeAsync()
    {
        // serve creates the data directory's master key; `functions register` never does, so it runs second.
        _server = await KeyturnProcess.StartAsync(_dataDirectory, _root);
        await RegisterAsync("template", $"/usr/bin/python3 {Script}");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        TestDirectories.Delete(_dataDirectory, _outside);
    }

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
        _server = await KeyturnProcess.StartAsync(_dataDirectory, _root, tls: TlsSettings.SelfSigned);
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

    [Fact]
    public async Task CommandFunctionPrintingSecrets_LogGroupDatabaseAndServerOutputHoldOnlyMasks()
    {
        // The function writes its own key here, outside the data directory, so the test knows what to look for.
        var keyFile = Path.Combine(_outside, "function-key");
        var cli = new AwsCli(_server);
        const string Master = "Master-Leak-Pw-5", Oldest = "Oldest-Leak-Pw-1", Previous = "Previous-Leak-Pw-2", Current = "Current-Leak-Pw-3", Pwd = "Pwd-Field-Leak-4";
        static string Value(string password, string pwd) =>
            $$"""{"engine":"postgres","host":"127.0.0.1","username":"app","password":"{{password}}","pwd":"{{pwd}}","masterarn":"ext/leak-master"}""";
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", "ext/leak-master", "--secret-string", $$"""{"username":"admin","password":"{{Master}}"}""");
        var oldest = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", "ext/leak", "--secret-string", Value(Oldest, "Pwd-Oldest-Leak-0"))).GetProperty("VersionId").GetString();

        // The function's key may read this secret's versions and its allowed master, not list them: it is told which old version to print.
        await RegisterAsync("leaky", $"/usr/bin/python3 {Path.Combine(AppContext.BaseDirectory, "Scripts", "leaky_rotation_function.py")} --key-file {keyFile} --old-version {oldest}");
        await KeyturnAsync("functions", "policy", "leaky", "--allow-master", "ext/leak-master");
        await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", "ext/leak", "--secret-string", Value(Previous, "Pwd-Previous-Leak-0"));
        await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", "ext/leak", "--secret-string", Value(Current, Pwd));

        await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "ext/leak", "--rotation-lambda-arn", "leaky", "--rotation-rules", "AutomaticallyAfterDays=1");
        await WaitForRotationAsync(cli, "ext/leak");

        var pending = (await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "ext/leak")).GetProperty("SecretString").GetString()!;
        var key = await File.ReadAllTextAsync(keyFile);
        var currentBytes = System.Text.Encoding.UTF8.GetBytes(Current);
        string[] leaked = [Master, Oldest, Previous, Current, Pwd, "Pwd-Oldest-Leak-0", pending, key, Convert.ToBase64String(currentBytes), Convert.ToHexStringLower(currentBytes)];
        Assert.All(leaked, value => Assert.True(value.Length >= 8, $"'{value}' is too short to prove anything"));

        // The lines are all there, each value masked.
        var events = (await cli.JsonAsync("logs", "filter-log-events", "--log-group-name", "/aws/lambda/leaky")).GetProperty("events")
            .EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
        var logs = await KeyturnAsync("logs", "ext/leak");
        const string M = "********";
        foreach (var line in new[]
        {
            $"leak current={M}", $"leak pending={M}", $"leak master={M}", $"leak pwd={M}", $"leak dsn=postgresql://app:{M}@db.internal:6543/other",
            $"leak old={M}", $"leak b64={M}", $"leak hex={M}", $"leak key={M}", $"leak error: {M}",
        })
        {
            Assert.Contains(line, events);
            Assert.Contains(line, logs, StringComparison.Ordinal);
        }

        // No value anywhere: not in the log group, not in any file of the data directory, not in the server's output.
        var exitCode = await _server.StopAsync();
        Assert.Equal(0, exitCode);
        var files = Directory.EnumerateFiles(_dataDirectory, "*", SearchOption.AllDirectories).Select(f => (f, File.ReadAllBytes(f))).ToList();
        Assert.Contains(files, f => Path.GetFileName(f.f).EndsWith(".db", StringComparison.Ordinal));
        foreach (var value in leaked)
        {
            Assert.DoesNotContain(events, e => e.Contains(value, StringComparison.Ordinal));
            Assert.DoesNotContain(value, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(value, _server.Output, StringComparison.Ordinal);
            var bytes = System.Text.Encoding.UTF8.GetBytes(value);
            Assert.DoesNotContain(files, f => f.Item2.AsSpan().IndexOf(bytes) >= 0);
        }
    }

    /// <summary>
    /// An external function's key is minted per invocation: it reads the secret being rotated and nothing else, it
    /// stops working when the invocation ends, and its secret never reaches the stored logs.
    /// </summary>
    [Fact]
    public async Task CommandFunctionKey_OnlyItsSecret_OnlyDuringTheInvocation_NeverLogged()
    {
        var record = Path.Combine(_dataDirectory, "..", "probe-" + Guid.NewGuid().ToString("N") + ".jsonl");
        var script = Path.Combine(_dataDirectory, "..", "probe-" + Guid.NewGuid().ToString("N") + ".py");
        await File.WriteAllTextAsync(script, """
            import boto3, json, os, sys
            event = json.loads(os.environ['KEYTURN_ROTATION_EVENT'])
            client = boto3.client('secretsmanager', endpoint_url=os.environ['SECRETS_MANAGER_ENDPOINT'])
            try:
                client.get_secret_value(SecretId='ext/probe-other')
                other = 'read'
            except client.exceptions.ClientError as e:
                other = e.response['Error']['Code']
            own = client.describe_secret(SecretId=event['SecretId'])['Name']
            with open(sys.argv[1], 'a') as f:
                f.write(json.dumps({'key': os.environ['AWS_ACCESS_KEY_ID'], 'secret': os.environ['AWS_SECRET_ACCESS_KEY'], 'other': other, 'own': own}) + '\n')
            print('my secret access key is ' + os.environ['AWS_SECRET_ACCESS_KEY'])
            """);
        try
        {
            await RegisterAsync("probe", $"/usr/bin/python3 {script} {record}");
            var cli = new AwsCli(_server);
            await cli.JsonAsync("secretsmanager", "create-secret", "--name", "ext/probe-other", "--secret-string", "not-for-the-function");
            await cli.JsonAsync("secretsmanager", "create-secret", "--name", "ext/probe", "--secret-string", "initial");

            await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "ext/probe", "--rotation-lambda-arn", "arn:aws:lambda:us-east-1:000000000000:function:probe");
            await WaitUntilAsync(async () => (await RotationsAsync()).Contains("finishSecret returned", StringComparison.Ordinal));

            var invocations = (await File.ReadAllLinesAsync(record)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(4, invocations.Count);
            Assert.All(invocations, i => Assert.Equal("AccessDeniedException", i.GetProperty("other").GetString()));
            Assert.All(invocations, i => Assert.Equal("ext/probe", i.GetProperty("own").GetString()));
            Assert.Equal(4, invocations.Select(i => i.GetProperty("key").GetString()).Distinct().Count());

            // After the invocation the key is revoked: the server no longer knows it.
            var first = invocations[0];
            var reuse = await ExternalTool.RunAsync(AwsCli.Path, ["secretsmanager", "describe-secret", "--secret-id", "ext/probe", "--endpoint-url", _server.Endpoint, "--output", "json"], _server,
                new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = first.GetProperty("key").GetString()!, ["AWS_SECRET_ACCESS_KEY"] = first.GetProperty("secret").GetString()! });
            Assert.Contains("(UnrecognizedClientException)", reuse.Stderr, StringComparison.Ordinal);

            Assert.Equal(0, await _server.StopAsync());
            foreach (var invocation in invocations)
            {
                var secret = invocation.GetProperty("secret").GetString()!;
                Assert.DoesNotContain(secret, _server.Output, StringComparison.Ordinal);
                foreach (var file in Directory.GetFiles(_dataDirectory))
                {
                    Assert.True((await File.ReadAllBytesAsync(file)).AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"{Path.GetFileName(file)} holds a function's secret access key");
                }
            }

            _server = await KeyturnProcess.StartAsync(_dataDirectory, _root);
        }
        finally
        {
            File.Delete(record);
            File.Delete(script);
        }
    }

    /// <summary>
    /// Issue 10's reproduction: a command function fails with a refused connection, the engine schedules a retry, and
    /// CancelRotateSecret comes in while it waits. The rotation stays abandoned past the retry time and the function is
    /// never run again (it used to go back to "retrying createSecret" and run attempts 2 and 3).
    /// </summary>
    [Fact]
    public async Task CancelRotateSecret_WhileAFailedStepWaitsToRetry_StaysAbandoned_NoFurtherAttempt()
    {
        var invocations = Path.Combine(_dataDirectory, "..", "refused-" + Guid.NewGuid().ToString("N") + ".log");
        var script = Path.Combine(_dataDirectory, "..", "refused-" + Guid.NewGuid().ToString("N") + ".py");
        await File.WriteAllTextAsync(script, """
            import json, os, sys
            with open(sys.argv[1], 'a') as f:
                f.write(json.loads(os.environ['KEYTURN_ROTATION_EVENT'])['Step'] + '\n')
            print('[ERROR] ConnectionRefusedError: [Errno 111] Connection refused', flush=True)
            sys.exit(1)
            """);
        try
        {
            await RegisterAsync("refused", $"/usr/bin/python3 {script} {invocations}");
            var cli = new AwsCli(_server);
            const string Name = "ext/cancel-retry";
            var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", Name, "--secret-string", "initial")).GetProperty("VersionId").GetString()!;
            var rotated = await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", Name, "--rotation-lambda-arn", "refused", "--rotation-rules", "AutomaticallyAfterDays=1");
            var (arn, token) = (rotated.GetProperty("ARN").GetString()!, rotated.GetProperty("VersionId").GetString()!);

            // The first attempt failed and its retry is scheduled (the engine logged it): cancel at once, in process, so
            // the cancel lands inside the retry delay (2.5 to 5 s for a first failure) even on a loaded machine.
            await WaitUntilAsync(() => Task.FromResult(File.Exists(invocations)
                && _server.Output.Contains($"rotation of {arn}: createSecret failed (attempt 1); retrying in", StringComparison.Ordinal)));
            using var raw = new RawClient(_server);
            var cancelled = await raw.SendAsync("CancelRotateSecret", JsonSerializer.Serialize(new { SecretId = Name }));
            Assert.True(cancelled.Status == 200, cancelled.Body);
            Assert.Equal(token, cancelled.Json.GetProperty("VersionId").GetString());
            var ranBeforeCancel = await File.ReadAllLinesAsync(invocations);
            Assert.Equal(["createSecret"], ranBeforeCancel);

            // The engine logs that it stopped when it wakes for the retry. Until then (and after), the function must
            // not run again.
            await WaitUntilAsync(async () =>
            {
                Assert.Equal(ranBeforeCancel, await File.ReadAllLinesAsync(invocations));
                return _server.Output.Contains($"rotation of {arn} (version {token}) stopped", StringComparison.Ordinal);
            });

            Assert.Equal(ranBeforeCancel, await File.ReadAllLinesAsync(invocations));
            Assert.Equal("abandoned", StateOf(await RotationsAsync(), Name));
            var described = await cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", Name);
            Assert.False(described.GetProperty("RotationEnabled").GetBoolean());
            var stages = described.GetProperty("VersionIdsToStages");
            Assert.Equal(["AWSCURRENT"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(["AWSPENDING"], stages.GetProperty(token).EnumerateArray().Select(e => e.GetString()));
        }
        finally
        {
            File.Delete(invocations);
            File.Delete(script);
        }
    }

    /// <summary>The STATE column of <c>keyturn rotations</c> for a secret (e.g. "retrying createSecret", "abandoned").</summary>
    private static string? StateOf(string rotations, string name) =>
        rotations.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal)) is { } line && line.Length > 87
            ? line.Substring(87, Math.Min(24, line.Length - 87)).Trim()
            : null;

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

    private Task<string> RotationsAsync() => KeyturnAsync("rotations");

    /// <summary>Runs <c>keyturn ARGUMENTS --data-dir</c> as root on this test's data directory; returns its standard output.</summary>
    private async Task<string> KeyturnAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[KeyturnProcess.KeyturnDll, .. arguments, "--data-dir", _dataDirectory])
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
