using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>
/// What every backend of <see cref="ISecretStore"/> must do, run against each of them by a subclass. Concurrency cases use
/// real parallel units on separate connections (and on a second store over the same data, as a second node), so a backend
/// that loses updates, splits a label move or lets a stale lease holder write fails them.
/// </summary>
public abstract class SecretStoreContractTests(IStoreFixture fixture)
{
    protected ISecretStore Store => fixture.Store;

    protected ISecretStore SecondNode => fixture.SecondNode;

    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task A_saved_secret_reads_back_with_its_metadata_versions_labels_and_sealed_value()
    {
        var secret = NewSecret();
        secret.Tags = [new SecretTag("team", "payments")];
        secret.Rotation = new RotationConfiguration(true, "keyturn-postgresql-single-user", 30, null, null);
        var first = secret.Versions[0];
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);

        var (found, value) = await SecondNode.ReadAsync(async (s, ct) =>
        {
            var found = await s.FindByNameAsync(Region, secret.Name, ct);
            var loaded = found is not null && await s.LoadValueAsync(found, found.Versions[0], ct);
            return (found, loaded ? Open(found!, found!.Versions[0]) : null);
        }, Ct);

        Assert.NotNull(found);
        Assert.Equal(secret.Arn, found.Arn);
        Assert.Equal("payments", Assert.Single(found.Tags!).Value);
        Assert.True(found.Rotation!.Enabled);
        Assert.Equal(first.VersionId, Assert.Single(found.Versions).VersionId);
        Assert.Equal([StagingLabels.Current], found.Versions[0].Stages);
        Assert.Equal("first", value);
        Assert.Equal(first.Value!.Ciphertext, found.Versions[0].Value!.Ciphertext);
    }

    [Fact]
    public async Task A_new_current_value_moves_AWSCURRENT_and_AWSPREVIOUS_and_drops_a_removed_version()
    {
        var secret = NewSecret();
        var v1 = secret.Versions[0].VersionId;
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);

        var v2 = Guid.NewGuid().ToString();
        var v3 = Guid.NewGuid().ToString();
        await Store.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            AddValue(stored, v2, "second");
            AddValue(stored, v3, "third", ["custom"]);
            await s.SaveAsync(stored, ct);
            return 0;
        }, Ct);
        var afterWrites = await ReadAsync(secret.Arn);
        Assert.Equal([StagingLabels.Previous], afterWrites.FindVersion(v1)!.Stages);
        Assert.Equal([StagingLabels.Current], afterWrites.FindVersion(v2)!.Stages);
        Assert.Equal(["custom"], afterWrites.FindVersion(v3)!.Stages);

        await Store.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            StageRules.UpdateVersionStage(stored, "custom", v3, null);
            stored.RemoveVersion(stored.FindVersion(v3)!);
            StageRules.UpdateVersionStage(stored, StagingLabels.Current, v2, v1);
            await s.SaveAsync(stored, ct);
            return 0;
        }, Ct);
        var afterMove = await ReadAsync(secret.Arn);
        Assert.Null(afterMove.FindVersion(v3));
        Assert.Equal([StagingLabels.Current], afterMove.FindVersion(v1)!.Stages);
        Assert.Equal([StagingLabels.Previous], afterMove.FindVersion(v2)!.Stages);
        Assert.True(await Store.ReadAsync(async (s, ct) => await s.LoadValueAsync(afterMove, afterMove.FindVersion(v1)!, ct), Ct));
    }

    [Fact]
    public async Task A_secret_read_in_one_unit_and_saved_in_another_keeps_exactly_its_versions_and_labels()
    {
        // The write unit that saves did not load the secret: the store must learn what is stored, not assume it.
        var secret = NewSecret();
        var v1 = secret.Versions[0].VersionId;
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);
        var loaded = await Store.ReadAsync(async (s, ct) => (await s.FindByArnAsync(secret.Arn, ct))!, Ct);

        var v2 = Guid.NewGuid().ToString();
        AddValue(loaded, v2, "second", [StagingLabels.Current, "blue"]);
        var v3 = Guid.NewGuid().ToString();
        AddValue(loaded, v3, "third", ["green", "blue"]);
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(loaded, ct); return 0; }, Ct);

        var found = await SecondNode.ReadAsync(async (s, ct) => (await s.FindByArnAsync(secret.Arn, ct))!, Ct);
        Assert.Equal([StagingLabels.Previous], found.Versions.Single(v => v.VersionId == v1).Stages);
        Assert.Equal([StagingLabels.Current], found.Versions.Single(v => v.VersionId == v2).Stages);
        Assert.Equal(["green", "blue"], found.Versions.Single(v => v.VersionId == v3).Stages);
        Assert.Equal(3, found.Versions.Count);
        Assert.All(found.Versions, v => Assert.True(v.HasValue));
    }

    [Fact]
    public async Task Readers_see_exactly_one_holder_of_each_label_while_a_writer_keeps_moving_AWSCURRENT()
    {
        var secret = NewSecret();
        AddValue(secret, Guid.NewGuid().ToString(), "second");
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);

        var violations = await ViolationsWhileMovingLabelsAsync(
            async store =>
            {
                var read = await store.ReadAsync(async (s, ct) => (await s.FindByArnAsync(secret.Arn, ct))!, Ct);
                var current = read.Versions.Count(v => v.HasStage(StagingLabels.Current));
                var previous = read.Versions.Count(v => v.HasStage(StagingLabels.Previous));
                return current == 1 && previous == 1 && read.HolderOf(StagingLabels.Current) != read.HolderOf(StagingLabels.Previous);
            },
            secret.Arn);

        Assert.Equal(0, violations);
    }

    [Fact]
    public async Task A_read_unit_of_two_secrets_sees_one_snapshot_while_a_writer_moves_both_labels_together()
    {
        var first = NewSecret();
        var second = NewSecret();
        AddValue(first, Guid.NewGuid().ToString(), "first-2");
        AddValue(second, Guid.NewGuid().ToString(), "second-2");
        await Store.WriteAsync(async (s, ct) =>
        {
            await s.SaveAsync(first, ct);
            await s.SaveAsync(second, ct);
            return 0;
        }, Ct);

        // Each secret's AWSCURRENT alternates between its two versions, both secrets in one write unit: a reader that reads
        // them in one unit must see both on the same side (by version creation order), never one moved and one not.
        var firstOrder = first.Versions.Select(v => v.VersionId).ToArray();
        var secondOrder = second.Versions.Select(v => v.VersionId).ToArray();

        var violations = await ViolationsWhileMovingLabelsAsync(
            async store =>
            {
                var (a, b) = await store.ReadAsync(async (s, ct) =>
                    ((await s.FindByArnAsync(first.Arn, ct))!, (await s.FindByNameAsync(Region, second.Name, ct))!), Ct);
                return Array.IndexOf(firstOrder, a.HolderOf(StagingLabels.Current)!.VersionId)
                    == Array.IndexOf(secondOrder, b.HolderOf(StagingLabels.Current)!.VersionId);
            },
            first.Arn, second.Arn);

        Assert.Equal(0, violations);
    }

    [Fact]
    public async Task A_read_unit_loads_the_value_of_a_labelled_and_of_an_unlabelled_version()
    {
        var secret = NewSecret();
        var deprecated = secret.Versions[0].VersionId;
        AddValue(secret, Guid.NewGuid().ToString(), "second");
        AddValue(secret, Guid.NewGuid().ToString(), "third");
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);

        var (current, old) = await SecondNode.ReadAsync(async (s, ct) =>
        {
            var found = (await s.FindByNameAsync(Region, secret.Name, ct))!;
            var current = found.HolderOf(StagingLabels.Current)!;
            var old = found.FindVersion(deprecated)!;
            Assert.True(old.IsDeprecated);
            Assert.True(await s.LoadValueAsync(found, current, ct));
            Assert.True(await s.LoadValueAsync(found, old, ct));
            return (Open(found, current), Open(found, old));
        }, Ct);

        Assert.Equal("third", current);
        Assert.Equal("first", old);
    }

    [Fact]
    public async Task Concurrent_read_modify_write_units_on_one_secret_lose_no_update()
    {
        var secret = NewSecret();
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);

        const int Writers = 8;
        const int Increments = 5;
        await InParallelAsync(Writers, async i =>
        {
            for (var n = 0; n < Increments; n++)
            {
                await (i % 2 == 0 ? Store : SecondNode).WriteAsync(async (s, ct) =>
                {
                    var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
                    var counter = int.Parse(stored.Description!, System.Globalization.CultureInfo.InvariantCulture);

                    // Widen the window between read and write, where an unlocked read would be overtaken.
                    await Task.Delay(2, ct);
                    stored.Description = (counter + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    await s.SaveAsync(stored, ct);
                    return 0;
                }, Ct);
            }

            return 0;
        });

        Assert.Equal((Writers * Increments).ToString(System.Globalization.CultureInfo.InvariantCulture), (await ReadAsync(secret.Arn)).Description);
    }

    [Fact]
    public async Task Concurrent_value_writes_on_one_secret_all_land_with_one_current_and_one_previous()
    {
        var secret = NewSecret();
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);

        const int Writers = 8;
        var written = Enumerable.Range(0, Writers).Select(_ => Guid.NewGuid().ToString()).ToArray();
        await InParallelAsync(Writers, i => (i % 2 == 0 ? Store : SecondNode).WriteAsync(async (s, ct) =>
            {
                var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
                await Task.Delay(2, ct); // widens the race window between the read and the write
                AddValue(stored, written[i], "value " + i);
                await s.SaveAsync(stored, ct);
                return 0;
            }, Ct));

        var final = await ReadAsync(secret.Arn);
        Assert.Equal(Writers + 1, final.Versions.Count);
        Assert.All(written, id => Assert.NotNull(final.FindVersion(id)));
        Assert.Single(final.Versions, v => v.HasStage(StagingLabels.Current));
        Assert.Single(final.Versions, v => v.HasStage(StagingLabels.Previous));
        Assert.Equal(Writers - 1, final.Versions.Count(v => v.IsDeprecated));
    }

    [Fact]
    public async Task Two_concurrent_creators_of_one_secret_name_make_one_secret_and_the_other_sees_it()
    {
        var name = Unique("race/create");
        const int Creators = 6;
        var outcomes = await InParallelAsync(Creators, async i =>
        {
            var versionId = Guid.NewGuid().ToString();
            return await (i % 2 == 0 ? Store : SecondNode).WriteAsync(async (s, ct) =>
            {
                if (await s.FindByNameAsync(Region, name, ct) is { } existing)
                {
                    return (Created: false, existing.Versions[0].VersionId);
                }

                await Task.Delay(20, ct); // widens the race window between the check and the create
                var secret = new Secret(ArnOf(Region, name), name, Region, Now) { Description = "0" };
                AddValue(secret, versionId, "v");
                await s.SaveAsync(secret, ct);
                return (Created: true, VersionId: versionId);
            }, Ct);
        });

        var winner = Assert.Single(outcomes, o => o.Created);
        Assert.All(outcomes, o => Assert.Equal(winner.VersionId, o.VersionId));
        Assert.Equal(winner.VersionId, Assert.Single((await ReadAsync(ArnOf(Region, name))).Versions).VersionId);
    }

    [Fact]
    public async Task Concurrent_writers_with_one_idempotency_token_create_one_version_and_the_others_find_it()
    {
        var secret = NewSecret();
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);

        var token = Guid.NewGuid().ToString();
        const int Writers = 6;
        var created = await InParallelAsync(Writers, i => (i % 2 == 0 ? Store : SecondNode).WriteAsync(async (s, ct) =>
            {
                var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
                if (stored.FindVersion(token) is not null)
                {
                    return false;
                }

                await Task.Delay(10, ct); // widens the race window between the check and the write
                AddValue(stored, token, "same request " + i);
                await s.SaveAsync(stored, ct);
                return true;
            }, Ct));

        Assert.Single(created, c => c);
        var final = await ReadAsync(secret.Arn);
        Assert.Equal(2, final.Versions.Count);
        Assert.Equal(token, final.HolderOf(StagingLabels.Current)!.VersionId);
    }

    [Fact]
    public async Task A_lease_is_renewed_by_its_owner_refused_to_others_while_live_and_taken_over_after_expiry_with_a_larger_token()
    {
        var resource = Unique("rotation");
        var lifetime = TimeSpan.FromSeconds(30);
        var first = await AcquireAsync(Store, resource, "node-a", Now, lifetime);
        Assert.NotNull(first);
        Assert.Equal(first, await AcquireAsync(Store, resource, "node-a", Now.AddSeconds(10), lifetime));
        Assert.Null(await AcquireAsync(SecondNode, resource, "node-b", Now.AddSeconds(20), lifetime));

        var second = await AcquireAsync(SecondNode, resource, "node-b", Now.AddSeconds(41), lifetime);
        Assert.True(second > first);
        Assert.False(await Store.ReadAsync(async (s, ct) => await s.HoldsLeaseAsync(resource, "node-a", first!.Value, Now.AddSeconds(41), ct), Ct));
        Assert.True(await Store.ReadAsync(async (s, ct) => await s.HoldsLeaseAsync(resource, "node-b", second!.Value, Now.AddSeconds(41), ct), Ct));

        // A known-dead owner is taken over at once; a released lease is free, and its counter keeps growing.
        var third = await Store.WriteAsync(async (s, ct) => await s.AcquireLeaseAsync(resource, "node-c", Now.AddSeconds(42), lifetime, owner => owner == "node-b", ct), Ct);
        Assert.True(third > second);
        await Store.WriteAsync(async (s, ct) => { await s.ReleaseLeaseAsync(resource, "node-c", ct); return 0; }, Ct);
        var fourth = await AcquireAsync(SecondNode, resource, "node-a", Now.AddSeconds(43), lifetime);
        Assert.True(fourth > third);
    }

    [Fact]
    public async Task A_fenced_write_with_a_superseded_token_throws_LeaseLostException_and_writes_nothing()
    {
        var resource = Unique("rotation");
        var arn = ArnOf(Region, Unique("fenced"));
        var old = (await AcquireAsync(Store, resource, "node-a", Now, TimeSpan.FromSeconds(30)))!.Value;
        var fence = new LeaseFence(resource, "node-a", old);
        await Store.WriteAsync(fence, async (s, ct) => { await s.AppendJournalAsync(Journal(arn, "t", RotationStep.CreateSecret, JournalPhase.Begin, "node-a", old), ct); return 0; }, Ct);

        var newer = (await AcquireAsync(SecondNode, resource, "node-b", Now.AddMinutes(1), TimeSpan.FromSeconds(30)))!.Value;
        var ran = false;
        var lost = await Assert.ThrowsAsync<LeaseLostException>(async () => await Store.WriteAsync(fence, async (s, ct) =>
        {
            ran = true;
            await s.AppendJournalAsync(Journal(arn, "t", RotationStep.CreateSecret, JournalPhase.End, "node-a", old), ct);
            return 0;
        }, Ct));
        Assert.Equal(fence, lost.Fence);
        Assert.False(ran);

        // Released leases refuse their old holder too, and the new holder's fenced writes land.
        await SecondNode.WriteAsync(new LeaseFence(resource, "node-b", newer), async (s, ct) =>
        {
            await s.AppendJournalAsync(Journal(arn, "t", RotationStep.CreateSecret, JournalPhase.End, "node-b", newer), ct);
            return 0;
        }, Ct);
        await SecondNode.WriteAsync(async (s, ct) => { await s.ReleaseLeaseAsync(resource, "node-b", ct); return 0; }, Ct);
        await Assert.ThrowsAsync<LeaseLostException>(async () => await SecondNode.WriteAsync(new LeaseFence(resource, "node-b", newer), (_, _) => ValueTask.FromResult(0), Ct));

        var journal = await Store.ReadAsync(async (s, ct) => await s.ReadJournalAsync(arn, "t", ct), Ct);
        Assert.Equal([("node-a", JournalPhase.Begin), ("node-b", JournalPhase.End)], journal.Select(e => (e.Node, e.Phase)));
    }

    [Fact]
    public async Task A_fenced_write_in_progress_holds_off_a_takeover_until_it_commits()
    {
        var resource = Unique("rotation");
        var arn = ArnOf(Region, Unique("fenced"));
        var token = (await AcquireAsync(Store, resource, "node-a", Now, TimeSpan.FromSeconds(30)))!.Value;
        var inside = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var fenced = Task.Run(async () => await Store.WriteAsync(new LeaseFence(resource, "node-a", token), async (s, ct) =>
        {
            await s.AppendJournalAsync(Journal(arn, "t", RotationStep.SetSecret, JournalPhase.Begin, "node-a", token), ct);
            inside.TrySetResult();
            await finish.Task;
            await s.AppendJournalAsync(Journal(arn, "t", RotationStep.SetSecret, JournalPhase.End, "node-a", token), ct);
            return 0;
        }, Ct));
        await inside.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // The lease has long expired by the taker's clock: only the fenced unit in flight holds it off. Not a wait:
        // nothing shows the takeover is blocked, so it gets half a second to go ahead wrongly.
        var takeover = Task.Run(async () => await AcquireAsync(SecondNode, resource, "node-b", Now.AddHours(1), TimeSpan.FromSeconds(30)));
        await Task.Delay(500);
        Assert.False(takeover.IsCompleted, "the takeover went ahead while a fenced write of the old holder was in progress");

        finish.SetResult();
        await fenced;
        var newer = await takeover.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(newer > token);
        var journal = await Store.ReadAsync(async (s, ct) => await s.ReadJournalAsync(arn, "t", ct), Ct);
        Assert.Equal([JournalPhase.Begin, JournalPhase.End], journal.Select(e => e.Phase));
        await Assert.ThrowsAsync<LeaseLostException>(async () => await Store.WriteAsync(new LeaseFence(resource, "node-a", token), (_, _) => ValueTask.FromResult(0), Ct));
    }

    [Fact]
    public async Task The_journal_reads_back_in_append_order_for_its_rotation_only()
    {
        var arn = ArnOf(Region, Unique("journal"));
        var steps = Enum.GetValues<RotationStep>();
        foreach (var step in steps)
        {
            await Store.WriteAsync(async (s, ct) =>
            {
                await s.AppendJournalAsync(Journal(arn, "t1", step, JournalPhase.Begin, "node-a", 7), ct);
                await s.AppendJournalAsync(Journal(arn, "t2", step, JournalPhase.Begin, "node-b", 8), ct);
                await s.AppendJournalAsync(Journal(arn, "t1", step, JournalPhase.End, "node-a", 7), ct);
                return 0;
            }, Ct);
        }

        var journal = await SecondNode.ReadAsync(async (s, ct) => await s.ReadJournalAsync(arn, "t1", ct), Ct);
        Assert.Equal(steps.SelectMany(step => new[] { (step, JournalPhase.Begin), (step, JournalPhase.End) }), journal.Select(e => (e.Step, e.Phase)));
        Assert.All(journal, e => Assert.Equal(("node-a", 7L, "t1"), (e.Node, e.Fencing, e.Token)));
        Assert.Equal([true], journal.Where(e => e.Phase == JournalPhase.End).Select(e => e.Succeeded).Distinct());
    }

    [Fact]
    public async Task A_rotation_record_is_written_only_over_the_revision_it_was_read_at()
    {
        var arn = ArnOf(Region, Unique("cas"));
        var created = await Store.WriteAsync(async (s, ct) => await s.SaveRotationAsync(Rotation(arn, "tok"), ct), Ct);
        Assert.Equal(1, created.Version);
        await Assert.ThrowsAsync<RotationConflictException>(async () => await SecondNode.WriteAsync(async (s, ct) => await s.SaveRotationAsync(Rotation(arn, "tok"), ct), Ct));

        var running = await Store.WriteAsync(async (s, ct) => await s.SaveRotationAsync(created with { Status = RotationStatus.Running, Step = RotationStep.CreateSecret }, ct), Ct);
        Assert.Equal(2, running.Version);
        var stale = await Assert.ThrowsAsync<RotationConflictException>(async () =>
            await Store.WriteAsync(async (s, ct) => await s.SaveRotationAsync(created with { Status = RotationStatus.Abandoned }, ct), Ct));
        Assert.Equal(1, stale.ExpectedVersion);

        var stored = await Store.ReadAsync(async (s, ct) => await s.FindRotationAsync(arn, "tok", ct), Ct);
        Assert.Equal((RotationStatus.Running, RotationStep.CreateSecret, 2L), (stored!.Status, stored.Step, stored.Version));
    }

    [Fact]
    public async Task Of_concurrent_writers_holding_one_revision_of_a_rotation_exactly_one_wins()
    {
        var arn = ArnOf(Region, Unique("cas"));
        var created = await Store.WriteAsync(async (s, ct) => await s.SaveRotationAsync(Rotation(arn, "tok"), ct), Ct);
        const int Writers = 6;
        var outcomes = await InParallelAsync(Writers, async i =>
        {
            try
            {
                await (i % 2 == 0 ? Store : SecondNode).WriteAsync(async (s, ct) => await s.SaveRotationAsync(created with { Attempt = i + 1 }, ct), Ct);
                return true;
            }
            catch (RotationConflictException)
            {
                return false;
            }
        });

        Assert.Single(outcomes, won => won);
        var stored = await Store.ReadAsync(async (s, ct) => await s.FindRotationAsync(arn, "tok", ct), Ct);
        Assert.Equal(2, stored!.Version);
        Assert.Equal(Array.IndexOf(outcomes, true) + 1, stored.Attempt);
    }

    [Fact]
    public async Task Rotations_list_newest_first_and_open_only_on_request()
    {
        var arn = ArnOf(Region, Unique("list"));
        await Store.WriteAsync(async (s, ct) =>
        {
            await s.SaveRotationAsync(Rotation(arn, "old", Now.AddHours(-2)) with { Status = RotationStatus.Succeeded }, ct);
            await s.SaveRotationAsync(Rotation(arn, "new", Now), ct);
            await s.SaveRotationAsync(Rotation(arn, "middle", Now.AddHours(-1)) with { Status = RotationStatus.Retrying }, ct);
            return 0;
        }, Ct);

        var all = await Store.ReadAsync(async (s, ct) => await s.ListRotationsAsync(arn, openOnly: false, ct), Ct);
        var open = await Store.ReadAsync(async (s, ct) => await s.ListRotationsAsync(arn, openOnly: true, ct), Ct);
        var everywhere = await Store.ReadAsync(async (s, ct) => await s.ListRotationsAsync(null, openOnly: true, ct), Ct);
        Assert.Equal(["new", "middle", "old"], all.Select(r => r.Token));
        Assert.Equal(["new", "middle"], open.Select(r => r.Token));
        Assert.Contains(everywhere, r => r.SecretArn == arn && r.Token == "middle");
    }

    [Fact]
    public async Task Access_keys_keep_their_tags_expiry_and_revocation()
    {
        var key = AccessKey(expires: Now.AddMinutes(15));
        await Store.WriteAsync(async (s, ct) => { await s.SaveAccessKeyAsync(key, ct); return 0; }, Ct);
        var found = await SecondNode.ReadAsync(async (s, ct) => await s.FindAccessKeyAsync(key.AccessKeyId, ct), Ct);
        Assert.NotNull(found);
        Assert.Equal(key.EncryptedSecretAccessKey, found.EncryptedSecretAccessKey);
        Assert.Equal(new Dictionary<string, string> { ["env"] = "prod", ["team"] = "payments" }, found.Tags);
        Assert.Equal(Now.AddMinutes(15), found.ExpiresDate);
        Assert.Null(found.RevokedDate);

        // Revocation seen by every node; a save can't extend the expiry a key was created with.
        await SecondNode.WriteAsync(async (s, ct) =>
        {
            await s.SaveAccessKeyAsync(key with { RevokedDate = Now.AddMinutes(1), ExpiresDate = Now.AddYears(1), Tags = new Dictionary<string, string> { ["team"] = "core" } }, ct);
            return 0;
        }, Ct);
        var revoked = await Store.ReadAsync(async (s, ct) => await s.FindAccessKeyAsync(key.AccessKeyId, ct), Ct);
        Assert.Equal(Now.AddMinutes(1), revoked!.RevokedDate);
        Assert.Equal(Now.AddMinutes(15), revoked.ExpiresDate);
        Assert.Equal("core", Assert.Single(revoked.Tags!).Value);

        var untagged = AccessKey() with { Tags = null, CreatedDate = Now.AddDays(1) };
        await Store.WriteAsync(async (s, ct) => { await s.SaveAccessKeyAsync(untagged, ct); return 0; }, Ct);
        var listed = await Store.ReadAsync(async (s, ct) => await s.ListAccessKeysAsync(ct), Ct);
        Assert.True(listed.ToList().FindIndex(k => k.AccessKeyId == key.AccessKeyId) < listed.ToList().FindIndex(k => k.AccessKeyId == untagged.AccessKeyId));
        Assert.Null(listed.Single(k => k.AccessKeyId == untagged.AccessKeyId).Tags);
        Assert.Null(await Store.ReadAsync(async (s, ct) => await s.FindAccessKeyAsync("AKIADOESNOTEXIST0000", ct), Ct));
    }

    [Fact]
    public async Task Functions_keep_their_sealed_environment_and_policies_are_saved_and_deleted()
    {
        var name = Unique("fn");
        var function = Function(name);
        await Store.WriteAsync(async (s, ct) => { await s.SaveFunctionAsync(function, ct); return 0; }, Ct);
        var found = await SecondNode.ReadAsync(async (s, ct) => await s.FindFunctionAsync(name, ct), Ct);
        Assert.NotNull(found);
        Assert.Equal((FunctionKind.Handler, function.Target, TimeSpan.FromSeconds(30), "lambda_function.lambda_handler", "python3", 256),
            (found.Kind, found.Target, found.Timeout, found.Handler, found.Runtime, found.MemorySize));
        Assert.Equal(["DB_HOST", "DB_PORT"], found.EnvironmentNames);
        Assert.Equal(function.EncryptedEnvironment, found.EncryptedEnvironment);
        Assert.Equal(function.EncryptedSecretAccessKey, found.EncryptedSecretAccessKey);

        var command = new FunctionRecord(name, FunctionKind.Command, "/usr/local/bin/rotate", TimeSpan.FromMinutes(2), null, null, Now);
        await Store.WriteAsync(async (s, ct) => { await s.SaveFunctionAsync(command, ct); return 0; }, Ct);
        var replaced = await Store.ReadAsync(async (s, ct) => await s.FindFunctionAsync(name, ct), Ct);
        Assert.Equal((FunctionKind.Command, (string?)null, (byte[]?)null), (replaced!.Kind, replaced.Handler, replaced.EncryptedEnvironment));
        Assert.Empty(replaced.EnvironmentNames);
        Assert.Contains(await Store.ReadAsync(async (s, ct) => await s.ListFunctionsAsync(ct), Ct), f => f.Name == name);

        Assert.Null(await Store.ReadAsync(async (s, ct) => await s.FindFunctionPolicyAsync(name, ct), Ct));
        var policy = new FunctionPolicy(name, ["arn:aws:secretsmanager:*:*:secret:master/*", "arn:aws:secretsmanager:*:*:secret:admin"], true, Now);
        await Store.WriteAsync(async (s, ct) => { await s.SaveFunctionPolicyAsync(policy, ct); return 0; }, Ct);
        var storedPolicy = await SecondNode.ReadAsync(async (s, ct) => await s.FindFunctionPolicyAsync(name, ct), Ct);
        Assert.Equal(policy.AllowedMasters, storedPolicy!.AllowedMasters);
        Assert.True(storedPolicy.AllowPrivilegedClone);
        Assert.Equal(Now, storedPolicy.UpdatedDate);

        Assert.True(await Store.WriteAsync(async (s, ct) => await s.DeleteFunctionPolicyAsync(name, ct), Ct));
        Assert.False(await Store.WriteAsync(async (s, ct) => await s.DeleteFunctionPolicyAsync(name, ct), Ct));
        Assert.True(await Store.WriteAsync(async (s, ct) => await s.DeleteFunctionAsync(name, ct), Ct));
        Assert.False(await Store.WriteAsync(async (s, ct) => await s.DeleteFunctionAsync(name, ct), Ct));
        Assert.Null(await Store.ReadAsync(async (s, ct) => await s.FindFunctionAsync(name, ct), Ct));
    }

    [Fact]
    public async Task Sealed_blobs_are_found_by_master_key_replaced_only_while_unchanged_and_refused_under_a_retired_key()
    {
        var (store, lifetime) = await fixture.OpenEmptyStoreAsync();
        await using var _ = lifetime;
        Assert.False(await store.ReadAsync(async (s, ct) => await s.HoldsDataAsync(ct), Ct));

        var secret = NewSecret();
        var key = AccessKey();
        var function = Function(Unique("fn"));
        await store.WriteAsync(async (s, ct) =>
        {
            await s.SaveMasterKeyAsync(new MasterKeyState(KeyA.KeyId, Now, null), ct);
            await s.SaveAsync(secret, ct);
            await s.SaveAccessKeyAsync(key, ct);
            await s.SaveFunctionAsync(function, ct);
            return 0;
        }, Ct);
        Assert.True(await store.ReadAsync(async (s, ct) => await s.HoldsDataAsync(ct), Ct));
        Assert.Equal([KeyA.KeyId], await store.ReadAsync(async (s, ct) => await s.SealingKeyIdsAsync(ct), Ct));
        Assert.Equal(new Dictionary<string, long> { [KeyA.KeyId] = 4 }, await store.ReadAsync(async (s, ct) => await s.CountSealedByKeyAsync(ct), Ct));

        var blobs = await store.ReadAsync(async (s, ct) => await s.ListSealedByOtherThanAsync(KeyB.KeyId, 100, ct), Ct);
        Assert.Equal(
            [(SealedKind.SecretValue, secret.Arn, secret.Versions[0].VersionId), (SealedKind.AccessKeySecret, key.AccessKeyId, null),
                (SealedKind.FunctionKeySecret, function.Name, null), (SealedKind.FunctionEnvironment, function.Name, null)],
            blobs.Select(b => (b.Kind, b.Owner, b.VersionId)).Order());
        Assert.Equal(2, (await store.ReadAsync(async (s, ct) => await s.ListSealedByOtherThanAsync(KeyB.KeyId, 2, ct), Ct)).Count);
        Assert.Empty(await store.ReadAsync(async (s, ct) => await s.ListSealedByOtherThanAsync(KeyA.KeyId, 100, ct), Ct));

        // A rewrap under key B replaces each blob once; the stale listing no longer matches.
        var rewrapped = blobs.ToDictionary(b => b, b => KeyB.Encrypt("rewrapped"u8, "test"));
        Assert.All(await store.WriteAsync(async (s, ct) =>
        {
            var results = new List<bool>();
            foreach (var blob in blobs)
            {
                results.Add(await s.ReplaceSealedAsync(blob, rewrapped[blob], ct));
            }

            return results;
        }, Ct), Assert.True);
        Assert.False(await store.WriteAsync(async (s, ct) => await s.ReplaceSealedAsync(blobs[0], KeyA.Encrypt("again"u8, "test"), ct), Ct));
        Assert.Equal([KeyB.KeyId], await store.ReadAsync(async (s, ct) => await s.SealingKeyIdsAsync(ct), Ct));
        var value = await store.ReadAsync(async (s, ct) =>
        {
            var found = (await s.FindByArnAsync(secret.Arn, ct))!;
            await s.LoadValueAsync(found, found.Versions[0], ct);
            return found.Versions[0].Value!.Ciphertext;
        }, Ct);
        Assert.Equal(rewrapped[blobs.Single(b => b.Kind == SealedKind.SecretValue)], value);

        // Key A retired: a node still sealing with it fails its write, which leaves nothing behind.
        await store.WriteAsync(async (s, ct) =>
        {
            await s.SaveMasterKeyAsync(new MasterKeyState(KeyB.KeyId, Now.AddMinutes(1), null), ct);
            await s.SaveMasterKeyAsync(new MasterKeyState(KeyA.KeyId, Now, Now.AddMinutes(2)), ct);
            return 0;
        }, Ct);
        Assert.Equal([(KeyA.KeyId, (DateTimeOffset?)Now.AddMinutes(2)), (KeyB.KeyId, null)],
            (await store.ReadAsync(async (s, ct) => await s.ListMasterKeysAsync(ct), Ct)).Select(k => (k.KeyId, k.RetiredDate)));
        var late = NewSecret(cipher: KeyA);
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.WriteAsync(async (s, ct) => { await s.SaveAsync(late, ct); return 0; }, Ct));
        await Assert.ThrowsAnyAsync<Exception>(async () => await store.WriteAsync(async (s, ct) => { await s.SaveAccessKeyAsync(AccessKey(), ct); return 0; }, Ct));
        Assert.Null(await store.ReadAsync(async (s, ct) => await s.FindByArnAsync(late.Arn, ct), Ct));
        Assert.Equal([KeyB.KeyId], await store.ReadAsync(async (s, ct) => await s.SealingKeyIdsAsync(ct), Ct));
    }

    [Fact]
    public async Task Listings_find_secrets_by_region_arn_deletion_and_rotation()
    {
        string[] regions = [Unique("zz-south"), Unique("zz-north")];
        var live = NewSecret(region: regions[0]);
        var deleted = NewSecret(region: regions[0]);
        deleted.DeletedDate = Now;
        deleted.DeletionDate = Now.AddDays(7);
        var rotating = NewSecret(region: regions[1]);
        rotating.Rotation = new RotationConfiguration(true, "fn", 1, null, null);
        await Store.WriteAsync(async (s, ct) =>
        {
            foreach (var secret in new[] { live, deleted, rotating })
            {
                await s.SaveAsync(secret, ct);
            }

            return 0;
        }, Ct);

        var listedRegions = await SecondNode.ReadAsync(async (s, ct) => await s.ListRegionsAsync(ct), Ct);
        Assert.Equal(regions.Order(StringComparer.Ordinal), listedRegions.Where(regions.Contains));
        Assert.Equal(listedRegions.Order(StringComparer.Ordinal), listedRegions);

        var keys = await Store.ReadAsync(async (s, ct) => await s.ListKeysAsync(regions[0], ct), Ct);
        Assert.Equal([(live.Name, false, (DateTimeOffset?)null), (deleted.Name, true, Now.AddDays(7))],
            keys.OrderBy(k => k.IsDeleted).Select(k => (k.Name, k.IsDeleted, k.DeletionDate)));
        Assert.All(keys, k => Assert.Equal(Now, k.CreatedDate));

        var metadata = await Store.ReadAsync(async (s, ct) => await s.ListMetadataAsync(regions[0], ct), Ct);
        Assert.Equal(2, metadata.Count);
        Assert.All(metadata, m => Assert.Empty(m.Versions));
        var full = await Store.ReadAsync(async (s, ct) => await s.ListAsync(regions[0], ct), Ct);
        Assert.All(full, m => Assert.Single(m.Versions));

        var byArns = await Store.ReadAsync(async (s, ct) => await s.FindByArnsAsync([live.Arn, rotating.Arn, ArnOf(Region, "missing")], ct), Ct);
        Assert.Equal(new[] { live.Arn, rotating.Arn }.Order(StringComparer.Ordinal), byArns.Select(s => s.Arn).Order(StringComparer.Ordinal));
        Assert.All(byArns, s => Assert.Equal([StagingLabels.Current], s.Versions[0].Stages));
        Assert.Empty(await Store.ReadAsync(async (s, ct) => await s.FindByArnsAsync([], ct), Ct));

        var due = await Store.ReadAsync(async (s, ct) => await s.ListDueForPurgeAsync(Now.AddDays(8), ct), Ct);
        Assert.Contains(due, s => s.Arn == deleted.Arn);
        Assert.DoesNotContain(await Store.ReadAsync(async (s, ct) => await s.ListDueForPurgeAsync(Now.AddDays(6), ct), Ct), s => s.Arn == deleted.Arn);
        var enabled = await Store.ReadAsync(async (s, ct) => await s.ListRotationEnabledAsync(ct), Ct);
        Assert.Contains(enabled, s => s.Arn == rotating.Arn);
        Assert.DoesNotContain(enabled, s => s.Arn == live.Arn);

        await Store.WriteAsync(async (s, ct) => { await s.DeleteAsync((await s.FindByArnAsync(deleted.Arn, ct))!, ct); return 0; }, Ct);
        Assert.Null(await SecondNode.ReadAsync(async (s, ct) => await s.FindByArnAsync(deleted.Arn, ct), Ct));
    }

    [Fact]
    public async Task A_unit_whose_work_fails_writes_nothing_and_leaves_every_pooled_connection_serving_reads_and_writes()
    {
        // More failures than a store keeps idle connections, so a connection handed back with its transaction (or a
        // write lock) still open would be met by a later unit, which would then block or fail.
        var secrets = new List<Secret>();
        for (var i = 0; i < 40; i++)
        {
            var secret = NewSecret();
            secrets.Add(secret);
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.WriteAsync<int>(async (s, ct) =>
            {
                await s.SaveAsync(secret, ct);
                throw new InvalidOperationException("the work failed after its write");
            }, Ct));
            await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.ReadAsync<int>(async (s, ct) =>
            {
                await s.FindByArnAsync(secret.Arn, ct);
                throw new InvalidOperationException("the work failed after its read");
            }, Ct));
        }

        var written = NewSecret();
        var units = Enumerable.Range(0, 8).Select(_ => Store.ReadAsync(async (s, ct) => await s.FindByArnAsync(secrets[0].Arn, ct), Ct).AsTask())
            .Append(Store.WriteAsync(async (s, ct) => { await s.SaveAsync(written, ct); return (Secret?)null; }, Ct).AsTask());
        var results = await Task.WhenAll(units).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.All(results, Assert.Null);
        foreach (var secret in secrets)
        {
            Assert.Null(await SecondNode.ReadAsync(async (s, ct) => await s.FindByArnAsync(secret.Arn, ct), Ct));
        }

        Assert.Equal(written.Arn, (await ReadAsync(written.Arn)).Arn);
    }

    [Fact]
    public async Task Recording_a_read_updates_the_access_dates_only()
    {
        var secret = NewSecret();
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);
        await Store.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            stored.LastAccessedDate = Now.Date;
            stored.Versions[0].LastAccessedDate = Now.Date;
            await s.SaveAccessAsync(stored, stored.Versions[0], ct);
            return 0;
        }, Ct);

        var read = await ReadAsync(secret.Arn);
        Assert.Equal(new DateTimeOffset(Now.Date, TimeSpan.Zero), read.LastAccessedDate);
        Assert.Equal(new DateTimeOffset(Now.Date, TimeSpan.Zero), read.Versions[0].LastAccessedDate);
        Assert.Equal("0", read.Description);
        Assert.Equal([StagingLabels.Current], read.Versions[0].Stages);
    }

    // A store may keep what read units loaded (the embedded one does): the cases below read the same secret more than once
    // before each change, so a read that serves what an earlier one loaded after a commit fails them.
    [Fact]
    public async Task A_write_through_another_store_on_the_same_data_is_seen_by_the_next_read_of_this_one()
    {
        var secret = NewSecret();
        var v1 = secret.Versions[0].VersionId;
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal((v1, "first"), await ReadCurrentValueAsync(Store, secret));
        }

        // A new AWSCURRENT, new metadata, and the old version's value sealed again as a master-key rotation does.
        var v2 = Guid.NewGuid().ToString();
        var resealed = KeyA.Encrypt("first"u8.ToArray(), ValueContext(secret.Arn, v1));
        await SecondNode.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            AddValue(stored, v2, "second");
            stored.Description = "changed elsewhere";
            stored.FindVersion(v1)!.SetValue(new StoredValue(SecretValueKind.String, resealed));
            await s.SaveAsync(stored, ct);
            return 0;
        }, Ct);

        Assert.Equal((v2, "second"), await ReadCurrentValueAsync(Store, secret));
        var (byName, previous) = await Store.ReadAsync(async (s, ct) =>
        {
            var found = (await s.FindByNameAsync(Region, secret.Name, ct))!;
            var version = found.FindVersion(v1)!;
            await s.LoadValueAsync(found, version, ct);
            return (found, version);
        }, Ct);
        Assert.Equal("changed elsewhere", byName.Description);
        Assert.Equal([StagingLabels.Previous], previous.Stages);
        Assert.Equal(resealed, previous.Value!.Ciphertext);
    }

    [Fact]
    public async Task A_label_move_through_the_same_store_is_seen_by_the_next_read()
    {
        var secret = NewSecret();
        var v1 = secret.Versions[0].VersionId;
        var v2 = AddValue(secret, Guid.NewGuid().ToString(), "second").VersionId;
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal((v2, "second"), await ReadCurrentValueAsync(Store, secret));
        }

        await Store.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            StageRules.UpdateVersionStage(stored, StagingLabels.Current, v2, v1);
            await s.SaveAsync(stored, ct);
            return 0;
        }, Ct);

        Assert.Equal((v1, "first"), await ReadCurrentValueAsync(Store, secret));
        var byName = await Store.ReadAsync(async (s, ct) => (await s.FindByNameAsync(Region, secret.Name, ct))!, Ct);
        Assert.Equal(v1, byName.HolderOf(StagingLabels.Current)!.VersionId);
    }

    [Fact]
    public async Task A_secret_deleted_restored_and_purged_elsewhere_reads_as_each_of_those_at_once()
    {
        var secret = NewSecret();
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);
        await ReadAsync(secret.Arn);
        await ReadAsync(secret.Arn);

        await SetDeletedAsync(SecondNode, Now);
        Assert.True((await ReadAsync(secret.Arn)).IsDeleted);
        await SetDeletedAsync(SecondNode, null);
        Assert.False((await ReadAsync(secret.Arn)).IsDeleted);
        await SecondNode.WriteAsync(async (s, ct) => { await s.DeleteAsync((await s.FindByArnAsync(secret.Arn, ct))!, ct); return 0; }, Ct);
        Assert.Null(await Store.ReadAsync(async (s, ct) => await s.FindByArnAsync(secret.Arn, ct), Ct));
        Assert.Null(await Store.ReadAsync(async (s, ct) => await s.FindByNameAsync(Region, secret.Name, ct), Ct));

        async Task SetDeletedAsync(ISecretStore store, DateTimeOffset? deleted) => await store.WriteAsync(async (s, ct) =>
        {
            var stored = (await s.FindByArnAsync(secret.Arn, ct))!;
            stored.DeletedDate = deleted;
            stored.DeletionDate = deleted?.AddDays(7);
            await s.SaveAsync(stored, ct);
            return 0;
        }, Ct);
    }

    [Fact]
    public async Task A_read_unit_keeps_its_snapshot_while_another_store_moves_a_label_and_later_units_read_the_move()
    {
        var secret = NewSecret();
        var v1 = secret.Versions[0].VersionId;
        var v2 = AddValue(secret, Guid.NewGuid().ToString(), "second").VersionId;
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);
        await ReadAsync(secret.Arn);
        await ReadAsync(secret.Arn);

        // The move lands, and two later units read it (so a store that keeps reads has the new state at hand), while the
        // unit is between its two reads. A backend that runs the unit again (to give it one snapshot) must not move twice.
        var runs = 0;
        var (first, again, byName) = await Store.ReadAsync(async (s, ct) =>
        {
            var first = (await s.FindByArnAsync(secret.Arn, ct))!.HolderOf(StagingLabels.Current)!.VersionId;
            if (Interlocked.Increment(ref runs) == 1)
            {
                await SecondNode.WriteAsync(async (w, wct) =>
                {
                    var stored = (await w.FindByArnAsync(secret.Arn, wct))!;
                    StageRules.UpdateVersionStage(stored, StagingLabels.Current, v2, v1);
                    await w.SaveAsync(stored, wct);
                    return 0;
                }, Ct);
                Assert.Equal(v1, (await ReadAsync(secret.Arn)).HolderOf(StagingLabels.Current)!.VersionId);
                Assert.Equal(v1, (await ReadAsync(secret.Arn)).HolderOf(StagingLabels.Current)!.VersionId);
            }

            var again = (await s.FindByArnAsync(secret.Arn, ct))!.HolderOf(StagingLabels.Current)!.VersionId;
            var byName = (await s.FindByNameAsync(Region, secret.Name, ct))!.HolderOf(StagingLabels.Current)!.VersionId;
            return (first, again, byName);
        }, Ct);

        Assert.Equal(first, again);
        Assert.Equal(first, byName);
        if (runs == 1)
        {
            Assert.Equal(v2, first);
        }

        Assert.Equal(v1, (await ReadAsync(secret.Arn)).HolderOf(StagingLabels.Current)!.VersionId);
    }

    [Fact]
    public async Task Changing_a_secret_a_read_unit_returned_changes_nothing_another_read_returns()
    {
        var secret = NewSecret();
        secret.Tags = [new SecretTag("team", "payments")];
        await Store.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, Ct);
        var read = await ReadAsync(secret.Arn);
        read.Description = "changed in memory";
        read.Tags!.Add(new SecretTag("extra", "tag"));
        read.LastAccessedDate = Now;
        read.Versions[0].LastAccessedDate = Now;
        read.Versions[0].RestoreStages(["custom"]);
        await Store.ReadAsync(async (s, ct) => await s.LoadValueAsync(read, read.Versions[0], ct), Ct);

        var again = await ReadAsync(secret.Arn);
        Assert.Equal("0", again.Description);
        Assert.Equal("payments", Assert.Single(again.Tags!).Value);
        Assert.Null(again.LastAccessedDate);
        Assert.Null(again.Versions[0].LastAccessedDate);
        Assert.Equal([StagingLabels.Current], again.Versions[0].Stages);
    }

    /// <summary>AWSCURRENT's version id and value as one read unit of <paramref name="store"/> finds them by ARN.</summary>
    private static ValueTask<(string VersionId, string Value)> ReadCurrentValueAsync(ISecretStore store, Secret secret) =>
        store.ReadAsync(async (s, ct) =>
        {
            var found = (await s.FindByArnAsync(secret.Arn, ct))!;
            var current = found.HolderOf(StagingLabels.Current)!;
            Assert.True(await s.LoadValueAsync(found, current, ct));
            return (current.VersionId, Open(found, current));
        }, Ct);

    protected ValueTask<Secret> ReadAsync(string arn) => Store.ReadAsync(async (s, ct) => (await s.FindByArnAsync(arn, ct))!, Ct);

    /// <summary>Runs <paramref name="count"/> units at once: each on its own task, released together.</summary>
    /// <summary>
    /// Four readers (two per node) run <paramref name="readIsConsistent"/> in a loop while a writer swaps AWSCURRENT and
    /// AWSPREVIOUS of every secret in <paramref name="arns"/> in one write unit, alternating nodes; returns the reads that
    /// saw an inconsistent state. On a loaded machine the readers can start late, so the labels move only once all of
    /// them read, and keep moving until 100 reads overlapped the moves (bounded, so a stuck reader fails).
    /// </summary>
    private async Task<int> ViolationsWhileMovingLabelsAsync(Func<ISecretStore, Task<bool>> readIsConsistent, params string[] arns)
    {
        const int Readers = 4;
        using var stop = new CancellationTokenSource();
        using var allReading = new CountdownEvent(Readers);
        var violations = 0;
        var reads = 0;
        var readers = Enumerable.Range(0, Readers).Select(i => Task.Run(async () =>
        {
            var store = i % 2 == 0 ? Store : SecondNode;
            var started = false;
            while (!stop.IsCancellationRequested)
            {
                if (!await readIsConsistent(store))
                {
                    Interlocked.Increment(ref violations);
                }

                Interlocked.Increment(ref reads);
                if (!started)
                {
                    allReading.Signal();
                    started = true;
                }
            }
        })).ToArray();

        Assert.True(allReading.Wait(TimeSpan.FromSeconds(30)), "the readers did not start");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var readsBefore = Volatile.Read(ref reads);
        for (var i = 0; i < 40 || (Volatile.Read(ref reads) - readsBefore < 100 && DateTime.UtcNow < deadline); i++)
        {
            await (i % 2 == 0 ? Store : SecondNode).WriteAsync(async (s, ct) =>
            {
                foreach (var arn in arns)
                {
                    var stored = (await s.FindByArnAsync(arn, ct))!;
                    StageRules.UpdateVersionStage(stored, StagingLabels.Current, stored.HolderOf(StagingLabels.Current)!.VersionId,
                        stored.HolderOf(StagingLabels.Previous)!.VersionId);
                    await s.SaveAsync(stored, ct);
                }

                return 0;
            }, Ct);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(reads - readsBefore >= 100, $"only {reads - readsBefore} reads overlapped the label moves");
        return violations;
    }

    protected static async Task<T[]> InParallelAsync<T>(int count, Func<int, ValueTask<T>> work)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await work(i);
        })).ToArray();
        start.SetResult();
        return await Task.WhenAll(tasks);
    }

    private static ValueTask<long?> AcquireAsync(ISecretStore store, string resource, string owner, DateTimeOffset now, TimeSpan lifetime) =>
        store.WriteAsync(async (s, ct) => await s.AcquireLeaseAsync(resource, owner, now, lifetime, null, ct), Ct);
}

public sealed class SqliteSecretStoreContractTests(SqliteStoreFixture fixture) : SecretStoreContractTests(fixture), IClassFixture<SqliteStoreFixture>;
