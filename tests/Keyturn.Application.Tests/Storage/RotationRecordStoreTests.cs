using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Storage.Sqlite;

namespace Keyturn.Application.Tests.Storage;

/// <summary>
/// A rotation record is written only over the revision its writer read: of two writers holding the same copy, the
/// first wins and the second is refused with nothing written, even from another store on the same file (another process).
/// </summary>
public sealed class RotationRecordStoreTests : IDisposable
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf";

    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task TwoSessionsReadTheSameRecord_TheFirstSaveWins_TheSecondIsRefused()
    {
        using var otherDatabase = SqliteDatabase.Open(_h.DatabasePath);
        var other = otherDatabase.Secrets;
        var created = await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(Pending("token-1"), ct), default);
        var engineCopy = (await _h.Store.ReadAsync(async (session, ct) => await session.FindRotationAsync(Arn, "token-1", ct), default))!;
        var cancelCopy = (await other.ReadAsync(async (session, ct) => await session.FindRotationAsync(Arn, "token-1", ct), default))!;

        var cancelled = await other.WriteAsync(async (session, ct) => await session.SaveRotationAsync(cancelCopy with { Status = RotationStatus.Abandoned, Reason = "cancelled" }, ct), default);
        var refused = await Assert.ThrowsAsync<RotationConflictException>(async () =>
            await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(engineCopy with { Status = RotationStatus.Running, Step = RotationStep.CreateSecret, Attempt = 2 }, ct), default));

        Assert.Equal(1, created.Version);
        Assert.Equal(1, engineCopy.Version);
        Assert.Equal(2, cancelled.Version);
        Assert.Equal((Arn, "token-1", 1L), (refused.SecretArn, refused.Token, refused.ExpectedVersion));
        var stored = (await _h.Store.ReadAsync(async (session, ct) => await session.FindRotationAsync(Arn, "token-1", ct), default))!;
        Assert.Equal((RotationStatus.Abandoned, "cancelled", 0, 2L), (stored.Status, stored.Reason, stored.Attempt, stored.Version));
    }

    [Fact]
    public async Task SavingTheStoredCopy_AdvancesTheRevision_EachTime()
    {
        var first = await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(Pending("token-2"), ct), default);
        var second = await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(first with { Status = RotationStatus.Running }, ct), default);
        var third = await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(second with { Status = RotationStatus.Succeeded }, ct), default);

        Assert.Equal([1L, 2L, 3L], new[] { first.Version, second.Version, third.Version });
        Assert.Equal(third, await _h.Store.ReadAsync(async (session, ct) => await session.FindRotationAsync(Arn, "token-2", ct), default));
    }

    [Fact]
    public async Task CreatingARecordThatExists_IsRefused_TheStoredOneStays()
    {
        await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(Pending("token-3") with { Reason = "first" }, ct), default);

        await Assert.ThrowsAsync<RotationConflictException>(async () => await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(Pending("token-3") with { Reason = "second" }, ct), default));

        Assert.Equal("first", (await _h.Store.ReadAsync(async (session, ct) => await session.FindRotationAsync(Arn, "token-3", ct), default))!.Reason);
    }

    [Fact]
    public async Task ARefusedSave_RollsBackItsTransaction()
    {
        var stale = await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(Pending("token-4"), ct), default);
        await _h.Store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(stale with { Status = RotationStatus.Abandoned }, ct), default);

        await Assert.ThrowsAsync<RotationConflictException>(async () => await _h.Store.WriteAsync(async (session, ct) =>
        {
            await session.AppendJournalAsync(new JournalEntry(Arn, "token-4", RotationStep.CreateSecret, 1, JournalPhase.Begin, null, null, _h.Clock.GetUtcNow(), "node", 1), ct);
            return await session.SaveRotationAsync(stale with { Status = RotationStatus.Running }, ct);
        }, default));

        Assert.Empty(await _h.Store.ReadAsync(async (session, ct) => await session.ReadJournalAsync(Arn, "token-4", ct), default));
    }

    private RotationRecord Pending(string token) =>
        new(Arn, token, "app-rotator", RotationMode.Rotate, RotationStatus.Pending, null, 0, null, _h.Clock.GetUtcNow(), _h.Clock.GetUtcNow(), null);
}
