using Keyturn.Domain.Secrets;
using Keyturn.Storage.PostgreSql;
using Npgsql;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>The contract on PostgreSQL 15, plus what only this backend can show: which rows a save rewrites.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlSecretStoreContractTests(PostgreSqlStoreFixture fixture)
    : SecretStoreContractTests(fixture), IClassFixture<PostgreSqlStoreFixture>
{
    [Fact]
    public async Task Moving_one_label_rewrites_that_label_row_only()
    {
        var secret = NewSecret();
        AddValue(secret, Guid.NewGuid().ToString(), "second");
        AddValue(secret, Guid.NewGuid().ToString(), "third", ["blue"]);
        AddValue(secret, Guid.NewGuid().ToString(), "fourth", ["green"]);
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None);
        var before = await LabelRowVersionsAsync(secret.Arn);

        await Store.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            StageRules.UpdateVersionStage(stored, "blue", stored.HolderOf("blue")!.VersionId, stored.HolderOf("green")!.VersionId);
            await s.SaveAsync(stored, ct);
            return 0;
        }, CancellationToken.None);
        var after = await LabelRowVersionsAsync(secret.Arn);

        Assert.Equal(["AWSCURRENT", "AWSPREVIOUS", "blue", "green"], before.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["blue"], after.Where(a => before[a.Key] != a.Value).Select(a => a.Key));
        var moved = await ReadAsync(secret.Arn);
        Assert.Equal(["green", "blue"], moved.HolderOf("blue")!.Stages);
    }

    [Fact]
    public async Task Two_units_locking_two_secrets_in_opposite_orders_both_complete_after_the_deadlock_victim_is_run_again()
    {
        var a = NewSecret();
        var b = NewSecret();
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(a, ct); await s.SaveAsync(b, ct); return 0; }, CancellationToken.None);
        var firstHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var attempts = 0;

        async Task<int> Unit(Keyturn.Application.Ports.ISecretStore store, string firstArn, string secondArn, TaskCompletionSource mine, TaskCompletionSource theirs) =>
            await store.WriteAsync(async (s, ct) =>
            {
                Interlocked.Increment(ref attempts);
                var first = (await s.FindByArnAsync(firstArn, ct))!;
                mine.TrySetResult();
                await theirs.Task;
                var second = (await s.FindByArnAsync(secondArn, ct))!;
                foreach (var secret in new[] { first, second })
                {
                    secret.Description = (int.Parse(secret.Description!, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    await s.SaveAsync(secret, ct);
                }

                return 0;
            }, CancellationToken.None);

        await Task.WhenAll(
            Task.Run(() => Unit(Store, a.Arn, b.Arn, firstHolds, secondHolds)),
            Task.Run(() => Unit(SecondNode, b.Arn, a.Arn, secondHolds, firstHolds))).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(3, attempts);
        Assert.Equal(("2", "2"), ((await ReadAsync(a.Arn)).Description, (await ReadAsync(b.Arn)).Description));
    }

    [Fact]
    public async Task A_secret_inserted_by_a_unit_that_is_run_again_is_inserted_again()
    {
        var secret = NewSecret();
        var attempts = 0;
        await Store.WriteAsync(async (s, ct) =>
        {
            await s.SaveAsync(secret, ct);
            if (++attempts == 1)
            {
                throw new PostgresException("could not serialize access", "ERROR", "ERROR", PostgresErrorCodes.SerializationFailure);
            }

            return 0;
        }, CancellationToken.None);

        Assert.Equal(2, attempts);
        Assert.Equal(secret.Versions[0].VersionId, Assert.Single((await ReadAsync(secret.Arn)).Versions).VersionId);
    }

    [Fact]
    public async Task Read_units_on_kept_connections_see_their_own_secret_and_the_latest_commit_and_a_cancelled_one_leaves_nothing_behind()
    {
        var secrets = Enumerable.Range(0, 6).Select(_ => NewSecret()).ToList();
        await Store.WriteAsync(async (s, ct) =>
        {
            foreach (var secret in secrets)
            {
                await s.SaveAsync(secret, ct);
            }

            return 0;
        }, CancellationToken.None);

        // Many units at once, by name and by ARN: the kept commands run again and again with other parameters.
        async Task<(string Name, string Value)[]> ReadAllAsync(CancellationToken cancellationToken) => await Task.WhenAll(Enumerable.Range(0, 120).Select(i =>
            Store.ReadAsync(async (s, ct) =>
            {
                var wanted = secrets[i % secrets.Count];
                var found = (i % 2 == 0 ? await s.FindByNameAsync(wanted.Region, wanted.Name, ct) : await s.FindByArnAsync(wanted.Arn, ct))!;
                Assert.Equal((wanted.Arn, wanted.Name, wanted.Region), (found.Arn, found.Name, found.Region));
                return (found.Name, Open(found, found.HolderOf("AWSCURRENT")!));
            }, cancellationToken).AsTask()));
        Assert.All(await ReadAllAsync(CancellationToken.None), read => Assert.Equal("first", read.Value));

        // A commit on the other node is what every later read sees, on whichever kept connection it runs.
        var changed = secrets[0];
        await fixture.SecondNode.WriteAsync(async (s, ct) =>
        {
            var locked = (await s.FindByArnAsync(changed.Arn, ct))!;
            AddValue(locked, Guid.NewGuid().ToString(), "second");
            await s.SaveAsync(locked, ct);
            return 0;
        }, CancellationToken.None);
        string Expected(string name) => name == changed.Name ? "second" : "first";
        Assert.All(await ReadAllAsync(CancellationToken.None), read => Assert.Equal(Expected(read.Name), read.Value));

        // Units cancelled before their statement, and a unit whose work fails after its statement ran: their kept
        // connections are dropped, not reused, and later units still read each their own secret.
        using (var cancelled = new CancellationTokenSource())
        {
            await cancelled.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAllAsync(cancelled.Token));
        }

        await Assert.ThrowsAsync<InvalidDataException>(async () => await Store.ReadAsync<int>(async (s, ct) =>
        {
            Assert.NotNull(await s.FindByArnAsync(changed.Arn, ct));
            throw new InvalidDataException("the work failed after its read");
        }, CancellationToken.None));
        Assert.All(await ReadAllAsync(CancellationToken.None), read => Assert.Equal(Expected(read.Name), read.Value));
    }

    [Fact]
    public async Task A_kept_read_session_starts_each_unit_afresh_after_a_unit_that_needed_a_snapshot_and_swallowed_it()
    {
        var secret = NewSecret();
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None);
        using var context = new PostgreSqlReadContext(await fixture.Server.ConnectAsync(fixture.ConnectionUri));
        var rows = new PostgreSqlRowDecoder();

        // A unit that ran its statement, asked for a second one (a listing reads versions separately) and swallowed the
        // signal: it ended normally, so its kept connection (and session) goes back for the next unit.
        var first = context.Session(rows);
        Assert.NotNull(await first.FindByArnAsync(secret.Arn, CancellationToken.None));
        await Assert.ThrowsAsync<SnapshotRequiredException>(async () => await first.ListAsync(secret.Region, CancellationToken.None));
        Assert.True(first.NeededSnapshot);

        // The next unit gets the same session object, counted from nothing: its single statement runs on the kept
        // connection, and it is not sent to a transaction for what the previous unit asked.
        var next = context.Session(rows);
        Assert.Same(first, next);
        Assert.False(next.NeededSnapshot);
        Assert.Equal(secret.Arn, (await next.FindByNameAsync(secret.Region, secret.Name, CancellationToken.None))!.Arn);
        Assert.False(next.NeededSnapshot);
    }

    /// <summary>Each label row's xmin: the transaction that last wrote it.</summary>
    private async Task<Dictionary<string, string>> LabelRowVersionsAsync(string arn)
    {
        await using var connection = await fixture.Server.ConnectAsync(fixture.ConnectionUri);
        await using var command = new NpgsqlCommand(
            "SELECT label, xmin::text FROM stages WHERE secret_id = (SELECT id FROM secrets WHERE arn = $1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = arn });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            rows[reader.GetString(0)] = reader.GetString(1);
        }

        return rows;
    }
}
