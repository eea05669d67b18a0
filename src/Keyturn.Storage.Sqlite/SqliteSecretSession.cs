using System.Text.Json;
using Keyturn.Application.Ports;
using Keyturn.Domain.Secrets;
using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// One transaction's view of the database. Microsoft.Data.Sqlite does its I/O synchronously whatever the API, so every
/// call of the asynchronous port has completed when it returns.
/// </summary>
internal sealed partial class SqliteSecretSession(
    PreparedConnection connection, bool write, SqliteReadCache? cache = null, long epoch = 0) : ISecretSession
{
    private const string SecretColumns = "id, arn, region, name, created_ms, deletion_ms, metadata";

    private static readonly string[] ParameterNames = ["$p", "$q", "$r", "$s", "$t", "$u", "$v", "$w", "$x", "$y", "$z", "$a"];

    // In a write unit: each loaded or saved secret's version rows as the database holds them now (ids, accessed_ms and
    // labels), so Save writes only what changed (a secret keeps up to 100 versions, a value write changes two or three)
    // and never reads back what the unit already loaded. The write lock is held from the unit's first statement, so
    // nobody else changes them meanwhile.
    private Dictionary<long, StoredRows>? _stored;
    private int _saves;

    // A read unit's share of the read cache, settled at its first use: null in a write unit, or when something was
    // committed since the cached secrets were loaded.
    private SqliteReadCache.Generation? _cached;
    private bool _joined;

    public ValueTask<Secret?> FindByArnAsync(string arn, CancellationToken cancellationToken)
    {
        var cached = Cached();
        if (cached?.ByArn(arn) is { } hit)
        {
            return new(hit.Copy());
        }

        var secret = First(LoadSecrets($"SELECT {SecretColumns} FROM secrets WHERE arn = $p", arn));
        if (secret is not null)
        {
            cached?.Add(secret);
        }

        return new(secret);
    }

    public ValueTask<Secret?> FindByNameAsync(string region, string name, CancellationToken cancellationToken)
    {
        var cached = Cached();
        if (cached?.ByName(region, name) is { } hit)
        {
            return new(hit.Copy());
        }

        var secret = First(LoadSecrets($"SELECT {SecretColumns} FROM secrets WHERE region = $p AND name = $q", region, name));
        if (secret is not null)
        {
            cached?.Add(secret);
        }

        return new(secret);
    }


    public ValueTask<IReadOnlyList<string>> ListRegionsAsync(CancellationToken cancellationToken)
    {
        using var command = Command("SELECT DISTINCT region FROM secrets ORDER BY region");
        using var reader = command.ExecuteReader();
        var regions = new List<string>();
        while (reader.Read())
        {
            regions.Add(reader.GetString(0));
        }

        return new(regions);
    }

    public ValueTask<IReadOnlyList<Secret>> ListAsync(string region, CancellationToken cancellationToken) =>
        new(LoadSecrets($"SELECT {SecretColumns} FROM secrets WHERE region = $p", region));

    public ValueTask<IReadOnlyList<Secret>> ListMetadataAsync(string region, CancellationToken cancellationToken) =>
        new(LoadSecrets($"SELECT {SecretColumns} FROM secrets WHERE region = $p", withVersions: false, region));

    // DeletedMs is read by SQLite from the stored document: no document is deserialized for a listing page.
    public ValueTask<IReadOnlyList<SecretListingKey>> ListKeysAsync(string region, CancellationToken cancellationToken)
    {
        using var command = Command("SELECT arn, name, created_ms, deletion_ms, json_extract(metadata, '$.DeletedMs') IS NOT NULL FROM secrets WHERE region = $p", region);
        using var reader = command.ExecuteReader();
        var keys = new List<SecretListingKey>();
        while (reader.Read())
        {
            keys.Add(new SecretListingKey(
                reader.GetString(0),
                reader.GetString(1),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                reader.GetBoolean(4)));
        }

        return new(keys);
    }

    // One JSON array parameter instead of one parameter per ARN: a page holds up to 100 of them.
    public ValueTask<IReadOnlyList<Secret>> FindByArnsAsync(IReadOnlyCollection<string> arns, CancellationToken cancellationToken) =>
        new(arns.Count == 0 ? [] : LoadSecrets($"SELECT {SecretColumns} FROM secrets WHERE arn IN (SELECT value FROM json_each($p))", JsonSerializer.Serialize(arns.ToArray(), SqliteJsonContext.Default.StringArray)));

    public ValueTask<IReadOnlyList<Secret>> ListDueForPurgeAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        new(LoadSecrets($"SELECT {SecretColumns} FROM secrets WHERE deletion_ms IS NOT NULL AND deletion_ms <= $p", now.ToUnixTimeMilliseconds()));

    public ValueTask<IReadOnlyList<Secret>> ListRotationEnabledAsync(CancellationToken cancellationToken) =>
        new(LoadSecrets($"SELECT {SecretColumns} FROM secrets WHERE rotation_enabled = 1"));

    public ValueTask<bool> LoadValueAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken)
    {
        // The sealed bytes are shared with other units: nothing writes into a StoredValue's ciphertext.
        var cached = Cached();
        var entry = cached?.ById(secret.StoreId);
        var index = entry?.IndexOf(version.VersionId) ?? -1;
        if (index >= 0)
        {
            if (!entry!.HasValue(index))
            {
                return new(false);
            }

            if (entry.ValueAt(index) is { } value)
            {
                version.LoadValue(value);
                return new(true);
            }
        }

        var loaded = LoadStoredValue(secret.StoreId, version.VersionId);
        if (loaded is null)
        {
            return new(false);
        }

        if (index >= 0)
        {
            cached!.AddValue(entry!, index, loaded);
        }

        version.LoadValue(loaded);
        return new(true);
    }

    private StoredValue? LoadStoredValue(long secretId, string versionId)
    {
        using var command = Command("SELECT value_kind, ciphertext FROM versions WHERE secret_id = $p AND version_id = $q AND value_kind IS NOT NULL",
            secretId, versionId);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new StoredValue((SecretValueKind)reader.GetInt32(0), (byte[])reader.GetValue(1)) : null;
    }

    /// <summary>The read cache's generation this unit may use and fill, if any (see <see cref="SqliteReadCache"/>).</summary>
    private SqliteReadCache.Generation? Cached()
    {
        if (!_joined && cache is not null)
        {
            _joined = true;
            _cached = cache.Join(connection, epoch);
        }

        return _cached;
    }

    public ValueTask SaveAsync(Secret secret, CancellationToken cancellationToken)
    {
        var metadata = StoredSecretMetadata.Serialize(secret);
        var deletion = secret.DeletionDate?.ToUnixTimeMilliseconds();
        var rotationEnabled = secret.Rotation?.Enabled == true ? 1 : 0;
        StoredRows stored;
        if (secret.StoreId == 0)
        {
            using var insert = Command(
                "INSERT INTO secrets (arn, region, name, created_ms, deletion_ms, rotation_enabled, metadata) VALUES ($p, $q, $r, $s, $t, $u, $v) RETURNING id",
                secret.Arn, secret.Region, secret.Name, secret.CreatedDate.ToUnixTimeMilliseconds(), deletion, rotationEnabled, metadata);
            secret.StoreId = Convert.ToInt64(insert.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            stored = new StoredRows();
            (_stored ??= [])[secret.StoreId] = stored;
        }
        else
        {
            Execute("UPDATE secrets SET deletion_ms = $q, rotation_enabled = $r, metadata = $s WHERE id = $p",
                secret.StoreId, deletion, rotationEnabled, metadata);

            stored = StoredRowsOf(secret.StoreId);
        }

        var versions = secret.Versions;
        var mark = ++_saves;
        for (var i = 0; i < versions.Count; i++)
        {
            if (stored.TryGetValue(versions[i].VersionId, out var row))
            {
                row.Mark = mark;
            }
        }

        // Versions the secret no longer has (purged by the version quota); their labels go with them (ON DELETE CASCADE).
        List<string>? gone = null;
        foreach (var (versionId, row) in stored)
        {
            if (row.Mark != mark)
            {
                Execute("DELETE FROM versions WHERE secret_id = $p AND version_id = $q", secret.StoreId, versionId);
                (gone ??= []).Add(versionId);
            }
        }

        for (var i = 0; gone is not null && i < gone.Count; i++)
        {
            stored.Remove(gone[i]);
        }

        // Labels no version holds any more. A label that moved is rewritten in place below: (secret, label) is the primary
        // key, so one row per label can't get a second holder, and a value write moves AWSCURRENT and AWSPREVIOUS with
        // two statements.
        foreach (var (_, row) in stored)
        {
            foreach (var label in row.Labels)
            {
                if (secret.HolderOf(label) is null)
                {
                    Execute("DELETE FROM stages WHERE secret_id = $p AND label = $q", secret.StoreId, label);
                }
            }
        }

        for (var i = 0; i < versions.Count; i++)
        {
            var version = versions[i];
            var accessed = version.LastAccessedDate?.ToUnixTimeMilliseconds();
            var value = version.ValueChanged ? version.Value : null;
            if (!stored.TryGetValue(version.VersionId, out var row))
            {
                // A new version: one row with its value, if it has one yet (a rotation's placeholder does not).
                Execute(
                    "INSERT INTO versions (secret_id, version_id, created_ms, accessed_ms, value_kind, ciphertext) VALUES ($p, $q, $r, $s, $t, $u)",
                    secret.StoreId, version.VersionId, version.CreatedDate.ToUnixTimeMilliseconds(), accessed, value is null ? null : (int)value.Kind, value?.Ciphertext);
                row = new StoredRow(accessed, []);
                stored[version.VersionId] = row;
            }
            else
            {
                if (row.AccessedMs != accessed)
                {
                    Execute("UPDATE versions SET accessed_ms = $r WHERE secret_id = $p AND version_id = $q",
                        secret.StoreId, version.VersionId, accessed);
                    row.AccessedMs = accessed;
                }

                if (value is not null)
                {
                    Execute("UPDATE versions SET value_kind = $r, ciphertext = $s WHERE secret_id = $p AND version_id = $q",
                        secret.StoreId, version.VersionId, (int)value.Kind, value.Ciphertext);
                }
            }

            if (!SameLabels(version.Stages, row.Labels))
            {
                // A label stored on this version at this position is where it was; any other is inserted or moved here.
                var stages = version.Stages;
                for (var position = 0; position < stages.Count; position++)
                {
                    if (position < row.Labels.Length && string.Equals(row.Labels[position], stages[position], StringComparison.Ordinal))
                    {
                        continue;
                    }

                    Execute(
                        "INSERT INTO stages (secret_id, label, version_id, position) VALUES ($p, $q, $r, $s) " +
                        "ON CONFLICT (secret_id, label) DO UPDATE SET version_id = excluded.version_id, position = excluded.position",
                        secret.StoreId, stages[position], version.VersionId, position);
                }

                row.Labels = stages.Count == 0 ? [] : [.. stages];
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SaveAccessAsync(Secret secret, SecretVersion version, CancellationToken cancellationToken)
    {
        Execute("UPDATE secrets SET metadata = json_set(metadata, '$.LastAccessedMs', $q) WHERE id = $p",
            secret.StoreId, secret.LastAccessedDate?.ToUnixTimeMilliseconds());

        Execute("UPDATE versions SET accessed_ms = $r WHERE secret_id = $p AND version_id = $q",
            secret.StoreId, version.VersionId, version.LastAccessedDate?.ToUnixTimeMilliseconds());
        if (_stored is not null && _stored.TryGetValue(secret.StoreId, out var stored) && stored.TryGetValue(version.VersionId, out var row))
        {
            row.AccessedMs = version.LastAccessedDate?.ToUnixTimeMilliseconds();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteAsync(Secret secret, CancellationToken cancellationToken)
    {
        using var command = Command("DELETE FROM stages WHERE secret_id = $p; DELETE FROM versions WHERE secret_id = $p; DELETE FROM secrets WHERE id = $p",
            secret.StoreId);
        command.ExecuteNonQuery();
        _stored?.Remove(secret.StoreId);

        return ValueTask.CompletedTask;
    }

    public ValueTask<AccessKeyRecord?> FindAccessKeyAsync(string accessKeyId, CancellationToken cancellationToken) =>
        new(First(LoadKeys("SELECT access_key_id, user_name, secret_ciphertext, policy, created_ms, revoked_ms, tags, expires_ms FROM access_keys WHERE access_key_id = $p", accessKeyId)));

    public ValueTask<IReadOnlyList<AccessKeyRecord>> ListAccessKeysAsync(CancellationToken cancellationToken) =>
        new(LoadKeys("SELECT access_key_id, user_name, secret_ciphertext, policy, created_ms, revoked_ms, tags, expires_ms FROM access_keys ORDER BY created_ms"));

    public ValueTask SaveAccessKeyAsync(AccessKeyRecord key, CancellationToken cancellationToken)
    {
        using var command = Command(
            "INSERT INTO access_keys (access_key_id, user_name, secret_ciphertext, policy, created_ms, revoked_ms, tags, expires_ms) VALUES ($p, $q, $r, $s, $t, $u, $v, $w) " +
            "ON CONFLICT (access_key_id) DO UPDATE SET user_name = excluded.user_name, policy = excluded.policy, revoked_ms = excluded.revoked_ms, tags = excluded.tags",
            key.AccessKeyId, key.UserName, key.EncryptedSecretAccessKey, key.PolicyDocument,
            key.CreatedDate.ToUnixTimeMilliseconds(), key.RevokedDate?.ToUnixTimeMilliseconds(),
            StoredSecretMetadata.SerializeTags(key.Tags),
            key.ExpiresDate?.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();

        return ValueTask.CompletedTask;
    }

    private List<AccessKeyRecord> LoadKeys(string sql, params ReadOnlySpan<object?> parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var keys = new List<AccessKeyRecord>();
        while (reader.Read())
        {
            keys.Add(new AccessKeyRecord(
                reader.GetString(0), reader.GetString(1), (byte[])reader.GetValue(2), reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                StoredSecretMetadata.DeserializeTags(reader.IsDBNull(6) ? null : reader.GetString(6)),
                reader.IsDBNull(7) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(7))));
        }

        return keys;
    }

    private List<Secret> LoadSecrets(string sql, params ReadOnlySpan<object?> parameters) => LoadSecrets(sql, withVersions: true, parameters);

    private List<Secret> LoadSecrets(string sql, bool withVersions, params ReadOnlySpan<object?> parameters)
    {
        var secrets = new List<Secret>();
        using (var reader = Query(sql, parameters))
        {
            while (reader.Read())
            {
                secrets.Add(StoredSecretMetadata.Deserialize(
                    reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                    reader.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
                    reader.GetString(6)));
            }
        }

        if (!withVersions || secrets.Count == 0)
        {
            return secrets;
        }

        if (secrets.Count == 1)
        {
            // The request path's case (one secret by ARN or name): constant SQL, so the prepared statement is found
            // without building its text.
            LoadVersions(secrets,
                "SELECT secret_id, version_id, created_ms, accessed_ms, value_kind IS NOT NULL FROM versions WHERE secret_id = $p",
                "SELECT secret_id, version_id, label FROM stages WHERE secret_id = $p ORDER BY secret_id, version_id, position",
                secrets[0].StoreId);
        }
        else if (secrets.Count <= 1000)
        {
            // A page of a listing: read only its secrets' versions, not the whole table's.
            LoadVersions(secrets,
                "SELECT secret_id, version_id, created_ms, accessed_ms, value_kind IS NOT NULL FROM versions WHERE secret_id IN (SELECT value FROM json_each($p))",
                "SELECT secret_id, version_id, label FROM stages WHERE secret_id IN (SELECT value FROM json_each($p)) ORDER BY secret_id, version_id, position",
                "[" + string.Join(",", secrets.Select(s => s.StoreId)) + "]");
        }
        else
        {
            LoadVersions(secrets,
                "SELECT secret_id, version_id, created_ms, accessed_ms, value_kind IS NOT NULL FROM versions",
                "SELECT secret_id, version_id, label FROM stages ORDER BY secret_id, version_id, position",
                null);
        }

        if (write)
        {
            foreach (var secret in secrets)
            {
                (_stored ??= [])[secret.StoreId] = StoredRows.Of(secret);
            }
        }

        return secrets;
    }

    private void LoadVersions(List<Secret> secrets, string versionsSql, string stagesSql, object? parameter)
    {
        // One secret (the request path) needs no lookup by id; a page or a scan gets a dictionary.
        var single = secrets.Count == 1 ? secrets[0] : null;
        var byId = single is null ? secrets.ToDictionary(s => s.StoreId) : null;
        using (var reader = Query(versionsSql, parameter))
        {
            while (reader.Read())
            {
                var secretId = reader.GetInt64(0);
                var secret = single;
                if (secret is null ? !byId!.TryGetValue(secretId, out secret) : secret.StoreId != secretId)
                {
                    continue;
                }

                var version = new SecretVersion(reader.GetString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetBoolean(4))
                {
                    LastAccessedDate = reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                };
                secret.AddVersion(version);
            }
        }

        // The rows come grouped by secret and version, in label order: each group's labels are restored at once.
        using (var reader = Query(stagesSql, parameter))
        {
            SecretVersion? current = null;
            long currentSecret = 0;
            var labels = new List<string>(4);
            while (reader.Read())
            {
                var secretId = reader.GetInt64(0);
                var versionId = reader.GetString(1);
                if (current is null || currentSecret != secretId || !string.Equals(current.VersionId, versionId, StringComparison.Ordinal))
                {
                    current?.RestoreStages(labels);
                    labels.Clear();
                    currentSecret = secretId;
                    var secret = single;
                    current = (secret is null ? byId!.TryGetValue(secretId, out secret) : secret.StoreId == secretId)
                        ? FindVersion(secret!, versionId)
                        : null;
                    if (current is null)
                    {
                        continue;
                    }
                }

                labels.Add(reader.GetString(2));
            }

            current?.RestoreStages(labels);
        }
    }

    private static T? First<T>(List<T> rows)
        where T : class => rows.Count > 0 ? rows[0] : null;

    private static SecretVersion? FindVersion(Secret secret, string versionId)
    {
        var versions = secret.Versions;
        for (var i = 0; i < versions.Count; i++)
        {
            if (string.Equals(versions[i].VersionId, versionId, StringComparison.Ordinal))
            {
                return versions[i];
            }
        }

        return null;
    }

    /// <summary>
    /// The rows of a secret this unit did not load (a caller saving a secret it read elsewhere), read from the database.
    /// </summary>
    private StoredRows StoredRowsOf(long secretId)
    {
        if (_stored is not null && _stored.TryGetValue(secretId, out var known))
        {
            return known;
        }

        var rows = new StoredRows();
        using (var command = Command("SELECT version_id, accessed_ms FROM versions WHERE secret_id = $p", secretId))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                rows[reader.GetString(0)] = new StoredRow(reader.IsDBNull(1) ? null : reader.GetInt64(1), []);
            }
        }

        using (var command = Command("SELECT version_id, label FROM stages WHERE secret_id = $p ORDER BY version_id, position", secretId))
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                if (rows.TryGetValue(reader.GetString(0), out var row))
                {
                    row.Labels = [.. row.Labels, reader.GetString(1)];
                }
            }
        }

        (_stored ??= [])[secretId] = rows;
        return rows;
    }

    private static bool SameLabels(IReadOnlyList<string> labels, string[] stored)
    {
        if (labels.Count != stored.Length)
        {
            return false;
        }

        for (var i = 0; i < stored.Length; i++)
        {
            if (!string.Equals(labels[i], stored[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A secret's version rows as the database holds them in this unit: id, accessed_ms and labels in order.</summary>
    private sealed class StoredRows() : Dictionary<string, StoredRow>(StringComparer.Ordinal)
    {
        public static StoredRows Of(Secret secret)
        {
            var rows = new StoredRows();
            var versions = secret.Versions;
            rows.EnsureCapacity(versions.Count + 1);
            for (var i = 0; i < versions.Count; i++)
            {
                var version = versions[i];
                rows[version.VersionId] = new StoredRow(version.LastAccessedDate?.ToUnixTimeMilliseconds(), version.Stages.Count == 0 ? [] : [.. version.Stages]);
            }

            return rows;
        }
    }

    private sealed class StoredRow(long? accessedMs, string[] labels)
    {
        public long? AccessedMs { get; set; } = accessedMs;

        public string[] Labels { get; set; } = labels;

        /// <summary>The last save that found this row's version still in the secret.</summary>
        public int Mark { get; set; }
    }

    // A statement of no rows in a write unit, through SQLite's own API (see PreparedConnection.Execute).
    private void Execute(string sql, params ReadOnlySpan<object?> parameters)
    {
        if (!write)
        {
            throw new InvalidOperationException("Only a write unit changes the store.");
        }

        connection.Execute(sql, ParameterNames, parameters);
    }

    // A query whose rows the secret loaders read: in a write unit through SQLite's own API (the write lock is held, so no
    // busy retry is needed), in a read unit through Microsoft.Data.Sqlite, whose reader retries a busy step.
    private Rows Query(string sql, params ReadOnlySpan<object?> parameters)
    {
        if (write)
        {
            return new Rows(connection.Query(sql, ParameterNames, parameters));
        }

        var command = Command(sql, parameters);
        try
        {
            return new Rows(command, command.ExecuteReader());
        }
        catch
        {
            command.Dispose();
            throw;
        }
    }

    private LentCommand Command(string sql, params ReadOnlySpan<object?> parameters)
    {
        var command = connection.Lend(sql);
        command.Bind(ParameterNames, parameters);
        return command;
    }

    private static DateTimeOffset? FromMs(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;
}

/// <summary>The rows of <see cref="SqliteSecretSession"/>'s loaders, from either kind of statement.</summary>
internal readonly struct Rows : IDisposable
{
    private readonly RawQuery _raw;
    private readonly LentCommand _command;
    private readonly SqliteDataReader? _reader;

    public Rows(RawQuery raw) => _raw = raw;

    public Rows(LentCommand command, SqliteDataReader reader)
    {
        _command = command;
        _reader = reader;
    }

    public bool Read() => _reader?.Read() ?? _raw.Read();

    public long GetInt64(int column) => _reader?.GetInt64(column) ?? _raw.GetInt64(column);

    public string GetString(int column) => _reader is null ? _raw.GetString(column) : _reader.GetString(column);

    public bool GetBoolean(int column) => _reader?.GetBoolean(column) ?? _raw.GetInt64(column) != 0;

    public bool IsDBNull(int column) => _reader?.IsDBNull(column) ?? _raw.IsDBNull(column);

    public void Dispose()
    {
        if (_reader is null)
        {
            _raw.Dispose();
            return;
        }

        _reader.Dispose();
        _command.Dispose();
    }
}
