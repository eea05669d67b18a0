using System.Text.Json;
using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Passwords;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// CancelRotateSecret stays cancelled: the engine's copy of a rotation record read before the cancel can't write over
/// it, whether the rotation waited to retry or was inside a step, for external and built-in functions. The engine runs
/// on the fake clock, so "after the retry time" is a clock advance, not a wait.
/// </summary>
public sealed class CancelRotationTests : IDisposable
{
    private const string Scripted = "arn:aws:lambda:us-east-1:000000000000:function:scripted";

    private readonly ServiceHarness _h = new();
    private readonly ScriptedFunction _function;
    private readonly CapturingLogSink _logs = new();
    private readonly RotationOptions _options = new()
    {
        Retry = new RetryPolicy(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), 3),
        DefaultFunctionTimeout = TimeSpan.FromSeconds(30),
    };

    private readonly RotationEngine _engine;

    public CancelRotationTests()
    {
        _function = new ScriptedFunction(_h);
        _engine = new RotationEngine(_h.Store, _h.Services, Registry(), _logs, _options, _h.Clock, NullLogger<RotationEngine>.Instance);
    }

    public void Dispose()
    {
        _engine.Dispose();
        _h.Dispose();
    }

    [Fact]
    public async Task CancelWhileARetryWaits_StaysAbandoned_AfterTheRetryTime_NoSecondAttempt()
    {
        var v1 = (await _h.Create("cancel-retry", "one")).VersionId!;
        _function.FailAt("createSecret", 10);
        var token = await RotateAsync("cancel-retry", Scripted);
        await WaitUntil(async () => (await Rotation("cancel-retry", token)).Status == RotationStatus.Retrying);

        await CancelAsync("cancel-retry");
        _h.Clock.Advance(TimeSpan.FromMinutes(5));

        Assert.True(await IdleAsync(), "the engine went on with the cancelled rotation after the retry time");
        var rotation = await Rotation("cancel-retry", token);
        Assert.Equal(RotationStatus.Abandoned, rotation.Status);
        Assert.Equal("Rotation was cancelled with CancelRotateSecret.", rotation.Reason);
        Assert.Equal(1, rotation.Attempt);
        Assert.Equal(["createSecret"], _function.Calls);
        Assert.Single(await Journal("cancel-retry", token), j => j.Phase == JournalPhase.Begin);
        Assert.Equal(new() { [v1] = ["AWSCURRENT"], [token] = ["AWSPENDING"] }, await _h.Labels("cancel-retry"));
    }

    [Fact]
    public async Task CancelDuringARunningStep_TheStepsEndDoesNotOverwriteIt_NoNextStep()
    {
        var v1 = (await _h.Create("cancel-step", "one")).VersionId!;
        _function.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var token = await RotateAsync("cancel-step", Scripted);
        await WaitUntil(() => Task.FromResult(_function.Calls.Contains("createSecret")));

        await CancelAsync("cancel-step");
        _function.Gate.SetResult();

        Assert.True(await IdleAsync(), "the engine went on with the cancelled rotation");
        var rotation = await Rotation("cancel-step", token);
        Assert.Equal(RotationStatus.Abandoned, rotation.Status);
        Assert.Equal(["createSecret"], _function.Calls);

        // The step did run to its end: the journal says so, the record stays as the cancel left it.
        var journal = await Journal("cancel-step", token);
        Assert.Equal([(RotationStep.CreateSecret, JournalPhase.Begin), (RotationStep.CreateSecret, JournalPhase.End)], journal.Select(j => (j.Step, j.Phase)));
        Assert.Equal(new() { [v1] = ["AWSCURRENT"], [token] = ["AWSPENDING"] }, await _h.Labels("cancel-step"));
        Assert.False((await _h.Describe("cancel-step")).RotationEnabled);
    }

    [Fact]
    public async Task BuiltInRotator_CancelWhileARetryWaits_StaysAbandoned_NoSecondAttempt()
    {
        // A real PostgreSQL rotator against a loopback port nobody listens on: setSecret fails with a transient
        // "connection refused" and the engine schedules a retry.
        using var closed = new ClosedPort();
        var value = JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = closed.Port, username = "app", password = "Initial-Pw-1", dbname = "postgres" });
        var v1 = (await _h.Create("cancel-builtin", value)).VersionId!;
        var token = await RotateAsync("cancel-builtin", "arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user");
        await WaitUntil(async () => (await Rotation("cancel-builtin", token)).Status == RotationStatus.Retrying);
        var failed = await Rotation("cancel-builtin", token);
        Assert.Equal(RotationStep.SetSecret, failed.Step);

        await CancelAsync("cancel-builtin");
        _h.Clock.Advance(TimeSpan.FromMinutes(5));

        Assert.True(await IdleAsync(), "the engine went on with the cancelled rotation after the retry time");
        var rotation = await Rotation("cancel-builtin", token);
        Assert.Equal(RotationStatus.Abandoned, rotation.Status);
        Assert.Equal(1, rotation.Attempt);
        Assert.Single(await Journal("cancel-builtin", token), j => j.Step == RotationStep.SetSecret && j.Phase == JournalPhase.Begin);
        Assert.Equal(2, _logs.Lines.Count(l => l.Message.StartsWith("START RequestId: ", StringComparison.Ordinal)));
        Assert.Equal(new() { [v1] = ["AWSCURRENT"], [token] = ["AWSPENDING"] }, await _h.Labels("cancel-builtin"));
    }

    private RotationFunctionRegistry Registry() =>
        new([_function, .. DatabaseRotationFunction.CreateAll(new DatabaseRotators([PostgreSqlRotator.Create()]), _h.Services, CryptoRandomSource.Instance)],
            _h.Store, _h.ExternalFunctions(_options));

    private async Task<string> RotateAsync(string id, string function)
    {
        var token = ServiceHarness.Token();
        await new RotateSecretHandler(_h.Services, Registry(), _engine).ExecuteAsync(
            new RotateSecretRequest(id, token, function, new RotationRulesType(1, null, null), null), _h.Root, default);
        return token;
    }

    private Task<RotateSecretResponse> CancelAsync(string id) =>
        new CancelRotateSecretHandler(_h.Services).ExecuteAsync(new CancelRotateSecretRequest(id), _h.Root, default);

    /// <summary>True when the engine has nothing left to run; false when it still runs (or waits on the clock) after 20 s.</summary>
    private async Task<bool> IdleAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _engine.WaitForIdleAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
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

    private static async Task WaitUntil(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }
}
