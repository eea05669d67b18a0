using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Rotation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// The engine over the real store: steps, journal, retries, failures, abandonment, resume. It runs on the fake clock:
/// retries, timeouts and lease waits pass as the clock is advanced while the engine is busy, never by waiting.
/// </summary>
public sealed class RotationEngineTests : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly ScriptedFunction _function;
    private readonly CapturingLogSink _logs = new();
    private readonly RotationOptions _options = new()
    {
        Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), 3),
        DefaultFunctionTimeout = TimeSpan.FromSeconds(5),
    };

    private RotationEngine _engine;

    public RotationEngineTests()
    {
        _function = new ScriptedFunction(_h);
        _engine = NewEngine();
    }

    public void Dispose()
    {
        _engine.Dispose();
        _h.Dispose();
    }

    [Fact]
    public async Task RotateSecret_HappyPath_FourStepsLabelsDatesJournalAndLogs()
    {
        var v1 = (await _h.Create("happy", "one")).VersionId!;

        var token = await RotateAsync("happy");

        Assert.Equal(["createSecret", "setSecret", "testSecret", "finishSecret"], _function.Calls);
        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [token] = ["AWSCURRENT"] }, await _h.Labels("happy"));
        var described = await _h.Describe("happy");
        Assert.True(described.RotationEnabled);
        Assert.NotNull(described.LastRotatedDate);
        Assert.NotNull(described.NextRotationDate);
        Assert.Equal(1, described.RotationRules!.AutomaticallyAfterDays);
        var rotation = await Rotation("happy", token);
        Assert.Equal(RotationStatus.Succeeded, rotation.Status);
        var journal = await Journal("happy", token);
        Assert.Equal(8, journal.Count);
        Assert.All(journal.Where(j => j.Phase == JournalPhase.End), j => Assert.True(j.Succeeded));

        var lines = _logs.Lines.Select(l => l.Message).ToList();
        Assert.All(_logs.Lines, l => Assert.Equal("/aws/lambda/scripted", l.Group));
        Assert.Equal(4, lines.Count(l => l.StartsWith("START RequestId: ", StringComparison.Ordinal) && l.EndsWith(" Version: $LATEST", StringComparison.Ordinal)));
        Assert.Equal(4, lines.Count(l => l.StartsWith("END RequestId: ", StringComparison.Ordinal)));
        Assert.Equal(4, lines.Count(l => l.StartsWith("REPORT RequestId: ", StringComparison.Ordinal) && l.Contains("\tDuration: ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("[INFO]\t", StringComparison.Ordinal) && l.EndsWith($"createSecret: Successfully put secret for ARN {described.ARN} and version {token}.", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("rotated-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RotateSecret_TwiceInARow_PreviousFollows()
    {
        var v1 = (await _h.Create("twice", "one")).VersionId!;
        var t1 = await RotateAsync("twice");
        var t2 = await RotateAsync("twice", rules: false);

        Assert.Equal(new() { [t1] = ["AWSPREVIOUS"], [t2] = ["AWSCURRENT"] }, await _h.Labels("twice"));
        Assert.Contains(v1, (await _h.Versions("twice", includeDeprecated: true)).Versions.Select(v => v.VersionId));
    }

    [Fact]
    public async Task TransientFailure_IsRetriedThenSucceeds()
    {
        await _h.Create("flaky", "one");
        _function.FailAt("setSecret", 2);

        var token = await RotateAsync("flaky");

        Assert.Equal(RotationStatus.Succeeded, (await Rotation("flaky", token)).Status);
        Assert.Equal(3, _function.Calls.Count(c => c == "setSecret"));
        Assert.Equal(1, _function.Calls.Count(c => c == "createSecret"));
        Assert.Contains(_logs.Lines, l => l.Message.StartsWith("[ERROR]\t", StringComparison.Ordinal) && l.Message.EndsWith("setSecret: scripted failure", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PermanentFailure_StopsAtOnce_PendingStays_NextRotateRefused()
    {
        var v1 = (await _h.Create("broken", "one")).VersionId!;
        _function.FailAt("testSecret", 10);
        _function.Permanent = true;

        var token = await RotateAsync("broken");

        var rotation = await Rotation("broken", token);
        Assert.Equal(RotationStatus.Failed, rotation.Status);
        Assert.Equal(RotationStep.TestSecret, rotation.Step);
        Assert.Equal("testSecret: scripted failure", rotation.Reason);
        Assert.Equal(1, _function.Calls.Count(c => c == "testSecret"));
        Assert.Equal(new() { [v1] = ["AWSCURRENT"], [token] = ["AWSPENDING"] }, await _h.Labels("broken"));
        Assert.Null((await _h.Describe("broken")).LastRotatedDate);
        await ServiceHarness.Fails(() => Rotate("broken", Guid.NewGuid().ToString()), ErrorKind.InvalidRequest,
            "A previous rotation isn't complete. That rotation will be reattempted.");
    }

    [Fact]
    public async Task TransientFailure_BudgetExhausted_Fails()
    {
        await _h.Create("exhausted", "one");
        _function.FailAt("createSecret", 10);

        var token = await RotateAsync("exhausted");

        Assert.Equal(RotationStatus.Failed, (await Rotation("exhausted", token)).Status);
        Assert.Equal(3, _function.Calls.Count(c => c == "createSecret"));
    }

    [Fact]
    public async Task HangingStep_TimesOutLikeLambda()
    {
        _options.DefaultFunctionTimeout = TimeSpan.FromMilliseconds(300);
        _options.Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10), 1);
        _engine.Dispose();
        _engine = NewEngine();
        await _h.Create("hang", "one");
        _function.HangAt = "createSecret";

        var token = await RotateAsync("hang");

        var rotation = await Rotation("hang", token);
        Assert.Equal(RotationStatus.Failed, rotation.Status);
        Assert.Matches(@"^createSecret: Task timed out after \d+\.\d\d seconds$", rotation.Reason);
        Assert.Contains(_logs.Lines, l => l.Message.Contains($"Task timed out after", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ValueWrittenDuringRotation_AbandonsIt()
    {
        await _h.Create("abandon", "one");
        _function.WriteValueAt = "setSecret";

        var token = await RotateAsync("abandon");

        var rotation = await Rotation("abandon", token);
        Assert.Equal(RotationStatus.Abandoned, rotation.Status);
        Assert.DoesNotContain("finishSecret", _function.Calls);
        Assert.DoesNotContain((await _h.Labels("abandon")).Values, l => l.Contains("AWSPENDING"));
        await RotateAsync("abandon", rules: false);
    }

    [Fact]
    public async Task RotateImmediatelyFalse_RunsOnlyTestSecret_LeavesNoPending()
    {
        var v1 = (await _h.Create("dry", "one")).VersionId!;

        var token = await RotateAsync("dry", immediately: false);

        Assert.Equal(["testSecret"], _function.Calls);
        Assert.Equal(new() { [v1] = ["AWSCURRENT"] }, await _h.Labels("dry"));
        Assert.Equal("one", (await _h.Get("dry")).SecretString);
        Assert.Equal("one", (await _h.Get("dry", versionId: token)).SecretString);
        Assert.Null((await _h.Describe("dry")).LastRotatedDate);
        Assert.True((await _h.Describe("dry")).RotationEnabled);
    }

    [Fact]
    public async Task ConcurrentRotateSecret_OnlyOneAccepted()
    {
        await _h.Create("crowd", "one");
        _function.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            try
            {
                await Rotate("crowd", Guid.NewGuid().ToString());
                return true;
            }
            catch (ServiceException e) when (e.Message == "A previous rotation isn't complete. That rotation will be reattempted.")
            {
                return false;
            }
        }));

        var outcomes = await Task.WhenAll(attempts);
        _function.Gate.SetResult();
        await IdleAsync();

        Assert.Single(outcomes, accepted => accepted);
        Assert.Equal(1, _function.Calls.Count(c => c == "finishSecret"));
    }

    [Fact]
    public async Task RotateSecret_WhileThePreviousRunnerIsStillFinishing_IsNotDropped()
    {
        // The runner of the first rotation pauses right after marking it succeeded, before it lets go of the secret.
        using var logger = new PausingLogger(pauseAt: 2002);
        _engine.Dispose();
        _engine = new RotationEngine(_h.Store, _h.Services, Registry(), _logs, _options, _h.Time, logger);
        await _h.Create("back-to-back", "one");
        await Rotate("back-to-back", Guid.NewGuid().ToString());
        Assert.True(logger.Reached.Wait(TimeSpan.FromSeconds(60)), "the first rotation never completed");

        var second = Guid.NewGuid().ToString();
        await Rotate("back-to-back", second, rules: false);
        logger.Resume();
        await IdleAsync();

        Assert.Equal(RotationStatus.Succeeded, (await Rotation("back-to-back", second)).Status);
        Assert.Equal(["AWSCURRENT"], (await _h.Labels("back-to-back"))[second]);
    }

    [Fact]
    public async Task CrashInsideSetSecret_ResumesFromThatStep()
    {
        var v1 = (await _h.Create("crash", "one")).VersionId!;
        var token = Guid.NewGuid().ToString();
        var arn = (await _h.Describe("crash")).ARN;

        // A first process accepted the rotation, ran createSecret and died inside setSecret.
        var crashed = new RotationEngineHarnessLauncher();
        await new RotateSecretHandler(_h.Services, Registry(), crashed).ExecuteAsync(
            new RotateSecretRequest("crash", token, "scripted", new RotationRulesType(1, null, null), null), _h.Root, default);
        await _function.InvokeAsync(new RotationEvent("createSecret", arn, token, "rt"), new InvocationLog("r", _h.Time), default);
        var now = _h.Time.GetUtcNow();
        await _h.Store.WriteAsync(async (session, ct) =>
        {
            await session.AppendJournalAsync(new JournalEntry(arn, token, RotationStep.CreateSecret, 1, JournalPhase.Begin, null, null, now, "dead-node", 1), ct);
            await session.AppendJournalAsync(new JournalEntry(arn, token, RotationStep.CreateSecret, 1, JournalPhase.End, true, null, now, "dead-node", 1), ct);
            await session.AppendJournalAsync(new JournalEntry(arn, token, RotationStep.SetSecret, 1, JournalPhase.Begin, null, null, now, "dead-node", 1), ct);
            return true;
        }, default);
        while (_function.Calls.TryDequeue(out _))
        {
        }

        await _engine.ResumeOpenRotationsAsync(default);
        await IdleAsync();

        Assert.Equal(["setSecret", "testSecret", "finishSecret"], _function.Calls);
        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [token] = ["AWSCURRENT"] }, await _h.Labels("crash"));
        Assert.Equal(2, (await Journal("crash", token)).Count(j => j.Step == RotationStep.SetSecret && j.Phase == JournalPhase.Begin));
    }

    [Fact]
    public async Task LeaseHeldByAnotherNode_EngineWaits()
    {
        _options.LeaseLifetime = TimeSpan.FromMilliseconds(200);
        _engine.Dispose();
        _engine = NewEngine();
        await _h.Create("leased", "one");
        var arn = (await _h.Describe("leased")).ARN;
        await _h.Store.WriteAsync((session, ct) => session.AcquireLeaseAsync("rotation:" + arn, "other-node", _h.Time.GetUtcNow(), TimeSpan.FromMinutes(5), null, ct), default);

        var token = await RotateAsync("leased");

        Assert.Empty(_function.Calls);
        Assert.Equal(RotationStatus.Pending, (await Rotation("leased", token)).Status);
    }

    [Fact]
    public async Task CancelRotateSecret_StopsTheRotationAndKeepsLabels()
    {
        var v1 = (await _h.Create("cancel", "one")).VersionId!;
        _function.FailAt("setSecret", 10);
        _function.Permanent = false;
        _options.Retry = new RetryPolicy(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), 5);
        _engine.Dispose();
        _engine = NewEngine();
        var token = Guid.NewGuid().ToString();
        await Rotate("cancel", token);
        await WaitUntil(async () => (await Rotation("cancel", token)).Status == RotationStatus.Retrying);

        var cancelled = await new CancelRotateSecretHandler(_h.Services).ExecuteAsync(new CancelRotateSecretRequest("cancel"), _h.Root, default);

        Assert.Equal(token, cancelled.VersionId);
        Assert.Equal(RotationStatus.Abandoned, (await Rotation("cancel", token)).Status);
        var described = await _h.Describe("cancel");
        Assert.False(described.RotationEnabled);
        Assert.Equal("arn:aws:lambda:us-east-1:000000000000:function:scripted", described.RotationLambdaARN);
        Assert.Null(described.NextRotationDate);
        Assert.Equal(new() { [v1] = ["AWSCURRENT"], [token] = ["AWSPENDING"] }, await _h.Labels("cancel"));
    }

    private RotationEngine NewEngine() =>
        new(_h.Store, _h.Services, Registry(), _logs, _options, _h.Time, NullLogger<RotationEngine>.Instance);

    private RotationFunctionRegistry Registry() =>
        new([_function], _h.Store, _h.ExternalFunctions(_options));

    private Task<RotateSecretResponse> Rotate(string id, string token, bool rules = true, bool immediately = true) =>
        new RotateSecretHandler(_h.Services, Registry(), _engine).ExecuteAsync(
            new RotateSecretRequest(id, token, rules ? "arn:aws:lambda:us-east-1:000000000000:function:scripted" : null, rules ? new RotationRulesType(1, null, null) : null, immediately ? null : false),
            _h.Root, default);

    private async Task<string> RotateAsync(string id, bool rules = true, bool immediately = true)
    {
        var token = Guid.NewGuid().ToString();
        await Rotate(id, token, rules, immediately);
        await IdleAsync();
        return token;
    }

    private async Task<RotationRecord> Rotation(string id, string token)
    {
        var arn = (await _h.Describe(id)).ARN;
        return await _h.Store.RotationAsync(arn, token);
    }

    private async Task<IReadOnlyList<JournalEntry>> Journal(string id, string token)
    {
        var arn = (await _h.Describe(id)).ARN;
        return await _h.Store.JournalAsync(arn, token);
    }

    /// <summary>
    /// Waits for the engine to go idle, moving the fake clock on in small steps while it is busy, so that retry
    /// delays, step timeouts and lease waits elapse; fails after 30 s of real time.
    /// </summary>
    private async Task IdleAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var idle = _engine.WaitForIdleAsync(timeout.Token);
        while (await Task.WhenAny(idle, Task.Delay(5, timeout.Token)) != idle)
        {
            _h.Clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        await idle;
    }

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }

    /// <summary>Stands in for a process that recorded the rotation and then crashed before running it.</summary>
    private sealed class RotationEngineHarnessLauncher : IRotationLauncher
    {
        public void Launch(string secretArn, string token)
        {
        }
    }
}
