using System.Text.Json;
using System.Text.RegularExpressions;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// Lambda handlers registered with <c>functions register --handler</c>, run by a real <c>keyturn serve</c> in warm
/// workers: Python (the module imported once for all four steps, Lambda's context and log format, errors and timeouts)
/// and Node.js (async and callback handlers). The handlers are test data in Scripts/handlers.
/// </summary>
public sealed partial class HandlerFunctionTests : IAsyncLifetime
{
    private static readonly string Handlers = Path.Combine(AppContext.BaseDirectory, "Scripts", "handlers");

    private readonly string _dataDirectory = TestDirectories.Create("keyturn-handler-");
    private readonly string _records = TestDirectories.Create("keyturn-handler-records-");
    private KeyturnProcess _server = null!;

    public async Task InitializeAsync() => _server = await KeyturnProcess.StartAsync(_dataDirectory);

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        TestDirectories.Delete(_dataDirectory, _records);
    }

    [Fact]
    public async Task PythonHandler_RotatesAPlainSecret_ModuleImportedOnce_LambdaContextAndLogLines_EnvironmentHiddenEverywhere()
    {
        var token = "env-" + Guid.NewGuid().ToString("N");
        var registered = await _server.FunctionsAsync("register", "py-rotator", "--handler", "lambda_function.lambda_handler", "--code", Path.Combine(Handlers, "python"),
            "--runtime", "python3", "--env", "RECORD_DIR=" + _records, "--env", "HANDLER_TOKEN=" + token, "--timeout", "20", "--memory", "256");
        var cli = new AwsCli(_server);
        var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", "handler/plain", "--secret-string", "initial")).GetProperty("VersionId").GetString()!;

        var rotationToken = (await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "handler/plain",
            "--rotation-lambda-arn", "arn:aws:lambda:us-east-1:000000000000:function:py-rotator", "--rotation-rules", "AutomaticallyAfterDays=7")).GetProperty("VersionId").GetString()!;

        var stages = (await WaitForRotationAsync(cli, "handler/plain")).GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], stages.GetProperty(rotationToken).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["AWSPREVIOUS"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));

        // One import, one worker, for the four steps.
        var imports = await File.ReadAllLinesAsync(Path.Combine(_records, "imports"));
        var contexts = (await File.ReadAllLinesAsync(Path.Combine(_records, "contexts"))).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Single(imports);
        Assert.Equal(["createSecret", "setSecret", "testSecret", "finishSecret"], contexts.Select(c => c.GetProperty("step").GetString()));
        Assert.All(contexts, c => Assert.Equal(imports[0], c.GetProperty("pid").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture)));

        // Lambda's context, and the function's environment with the invocation's key.
        var requestIds = contexts.Select(c => c.GetProperty("aws_request_id").GetString()!).ToList();
        Assert.Equal(4, requestIds.Distinct().Count());
        Assert.All(requestIds, id => Assert.True(Guid.TryParse(id, out _), id));
        var streams = (await cli.JsonAsync("logs", "describe-log-streams", "--log-group-name", "/aws/lambda/py-rotator")).GetProperty("logStreams")
            .EnumerateArray().Select(s => s.GetProperty("logStreamName").GetString()).ToList();
        foreach (var context in contexts)
        {
            Assert.Equal("py-rotator", context.GetProperty("function_name").GetString());
            Assert.Equal("$LATEST", context.GetProperty("function_version").GetString());
            Assert.Equal("arn:aws:lambda:us-east-1:000000000000:function:py-rotator", context.GetProperty("invoked_function_arn").GetString());
            Assert.Equal("256", context.GetProperty("memory_limit_in_mb").GetString());
            Assert.Equal("/aws/lambda/py-rotator", context.GetProperty("log_group_name").GetString());
            Assert.Contains(context.GetProperty("log_stream_name").GetString(), streams);
            Assert.InRange(context.GetProperty("remaining_ms").GetInt32(), 1, 20_000);
            Assert.Equal(token, context.GetProperty("handler_token").GetString());
            Assert.True(context.GetProperty("has_key").GetBoolean());
        }

        // The samples' logger.info lines as Lambda's Python runtime writes them, under START/END/REPORT.
        var events = await EventsAsync(cli, "/aws/lambda/py-rotator");
        Assert.Contains(events, e => Regex.IsMatch(e, $@"^\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{requestIds[0]}\tcreateSecret: Successfully put secret for ARN arn:aws:secretsmanager:us-east-1:000000000000:secret:handler/plain-\w+ and version {rotationToken}\.$"));
        Assert.Contains(events, e => Regex.IsMatch(e, $@"^\[INFO\]\t\S+Z\t{requestIds[3]}\tfinishSecret: Successfully set AWSCURRENT stage to version {rotationToken} for secret \S+\.$"));
        foreach (var id in requestIds)
        {
            Assert.Contains($"START RequestId: {id} Version: $LATEST", events);
            Assert.Contains($"END RequestId: {id}", events);
            Assert.Contains(events, e => Regex.IsMatch(e, $@"^REPORT RequestId: {id}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\t"));
        }

        Assert.Contains(events, e => e.StartsWith($"REPORT RequestId: {requestIds[0]}\t", StringComparison.Ordinal) && e.Contains("\tInit Duration: ", StringComparison.Ordinal));
        Assert.DoesNotContain(events, e => e.StartsWith($"REPORT RequestId: {requestIds[1]}\t", StringComparison.Ordinal) && e.Contains("Init Duration", StringComparison.Ordinal));

        // The environment's names may be shown, its values nowhere: not in the CLI's output, the logs, the server's
        // output, or any file of the data directory (sealed by the master key).
        var listed = await _server.FunctionsAsync("list");
        var described = await _server.FunctionsAsync("describe", "py-rotator");
        Assert.Contains("HANDLER_TOKEN", described, StringComparison.Ordinal);
        Assert.Contains("lambda_function.lambda_handler", listed, StringComparison.Ordinal);
        var pid = int.Parse(imports[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Directory.Exists($"/proc/{pid}"), "the warm worker was stopped before the server");
        Assert.Equal(0, await _server.StopAsync());
        foreach (var text in new[] { registered, listed, described, string.Join('\n', events), _server.Output })
        {
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        }

        Assert.All(Directory.EnumerateFiles(_dataDirectory, "*", SearchOption.AllDirectories),
            f => Assert.DoesNotContain(token, System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(f)), StringComparison.Ordinal));

        // The server's shutdown ended the warm worker.
        await WaitUntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{pid}")));
    }

    [Fact]
    public async Task PythonHandler_Raising_FailsTheStepWithItsErrorAndNeverRunsFinishSecret()
    {
        await _server.FunctionsAsync("register", "py-failing", "--handler", "lambda_function.lambda_handler", "--code", Path.Combine(Handlers, "python"),
            "--env", "RECORD_DIR=" + _records, "--env", "FAIL_AT_STEP=2");
        var cli = new AwsCli(_server);
        var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", "handler/failing", "--secret-string", "initial")).GetProperty("VersionId").GetString()!;

        await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "handler/failing", "--rotation-lambda-arn", "py-failing", "--rotation-rules", "AutomaticallyAfterDays=7");

        // A ValueError is permanent (as the built-ins' invalid values): one attempt, the handler's own error as the reason.
        string rotations = "";
        await WaitUntilAsync(async () => (rotations = await KeyturnAsync("rotations")).Contains(" failed", StringComparison.Ordinal));
        Assert.Contains("setSecret: ValueError: refusing setSecret on purpose", rotations, StringComparison.Ordinal);
        var steps = (await File.ReadAllLinesAsync(Path.Combine(_records, "contexts"))).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetString()).ToList();
        Assert.Equal(["createSecret", "setSecret"], steps);
        var stages = (await cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", "handler/failing")).GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));

        // Lambda's error lines: "[ERROR] Type: message", then the traceback into the handler's file.
        var events = await EventsAsync(cli, "/aws/lambda/py-failing");
        Assert.Contains("[ERROR] ValueError: refusing setSecret on purpose", events);
        var error = events.IndexOf("[ERROR] ValueError: refusing setSecret on purpose");
        Assert.Equal("Traceback (most recent call last):", events[error + 1]);
        Assert.Matches(@"^  File "".*/lambda_function\.py"", line \d+, in lambda_handler$", events[error + 2]);
    }

    [Fact]
    public async Task PythonHandler_PastItsTimeout_IsStoppedWithLambdasLineAndANewWorkerServesTheRetry()
    {
        await _server.FunctionsAsync("register", "py-slow", "--handler", "lambda_function.lambda_handler", "--code", Path.Combine(Handlers, "python"),
            "--env", "RECORD_DIR=" + _records, "--env", "SLEEP_AT_STEP=2", "--env", "SLEEP_SECONDS=120", "--timeout", "15");
        var cli = new AwsCli(_server);
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", "handler/slow", "--secret-string", "initial");

        await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "handler/slow", "--rotation-lambda-arn", "py-slow", "--rotation-rules", "AutomaticallyAfterDays=7");

        List<string> events = [];
        await WaitUntilAsync(async () => (events = await EventsOnceCreatedAsync(cli, "/aws/lambda/py-slow")).Any(e => e.Contains("Task timed out after", StringComparison.Ordinal)));
        var timedOut = Assert.Single(events, e => e.Contains("Task timed out after", StringComparison.Ordinal));
        var after = Regex.Match(timedOut, @"^\S+Z [0-9a-f-]{36} Task timed out after (\d+\.\d\d) seconds$");
        Assert.True(after.Success, timedOut);

        // The time the timeout fired (never less than the registered 15 s, as on Lambda); a busy machine may fire it late,
        // but well before the handler's 120 s sleep would have ended on its own. The 15 s leave createSecret (a cold
        // Python start, boto3's import and three calls) time to finish on a busy machine before setSecret sleeps.
        Assert.InRange(double.Parse(after.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 15.0, 45.0);

        // The line the handler wrote before it was stopped is kept; the worker that ran it is gone.
        Assert.Contains(events, e => e.EndsWith("\tsetSecret: sleeping", StringComparison.Ordinal));
        var first = JsonDocument.Parse((await File.ReadAllLinesAsync(Path.Combine(_records, "contexts")))[0]).RootElement.GetProperty("pid").GetInt32();
        await WaitUntilAsync(() => Task.FromResult(!Directory.Exists($"/proc/{first}")));

        // The retry starts a new worker: the module is imported again.
        await WaitUntilAsync(async () => (await File.ReadAllLinesAsync(Path.Combine(_records, "imports"))).Length >= 2);
    }

    [Theory]
    [InlineData("index.asyncHandler", "async")]
    [InlineData("index.callbackHandler", "callback")]
    public async Task NodeHandler_RotatesAPlainSecret_WithLambdasContextAndConsoleFormat(string handler, string style)
    {
        var name = "node-" + style;
        await _server.FunctionsAsync("register", name, "--handler", handler, "--code", Path.Combine(Handlers, "node"), "--runtime", "nodejs",
            "--env", "RECORD_DIR=" + _records);
        var cli = new AwsCli(_server);
        var secret = "handler/" + name;
        var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", secret, "--secret-string", "initial")).GetProperty("VersionId").GetString()!;

        var token = (await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", secret, "--rotation-lambda-arn", name,
            "--rotation-rules", "AutomaticallyAfterDays=7")).GetProperty("VersionId").GetString()!;

        var stages = (await WaitForRotationAsync(cli, secret)).GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], stages.GetProperty(token).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["AWSPREVIOUS"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));
        var contexts = (await File.ReadAllLinesAsync(Path.Combine(_records, "contexts"))).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["createSecret", "setSecret", "testSecret", "finishSecret"], contexts.Select(c => c.GetProperty("step").GetString()));
        Assert.Single(contexts.Select(c => c.GetProperty("pid").GetInt32()).Distinct());
        foreach (var context in contexts)
        {
            Assert.Equal(style, context.GetProperty("style").GetString());
            Assert.Equal(name, context.GetProperty("functionName").GetString());
            Assert.Equal("$LATEST", context.GetProperty("functionVersion").GetString());
            Assert.Equal($"arn:aws:lambda:us-east-1:000000000000:function:{name}", context.GetProperty("invokedFunctionArn").GetString());
            Assert.Equal("128", context.GetProperty("memoryLimitInMB").GetString());
            Assert.Equal($"/aws/lambda/{name}", context.GetProperty("logGroupName").GetString());
            Assert.InRange(context.GetProperty("remaining").GetInt32(), 1, 30_000);
        }

        // console.log and console.info as Lambda's Node.js runtime writes them.
        var events = await EventsAsync(cli, $"/aws/lambda/{name}");
        var create = contexts[0].GetProperty("awsRequestId").GetString();
        var finish = contexts[3].GetProperty("awsRequestId").GetString();
        Assert.Contains(events, e => Regex.IsMatch(e, $@"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{create}\tINFO\tcreateSecret: Successfully put secret for ARN \S+ and version {token}\.$"));
        Assert.Contains(events, e => Regex.IsMatch(e, $@"^\S+Z\t{finish}\tINFO\tfinishSecret: Successfully set AWSCURRENT stage to version {token} for secret \S+\.$"));
    }

    [Theory]
    [InlineData("index.asyncHandler")]
    [InlineData("index.callbackHandler")]
    public async Task NodeHandler_Failing_FailsTheStepWithItsErrorAndNeverRunsFinishSecret(string handler)
    {
        await _server.FunctionsAsync("register", "node-failing", "--handler", handler, "--code", Path.Combine(Handlers, "node"), "--runtime", "nodejs",
            "--env", "RECORD_DIR=" + _records, "--env", "FAIL_AT_STEP=3");
        var cli = new AwsCli(_server);
        var v1 = (await cli.JsonAsync("secretsmanager", "create-secret", "--name", "handler/node-failing", "--secret-string", "initial")).GetProperty("VersionId").GetString()!;

        await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "handler/node-failing", "--rotation-lambda-arn", "node-failing", "--rotation-rules", "AutomaticallyAfterDays=7");

        // A TypeError is permanent: the rotation stops after one testSecret, with the handler's error as its reason.
        string rotations = "";
        await WaitUntilAsync(async () => (rotations = await KeyturnAsync("rotations")).Contains(" failed", StringComparison.Ordinal));
        Assert.Contains("testSecret: TypeError: refusing testSecret on purpose", rotations, StringComparison.Ordinal);
        var steps = (await File.ReadAllLinesAsync(Path.Combine(_records, "contexts"))).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetString()).ToList();
        Assert.Equal(["createSecret", "setSecret", "testSecret"], steps);
        var stages = (await cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", "handler/node-failing")).GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSCURRENT"], stages.GetProperty(v1).EnumerateArray().Select(e => e.GetString()));
        var events = await EventsAsync(cli, "/aws/lambda/node-failing");
        Assert.Contains(events, e => Regex.IsMatch(e, @"^\S+Z\t[0-9a-f-]{36}\tERROR\tInvoke Error \t\{""errorType"":""TypeError"",""errorMessage"":""refusing testSecret on purpose"",""stack"":\["));
    }

    private static async Task<List<string>> EventsAsync(AwsCli cli, string group) =>
        [.. (await cli.JsonAsync("logs", "filter-log-events", "--log-group-name", group)).GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString()!)];

    /// <summary>
    /// The group's events, or none while it does not exist yet: as on Lambda, the group appears with the function's
    /// first invocation, which the rotation starts after RotateSecret has answered.
    /// </summary>
    private static async Task<List<string>> EventsOnceCreatedAsync(AwsCli cli, string group)
    {
        var result = await cli.RunAsync("logs", "filter-log-events", "--log-group-name", group);
        if (result.ExitCode != 0 && result.Stderr.Contains("(ResourceNotFoundException)", StringComparison.Ordinal))
        {
            return [];
        }

        Assert.True(result.ExitCode == 0, result.ToString());
        return [.. JsonDocument.Parse(result.Stdout).RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString()!)];
    }

    private async Task<string> KeyturnAsync(params string[] arguments)
    {
        var result = await KeyturnProcess.RunCommandAsync([.. arguments, "--data-dir", _dataDirectory],
            new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = _server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = _server.SecretAccessKey });
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Stdout;
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
            Assert.True(DateTime.UtcNow < deadline, "the expected state was not reached within 90 s");
            await Task.Delay(200);
        }
    }
}
