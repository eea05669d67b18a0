using Keyturn.Application.Ports;

namespace Keyturn.Storage.PostgreSql;

/// <summary>The sealed blobs by master key id, through each sealed column's indexed key-id column.</summary>
internal sealed partial class PostgreSqlSecretSession
{
    private static readonly (string Table, string KeyColumn)[] SealedColumns =
        [("versions", "master_key_id"), ("access_keys", "master_key_id"), ("functions", "master_key_id"), ("functions", "environment_master_key_id")];

    // One index seek per distinct key per column (a loose index scan: there are one or two keys), however many blobs.
    private static readonly string SealingKeyIdsSql = string.Join(" UNION ", SealedColumns.Select((c, i) =>
        $"(WITH RECURSIVE k{i}(id) AS (SELECT min({c.KeyColumn}) FROM {c.Table} " +
        $"UNION ALL SELECT (SELECT min({c.KeyColumn}) FROM {c.Table} WHERE {c.KeyColumn} > k{i}.id) FROM k{i} WHERE k{i}.id IS NOT NULL) " +
        $"SELECT id FROM k{i} WHERE id IS NOT NULL)"));

    private static readonly string CountSealedSql = "SELECT id, sum(n)::bigint FROM (" + string.Join(" UNION ALL ", SealedColumns.Select(c =>
        $"SELECT {c.KeyColumn} AS id, count(*) AS n FROM {c.Table} WHERE {c.KeyColumn} IS NOT NULL GROUP BY {c.KeyColumn}")) + ") AS counts GROUP BY id";

    public async ValueTask<bool> HoldsDataAsync(CancellationToken cancellationToken)
    {
        await using var command = Command(
            "SELECT EXISTS (SELECT 1 FROM secrets) OR EXISTS (SELECT 1 FROM access_keys) OR EXISTS (SELECT 1 FROM functions) OR EXISTS (SELECT 1 FROM master_keys)");
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }

    public async ValueTask<IReadOnlyList<string>> SealingKeyIdsAsync(CancellationToken cancellationToken)
    {
        await using var command = Command(SealingKeyIdsSql);
        var ids = await ReadAllAsync(command, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }

    public async ValueTask<IReadOnlyDictionary<string, long>> CountSealedByKeyAsync(CancellationToken cancellationToken)
    {
        await using var command = Command(CountSealedSql);
        var rows = await ReadAllAsync(command, r => (Id: r.GetString(0), Count: r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
        return rows.ToDictionary(r => r.Id, r => r.Count, StringComparer.Ordinal);
    }

    public async ValueTask<IReadOnlyList<MasterKeyState>> ListMasterKeysAsync(CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT key_id, added_ms, retired_ms FROM master_keys ORDER BY added_ms, key_id COLLATE \"C\"");
        return await ReadAllAsync(command, r => new MasterKeyState(r.GetString(0), FromMs(r.GetInt64(1)), r.IsDBNull(2) ? null : FromMs(r.GetInt64(2))),
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SaveMasterKeyAsync(MasterKeyState key, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "INSERT INTO master_keys (key_id, added_ms, retired_ms) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO UPDATE SET retired_ms = excluded.retired_ms",
            key.KeyId, key.AddedDate.ToUnixTimeMilliseconds(), key.RetiredDate?.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // "< OR >" rather than "<>": each side is a range of the partial index instead of a table scan.
    public async ValueTask<IReadOnlyList<SealedBlob>> ListSealedByOtherThanAsync(string keyId, int limit, CancellationToken cancellationToken)
    {
        var blobs = new List<SealedBlob>();
        foreach (var (kind, sql) in new[]
        {
            (SealedKind.SecretValue,
                "SELECT s.arn, v.version_id, v.ciphertext FROM versions v JOIN secrets s ON s.id = v.secret_id WHERE v.master_key_id < $1 OR v.master_key_id > $1 LIMIT $2"),
            (SealedKind.AccessKeySecret, "SELECT access_key_id, NULL, secret_ciphertext FROM access_keys WHERE master_key_id < $1 OR master_key_id > $1 LIMIT $2"),
            (SealedKind.FunctionKeySecret, "SELECT name, NULL, secret_ciphertext FROM functions WHERE master_key_id < $1 OR master_key_id > $1 LIMIT $2"),
            (SealedKind.FunctionEnvironment,
                "SELECT name, NULL, environment_ciphertext FROM functions WHERE environment_master_key_id < $1 OR environment_master_key_id > $1 LIMIT $2"),
        })
        {
            await using var command = Command(sql, keyId, (long)(limit - blobs.Count));
            blobs.AddRange(await ReadAllAsync(command, r => new SealedBlob(kind, r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1), r.GetFieldValue<byte[]>(2)),
                cancellationToken).ConfigureAwait(false));
            if (blobs.Count >= limit)
            {
                break;
            }
        }

        return blobs;
    }

    public async ValueTask<bool> ReplaceSealedAsync(SealedBlob blob, byte[] replacement, CancellationToken cancellationToken)
    {
        await using var command = blob.Kind switch
        {
            SealedKind.SecretValue => Command(
                "UPDATE versions SET ciphertext = $3 WHERE secret_id = (SELECT id FROM secrets WHERE arn = $1) AND version_id = $2 AND ciphertext = $4",
                blob.Owner, blob.VersionId, replacement, blob.Ciphertext),
            SealedKind.AccessKeySecret => Command(
                "UPDATE access_keys SET secret_ciphertext = $2 WHERE access_key_id = $1 AND secret_ciphertext = $3", blob.Owner, replacement, blob.Ciphertext),
            SealedKind.FunctionEnvironment => Command(
                "UPDATE functions SET environment_ciphertext = $2 WHERE name = $1 AND environment_ciphertext = $3", blob.Owner, replacement, blob.Ciphertext),
            _ => Command(
                "UPDATE functions SET secret_ciphertext = $2 WHERE name = $1 AND secret_ciphertext = $3", blob.Owner, replacement, blob.Ciphertext),
        };
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }
}
