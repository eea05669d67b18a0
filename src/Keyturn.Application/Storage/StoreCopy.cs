using Keyturn.Application.Logs;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Logs;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Storage;

/// <summary>A whole store as the ports see it: secrets and bookkeeping, and the logs.</summary>
public sealed record StorePorts(ISecretStore Secrets, ILogStore Logs, ILogArchive LogArchive);

/// <summary>
/// <c>keyturn store migrate</c>: copies a store whole into an empty one through the ports only, so it does not depend on
/// either backend's schema. Ciphertexts are copied as they are (never opened), so the target needs the same master key.
/// Leases are not copied: they belong to running nodes, and a new store starts without holders.
/// </summary>
public static class StoreCopy
{
    // Secrets written per write unit, and log events read and imported per page.
    private const int SecretsPerUnit = 50;
    private const int EventsPerPage = 5000;

    /// <summary>Why <paramref name="target"/> is not empty (what it already holds), or null when a copy may go in.</summary>
    public static async Task<string?> NonEmptyReasonAsync(StorePorts target, CancellationToken cancellationToken)
    {
        var held = await target.Secrets.ReadAsync(async (session, ct) =>
        {
            if (await session.HoldsDataAsync(ct).ConfigureAwait(false))
            {
                return "secrets, access keys, functions or master keys";
            }

            return (await session.ListRotationsAsync(null, openOnly: false, ct).ConfigureAwait(false)).Count > 0 ? "rotation records" : null;
        }, cancellationToken).ConfigureAwait(false);
        if (held is null && (await target.Logs.DescribeGroupsAsync(new LogGroupQuery(null, null, null, null, 1), cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            held = "log groups";
        }

        return held;
    }

    /// <summary>Copies everything; the caller checked that the target is empty (<see cref="NonEmptyReasonAsync"/>).</summary>
    public static async Task CopyAsync(StorePorts source, StorePorts target, CancellationToken cancellationToken)
    {
        // Master keys first: the store refuses blobs sealed by a key it knows as retired, never one it does not know yet.
        var masterKeys = await source.Secrets.ReadAsync((session, ct) => session.ListMasterKeysAsync(ct), cancellationToken).ConfigureAwait(false);
        await WriteEachAsync(target.Secrets, masterKeys, (session, key, ct) => session.SaveMasterKeyAsync(key, ct), cancellationToken).ConfigureAwait(false);

        var regions = await source.Secrets.ReadAsync((session, ct) => session.ListRegionsAsync(ct), cancellationToken).ConfigureAwait(false);
        foreach (var region in regions)
        {
            var secrets = await source.Secrets.ReadAsync((session, ct) => ListWithValuesAsync(session, region, ct), cancellationToken).ConfigureAwait(false);
            foreach (var chunk in secrets.Chunk(SecretsPerUnit))
            {
                await target.Secrets.WriteAsync(async (session, ct) =>
                {
                    foreach (var secret in chunk)
                    {
                        // A new row in the target; set here, not before, because the unit may be retried.
                        secret.StoreId = 0;
                        foreach (var version in secret.Versions)
                        {
                            if (version.Value is { } value)
                            {
                                version.SetValue(value);
                            }
                        }

                        await session.SaveAsync(secret, ct).ConfigureAwait(false);
                    }

                    return true;
                }, cancellationToken).ConfigureAwait(false);
            }
        }

        var bookkeeping = await source.Secrets.ReadAsync(ReadBookkeepingAsync, cancellationToken).ConfigureAwait(false);
        await WriteEachAsync(target.Secrets, bookkeeping.AccessKeys, (session, key, ct) => session.SaveAccessKeyAsync(key, ct), cancellationToken).ConfigureAwait(false);
        await WriteEachAsync(target.Secrets, bookkeeping.Functions, (session, function, ct) => session.SaveFunctionAsync(function, ct), cancellationToken).ConfigureAwait(false);
        await WriteEachAsync(target.Secrets, bookkeeping.Policies, (session, policy, ct) => session.SaveFunctionPolicyAsync(policy, ct), cancellationToken).ConfigureAwait(false);
        foreach (var (rotation, journal) in bookkeeping.Rotations)
        {
            await target.Secrets.WriteAsync(async (session, ct) =>
            {
                // Version 0 creates the record; the target numbers its own revisions.
                await session.SaveRotationAsync(rotation with { Version = 0 }, ct).ConfigureAwait(false);
                foreach (var entry in journal)
                {
                    await session.AppendJournalAsync(entry, ct).ConfigureAwait(false);
                }

                return true;
            }, cancellationToken).ConfigureAwait(false);
        }

        await foreach (var group in GroupsAsync(source.Logs, cancellationToken).ConfigureAwait(false))
        {
            await target.LogArchive.ImportStreamsAsync(group, await StreamsAsync(source.Logs, group.Name, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            await foreach (var page in EventPagesAsync(source.Logs, group.Name, cancellationToken).ConfigureAwait(false))
            {
                await target.LogArchive.ImportEventsAsync(group.Name, page, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Counts and SHA-256 checksums per kind over a canonical form of what the store holds (ciphertexts included, as bytes).</summary>
    public static async Task<IReadOnlyList<StoreKindSummary>> InventoryAsync(StorePorts store, CancellationToken cancellationToken)
    {
        var kinds = new Dictionary<string, CanonicalDigest>(StringComparer.Ordinal);
        CanonicalDigest Kind(string name) => kinds.TryGetValue(name, out var digest) ? digest : kinds[name] = new CanonicalDigest();
        try
        {
            foreach (var name in StoreKindSummary.Kinds)
            {
                Kind(name);
            }

            var masterKeys = await store.Secrets.ReadAsync((session, ct) => session.ListMasterKeysAsync(ct), cancellationToken).ConfigureAwait(false);
            foreach (var key in masterKeys.OrderBy(k => k.KeyId, StringComparer.Ordinal))
            {
                Kind("master keys").Add(key.KeyId, key.AddedDate, key.RetiredDate);
            }

            var regions = await store.Secrets.ReadAsync((session, ct) => session.ListRegionsAsync(ct), cancellationToken).ConfigureAwait(false);
            foreach (var region in regions.Order(StringComparer.Ordinal))
            {
                var secrets = await store.Secrets.ReadAsync((session, ct) => ListWithValuesAsync(session, region, ct), cancellationToken).ConfigureAwait(false);
                foreach (var secret in secrets.OrderBy(s => s.Arn, StringComparer.Ordinal))
                {
                    Kind("secrets").Add(
                        secret.Arn, secret.Name, secret.Region, secret.Description, secret.KmsKeyId, secret.Type, secret.CreatedDate, secret.LastChangedDate,
                        secret.LastAccessedDate, secret.DeletedDate, secret.DeletionDate,
                        secret.Tags?.Select(t => new object?[] { t.Key, t.Value }).ToArray(),
                        secret.Rotation is { } r ? new object?[] { r.Enabled, r.LambdaArn, r.AutomaticallyAfterDays, r.ScheduleExpression, r.Duration } : null,
                        secret.LastRotatedDate, secret.NextRotationDate, secret.ResourcePolicy);
                    foreach (var version in secret.Versions.OrderBy(v => v.VersionId, StringComparer.Ordinal))
                    {
                        Kind("versions").Add(secret.Arn, version.VersionId, version.CreatedDate, version.LastAccessedDate, version.Stages.ToArray(), version.HasValue);
                        if (version.Value is { } value)
                        {
                            Kind("sealed values").Add(secret.Arn, version.VersionId, (int)value.Kind, value.Ciphertext);
                        }
                    }
                }
            }

            var bookkeeping = await store.Secrets.ReadAsync(ReadBookkeepingAsync, cancellationToken).ConfigureAwait(false);
            foreach (var key in bookkeeping.AccessKeys.OrderBy(k => k.AccessKeyId, StringComparer.Ordinal))
            {
                Kind("access keys").Add(
                    key.AccessKeyId, key.UserName, key.EncryptedSecretAccessKey, key.PolicyDocument, key.CreatedDate, key.RevokedDate,
                    key.Tags?.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new object?[] { t.Key, t.Value }).ToArray(), key.ExpiresDate);
            }

            foreach (var function in bookkeeping.Functions.OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                Kind("functions").Add(
                    function.Name, function.Kind.ToString(), function.Target, (long)function.Timeout.TotalMilliseconds, function.AccessKeyId, function.EncryptedSecretAccessKey,
                    function.CreatedDate, function.Handler, function.Runtime, function.MemorySize, function.EnvironmentNames.ToArray(), function.EncryptedEnvironment);
            }

            foreach (var policy in bookkeeping.Policies.OrderBy(p => p.FunctionName, StringComparer.Ordinal))
            {
                Kind("function policies").Add(policy.FunctionName, policy.AllowedMasters.ToArray(), policy.AllowPrivilegedClone, policy.UpdatedDate);
            }

            foreach (var (rotation, journal) in bookkeeping.Rotations.OrderBy(r => r.Rotation.SecretArn, StringComparer.Ordinal).ThenBy(r => r.Rotation.Token, StringComparer.Ordinal))
            {
                Kind("rotations").Add(
                    rotation.SecretArn, rotation.Token, rotation.FunctionName, rotation.Mode.ToString(), rotation.Status.ToString(), rotation.Step?.ToString(),
                    rotation.Attempt, rotation.Reason, rotation.StartedAt, rotation.UpdatedAt, rotation.NextAttemptAt);
                foreach (var entry in journal)
                {
                    Kind("journal entries").Add(
                        entry.SecretArn, entry.Token, entry.Step.ToString(), entry.Attempt, entry.Phase.ToString(), entry.Succeeded, entry.Reason, entry.At, entry.Node, entry.Fencing);
                }
            }

            await foreach (var group in GroupsAsync(store.Logs, cancellationToken).ConfigureAwait(false))
            {
                Kind("log groups").Add(group.Name, group.CreatedMs, group.StoredBytes);
                foreach (var stream in await StreamsAsync(store.Logs, group.Name, cancellationToken).ConfigureAwait(false))
                {
                    Kind("log streams").Add(group.Name, stream.Name, stream.CreatedMs, stream.FirstEventMs, stream.LastEventMs, stream.LastIngestionMs, stream.StoredBytes);
                }

                await foreach (var page in EventPagesAsync(store.Logs, group.Name, cancellationToken).ConfigureAwait(false))
                {
                    foreach (var record in page)
                    {
                        Kind("log events").Add(group.Name, record.Id, record.StreamName, record.TimestampMs, record.IngestionMs, record.Message);
                    }
                }
            }

            return [.. kinds.Select(k => new StoreKindSummary(k.Key, k.Value.Count, k.Value.Hash()))];
        }
        finally
        {
            foreach (var digest in kinds.Values)
            {
                digest.Dispose();
            }
        }
    }

    private static async ValueTask<IReadOnlyList<Secret>> ListWithValuesAsync(ISecretSession session, string region, CancellationToken cancellationToken)
    {
        var secrets = await session.ListAsync(region, cancellationToken).ConfigureAwait(false);
        foreach (var secret in secrets)
        {
            foreach (var version in secret.Versions.Where(v => v.HasValue))
            {
                await session.LoadValueAsync(secret, version, cancellationToken).ConfigureAwait(false);
            }
        }

        return secrets;
    }

    private sealed record Bookkeeping(
        IReadOnlyList<AccessKeyRecord> AccessKeys,
        IReadOnlyList<FunctionRecord> Functions,
        IReadOnlyList<FunctionPolicy> Policies,
        IReadOnlyList<(RotationRecord Rotation, IReadOnlyList<JournalEntry> Journal)> Rotations);

    private static async ValueTask<Bookkeeping> ReadBookkeepingAsync(ISecretSession session, CancellationToken cancellationToken)
    {
        var keys = await session.ListAccessKeysAsync(cancellationToken).ConfigureAwait(false);
        var functions = await session.ListFunctionsAsync(cancellationToken).ConfigureAwait(false);
        var rotations = await session.ListRotationsAsync(null, openOnly: false, cancellationToken).ConfigureAwait(false);
        var withJournals = new List<(RotationRecord, IReadOnlyList<JournalEntry>)>();
        foreach (var rotation in rotations)
        {
            withJournals.Add((rotation, await session.ReadJournalAsync(rotation.SecretArn, rotation.Token, cancellationToken).ConfigureAwait(false)));
        }

        var policies = await session.ListFunctionPoliciesAsync(cancellationToken).ConfigureAwait(false);
        return new Bookkeeping(keys, functions, policies, withJournals);
    }

    private static async Task WriteEachAsync<T>(ISecretStore store, IReadOnlyList<T> items, Func<ISecretSession, T, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        foreach (var chunk in items.Chunk(SecretsPerUnit))
        {
            await store.WriteAsync(async (session, ct) =>
            {
                foreach (var item in chunk)
                {
                    await write(session, item, ct).ConfigureAwait(false);
                }

                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async IAsyncEnumerable<LogGroupRecord> GroupsAsync(ILogStore logs, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? after = null;
        while (true)
        {
            var page = await logs.DescribeGroupsAsync(new LogGroupQuery(null, null, null, after, 50), cancellationToken).ConfigureAwait(false);
            foreach (var group in page)
            {
                yield return group;
            }

            if (page.Count < 50)
            {
                yield break;
            }

            after = page[^1].Name;
        }
    }

    private static async Task<IReadOnlyList<LogStreamRecord>> StreamsAsync(ILogStore logs, string groupName, CancellationToken cancellationToken)
    {
        var streams = new List<LogStreamRecord>();
        while (true)
        {
            var after = streams.Count == 0 ? null : new LogStreamCursor(0, streams[^1].Name);
            var page = await logs.DescribeStreamsAsync(new LogStreamQuery(groupName, null, LogStreamOrder.LogStreamName, false, after, 50), cancellationToken).ConfigureAwait(false);
            streams.AddRange(page);
            if (page.Count < 50)
            {
                return streams;
            }
        }
    }

    /// <summary>Every event of a group in position order (time, then id), a page at a time.</summary>
    private static async IAsyncEnumerable<IReadOnlyList<LogEventRecord>> EventPagesAsync(
        ILogStore logs, string groupName, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        LogEventPosition? from = null;
        do
        {
            var page = await logs.FilterAsync(
                new LogFilterQuery(groupName, null, null, null, null, LogFilterPattern.All, from, EventsPerPage, int.MaxValue, int.MaxValue), cancellationToken).ConfigureAwait(false);
            if (page.Events.Count > 0)
            {
                yield return page.Events;
            }

            from = page.ResumeFrom;
        }
        while (from is not null);
    }
}

/// <summary>How many items of one kind a store holds, and the SHA-256 of their canonical form (hex).</summary>
public sealed record StoreKindSummary(string Kind, long Count, string Sha256)
{
    /// <summary>Every kind an inventory reports, in the order it prints them.</summary>
    public static IReadOnlyList<string> Kinds { get; } =
    [
        "master keys", "secrets", "versions", "sealed values", "access keys", "functions", "function policies", "rotations", "journal entries",
        "log groups", "log streams", "log events",
    ];
}
