using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// Several engines (nodes) on one store, on the fake clock: a runner frozen mid-step whose lease another node took
/// over writes nothing more and leaves the database password matching AWSCURRENT; a lease not renewed in time stops the
/// step's writes; due rotations run once each and spread over the nodes.
/// </summary>
public sealed class ClusterRotationTests : IDisposable
{
    private const string Scripted = "arn:aws:lambda:us-east-1:000000000000:function:scripted";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly ServiceHarness _h = new();
    private readonly ScriptedFunction _function;
    private readonly CapturingLogSink _logs = new();
    private readonly RotationOptions _options = new()
    {
        LeaseLifetime = TimeSpan.FromSeconds(15),
        DefaultFunctionTimeout = TimeSpan.FromMinutes(2),
        Retry = new RetryPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 3),
        MaxConcurrentRotations = 2,
    };

    private readonly List<RotationEngine> _engines = [];
    private readonly CancellationTokenSource _patience = new(Patience);

    public ClusterRotationTests() => _function = new ScriptedFunction(_h);

    public void Dispose()
    {
        _function.HoldSetSecret?.Released.TrySetResult();
        foreach (var engine in _engines)
        {
            engine.Dispose();
        }

        _h.Dispose();
        _patience.Dispose();
    }

    [Fact]
    public async Task PausedRunner_LeaseExpiredAndTakenOver_EveryLaterWriteRefused_DatabaseMatchesCurrent()
    {
        var v1 = (await _h.Create("paused", "one")).VersionId!;
        var hold = _function.HoldSetSecret = new StepHold(honoursCancellation: false);
        var staleLog = new ListLogger<RotationEngine>();
        var stale = Node(staleLog);
        var next = Node();
        var token = await RotateAsync("paused", stale);
        await hold.Reached.Task.WaitAsync(Patience);

        // The stale runner is frozen inside setSecret, after reading AWSPENDING and before applying it, past its lease.
        _h.Clock.Advance(_options.LeaseLifetime + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await next.ResumeOrphanedAsync(default));
        await next.WaitForIdleAsync(_patience.Token);
        var arn = (await _h.Describe("paused")).ARN;
        var finished = await _h.Store.RotationAsync(arn, token);
        var journal = await _h.Store.JournalAsync(arn, token);
        var labels = await _h.Labels("paused");
        Assert.Equal(RotationStatus.Succeeded, finished.Status);
        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [token] = ["AWSCURRENT"] }, labels);

        // It wakes: its in-flight command lands, then every write it attempts is refused.
        hold.Released.SetResult();
        await stale.WaitForIdleAsync(_patience.Token);

        await AssertNothingWrittenAfterTakeoverAsync(stale, next, arn, token, finished, journal, labels);
        Assert.Equal((await _h.Get("paused")).SecretString, _function.DatabasePassword);
        Assert.Equal(2, _function.Applied.Count);
        Assert.Single(_function.Applied.Distinct());
        Assert.Contains(staleLog.Entries, e => e.EventId == 2009 && e.Level == LogLevel.Information);
        Assert.DoesNotContain(staleLog.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task RunnerOfADeadLocalProcess_TakenOverAtOnce_TheStoresFenceRefusesItsWrites()
    {
        // Same machine: the new node sees the old owner's process gone and takes over before the lease expires, so the
        // stale runner's own clock still says it holds the lease; only the store's fencing check stops it.
        var v1 = (await _h.Create("dead-local", "one")).VersionId!;
        var hold = _function.HoldSetSecret = new StepHold(honoursCancellation: false);
        var stale = Node(node: new RotationNode("host-1", "boot-1.4026531836", 4101, "a", _ => true));
        var next = Node(node: new RotationNode("host-1", "boot-1.4026531836", 4102, "b", pid => pid != 4101));
        var token = await RotateAsync("dead-local", stale);
        await hold.Reached.Task.WaitAsync(Patience);

        Assert.Equal(1, await next.ResumeOrphanedAsync(default));
        await next.WaitForIdleAsync(_patience.Token);
        var arn = (await _h.Describe("dead-local")).ARN;
        var finished = await _h.Store.RotationAsync(arn, token);
        var journal = await _h.Store.JournalAsync(arn, token);
        var labels = await _h.Labels("dead-local");
        Assert.Equal(RotationStatus.Succeeded, finished.Status);
        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [token] = ["AWSCURRENT"] }, labels);

        hold.Released.SetResult();
        await stale.WaitForIdleAsync(_patience.Token);

        await AssertNothingWrittenAfterTakeoverAsync(stale, next, arn, token, finished, journal, labels);
        Assert.Equal((await _h.Get("dead-local")).SecretString, _function.DatabasePassword);
        Assert.Single(_function.Applied.Distinct());
    }

    [Fact]
    public async Task LeaseNotRenewedInTime_StopsTheStep_NothingWritten_AnotherNodeResumes()
    {
        var v1 = (await _h.Create("expired", "one")).VersionId!;
        var hold = _function.HoldSetSecret = new StepHold(honoursCancellation: true);
        var first = Node();
        var second = Node();
        var token = await RotateAsync("expired", first);
        await hold.Reached.Task.WaitAsync(Patience);
        var arn = (await _h.Describe("expired")).ARN;

        // No other node yet: the lease merely ran out (renewals failing, or a pause). The step is cancelled before it
        // applied anything, and neither its end entry nor a record update is written.
        _h.Clock.Advance(_options.LeaseLifetime + TimeSpan.FromSeconds(1));
        await first.WaitForIdleAsync(_patience.Token);
        Assert.Empty(_function.Applied);
        var stopped = await _h.Store.RotationAsync(arn, token);
        Assert.Equal((RotationStatus.Running, RotationStep.SetSecret), (stopped.Status, stopped.Step));
        Assert.Equal(
            [(RotationStep.CreateSecret, JournalPhase.Begin), (RotationStep.CreateSecret, JournalPhase.End), (RotationStep.SetSecret, JournalPhase.Begin)],
            (await _h.Store.JournalAsync(arn, token)).Select(j => (j.Step, j.Phase)));

        Assert.Equal(1, await second.ResumeOrphanedAsync(default));
        await second.WaitForIdleAsync(_patience.Token);

        Assert.Equal(RotationStatus.Succeeded, (await _h.Store.RotationAsync(arn, token)).Status);
        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [token] = ["AWSCURRENT"] }, await _h.Labels("expired"));
        Assert.Equal([(await _h.Get("expired")).SecretString!], _function.Applied);
        Assert.Equal(2, (await _h.Store.JournalAsync(arn, token)).Single(j => j.Step == RotationStep.SetSecret && j.Phase == JournalPhase.End).Attempt);
    }

    [Fact]
    public async Task RenewalsFailing_StoreCutOff_StepStopsAtExpiry_NothingWritten_AnotherNodeResumes()
    {
        var v1 = (await _h.Create("cut-off", "one")).VersionId!;
        var hold = _function.HoldSetSecret = new StepHold(honoursCancellation: true);
        var store = new CutOffStore(_h.Store);
        var log = new ListLogger<RotationEngine>();
        var first = new RotationEngine(store, _h.Services, Registry(), _logs, _options, _h.Clock, log);
        _engines.Add(first);
        var second = Node();
        var token = await RotateAsync("cut-off", first);
        await hold.Reached.Task.WaitAsync(Patience);
        var arn = (await _h.Describe("cut-off")).ARN;

        // The store stops answering this node: two renewals fail, and the step goes on while the lease may still be
        // valid; at its expiry the step is cancelled before anything more is written.
        store.Unreachable = true;
        var renewal = _options.LeaseLifetime / 3;
        _h.Clock.Advance(renewal);
        Assert.True(await store.Refused.WaitAsync(Patience), "the first renewal was not attempted");
        _h.Clock.Advance(renewal);
        Assert.True(await store.Refused.WaitAsync(Patience), "the second renewal was not attempted");
        Assert.Empty(_function.Applied);
        _h.Clock.Advance(renewal + TimeSpan.FromSeconds(1));
        await first.WaitForIdleAsync(_patience.Token);

        Assert.Empty(_function.Applied);
        Assert.Equal(
            [(RotationStep.CreateSecret, JournalPhase.Begin), (RotationStep.CreateSecret, JournalPhase.End), (RotationStep.SetSecret, JournalPhase.Begin)],
            (await _h.Store.JournalAsync(arn, token)).Select(j => (j.Step, j.Phase)));
        Assert.Contains(log.Entries, e => e.EventId == 2012 && e.Level == LogLevel.Warning);
        Assert.DoesNotContain(log.Entries, e => e.Level >= LogLevel.Error);

        Assert.Equal(1, await second.ResumeOrphanedAsync(default));
        await second.WaitForIdleAsync(_patience.Token);
        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [token] = ["AWSCURRENT"] }, await _h.Labels("cut-off"));
        Assert.Equal([(await _h.Get("cut-off")).SecretString!], _function.Applied);
    }

    [Fact]
    public async Task LiveLeaseOfAnotherNode_TakeoverPassLeavesItAlone()
    {
        await _h.Create("live", "one");
        var hold = _function.HoldSetSecret = new StepHold(honoursCancellation: true);
        var owner = Node();
        var other = Node();
        var token = await RotateAsync("live", owner);
        await hold.Reached.Task.WaitAsync(Patience);

        // Within the lease (renewed on time), the other node's pass starts a runner that finds it held and ends.
        _h.Clock.Advance(_options.LeaseLifetime / 2);
        await other.ResumeOrphanedAsync(default);
        await other.WaitForIdleAsync(_patience.Token);
        hold.Released.SetResult();
        await owner.WaitForIdleAsync(_patience.Token);

        var arn = (await _h.Describe("live")).ARN;
        Assert.Equal(RotationStatus.Succeeded, (await _h.Store.RotationAsync(arn, token)).Status);
        Assert.All(await _h.Store.JournalAsync(arn, token), j => Assert.Equal(owner.Node.Id, j.Node));
        Assert.Single(_function.Applied);
    }

    [Fact]
    public async Task TwoNodes_SeveralDueSecrets_EachRotatesOnce_BothDoSome_ABusyNodeTakesNoMore()
    {
        var a = Node();
        var b = Node();
        string[] names = ["due-1", "due-2", "due-3", "due-4", "due-5", "due-6"];
        foreach (var name in names)
        {
            await _h.Create(name, "one");
            await new RotateSecretHandler(_h.Services, Registry(), a).ExecuteAsync(
                new RotateSecretRequest(name, ServiceHarness.Token(), Scripted, new RotationRulesType(1, null, null), false), _h.Root, default);
        }

        await a.WaitForIdleAsync(_patience.Token);
        _h.Clock.Advance(TimeSpan.FromDays(3));
        var onA = new RotationScheduler(_h.Services, _h.Store, a, _h.Clock, NullLogger<RotationScheduler>.Instance);
        var onB = new RotationScheduler(_h.Services, _h.Store, b, _h.Clock, NullLogger<RotationScheduler>.Instance);
        _function.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Both scan at once: each opens as many as it has slots for, none twice; busy, they open no more.
        Assert.Equal(new[] { 2, 2 }, await Task.WhenAll(onA.StartDueRotationsAsync(default), onB.StartDueRotationsAsync(default)));
        Assert.Equal(new[] { 0, 0 }, await Task.WhenAll(onA.StartDueRotationsAsync(default), onB.StartDueRotationsAsync(default)));
        _function.Gate.SetResult();
        for (var pass = 0; pass < 4; pass++)
        {
            await Task.WhenAll(a.WaitForIdleAsync(_patience.Token), b.WaitForIdleAsync(_patience.Token));
            await Task.WhenAll(onA.StartDueRotationsAsync(default), onB.StartDueRotationsAsync(default));
        }

        await Task.WhenAll(a.WaitForIdleAsync(_patience.Token), b.WaitForIdleAsync(_patience.Token));
        var ranBy = new List<string>();
        foreach (var name in names)
        {
            var arn = (await _h.Describe(name)).ARN;
            var rotated = (await _h.Store.RotationsAsync(arn)).Where(r => r.Mode == RotationMode.Rotate).ToList();
            var only = Assert.Single(rotated);
            Assert.Equal(RotationStatus.Succeeded, only.Status);
            var nodes = (await _h.Store.JournalAsync(arn, only.Token)).Select(j => j.Node).Distinct().ToList();
            ranBy.Add(Assert.Single(nodes));
        }

        Assert.Equal(names.Length, _function.Calls.Count(c => c == "finishSecret"));
        Assert.Equal(new[] { a.Node.Id, b.Node.Id }.Order(), ranBy.Distinct().Order());
    }

    /// <summary>What the new owner left is exactly what the store holds after the stale runner woke and gave up.</summary>
    private async Task AssertNothingWrittenAfterTakeoverAsync(
        RotationEngine stale, RotationEngine next, string arn, string token, RotationRecord finished, IReadOnlyList<JournalEntry> journal, Dictionary<string, string[]> labels)
    {
        var now = await _h.Store.JournalAsync(arn, token);
        Assert.Equal(journal, now);
        Assert.Equal(finished, await _h.Store.RotationAsync(arn, token));
        Assert.Equal(labels, await _h.Labels(arn));

        // The stale runner's entries are the ones it made before the takeover, under the older fencing token.
        var staleEntries = now.Where(j => j.Node == stale.Node.Id).ToList();
        Assert.Equal(
            [(RotationStep.CreateSecret, JournalPhase.Begin), (RotationStep.CreateSecret, JournalPhase.End), (RotationStep.SetSecret, JournalPhase.Begin)],
            staleEntries.Select(j => (j.Step, j.Phase)));
        var newer = now.Where(j => j.Node == next.Node.Id).ToList();
        Assert.NotEmpty(newer);
        Assert.All(newer, j => Assert.True(j.Fencing > staleEntries.Max(s => s.Fencing)));
    }

    private RotationEngine Node(ILogger<RotationEngine>? logger = null, RotationNode? node = null)
    {
        var engine = new RotationEngine(_h.Store, _h.Services, Registry(), _logs, _options, _h.Clock, logger ?? NullLogger<RotationEngine>.Instance, node);
        _engines.Add(engine);
        return engine;
    }

    private RotationFunctionRegistry Registry() => new([_function], _h.Store, _h.ExternalFunctions(_options));

    private async Task<string> RotateAsync(string name, RotationEngine engine)
    {
        var token = ServiceHarness.Token();
        await new RotateSecretHandler(_h.Services, Registry(), engine).ExecuteAsync(
            new RotateSecretRequest(name, token, Scripted, new RotationRulesType(1, null, null), null), _h.Root, default);
        return token;
    }


    /// <summary>The real store, refusing every call while <see cref="Unreachable"/> is set, as a database cut off from this node.</summary>
    private sealed class CutOffStore(ISecretStore inner) : ISecretStore
    {
        public volatile bool Unreachable;

        /// <summary>Released once per refused call.</summary>
        public SemaphoreSlim Refused { get; } = new(0);

        public ValueTask<T> ReadAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
            Unreachable ? Refuse<T>() : inner.ReadAsync(work, cancellationToken);

        public ValueTask<T> WriteAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
            Unreachable ? Refuse<T>() : inner.WriteAsync(work, cancellationToken);

        public ValueTask<T> WriteAsync<T>(LeaseFence? fence, Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
            Unreachable ? Refuse<T>() : inner.WriteAsync(fence, work, cancellationToken);

        private ValueTask<T> Refuse<T>()
        {
            Refused.Release();
            return ValueTask.FromException<T>(new TimeoutException("the store did not answer"));
        }
    }
}
