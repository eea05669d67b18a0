using System.Collections.Concurrent;
using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// A rotation function that does the AWS template's label work through the real operations, and
/// can be scripted to fail a step (transiently or permanently), hang, or write a value mid-rotation.
/// </summary>
internal sealed class ScriptedFunction(ServiceHarness harness, string name = "scripted") : IRotationFunction
{
    private readonly ConcurrentDictionary<string, int> _failures = new();
    private StepHold? _hold;

    public string Name => name;

    public ConcurrentQueue<string> Calls { get; } = new();

    public bool Permanent { get; set; }

    public string? HangAt { get; set; }

    public string? WriteValueAt { get; set; }

    /// <summary>When set, createSecret waits for it: keeps a rotation in flight while a test acts.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>
    /// The passwords setSecret applied to the database this function rotates, in order: the AWSPENDING value of the
    /// version it rotates to, read from the store as the AWS templates do.
    /// </summary>
    public ConcurrentQueue<string> Applied { get; } = new();

    /// <summary>The database's password now: the last one applied.</summary>
    public string? DatabasePassword => Applied.LastOrDefault();

    /// <summary>When set, the next setSecret reads AWSPENDING and then waits here before applying it (a runner frozen mid-step).</summary>
    public StepHold? HoldSetSecret
    {
        get => Volatile.Read(ref _hold);
        set => Volatile.Write(ref _hold, value);
    }

    public void FailAt(string step, int times) => _failures[step] = times;

    public async Task InvokeAsync(RotationEvent e, InvocationLog log, CancellationToken cancellationToken)
    {
        Calls.Enqueue(e.Step);
        if (e.Step == "createSecret" && Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }
        if (HangAt == e.Step)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        if (_failures.TryGetValue(e.Step, out var left) && left > 0)
        {
            _failures[e.Step] = left - 1;
            throw new RotationStepException($"{e.Step}: scripted failure", Permanent);
        }

        var context = harness.Root;
        switch (e.Step)
        {
            case "createSecret":
                try
                {
                    await new GetSecretValueHandler(harness.Services).ExecuteAsync(new GetSecretValueRequest(e.SecretId, e.ClientRequestToken, "AWSPENDING"), context, cancellationToken);
                }
                catch (Domain.Errors.ServiceException)
                {
                    await new PutSecretValueHandler(harness.Services).ExecuteAsync(
                        new PutSecretValueRequest(e.SecretId, e.ClientRequestToken, null, "rotated-" + e.ClientRequestToken[..8], [StagingLabels.Pending], null), context, cancellationToken);
                }

                log.Info($"createSecret: Successfully put secret for ARN {e.SecretId} and version {e.ClientRequestToken}.");
                break;
            case "setSecret":
                await ApplyPendingAsync(e, cancellationToken);
                if (WriteValueAt == "setSecret")
                {
                    await harness.Put(e.SecretId, "written-by-a-person");
                }

                log.Info("setSecret: ok");
                break;
            case "testSecret":
                log.Info("testSecret: ok");
                break;
            case "finishSecret":
                var described = await harness.Describe(e.SecretId);
                var current = described.VersionIdsToStages!.First(p => p.Value.Contains(StagingLabels.Current)).Key;
                if (current != e.ClientRequestToken)
                {
                    await harness.Stage(e.SecretId, StagingLabels.Current, current, e.ClientRequestToken);
                }

                log.Info($"finishSecret: Successfully set AWSCURRENT stage to version {e.ClientRequestToken} for secret {e.SecretId}.");
                break;
        }
    }

    private async Task ApplyPendingAsync(RotationEvent e, CancellationToken cancellationToken)
    {
        string? pending;
        try
        {
            pending = (await new GetSecretValueHandler(harness.Services).ExecuteAsync(
                new GetSecretValueRequest(e.SecretId, e.ClientRequestToken, StagingLabels.Pending), harness.Root, cancellationToken)).SecretString;
        }
        catch (Domain.Errors.ServiceException)
        {
            return;
        }

        if (Interlocked.Exchange(ref _hold, null) is { } hold)
        {
            await hold.WaitAsync(cancellationToken);
        }

        Applied.Enqueue(pending!);
    }
}

/// <summary>Holds one step in flight until the test releases it; a frozen process doesn't notice cancellation, a live one does.</summary>
internal sealed class StepHold(bool honoursCancellation)
{
    public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        Reached.TrySetResult();
        return honoursCancellation ? Released.Task.WaitAsync(cancellationToken) : Released.Task;
    }
}
