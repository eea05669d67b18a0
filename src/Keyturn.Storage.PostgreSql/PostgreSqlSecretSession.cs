using System.Runtime.CompilerServices;
using Keyturn.Application.Ports;
using Keyturn.Domain.Secrets;
using Npgsql;

namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// One unit's view of the database. In a write unit (READ COMMITTED) the secret and rotation rows it reads are locked
/// FOR UPDATE, so every writer of one secret queues behind the first, on any node, and what it read stays true until it
/// commits. A read unit with a transaction runs REPEATABLE READ: its statements share one snapshot, so a label is never
/// seen half-moved between two queries. A read unit without one (<paramref name="transaction"/> null) may run a single
/// statement, which is its own snapshot; asking for a second throws <see cref="SnapshotRequiredException"/> so the store
/// runs the unit again in a transaction.
/// </summary>
internal sealed partial class PostgreSqlSecretSession(
    NpgsqlConnection connection, NpgsqlTransaction? transaction, bool write, PostgreSqlRowDecoder rows, PostgreSqlReadContext? readContext = null) : ISecretSession
{
    private const string SecretColumns = "id, arn, region, name, created_ms, deletion_ms, metadata::text";

    // A read unit's lookup of one secret: its row, its versions with their labels, and the sealed values of the labelled
    // versions (the ones GetSecretValue reads without naming a version) in one statement, so such a call is one round trip.
    // The labels are an aggregate in a LATERAL subquery: PostgreSQL probes stages once per version (an ARRAY(SELECT …)
    // subquery there is pulled up and was evaluated twice, for the labels and again for the CASE that tested them), and an
    // unlabelled version's labels are NULL. The metadata document comes as jsonb, which Npgsql hands over as its UTF-8
    // bytes. The key looked up by is not read back: the caller has it.
    private const string SecretWithVersionsFrom =
        "s.id, s.created_ms, s.deletion_ms, s.metadata, v.version_id, v.created_ms, v.accessed_ms, v.value_kind, l.labels, " +
        "CASE WHEN l.labels IS NOT NULL THEN v.ciphertext END " +
        "FROM secrets s LEFT JOIN versions v ON v.secret_id = s.id " +
        "LEFT JOIN LATERAL (SELECT array_agg(st.label ORDER BY st.position) AS labels FROM stages st " +
        "WHERE st.secret_id = v.secret_id AND st.version_id = v.version_id) l ON true ";

    private const string SecretWithVersionsOrder = " ORDER BY v.version_id COLLATE \"C\"";

    internal const string SecretByNameWithVersions = "SELECT s.arn, " + SecretWithVersionsFrom + "WHERE s.region = $1 AND s.name = $2" + SecretWithVersionsOrder;

    internal const string SecretByArnWithVersions = "SELECT s.region, s.name, " + SecretWithVersionsFrom + "WHERE s.arn = $1" + SecretWithVersionsOrder;

    // Secrets this transaction inserted: if it rolls back, their store ids name nothing, so a re-run inserts them again.
    private List<Secret>? _inserted;

    private int _statements;

    private string ForUpdate => write ? " FOR UPDATE" : "";

    /// <summary>True once this single-statement unit asked for more than one statement (even if the work swallowed the exception).</summary>
    public bool NeededSnapshot { get; private set; }

    /// <summary>Starts a unit of a read session kept with its <see cref="PostgreSqlReadContext"/>: nothing counted yet.</summary>
    public void StartUnit()
    {
        _inserted = null;
        _statements = 0;
        NeededSnapshot = false;
    }

    /// <summary>After a rollback: forgets the store ids given to secrets this transaction inserted.</summary>
    public void ForgetInserted()
    {
        foreach (var secret in _inserted ?? [])
        {
            secret.StoreId = 0;
        }
    }

    // A write unit locks the secret row first and reads its versions in a second statement: in READ COMMITTED that one
    // starts after the lock was granted, so it sees what the previous writer committed (a join would not).
    public ValueTask<Secret?> FindByArnAsync(string arn, CancellationToken cancellationToken) =>
        write
            ? FirstAsync(LoadSecretsAsync($"SELECT {SecretColumns} FROM secrets WHERE arn = $1{ForUpdate}", withVersions: true, cancellationToken, arn))
            : FindWithVersionsAsync(arn, null, null, cancellationToken);

    public ValueTask<Secret?> FindByNameAsync(string region, string name, CancellationToken cancellationToken) =>
        write
            ? FirstAsync(LoadSecretsAsync($"SELECT {SecretColumns} FROM secrets WHERE region = $1 AND name = $2{ForUpdate}", withVersions: true, cancellationToken, region, name))
            : FindWithVersionsAsync(null, region, name, cancellationToken);

    public async ValueTask<IReadOnlyList<string>> ListRegionsAsync(CancellationToken cancellationToken)
    {
        await using var command = Command("SELECT DISTINCT region COLLATE \"C\" FROM secrets ORDER BY 1");
        return await ReadAllAsync(command, r => r.GetString(0), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<Secret>> ListAsync(string region, CancellationToken cancellationToken) =>
        await LoadSecretsAsync($"SELECT {SecretColumns} FROM secrets WHERE region = $1", withVersions: true, cancellationToken, region).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<Secret>> ListMetadataAsync(string region, CancellationToken cancellationToken) =>
        await LoadSecretsAsync($"SELECT {SecretColumns} FROM secrets WHERE region = $1", withVersions: false, cancellationToken, region).ConfigureAwait(false);

    // DeletedMs is read by PostgreSQL from the stored document: no document is deserialized for a listing page.
    public async ValueTask<IReadOnlyList<SecretListingKey>> ListKeysAsync(string region, CancellationToken cancellationToken)
    {
        await using var command = Command(
            "SELECT arn, name, created_ms, deletion_ms, metadata ->> 'DeletedMs' IS NOT NULL FROM secrets WHERE region = $1", region);
        return await ReadAllAsync(command, r => new SecretListingKey(
            r.GetString(0), r.GetString(1), FromMs(r.GetInt64(2)), r.IsDBNull(3) ? null : FromMs(r.GetInt64(3)), r.GetBoolean(4)), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<Secret>> FindByArnsAsync(IReadOnlyCollection<string> arns, CancellationToken cancellationToken) =>
        arns.Count == 0
            ? []
            : await LoadSecretsAsync($"SELECT {SecretColumns} FROM secrets WHERE arn = ANY($1)", withVersions: true, cancellationToken, (object)arns.ToArray()).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<Secret>> ListDueForPurgeAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await LoadSecretsAsync($"SELECT {SecretColumns} FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= $1", withVersions: true, cancellationToken,
            now.ToUnixTimeMilliseconds()).ConfigureAwait(false);

    public async ValueTask<IReadOnlyList<Secret>> ListRotationEnabledAsync(CancellationToken cancellationToken) =>
        await LoadSecretsAsync($"SELECT {SecretColumns} FROM secrets WHERE rotation_enabled", withVersions: true, cancellationToken).ConfigureAwait(false);

    public async ValueTask<bool> LoadValueAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken)
    {
        if (version.Value is not null)
        {
            // Read with the secret (a labelled version), or written in this unit.
            return true;
        }

        await using var command = Command(
            "SELECT value_kind, ciphertext FROM versions WHERE secret_id = $1 AND version_id = $2 AND value_kind IS NOT NULL", secret.StoreId, version.VersionId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        version.LoadValue(new StoredValue((SecretValueKind)reader.GetInt32(0), reader.GetFieldValue<byte[]>(1)));
        return true;
    }

    /// <summary>
    /// One round trip after the secret row: versions are upserted and labels synchronized by statements that write only
    /// the rows that changed (a label move updates one row, a read's access date one version), then dropped versions go.
    /// </summary>
    public async ValueTask SaveAsync(Secret secret, CancellationToken cancellationToken)
    {
        var metadata = StoredSecretMetadata.Serialize(secret);
        var deletion = secret.DeletionDate?.ToUnixTimeMilliseconds();
        var rotationEnabled = secret.Rotation?.Enabled == true;
        Reserve(1);
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (secret.StoreId == 0)
        {
            await using var insert = Command(
                "INSERT INTO secrets (arn, region, name, created_ms, deletion_ms, rotation_enabled, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id",
                secret.Arn, secret.Region, secret.Name, secret.CreatedDate.ToUnixTimeMilliseconds(), deletion, rotationEnabled, metadata);
            secret.StoreId = (long)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            (_inserted ??= []).Add(secret);
        }
        else
        {
            Add(batch, "UPDATE secrets SET deletion_ms = $2, rotation_enabled = $3, metadata = $4::jsonb WHERE id = $1",
                secret.StoreId, deletion, rotationEnabled, metadata);
        }

        var versions = secret.Versions;
        var ids = versions.Select(v => v.VersionId).ToArray();
        Add(batch,
            "INSERT INTO versions (secret_id, version_id, created_ms, accessed_ms) SELECT $1, v.id, v.created, v.accessed FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS v(id, created, accessed) " +
            "ON CONFLICT (secret_id, version_id) DO UPDATE SET accessed_ms = excluded.accessed_ms WHERE versions.accessed_ms IS DISTINCT FROM excluded.accessed_ms",
            secret.StoreId, ids, versions.Select(v => v.CreatedDate.ToUnixTimeMilliseconds()).ToArray(),
            versions.Select(v => v.LastAccessedDate?.ToUnixTimeMilliseconds()).ToArray());

        foreach (var version in versions)
        {
            if (version.ValueChanged && version.Value is { } value)
            {
                Add(batch, "UPDATE versions SET value_kind = $3, ciphertext = $4 WHERE secret_id = $1 AND version_id = $2",
                    secret.StoreId, version.VersionId, (int)value.Kind, value.Ciphertext);
            }
        }

        // The (secret, label) primary key keeps one holder per label; a moved label is one updated row, not a rewrite.
        var labels = versions.SelectMany(v => v.Stages.Select((label, position) => (Label: label, v.VersionId, Position: position))).ToArray();
        Add(batch,
            "WITH wanted AS (SELECT * FROM unnest($2::text[], $3::text[], $4::integer[]) AS w(label, version_id, position)), " +
            "gone AS (DELETE FROM stages s WHERE s.secret_id = $1 AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.label = s.label)) " +
            "INSERT INTO stages (secret_id, label, version_id, position) SELECT $1, label, version_id, position FROM wanted " +
            "ON CONFLICT (secret_id, label) DO UPDATE SET version_id = excluded.version_id, position = excluded.position " +
            "WHERE stages.version_id <> excluded.version_id OR stages.position <> excluded.position",
            secret.StoreId, labels.Select(l => l.Label).ToArray(), labels.Select(l => l.VersionId).ToArray(), labels.Select(l => l.Position).ToArray());

        Add(batch, "DELETE FROM versions WHERE secret_id = $1 AND NOT (version_id = ANY($2))", secret.StoreId, ids);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SaveAccessAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken)
    {
        Reserve(1);
        await using var batch = new NpgsqlBatch(connection, transaction);
        Add(batch, "UPDATE secrets SET metadata = jsonb_set(metadata, '{LastAccessedMs}', coalesce(to_jsonb($2::bigint), 'null'::jsonb)) WHERE id = $1",
            secret.StoreId, secret.LastAccessedDate?.ToUnixTimeMilliseconds());
        Add(batch, "UPDATE versions SET accessed_ms = $3 WHERE secret_id = $1 AND version_id = $2",
            secret.StoreId, version.VersionId, version.LastAccessedDate?.ToUnixTimeMilliseconds());
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DeleteAsync(Secret secret, CancellationToken cancellationToken)
    {
        // Versions and their labels go with the secret (ON DELETE CASCADE).
        await using var command = Command("DELETE FROM secrets WHERE id = $1", secret.StoreId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private const string AccessKeyColumns = "access_key_id, user_name, secret_ciphertext, policy, created_ms, revoked_ms, tags, expires_ms";

    public async ValueTask<AccessKeyRecord?> FindAccessKeyAsync(string accessKeyId, CancellationToken cancellationToken) =>
        (await LoadKeysAsync($"SELECT {AccessKeyColumns} FROM access_keys WHERE access_key_id = $1", cancellationToken, accessKeyId).ConfigureAwait(false)).FirstOrDefault();

    public async ValueTask<IReadOnlyList<AccessKeyRecord>> ListAccessKeysAsync(CancellationToken cancellationToken) =>
        await LoadKeysAsync($"SELECT {AccessKeyColumns} FROM access_keys ORDER BY created_ms, access_key_id COLLATE \"C\"", cancellationToken).ConfigureAwait(false);

    // As the embedded store: a key's secret, creation and expiry are set once; later saves change its owner, policy,
    // revocation and tags.
    public async ValueTask SaveAccessKeyAsync(AccessKeyRecord key, CancellationToken cancellationToken)
    {
        await using var command = Command(
            $"INSERT INTO access_keys ({AccessKeyColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) " +
            "ON CONFLICT (access_key_id) DO UPDATE SET user_name = excluded.user_name, policy = excluded.policy, revoked_ms = excluded.revoked_ms, tags = excluded.tags",
            key.AccessKeyId, key.UserName, key.EncryptedSecretAccessKey, key.PolicyDocument,
            key.CreatedDate.ToUnixTimeMilliseconds(), key.RevokedDate?.ToUnixTimeMilliseconds(),
            StoredSecretMetadata.SerializeTags(key.Tags),
            key.ExpiresDate?.ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<List<AccessKeyRecord>> LoadKeysAsync(string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await ReadAllAsync(command, r => new AccessKeyRecord(
            r.GetString(0), r.GetString(1), r.GetFieldValue<byte[]>(2), r.GetString(3), FromMs(r.GetInt64(4)),
            r.IsDBNull(5) ? null : FromMs(r.GetInt64(5)),
            StoredSecretMetadata.DeserializeTags(r.IsDBNull(6) ? null : r.GetString(6)),
            r.IsDBNull(7) ? null : FromMs(r.GetInt64(7))), cancellationToken).ConfigureAwait(false);
    }

    // Pooled: the one async frame of a GetSecretValue's lookup, which always waits for the database, is reused rather than
    // allocated per read.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Secret?> FindWithVersionsAsync(string? arn, string? region, string? name, CancellationToken cancellationToken)
    {
        // A kept read connection's command is reused, not disposed.
        NpgsqlCommand? own = null;
        if (readContext is not null)
        {
            Reserve(1);
        }

        var command = readContext is null
            ? own = arn is null ? Command(SecretByNameWithVersions, region, name) : Command(SecretByArnWithVersions, arn)
            : arn is null ? readContext.SecretByName(SecretByNameWithVersions, region!, name!) : readContext.SecretByArn(SecretByArnWithVersions, arn);
        await using var disposeOwn = own;

        // The columns after the identity ones the statement reads back (the ARN by name; region and name by ARN).
        var c = arn is null ? 1 : 2;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        Secret? secret = null;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            secret ??= rows.Secret(
                reader, c + 3, reader.GetInt64(c), arn ?? rows.String(reader, 0), region ?? rows.String(reader, 0), name ?? rows.String(reader, 1),
                FromMs(reader.GetInt64(c + 1)), reader.IsDBNull(c + 2) ? null : FromMs(reader.GetInt64(c + 2)));
            if (reader.IsDBNull(c + 4))
            {
                continue;
            }

            var hasValue = !reader.IsDBNull(c + 7);
            var version = new SecretVersion(rows.String(reader, c + 4), FromMs(reader.GetInt64(c + 5)), hasValue)
            {
                LastAccessedDate = reader.IsDBNull(c + 6) ? null : FromMs(reader.GetInt64(c + 6)),
            };
            if (!reader.IsDBNull(c + 8))
            {
                version.RestoreStages(rows.Labels(reader, c + 8));
                if (hasValue && !reader.IsDBNull(c + 9))
                {
                    version.LoadValue(rows.Value(reader, c + 9, secret.StoreId, version.VersionId, (SecretValueKind)reader.GetInt32(c + 7)));
                }
            }

            secret.AddVersion(version);
        }

        return secret;
    }

    private async Task<List<Secret>> LoadSecretsAsync(string sql, bool withVersions, CancellationToken cancellationToken, params object?[] parameters)
    {
        if (withVersions)
        {
            // Two statements: a single-statement unit cannot do it, so say so before running the first.
            Reserve(2);
        }

        List<Secret> secrets;
        await using (var command = Command(sql, parameters))
        {
            secrets = await ReadAllAsync(command, r => StoredSecretMetadata.Deserialize(
                r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), FromMs(r.GetInt64(4)), r.IsDBNull(5) ? null : FromMs(r.GetInt64(5)),
                r.GetString(6)), cancellationToken).ConfigureAwait(false);
        }

        if (withVersions && secrets.Count > 0)
        {
            await LoadVersionsAsync(secrets, cancellationToken).ConfigureAwait(false);
        }

        return secrets;
    }

    // Versions with their labels in one statement; in a write unit the secret rows are already locked, in a read unit the
    // snapshot is shared, so the labels read are the ones that belong with these versions.
    private async Task LoadVersionsAsync(List<Secret> secrets, CancellationToken cancellationToken)
    {
        var byId = secrets.ToDictionary(s => s.StoreId);
        await using var command = Command(
            "SELECT v.secret_id, v.version_id, v.created_ms, v.accessed_ms, v.value_kind IS NOT NULL, " +
            "ARRAY(SELECT s.label FROM stages s WHERE s.secret_id = v.secret_id AND s.version_id = v.version_id ORDER BY s.position) " +
            "FROM versions v WHERE v.secret_id = ANY($1) ORDER BY v.secret_id, v.version_id COLLATE \"C\"",
            byId.Keys.ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var version = new SecretVersion(reader.GetString(1), FromMs(reader.GetInt64(2)), reader.GetBoolean(4))
            {
                LastAccessedDate = reader.IsDBNull(3) ? null : FromMs(reader.GetInt64(3)),
            };
            var labels = reader.GetFieldValue<string[]>(5);
            if (labels.Length > 0)
            {
                version.RestoreStages(labels);
            }

            byId[reader.GetInt64(0)].AddVersion(version);
        }
    }

    /// <summary>Counts statements in a unit without a transaction, which may run only one.</summary>
    private void Reserve(int statements)
    {
        if (transaction is null && (_statements += statements) > 1)
        {
            NeededSnapshot = true;
            throw new SnapshotRequiredException();
        }
    }

    private NpgsqlCommand Command(string sql, params object?[] parameters)
    {
        Reserve(1);
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    private static void Add(NpgsqlBatch batch, string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        batch.BatchCommands.Add(command);
    }

    private static async ValueTask<Secret?> FirstAsync(Task<List<Secret>> secrets) => (await secrets.ConfigureAwait(false)).FirstOrDefault();

    private static Task<List<T>> ReadAllAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) =>
        NpgsqlReads.ReadAllAsync(command, read, cancellationToken);

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? FromMs(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
}
