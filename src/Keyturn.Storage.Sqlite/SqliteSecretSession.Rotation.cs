using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

/// <summary>Rotations, journal, leases and functions: the engine's bookkeeping, in the secrets' transactions.</summary>
internal sealed partial class SqliteSecretSession
{
    private const string FunctionColumns =
        "name, kind, target, timeout_ms, access_key_id, secret_ciphertext, created_ms, handler, runtime, memory_mb, environment_names, environment_ciphertext";

    private const string RotationColumns = "secret_arn, token, function_name, mode, status, step, attempt, reason, started_ms, updated_ms, next_attempt_ms, version";

    public ValueTask<RotationRecord?> FindRotationAsync(string secretArn, string token, CancellationToken cancellationToken) =>
        new(ReadRotations($"SELECT {RotationColumns} FROM rotations WHERE secret_arn = $p AND token = $q", secretArn, token).FirstOrDefault());

    public ValueTask<IReadOnlyList<RotationRecord>> ListRotationsAsync(string? secretArn, bool openOnly, CancellationToken cancellationToken)
    {
        var open = openOnly ? " AND status IN ('Pending','Running','Retrying')" : "";
        return new(secretArn is null
            ? ReadRotations($"SELECT {RotationColumns} FROM rotations WHERE 1 = 1{open} ORDER BY started_ms DESC")
            : ReadRotations($"SELECT {RotationColumns} FROM rotations WHERE secret_arn = $p{open} ORDER BY started_ms DESC", secretArn));
    }

    public ValueTask<RotationRecord> SaveRotationAsync(RotationRecord r, CancellationToken cancellationToken)
    {
        // Conditional on the revision the caller read: a runner's stale copy can't overwrite a CancelRotateSecret.
        using var command = r.Version == 0
            ? Command(
                "INSERT INTO rotations (secret_arn, token, function_name, mode, status, step, attempt, reason, started_ms, updated_ms, next_attempt_ms, version) " +
                "VALUES ($p, $q, $r, $s, $t, $u, $v, $w, $x, $y, $z, 1) ON CONFLICT (secret_arn, token) DO NOTHING",
                r.SecretArn, r.Token, r.FunctionName, r.Mode.ToString(), r.Status.ToString(), r.Step?.ToString(), r.Attempt, r.Reason,
                r.StartedAt.ToUnixTimeMilliseconds(), r.UpdatedAt.ToUnixTimeMilliseconds(), r.NextAttemptAt?.ToUnixTimeMilliseconds())
            : Command(
                "UPDATE rotations SET function_name = $r, mode = $s, status = $t, step = $u, attempt = $v, reason = $w, started_ms = $x, updated_ms = $y, " +
                "next_attempt_ms = $z, version = version + 1 WHERE secret_arn = $p AND token = $q AND version = $a",
                r.SecretArn, r.Token, r.FunctionName, r.Mode.ToString(), r.Status.ToString(), r.Step?.ToString(), r.Attempt, r.Reason,
                r.StartedAt.ToUnixTimeMilliseconds(), r.UpdatedAt.ToUnixTimeMilliseconds(), r.NextAttemptAt?.ToUnixTimeMilliseconds(), r.Version);
        return new(command.ExecuteNonQuery() == 1
            ? r with { Version = r.Version + 1 }
            : throw new RotationConflictException(r.SecretArn, r.Token, r.Version));
    }

    public ValueTask AppendJournalAsync(JournalEntry e, CancellationToken cancellationToken)
    {
        using var command = Command(
            "INSERT INTO rotation_journal (secret_arn, token, step, attempt, phase, outcome, reason, at_ms, node, fencing) VALUES ($p, $q, $r, $s, $t, $u, $v, $w, $x, $y)",
            e.SecretArn, e.Token, e.Step.ToString(), e.Attempt, e.Phase.ToString(),
            e.Succeeded is null ? null : e.Succeeded.Value ? "succeeded" : "failed", e.Reason, e.At.ToUnixTimeMilliseconds(), e.Node, e.Fencing);
        command.ExecuteNonQuery();

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<JournalEntry>> ReadJournalAsync(string secretArn, string token, CancellationToken cancellationToken)
    {
        using var command = Command("SELECT step, attempt, phase, outcome, reason, at_ms, node, fencing FROM rotation_journal WHERE secret_arn = $p AND token = $q ORDER BY id",
            secretArn, token);
        using var reader = command.ExecuteReader();
        var entries = new List<JournalEntry>();
        while (reader.Read())
        {
            entries.Add(new JournalEntry(
                secretArn, token, Enum.Parse<RotationStep>(reader.GetString(0)), reader.GetInt32(1), Enum.Parse<JournalPhase>(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetString(3) == "succeeded", reader.IsDBNull(4) ? null : reader.GetString(4),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)), reader.GetString(6), reader.GetInt64(7)));
        }

        return new(entries);
    }

    public ValueTask<long?> AcquireLeaseAsync(string resource, string owner, DateTimeOffset now, TimeSpan lifetime, Func<string, bool>? ownerIsGone, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        using (var read = Command("SELECT owner, fencing, expires_ms FROM leases WHERE resource = $p", resource))
        using (var reader = read.ExecuteReader())
        {
            if (reader.Read())
            {
                var holder = reader.GetString(0);
                var fencing = reader.GetInt64(1);
                var expires = reader.GetInt64(2);
                if (holder == owner)
                {
                    reader.Close();
                    Renew(resource, nowMs + (long)lifetime.TotalMilliseconds);
                    return new(fencing);
                }

                if (expires > nowMs && ownerIsGone?.Invoke(holder) != true)
                {
                    return new((long?)null);
                }
            }
        }

        // A new holder always gets a larger fencing token, so a stale holder's writes can be refused.
        using var take = Command(
            "INSERT INTO leases (resource, owner, fencing, expires_ms) VALUES ($p, $q, 1, $r) " +
            "ON CONFLICT (resource) DO UPDATE SET owner = excluded.owner, fencing = leases.fencing + 1, expires_ms = excluded.expires_ms RETURNING fencing",
            resource, owner, nowMs + (long)lifetime.TotalMilliseconds);
        return new(Convert.ToInt64(take.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
    }

    public ValueTask<bool> HoldsLeaseAsync(string resource, string owner, long fencing, DateTimeOffset now, CancellationToken cancellationToken)
    {
        using var command = Command("SELECT 1 FROM leases WHERE resource = $p AND owner = $q AND fencing = $r AND expires_ms > $s",
            resource, owner, fencing, now.ToUnixTimeMilliseconds());
        return new(command.ExecuteScalar() is not null);
    }

    /// <summary>True while the fence's owner holds the lease with its token and has not released it.</summary>
    public bool HoldsFence(LeaseFence fence)
    {
        using var command = Command("SELECT 1 FROM leases WHERE resource = $p AND owner = $q AND fencing = $r AND expires_ms > 0",
            fence.Resource, fence.Owner, fence.Token);
        return command.ExecuteScalar() is not null;
    }

    public ValueTask ReleaseLeaseAsync(string resource, string owner, CancellationToken cancellationToken)
    {
        // Expire rather than delete, so the fencing counter keeps growing.
        using var command = Command("UPDATE leases SET expires_ms = 0 WHERE resource = $p AND owner = $q", resource, owner);
        command.ExecuteNonQuery();

        return ValueTask.CompletedTask;
    }

    public ValueTask<FunctionRecord?> FindFunctionAsync(string name, CancellationToken cancellationToken) =>
        new(ReadFunctions($"SELECT {FunctionColumns} FROM functions WHERE name = $p", name).FirstOrDefault());

    public ValueTask<IReadOnlyList<FunctionRecord>> ListFunctionsAsync(CancellationToken cancellationToken) =>
        new(ReadFunctions($"SELECT {FunctionColumns} FROM functions ORDER BY name"));

    public ValueTask SaveFunctionAsync(FunctionRecord f, CancellationToken cancellationToken)
    {
        using var command = Command(
            $"INSERT INTO functions ({FunctionColumns}) VALUES ($p, $q, $r, $s, $t, $u, $v, $w, $x, $y, $z, $a) " +
            "ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, target = excluded.target, timeout_ms = excluded.timeout_ms, " +
            "access_key_id = excluded.access_key_id, secret_ciphertext = excluded.secret_ciphertext, handler = excluded.handler, runtime = excluded.runtime, " +
            "memory_mb = excluded.memory_mb, environment_names = excluded.environment_names, environment_ciphertext = excluded.environment_ciphertext",
            f.Name, f.Kind.ToString(), f.Target, (long)f.Timeout.TotalMilliseconds, f.AccessKeyId, f.EncryptedSecretAccessKey, f.CreatedDate.ToUnixTimeMilliseconds(),
            f.Handler, f.Runtime, f.MemorySize, string.Join('\n', f.EnvironmentNames), f.EncryptedEnvironment);
        command.ExecuteNonQuery();

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> DeleteFunctionAsync(string name, CancellationToken cancellationToken)
    {
        using var command = Command("DELETE FROM functions WHERE name = $p", name);
        return new(command.ExecuteNonQuery() > 0);
    }

    public ValueTask<FunctionPolicy?> FindFunctionPolicyAsync(string name, CancellationToken cancellationToken) =>
        new(ReadFunctionPolicies("SELECT name, allowed_masters, allow_privileged_clone, updated_ms FROM function_policies WHERE name = $p", name).FirstOrDefault());

    public ValueTask<IReadOnlyList<FunctionPolicy>> ListFunctionPoliciesAsync(CancellationToken cancellationToken) =>
        new(ReadFunctionPolicies("SELECT name, allowed_masters, allow_privileged_clone, updated_ms FROM function_policies ORDER BY name"));

    public ValueTask SaveFunctionPolicyAsync(FunctionPolicy policy, CancellationToken cancellationToken)
    {
        // One pattern a line: an ARN pattern holds no line break (the service refuses one when it is set).
        using var command = Command(
            "INSERT INTO function_policies (name, allowed_masters, allow_privileged_clone, updated_ms) VALUES ($p, $q, $r, $s) " +
            "ON CONFLICT (name) DO UPDATE SET allowed_masters = excluded.allowed_masters, allow_privileged_clone = excluded.allow_privileged_clone, updated_ms = excluded.updated_ms",
            policy.FunctionName, string.Join('\n', policy.AllowedMasters), policy.AllowPrivilegedClone ? 1 : 0, (policy.UpdatedDate ?? DateTimeOffset.UnixEpoch).ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> DeleteFunctionPolicyAsync(string name, CancellationToken cancellationToken)
    {
        using var command = Command("DELETE FROM function_policies WHERE name = $p", name);
        return new(command.ExecuteNonQuery() > 0);
    }

    private List<FunctionPolicy> ReadFunctionPolicies(string sql, params object?[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var policies = new List<FunctionPolicy>();
        while (reader.Read())
        {
            policies.Add(new FunctionPolicy(reader.GetString(0), reader.GetString(1).Split('\n', StringSplitOptions.RemoveEmptyEntries), reader.GetInt64(2) != 0,
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return policies;
    }

    private void Renew(string resource, long expiresMs)
    {
        using var command = Command("UPDATE leases SET expires_ms = $q WHERE resource = $p", resource, expiresMs);
        command.ExecuteNonQuery();
    }

    private List<RotationRecord> ReadRotations(string sql, params object?[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var rotations = new List<RotationRecord>();
        while (reader.Read())
        {
            rotations.Add(new RotationRecord(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), Enum.Parse<RotationMode>(reader.GetString(3)),
                Enum.Parse<RotationStatus>(reader.GetString(4)), reader.IsDBNull(5) ? null : Enum.Parse<RotationStep>(reader.GetString(5)),
                reader.GetInt32(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)))
            {
                Version = reader.GetInt64(11),
            });
        }

        return rotations;
    }

    private List<FunctionRecord> ReadFunctions(string sql, params object?[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var functions = new List<FunctionRecord>();
        while (reader.Read())
        {
            functions.Add(new FunctionRecord(
                reader.GetString(0), Enum.Parse<FunctionKind>(reader.GetString(1)), reader.GetString(2), TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : (byte[])reader.GetValue(5),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)))
            {
                Handler = reader.IsDBNull(7) ? null : reader.GetString(7),
                Runtime = reader.IsDBNull(8) ? null : reader.GetString(8),
                MemorySize = reader.GetInt32(9),
                EnvironmentNames = reader.GetString(10).Split('\n', StringSplitOptions.RemoveEmptyEntries),
                EncryptedEnvironment = reader.IsDBNull(11) ? null : (byte[])reader.GetValue(11),
            });
        }

        return functions;
    }
}
