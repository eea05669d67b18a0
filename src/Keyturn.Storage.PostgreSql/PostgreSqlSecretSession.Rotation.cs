using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;

namespace Keyturn.Storage.PostgreSql;

/// <summary>Rotations, journal, leases and functions: the engine's bookkeeping, in the secrets' transactions.</summary>
internal sealed partial class PostgreSqlSecretSession
{
    private const string FunctionColumns =
        "name, kind, target, timeout_ms, access_key_id, secret_ciphertext, created_ms, handler, runtime, memory_mb, environment_names, environment_ciphertext";

    private const string RotationColumns = "secret_arn, token, function_name, mode, status, step, attempt, reason, started_ms, updated_ms, next_attempt_ms, version";

    private const string OpenStatuses = "('Pending', 'Running', 'Retrying')";

    public async ValueTask<RotationRecord?> FindRotationAsync(string secretArn, string token, CancellationToken cancellationToken) =>
        (await ReadRotationsAsync($"SELECT {RotationColumns} FROM rotations WHERE secret_arn = $1 AND token = $2{ForUpdate}", cancellationToken, secretArn, token)
            .ConfigureAwait(false)).FirstOrDefault();

    public async ValueTask<IReadOnlyList<RotationRecord>> ListRotationsAsync(string? secretArn, bool openOnly, CancellationToken cancellationToken)
    {
        var open = openOnly ? $" AND status IN {OpenStatuses}" : "";
        return secretArn is null
            ? await ReadRotationsAsync($"SELECT {RotationColumns} FROM rotations WHERE true{open} ORDER BY started_ms DESC", cancellationToken).ConfigureAwait(false)
            : await ReadRotationsAsync($"SELECT {RotationColumns} FROM rotations WHERE secret_arn = $1{open} ORDER BY started_ms DESC", cancellationToken, secretArn)
                .ConfigureAwait(false);
    }

    public async ValueTask<RotationRecord> SaveRotationAsync(RotationRecord r, CancellationToken cancellationToken)
    {
        // Conditional on the revision the caller read: a runner's stale copy can't overwrite a CancelRotateSecret. A
        // concurrent creator's INSERT waits for the first to commit and then does nothing: one of them wins.
        await using var command = r.Version == 0
            ? Command(
                $"INSERT INTO rotations ({RotationColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1) ON CONFLICT (secret_arn, token) DO NOTHING",
                r.SecretArn, r.Token, r.FunctionName, r.Mode.ToString(), r.Status.ToString(), r.Step?.ToString(), r.Attempt, r.Reason,
                r.StartedAt.ToUnixTimeMilliseconds(), r.UpdatedAt.ToUnixTimeMilliseconds(), r.NextAttemptAt?.ToUnixTimeMilliseconds())
            : Command(
                "UPDATE rotations SET function_name = $3, mode = $4, status = $5, step = $6, attempt = $7, reason = $8, started_ms = $9, updated_ms = $10, " +
                "next_attempt_ms = $11, version = version + 1 WHERE secret_arn = $1 AND token = $2 AND version = $12",
                r.SecretArn, r.Token, r.FunctionName, r.Mode.ToString(), r.Status.ToString(), r.Step?.ToString(), r.Attempt, r.Reason,
                r.StartedAt.ToUnixTimeMilliseconds(), r.UpdatedAt.ToUnixTimeMilliseconds(), r.NextAttemptAt?.ToUnixTimeMilliseconds(), r.Version);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1
            ? r with { Version = r.Version + 1 }
            : throw new RotationConflictException(r.SecretArn, r.Token, r.Version);
    }

    public async ValueTask AppendJournalAsync(JournalEntry e, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "INSERT INTO rotation_journal (secret_arn, token, step, attempt, phase, outcome, reason, at_ms, node, fencing) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            e.SecretArn, e.Token, e.Step.ToString(), e.Attempt, e.Phase.ToString(),
            e.Succeeded is null ? null : e.Succeeded.Value ? "succeeded" : "failed", e.Reason, e.At.ToUnixTimeMilliseconds(), e.Node, e.Fencing);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<JournalEntry>> ReadJournalAsync(string secretArn, string token, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "SELECT step, attempt, phase, outcome, reason, at_ms, node, fencing FROM rotation_journal WHERE secret_arn = $1 AND token = $2 ORDER BY id", secretArn, token);
        return await ReadAllAsync(command, r => new JournalEntry(
            secretArn, token, Enum.Parse<RotationStep>(r.GetString(0)), r.GetInt32(1), Enum.Parse<JournalPhase>(r.GetString(2)),
            r.IsDBNull(3) ? null : r.GetString(3) == "succeeded", r.IsDBNull(4) ? null : r.GetString(4),
            FromMs(r.GetInt64(5)), r.GetString(6), r.GetInt64(7)), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<long?> AcquireLeaseAsync(
        string resource, string owner, DateTimeOffset now, TimeSpan lifetime, Func<string, bool>? ownerIsGone, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var expiresMs = nowMs + (long)lifetime.TotalMilliseconds;
        while (true)
        {
            // Locked until this unit ends: a fenced write holding the row FOR SHARE finishes before a takeover proceeds.
            (string Owner, long Fencing, long Expires)? current = null;
            await using (var read = Command("SELECT owner, fencing, expires_ms FROM leases WHERE resource = $1 FOR UPDATE", resource))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    current = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
                }
            }

            if (current is null)
            {
                // Two first takers: the second's insert waits for the first's commit, does nothing, and reads its row.
                await using var insert = Command(
                    "INSERT INTO leases (resource, owner, fencing, expires_ms) VALUES ($1, $2, 1, $3) ON CONFLICT (resource) DO NOTHING RETURNING fencing",
                    resource, owner, expiresMs);
                if (await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long first)
                {
                    return first;
                }

                continue;
            }

            var (holder, fencing, expires) = current.Value;
            if (holder == owner)
            {
                await using var renew = Command("UPDATE leases SET expires_ms = $2 WHERE resource = $1", resource, expiresMs);
                await renew.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return fencing;
            }

            if (expires > nowMs && ownerIsGone?.Invoke(holder) != true)
            {
                return null;
            }

            // A new holder always gets a larger fencing token, so a stale holder's writes can be refused.
            await using var take = Command(
                "UPDATE leases SET owner = $2, fencing = fencing + 1, expires_ms = $3 WHERE resource = $1 RETURNING fencing", resource, owner, expiresMs);
            return (long)(await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
    }

    public async ValueTask<bool> HoldsLeaseAsync(string resource, string owner, long fencing, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT 1 FROM leases WHERE resource = $1 AND owner = $2 AND fencing = $3 AND expires_ms > $4",
            resource, owner, fencing, now.ToUnixTimeMilliseconds());
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// True while the fence's owner holds the lease with its token and has not released it. The row stays locked FOR SHARE
    /// until the unit ends, so a takeover (which updates it) waits for this unit's commit; a takeover already made is seen,
    /// since FOR SHARE reads the latest committed row.
    /// </summary>
    public async ValueTask<bool> HoldsFenceAsync(LeaseFence fence, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "SELECT owner = $2 AND fencing = $3 AND expires_ms > 0 FROM leases WHERE resource = $1 FOR SHARE", fence.Resource, fence.Owner, fence.Token);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    public async ValueTask ReleaseLeaseAsync(string resource, string owner, CancellationToken cancellationToken)
    {
        // Expire rather than delete, so the fencing counter keeps growing.
        await using var command = Command("UPDATE leases SET expires_ms = 0 WHERE resource = $1 AND owner = $2", resource, owner);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<FunctionRecord?> FindFunctionAsync(string name, CancellationToken cancellationToken) =>
        (await ReadFunctionsAsync($"SELECT {FunctionColumns} FROM functions WHERE name = $1", cancellationToken, name).ConfigureAwait(false)).FirstOrDefault();

    public async ValueTask<IReadOnlyList<FunctionRecord>> ListFunctionsAsync(CancellationToken cancellationToken) =>
        await ReadFunctionsAsync($"SELECT {FunctionColumns} FROM functions ORDER BY name COLLATE \"C\"", cancellationToken).ConfigureAwait(false);

    public async ValueTask SaveFunctionAsync(FunctionRecord f, CancellationToken cancellationToken)
    {
        await using var command = Command(
            $"INSERT INTO functions ({FunctionColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) " +
            "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, target = excluded.target, timeout_ms = excluded.timeout_ms, " +
            "access_key_id = excluded.access_key_id, secret_ciphertext = excluded.secret_ciphertext, handler = excluded.handler, runtime = excluded.runtime, " +
            "memory_mb = excluded.memory_mb, environment_names = excluded.environment_names, environment_ciphertext = excluded.environment_ciphertext",
            f.Name, f.Kind.ToString(), f.Target, (long)f.Timeout.TotalMilliseconds, f.AccessKeyId, f.EncryptedSecretAccessKey, f.CreatedDate.ToUnixTimeMilliseconds(),
            f.Handler, f.Runtime, f.MemorySize, string.Join('\n', f.EnvironmentNames), f.EncryptedEnvironment);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> DeleteFunctionAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = Command("DELETE FROM functions WHERE name = $1", name);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async ValueTask<FunctionPolicy?> FindFunctionPolicyAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT allowed_masters, allow_privileged_clone, updated_ms FROM function_policies WHERE name = $1", name);
        var policies = await ReadAllAsync(command, r => new FunctionPolicy(
            name, r.GetString(0).Split('\n', StringSplitOptions.RemoveEmptyEntries), r.GetBoolean(1), FromMs(r.GetInt64(2))), cancellationToken).ConfigureAwait(false);
        return policies.FirstOrDefault();
    }

    public async ValueTask SaveFunctionPolicyAsync(FunctionPolicy policy, CancellationToken cancellationToken)
    {
        // One pattern a line: an ARN pattern holds no line break (the service refuses one when it is set).
        await using var command = Command(
            "INSERT INTO function_policies (name, allowed_masters, allow_privileged_clone, updated_ms) VALUES ($1, $2, $3, $4) " +
            "ON CONFLICT (name) DO UPDATE SET allowed_masters = excluded.allowed_masters, allow_privileged_clone = excluded.allow_privileged_clone, updated_ms = excluded.updated_ms",
            policy.FunctionName, string.Join('\n', policy.AllowedMasters), policy.AllowPrivilegedClone, (policy.UpdatedDate ?? DateTimeOffset.UnixEpoch).ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> DeleteFunctionPolicyAsync(string name, CancellationToken cancellationToken)
    {
        await using var command = Command("DELETE FROM function_policies WHERE name = $1", name);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    private async Task<List<RotationRecord>> ReadRotationsAsync(string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await ReadAllAsync(command, r => new RotationRecord(
            r.GetString(0), r.GetString(1), r.GetString(2), Enum.Parse<RotationMode>(r.GetString(3)),
            Enum.Parse<RotationStatus>(r.GetString(4)), r.IsDBNull(5) ? null : Enum.Parse<RotationStep>(r.GetString(5)),
            r.GetInt32(6), r.IsDBNull(7) ? null : r.GetString(7), FromMs(r.GetInt64(8)), FromMs(r.GetInt64(9)),
            r.IsDBNull(10) ? null : FromMs(r.GetInt64(10)))
        {
            Version = r.GetInt64(11),
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<FunctionRecord>> ReadFunctionsAsync(string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await ReadAllAsync(command, r => new FunctionRecord(
            r.GetString(0), Enum.Parse<FunctionKind>(r.GetString(1)), r.GetString(2), TimeSpan.FromMilliseconds(r.GetInt64(3)),
            r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetFieldValue<byte[]>(5), FromMs(r.GetInt64(6)))
        {
            Handler = r.IsDBNull(7) ? null : r.GetString(7),
            Runtime = r.IsDBNull(8) ? null : r.GetString(8),
            MemorySize = r.GetInt32(9),
            EnvironmentNames = r.GetString(10).Split('\n', StringSplitOptions.RemoveEmptyEntries),
            EncryptedEnvironment = r.IsDBNull(11) ? null : r.GetFieldValue<byte[]>(11),
        }, cancellationToken).ConfigureAwait(false);
    }
}
