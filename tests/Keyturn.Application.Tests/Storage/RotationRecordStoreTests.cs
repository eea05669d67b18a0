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
        using var other = new SqliteSecretStore(_h.DatabasePath);
        var created = await _h.Store.WriteAsync(session => session.SaveRotation(Pending("token-1")), default);
        var engineCopy = (await _h.Store.ReadAsync(session => session.FindRotation(Arn, "token-1"), default))!;
        var cancelCopy = (await other.ReadAsync(session => session.FindRotation(Arn, "token-1"), default))!;

        var cancelled = await other.WriteAsync(session => session.SaveRotation(cancelCopy with { Status = RotationStatus.Abandoned, Reason = "cancelled" }), default);
        var refused = await Assert.ThrowsAsync<RotationConflictException>(() =>
            _h.Store.WriteAsync(session => session.SaveRotation(engineCopy with { Status = RotationStatus.Running, Step = RotationStep.CreateSecret, Attempt = 2 }), default));

        Assert.Equal(1, created.Version);
        Assert.Equal(1, engineCopy.Version);
        Assert.Equal(2, cancelled.Version);
        Assert.Equal((Arn, "token-1", 1L), (refused.SecretArn, refused.Token, refused.ExpectedVersion));
        var stored = (await _h.Store.ReadAsync(session => session.FindRotation(Arn, "token-1"), default))!;
        Assert.Equal((RotationStatus.Abandoned, "cancelled", 0, 2L), (stored.Status, stored.Reason, stored.Attempt, stored.Version));
    }

    [Fact]
    public async Task SavingTheStoredCopy_AdvancesTheRevision_EachTime()
    {
        var first = await _h.Store.WriteAsync(session => session.SaveRotation(Pending("token-2")), default);
        var second = await _h.Store.WriteAsync(session => session.SaveRotation(first with { Status = RotationStatus.Running }), default);
        var third = await _h.Store.WriteAsync(session => session.SaveRotation(second with { Status = RotationStatus.Succeeded }), default);

        Assert.Equal([1L, 2L, 3L], new[] { first.Version, second.Version, third.Version });
        Assert.Equal(third, await _h.Store.ReadAsync(session => session.FindRotation(Arn, "token-2"), default));
    }

    [Fact]
    public async Task CreatingARecordThatExists_IsRefused_TheStoredOneStays()
    {
        await _h.Store.WriteAsync(session => session.SaveRotation(Pending("token-3") with { Reason = "first" }), default);

        await Assert.ThrowsAsync<RotationConflictException>(() => _h.Store.WriteAsync(session => session.SaveRotation(Pending("token-3") with { Reason = "second" }), default));

        Assert.Equal("first", (await _h.Store.ReadAsync(session => session.FindRotation(Arn, "token-3"), default))!.Reason);
    }

    [Fact]
    public async Task ARefusedSave_RollsBackItsTransaction()
    {
        var stale = await _h.Store.WriteAsync(session => session.SaveRotation(Pending("token-4")), default);
        await _h.Store.WriteAsync(session => session.SaveRotation(stale with { Status = RotationStatus.Abandoned }), default);

        await Assert.ThrowsAsync<RotationConflictException>(() => _h.Store.WriteAsync(session =>
        {
            session.AppendJournal(new JournalEntry(Arn, "token-4", RotationStep.CreateSecret, 1, JournalPhase.Begin, null, null, _h.Clock.GetUtcNow(), "node", 1));
            return session.SaveRotation(stale with { Status = RotationStatus.Running });
        }, default));

        Assert.Empty(await _h.Store.ReadAsync(session => session.ReadJournal(Arn, "token-4"), default));
    }

    private RotationRecord Pending(string token) =>
        new(Arn, token, "app-rotator", RotationMode.Rotate, RotationStatus.Pending, null, 0, null, _h.Clock.GetUtcNow(), _h.Clock.GetUtcNow(), null);
}
