using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>Registered external functions (URL and command) run by the engine over the real store: Lambda's error contract, timeouts and failure reasons.</summary>
public sealed class ExternalFunctionTests : IDisposable
{
    private readonly ServiceHarness _h = new(realTime: true);
    private readonly CapturingLogSink _logs = new();
    private readonly RotationOptions _options = new()
    {
        Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), 3),
        DefaultFunctionTimeout = TimeSpan.FromSeconds(10),
    };

    private RotationEngine? _engine;

    public void Dispose()
    {
        _engine?.Dispose();
        _h.Dispose();
    }

    [Fact]
    public async Task UrlFunction_AnsweringOkWithALambdaFunctionError_FailsTheStepAndNeverRunsFinishSecret()
    {
        using var lambda = new LambdaEndpoint();
        lambda.Raises["setSecret"] = ("ValueError", "Unable to log into database using credentials in master secret arn:aws:secretsmanager:us-east-1:000000000000:secret:master");
        await RegisterAsync("lambda-url", FunctionKind.Url, lambda.Url, TimeSpan.FromSeconds(10));
        var v1 = (await _h.Create("locked-out", "one")).VersionId!;

        var token = await RotateAsync("locked-out", "lambda-url");

        var rotation = await Rotation("locked-out", token);
        Assert.Equal(RotationStatus.Failed, rotation.Status);
        Assert.Equal(RotationStep.SetSecret, rotation.Step);
        Assert.Equal("setSecret: ValueError: Unable to log into database using credentials in master secret arn:aws:secretsmanager:us-east-1:000000000000:secret:master", rotation.Reason);
        Assert.Single(lambda.Steps, s => s == "setSecret");
        Assert.DoesNotContain("finishSecret", lambda.Steps);
        Assert.DoesNotContain("testSecret", lambda.Steps);
        Assert.Equal(["AWSCURRENT"], (await _h.Labels("locked-out"))[v1]);
        Assert.Null((await _h.Describe("locked-out")).LastRotatedDate);
        Assert.All(lambda.InvocationTypes, t => Assert.Equal("RequestResponse", t));
        Assert.Contains(_logs.Lines, l => l.Message.EndsWith("createSecret: function lambda-url answered as request lambda-request-1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UrlFunction_AnsweringOkWithoutAnError_Succeeds()
    {
        using var lambda = new LambdaEndpoint();
        await RegisterAsync("lambda-ok", FunctionKind.Url, lambda.Url, TimeSpan.FromSeconds(10));
        await _h.Create("fine", "one");

        var token = await RotateAsync("fine", "lambda-ok");

        // Every step counted as done once; the endpoint moves no label, which the engine's check after finishSecret catches.
        Assert.Equal(["createSecret", "setSecret", "testSecret", "finishSecret"], lambda.Steps);
        Assert.Equal($"finishSecret returned, but version {token} doesn't hold AWSCURRENT.", (await Rotation("fine", token)).Reason);
    }

    [Fact]
    public async Task CommandFunction_PrintingTheTemplatesFailedMasterLogin_StopsAtOnceWithThatReason()
    {
        const string master = "arn:aws:secretsmanager:us-east-1:000000000000:secret:master-AbCdEf";
        var script = $$"""
            case "$KEYTURN_ROTATION_EVENT" in
              *'"Step":"setSecret"'*)
                printf '[INFO]\t2026-12-04T10:00:00.000Z\t%s\tsetSecret: connecting\n' "$AWS_LAMBDA_FUNCTION_NAME"
                printf '[ERROR]\t2026-12-04T10:00:01.000Z\tabc\tsetSecret: Unable to log into database using credentials in master secret {{master}}\n' >&2
                exit 1;;
            esac
            """;
        await RegisterAsync("wrong-master", FunctionKind.Command, script, TimeSpan.FromSeconds(10));
        var v1 = (await _h.Create("master-refused", "one")).VersionId!;

        var token = await RotateAsync("master-refused", "wrong-master");

        var rotation = await Rotation("master-refused", token);
        Assert.Equal(RotationStatus.Failed, rotation.Status);
        Assert.Equal($"setSecret: Unable to log into database using credentials in master secret {master}", rotation.Reason);
        Assert.Single(_logs.Lines, l => l.Message.Contains("setSecret: invoking wrong-master", StringComparison.Ordinal));
        Assert.Equal(["AWSCURRENT"], (await _h.Labels("master-refused"))[v1]);
    }

    [Fact]
    public async Task CommandFunction_RunningPastItsRegisteredTimeout_IsStoppedThenAndKeepsItsOutput()
    {
        // Python must start and print within the registered timeout, so it is seconds long (a busy machine starts Python
        // slowly); the default is far longer, so a stop between the two can only be the registered timeout's.
        _options.Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), 1);
        _options.DefaultFunctionTimeout = TimeSpan.FromSeconds(60);
        await RegisterAsync("slow", FunctionKind.Command,
            "/usr/bin/python3 -c \"import time; print('createSecret: working before the stop'); time.sleep(120); print('createSecret: never reached')\"",
            TimeSpan.FromSeconds(8));
        await _h.Create("slow-step", "one");

        // The function must not depend on the server's own environment for unbuffered Python (CI shells often set it).
        var inherited = Environment.GetEnvironmentVariable("PYTHONUNBUFFERED");
        Environment.SetEnvironmentVariable("PYTHONUNBUFFERED", null);
        string token;
        try
        {
            token = await RotateAsync("slow-step", "slow");
        }
        finally
        {
            Environment.SetEnvironmentVariable("PYTHONUNBUFFERED", inherited);
        }

        var rotation = await Rotation("slow-step", token);
        Assert.Equal(RotationStatus.Failed, rotation.Status);
        var match = System.Text.RegularExpressions.Regex.Match(rotation.Reason!, @"^createSecret: Task timed out after (\d+\.\d\d) seconds$");
        Assert.True(match.Success, rotation.Reason);
        var seconds = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 8.0, 13.0);

        // Python's stdout is a pipe here: only PYTHONUNBUFFERED gets this line out before the kill.
        Assert.Contains(_logs.Lines, l => l.Message == "createSecret: working before the stop");
        Assert.DoesNotContain(_logs.Lines, l => l.Message.Contains("never reached", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CommandFunction_TimedOutWithAnOrphanIgnoringTerm_EndsItBeforeTheNextAttemptStarts()
    {
        _options.Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), 3);
        _options.FunctionStopGrace = TimeSpan.FromMilliseconds(500);
        var dir = Directory.CreateTempSubdirectory("keyturn-orphan-").FullName;
        try
        {
            // Each attempt notes its start, then double-forks a heartbeat that ignores SIGTERM: re-parented to init,
            // no process tree from the command leads to it; only its process group does. The timeout leaves a busy
            // machine seconds to start the shells and write the first beat, which the test requires of each attempt.
            await RegisterAsync("orphaning", FunctionKind.Command, $$"""
                echo "start $$ $(date +%s%N)" >> {{dir}}/starts
                ( sh -c 'trap "" TERM; while :; do echo "beat $0 $(date +%s%N)" >> {{dir}}/beats; sleep 0.05; done' $$ & )
                sleep 300
                """, TimeSpan.FromSeconds(5));
            await _h.Create("orphans", "one");

            var token = await RotateAsync("orphans", "orphaning");

            var rotation = await Rotation("orphans", token);
            Assert.Equal(RotationStatus.Failed, rotation.Status);
            Assert.Matches(@"^createSecret: Task timed out after [5-9]\.\d\d seconds$", rotation.Reason);
            var starts = (await File.ReadAllLinesAsync(Path.Combine(dir, "starts"))).Select(l => l.Split(' ')).Select(f => (Pid: f[1], At: long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture))).ToList();
            Assert.Equal(3, starts.Count);
            var beats = (await File.ReadAllLinesAsync(Path.Combine(dir, "beats"))).Select(l => l.Split(' ')).Where(f => f.Length == 3).Select(f => (Of: f[1], At: long.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture))).ToList();
            for (var i = 0; i < starts.Count; i++)
            {
                Assert.Contains(beats, b => b.Of == starts[i].Pid);
                foreach (var later in starts.Skip(i + 1))
                {
                    Assert.DoesNotContain(beats, b => b.Of == starts[i].Pid && b.At >= later.At);
                }
            }

            // Nothing of any attempt's group is left once the rotation has stopped. Not a wait: a heartbeat left would
            // write every 0.05 s, so 300 ms without a new beat shows none is.
            var beatsNow = beats.Count;
            await Task.Delay(300);
            Assert.Equal(beatsNow, (await File.ReadAllLinesAsync(Path.Combine(dir, "beats"))).Length);
        }
        finally
        {
            TestDirectories.Delete(dir);
        }
    }

    [Fact]
    public async Task CommandFunction_WithARegisteredTimeoutLongerThanTheDefault_MayRunPastTheDefault()
    {
        _options.DefaultFunctionTimeout = TimeSpan.FromSeconds(1);
        _options.Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), 1);
        await RegisterAsync("patient", FunctionKind.Command, """case "$KEYTURN_ROTATION_EVENT" in *'"Step":"createSecret"'*) sleep 2;; esac""", TimeSpan.FromSeconds(20));
        await _h.Create("long-step", "one");

        var token = await RotateAsync("long-step", "patient");

        // Every step counted as done (createSecret took twice the default); only the engine's label check after finishSecret fails it.
        Assert.Equal($"finishSecret returned, but version {token} doesn't hold AWSCURRENT.", (await Rotation("long-step", token)).Reason);
        Assert.DoesNotContain(_logs.Lines, l => l.Message.Contains("Task timed out", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvocationKey_LastsTheFunctionsRegisteredTimeoutPlusAMinute()
    {
        _options.DefaultFunctionTimeout = TimeSpan.FromSeconds(30);
        var secret = await _h.Create("keyed", "one");
        var credentials = new RotationCredentials(_h.AccessKeys, _h.Services, _options, _h.Time);

        var before = DateTimeOffset.UtcNow;
        var key = await credentials.IssueAsync("long-runner", secret.ARN, TimeSpan.FromMinutes(10), default);
        await credentials.RevokeAsync(key);

        Assert.InRange(key.Expires - before, TimeSpan.FromMinutes(11), TimeSpan.FromMinutes(11) + TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task RotateSecret_NamingAnUnregisteredFunction_KeepsAwsAnswerAndLogsTheRegisteredOnes()
    {
        await RegisterAsync("orders-rotator", FunctionKind.Command, "true", TimeSpan.FromSeconds(10));
        await RegisterAsync("billing-rotator", FunctionKind.Url, "http://127.0.0.1:9/", TimeSpan.FromSeconds(10));
        await _h.Create("typo", "one");
        var logger = new ListLogger<RotateSecretHandler>();
        var handler = new RotateSecretHandler(_h.Services, Registry(), Engine(), logger);

        await ServiceHarness.Fails(
            () => handler.ExecuteAsync(new RotateSecretRequest("typo", Guid.NewGuid().ToString(), "arn:aws:lambda:us-east-1:000000000000:function:order-rotator", null, null), _h.Root, default),
            Keyturn.Domain.Errors.ErrorKind.AccessDenied,
            "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.");

        var (level, _, message) = Assert.Single(logger.Entries);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, level);
        Assert.StartsWith("RotateSecret: no rotation function named order-rotator is registered (keyturn functions register); registered functions: billing-rotator, orders-rotator.", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"errorType": "KeyError", "errorMessage": "'password'"}""", "KeyError", "'password'")]
    [InlineData("""{"errorMessage": "boom"}""", null, "boom")]
    [InlineData("""null""", null, null)]
    [InlineData("""{"result": "ok"}""", null, null)]
    [InlineData("""not json""", null, null)]
    public void LambdaError_ReadsLambdasErrorPayloadOnly(string body, string? type, string? message) =>
        Assert.Equal((type, message), UrlRotationFunction.LambdaError(body));

    private async Task RegisterAsync(string name, FunctionKind kind, string target, TimeSpan timeout) =>
        await _h.Store.WriteAsync(async (session, ct) =>
        {
            await session.SaveFunctionAsync(new FunctionRecord(name, kind, target, timeout, null, null, _h.Time.GetUtcNow()), ct);
            return true;
        }, default);

    private RotationEngine Engine()
    {
        _engine ??= new RotationEngine(_h.Store, _h.Services, Registry(), _logs, _options, _h.Time, NullLogger<RotationEngine>.Instance);
        return _engine;
    }

    private RotationFunctionRegistry Registry() => new([], _h.Store, _h.ExternalFunctions(_options));

    private async Task<string> RotateAsync(string id, string function)
    {
        var engine = Engine();
        var token = Guid.NewGuid().ToString();
        await new RotateSecretHandler(_h.Services, Registry(), engine).ExecuteAsync(
            new RotateSecretRequest(id, token, function, new RotationRulesType(1, null, null), null), _h.Root, default);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await engine.WaitForIdleAsync(timeout.Token);
        return token;
    }

    private async Task<RotationRecord> Rotation(string id, string token)
    {
        var arn = (await _h.Describe(id)).ARN;
        return await _h.Store.RotationAsync(arn, token);
    }
}
