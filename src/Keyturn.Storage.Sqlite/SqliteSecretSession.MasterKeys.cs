using Keyturn.Application.Ports;

namespace Keyturn.Storage.Sqlite;

/// <summary>The sealed blobs by master key id, through each sealed column's indexed key-id column.</summary>
internal sealed partial class SqliteSecretSession
{
    private static readonly (string Table, string KeyColumn)[] SealedColumns =
        [("versions", "master_key_id"), ("access_keys", "master_key_id"), ("functions", "master_key_id"), ("functions", "environment_master_key_id")];

    public ValueTask<bool> HoldsDataAsync(CancellationToken cancellationToken)
    {
        using var command = Command(
            "SELECT EXISTS (SELECT 1 FROM secrets) OR EXISTS (SELECT 1 FROM access_keys) OR EXISTS (SELECT 1 FROM functions) OR EXISTS (SELECT 1 FROM master_keys)");
        return new(Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != 0);
    }

    // One index seek per distinct key per table (there are one or two), however many blobs there are.
    public ValueTask<IReadOnlyList<string>> SealingKeyIdsAsync(CancellationToken cancellationToken)
    {
        var ids = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (table, keyColumn) in SealedColumns)
        {
            var after = "";
            while (true)
            {
                using var command = Command($"SELECT min({keyColumn}) FROM {table} WHERE {keyColumn} > $p", after);
                if (command.ExecuteScalar() is not string next)
                {
                    break;
                }

                ids.Add(next);
                after = next;
            }
        }

        return new([.. ids]);
    }

    public ValueTask<IReadOnlyDictionary<string, long>> CountSealedByKeyAsync(CancellationToken cancellationToken)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (table, keyColumn) in SealedColumns)
        {
            using var command = Command($"SELECT {keyColumn}, count(*) FROM {table} WHERE {keyColumn} IS NOT NULL GROUP BY {keyColumn}");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                counts[reader.GetString(0)] = counts.GetValueOrDefault(reader.GetString(0)) + reader.GetInt64(1);
            }
        }

        return new(counts);
    }

    public ValueTask<IReadOnlyList<MasterKeyState>> ListMasterKeysAsync(CancellationToken cancellationToken)
    {
        using var command = Command("SELECT key_id, added_ms, retired_ms FROM master_keys ORDER BY added_ms, key_id");
        using var reader = command.ExecuteReader();
        var keys = new List<MasterKeyState>();
        while (reader.Read())
        {
            keys.Add(new MasterKeyState(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                reader.IsDBNull(2) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2))));
        }

        return new(keys);
    }

    public ValueTask SaveMasterKeyAsync(MasterKeyState key, CancellationToken cancellationToken)
    {
        using var command = Command(
            "INSERT INTO master_keys (key_id, added_ms, retired_ms) VALUES ($p, $q, $r) ON CONFLICT (key_id) DO UPDATE SET retired_ms = excluded.retired_ms",
            key.KeyId, key.AddedDate.ToUnixTimeMilliseconds(), key.RetiredDate?.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();

        return ValueTask.CompletedTask;
    }

    // "< OR >" rather than "<>": SQLite answers each side with a range of the index instead of a table scan.
    public ValueTask<IReadOnlyList<SealedBlob>> ListSealedByOtherThanAsync(string keyId, int limit, CancellationToken cancellationToken)
    {
        var blobs = new List<SealedBlob>();
        foreach (var (kind, sql) in new[]
        {
            (SealedKind.SecretValue, "SELECT s.arn, v.version_id, v.ciphertext FROM versions v JOIN secrets s ON s.id = v.secret_id WHERE v.master_key_id < $p OR v.master_key_id > $p LIMIT $q"),
            (SealedKind.AccessKeySecret, "SELECT access_key_id, NULL, secret_ciphertext FROM access_keys WHERE master_key_id < $p OR master_key_id > $p LIMIT $q"),
            (SealedKind.FunctionKeySecret, "SELECT name, NULL, secret_ciphertext FROM functions WHERE master_key_id < $p OR master_key_id > $p LIMIT $q"),
            (SealedKind.FunctionEnvironment,
                "SELECT name, NULL, environment_ciphertext FROM functions WHERE environment_master_key_id < $p OR environment_master_key_id > $p LIMIT $q"),
        })
        {
            using var command = Command(sql, keyId, limit - blobs.Count);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                blobs.Add(new SealedBlob(kind, reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), (byte[])reader.GetValue(2)));
            }

            if (blobs.Count >= limit)
            {
                break;
            }
        }

        return new(blobs);
    }

    public ValueTask<bool> ReplaceSealedAsync(SealedBlob blob, byte[] replacement, CancellationToken cancellationToken)
    {
        using var command = blob.Kind switch
        {
            SealedKind.SecretValue => Command(
                "UPDATE versions SET ciphertext = $r WHERE secret_id = (SELECT id FROM secrets WHERE arn = $p) AND version_id = $q AND ciphertext = $s",
                blob.Owner, blob.VersionId, replacement, blob.Ciphertext),
            SealedKind.AccessKeySecret => Command(
                "UPDATE access_keys SET secret_ciphertext = $r WHERE access_key_id = $p AND secret_ciphertext = $s", blob.Owner, null, replacement, blob.Ciphertext),
            SealedKind.FunctionEnvironment => Command(
                "UPDATE functions SET environment_ciphertext = $r WHERE name = $p AND environment_ciphertext = $s", blob.Owner, null, replacement, blob.Ciphertext),
            _ => Command(
                "UPDATE functions SET secret_ciphertext = $r WHERE name = $p AND secret_ciphertext = $s", blob.Owner, null, replacement, blob.Ciphertext),
        };
        return new(command.ExecuteNonQuery() == 1);
    }
}
