using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>Due rotations start inside their window; failed ones are re-attempted with the same version.</summary>
public sealed class RotationSchedulerTests : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly ScriptedFunction _function;
    private readonly RotationOptions _options = new() { Retry = new RetryPolicy(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(5), 2) };
    private readonly RotationEngine _engine;
    private readonly RotationScheduler _scheduler;

    public RotationSchedulerTests()
    {
        _function = new ScriptedFunction(_h);
        var registry = new RotationFunctionRegistry([_function], _h.Store, _h.ExternalFunctions(_options));
        _engine = new RotationEngine(_h.Store, _h.Services, registry, new CapturingLogSink(), _options, _h.Time, NullLogger<RotationEngine>.Instance);
        _scheduler = new RotationScheduler(_h.Services, _h.Store, _engine, _h.Time, NullLogger<RotationScheduler>.Instance);
    }

    public void Dispose()
    {
        _engine.Dispose();
        _h.Dispose();
    }

    [Fact]
    public async Task NotYetDue_StartsNothing_DueStartsOneRotation()
    {
        await EnableAsync("sched");
        Assert.Equal(0, await _scheduler.StartDueRotationsAsync(default));

        await AgeAsync("sched", TimeSpan.FromDays(3));
        Assert.Equal(1, await _scheduler.StartDueRotationsAsync(default));
        await _engine.WaitForIdleAsync(default);

        var described = await _h.Describe("sched");
        Assert.NotNull(described.LastRotatedDate);
        Assert.True(described.NextRotationDate > _h.Time.GetUtcNow());
        Assert.Equal(0, await _scheduler.StartDueRotationsAsync(default));
    }

    [Fact]
    public async Task FailedRotation_IsReattemptedWithTheSameVersionInTheNextWindow()
    {
        await EnableAsync("retry-window");
        _function.FailAt("setSecret", 2);
        _function.Permanent = true;
        await AgeAsync("retry-window", TimeSpan.FromDays(3));
        await _scheduler.StartDueRotationsAsync(default);
        await _engine.WaitForIdleAsync(default);
        var pending = (await _h.Labels("retry-window")).Single(p => p.Value.Contains("AWSPENDING")).Key;

        // Same window: left alone. Next window: the same version is re-attempted.
        Assert.Equal(0, await _scheduler.StartDueRotationsAsync(default));
        await AgeAsync("retry-window", TimeSpan.FromDays(3), keepNextRotationDate: true);
        _function.FailAt("setSecret", 0);
        Assert.Equal(1, await _scheduler.StartDueRotationsAsync(default));
        await _engine.WaitForIdleAsync(default);

        Assert.Equal(["AWSCURRENT"], (await _h.Labels("retry-window"))[pending]);
    }

    private async Task EnableAsync(string name)
    {
        await _h.Create(name, "one");
        await new RotateSecretHandler(_h.Services, new RotationFunctionRegistry([_function], _h.Store, _h.ExternalFunctions(_options)), _engine)
            .ExecuteAsync(new RotateSecretRequest(name, Guid.NewGuid().ToString(), "scripted", new RotationRulesType(1, null, null), false), _h.Root, default);
        await _engine.WaitForIdleAsync(default);
        while (_function.Calls.TryDequeue(out _))
        {
        }
    }

    /// <summary>Moves the secret's history back in time, as if days had passed.</summary>
    private async Task AgeAsync(string name, TimeSpan by, bool keepNextRotationDate = false)
    {
        var arn = (await _h.Describe(name)).ARN;
        await _h.Store.WriteAsync(async (session, ct) =>
        {
            var secret = (await session.FindByArnAsync(arn, ct))!;
            var aged = new Secret(secret.Arn, secret.Name, secret.Region, secret.CreatedDate - by)
            {
                StoreId = secret.StoreId,
                Rotation = secret.Rotation,
                LastChangedDate = secret.LastChangedDate - by,
                LastRotatedDate = secret.LastRotatedDate - by,
                NextRotationDate = secret.NextRotationDate - by,
            };
            foreach (var version in secret.Versions)
            {
                aged.AddVersion(version);
            }

            await session.SaveAsync(aged, ct);
            foreach (var rotation in await session.ListRotationsAsync(arn, openOnly: false, ct))
            {
                await session.SaveRotationAsync(rotation with { StartedAt = rotation.StartedAt - by, UpdatedAt = rotation.UpdatedAt - by }, ct);
            }

            return keepNextRotationDate;
        }, default);
    }
}
