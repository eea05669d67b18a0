using System.Collections.Concurrent;
using Keyturn.Domain.Secrets;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// Secrets as earlier read units of one <see cref="SqliteSecretStore"/> loaded them (rows, labels and sealed values, never
/// plaintext), reused by a later read unit only when nothing was committed to the file in between.
/// <para>
/// Why it is never stale. <see cref="_epoch"/> only grows. It is raised after every write unit of this store (committed
/// or not), before its connection goes back to the pool, and whenever a connection starts a read snapshot whose
/// <c>PRAGMA data_version</c> differs from the one it saw at its previous read (or it has none yet): SQLite changes that
/// number exactly when another connection, of this process or any other, committed in the interim, while a
/// connection's own commits are covered by the raise after each write unit. A read unit reads the epoch before its
/// snapshot exists and again after the snapshot is taken and checked; it gets a <see cref="Generation"/> only when
/// both readings agree and its connection saw no change. Two units that got the same epoch <c>e</c> saw the same
/// committed state: a commit between their snapshots would have been followed, before the later unit's second reading,
/// by a raise (from the writer's unit if it is ours and ran on the later unit's connection, otherwise from the first
/// read on the later unit's connection after the commit, which happens on that connection before the later unit), and
/// the earlier unit read <c>e</c> before its snapshot, so before that raise. A generation holds only what units of its
/// epoch loaded, so what it serves is exactly what a query on the unit's own snapshot would return.
/// </para>
/// <para>
/// Bounded: a generation that reaches <see cref="MaxSecrets"/> secrets or <see cref="MaxBytes"/> of ciphertext is
/// replaced by an empty one of the same epoch. A new epoch starts an empty generation.
/// </para>
/// </summary>
internal sealed class SqliteReadCache
{
    internal const int MaxSecrets = 1024;
    internal const long MaxBytes = 32L * 1024 * 1024;

    private Generation _current;
    private long _epoch;

    public SqliteReadCache() => _current = new Generation(this, 0);

    /// <summary>Read before a unit's first statement: the epoch its snapshot must still be in.</summary>
    public long EpochBeforeSnapshot() => Volatile.Read(ref _epoch);

    /// <summary>After every write unit, before its connection is reused: its own commits don't change its data_version.</summary>
    public void WriteEnded() => Interlocked.Increment(ref _epoch);

    /// <summary>
    /// The generation a read unit on <paramref name="connection"/> may use, or null. Runs the data_version check on the
    /// unit's snapshot (taking it, when no statement has yet), so the unit's transaction must be open.
    /// </summary>
    public Generation? Join(PreparedConnection connection, long epochBefore)
    {
        var version = connection.ReadDataVersion();
        if (connection.LastDataVersion != version)
        {
            // Another connection committed since this one last looked (or it never looked): what was loaded before may be
            // older than this snapshot. Units of the raised epoch start over.
            connection.LastDataVersion = version;
            Interlocked.Increment(ref _epoch);
            return null;
        }

        if (Volatile.Read(ref _epoch) != epochBefore)
        {
            return null;
        }

        var current = Volatile.Read(ref _current);
        if (current.Epoch == epochBefore)
        {
            return current;
        }

        if (current.Epoch > epochBefore)
        {
            return null;
        }

        var fresh = new Generation(this, epochBefore);
        var seen = Interlocked.CompareExchange(ref _current, fresh, current);
        return ReferenceEquals(seen, current) ? fresh : seen.Epoch == epochBefore ? seen : null;
    }

    private void Restart(Generation full)
    {
        Interlocked.CompareExchange(ref _current, new Generation(this, full.Epoch), full);
    }

    /// <summary>What the units of one epoch loaded: the same committed state, whichever unit loaded it.</summary>
    internal sealed class Generation
    {
        private readonly SqliteReadCache _owner;
        private readonly ConcurrentDictionary<string, CachedSecret> _byArn = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<(string Region, string Name), CachedSecret> _byName = new();
        private readonly ConcurrentDictionary<long, CachedSecret> _byId = new();
        private int _secrets;
        private long _bytes;

        public Generation(SqliteReadCache owner, long epoch)
        {
            _owner = owner;
            Epoch = epoch;
        }

        public long Epoch { get; }

        public CachedSecret? ByArn(string arn) => _byArn.TryGetValue(arn, out var cached) ? cached : null;

        public CachedSecret? ByName(string region, string name) => _byName.TryGetValue((region, name), out var cached) ? cached : null;

        public CachedSecret? ById(long storeId) => _byId.TryGetValue(storeId, out var cached) ? cached : null;

        /// <summary>Keeps a secret as a unit of this epoch loaded it (before the unit can change it).</summary>
        public void Add(Secret loaded)
        {
            if (_byId.ContainsKey(loaded.StoreId))
            {
                return;
            }

            if (Interlocked.Increment(ref _secrets) > MaxSecrets)
            {
                _owner.Restart(this);
                return;
            }

            var cached = new CachedSecret(loaded);
            _byId[loaded.StoreId] = cached;
            _byArn[loaded.Arn] = cached;
            _byName[(loaded.Region, loaded.Name)] = cached;
        }

        /// <summary>Keeps a version's sealed value as a unit of this epoch read it.</summary>
        public void AddValue(CachedSecret cached, int index, StoredValue value)
        {
            if (Interlocked.Add(ref _bytes, value.Ciphertext.Length) > MaxBytes)
            {
                _owner.Restart(this);
                return;
            }

            cached.SetValue(index, value);
        }
    }
}

/// <summary>
/// A secret's rows as loaded in one epoch: immutable once made, except that each version's sealed value is filled in
/// once, the first time a unit reads it (every unit of the epoch would read the same bytes). Units get their own copies.
/// </summary>
internal sealed class CachedSecret
{
    private readonly Secret _secret;
    private readonly Row[] _versions;
    private readonly StoredValue?[] _values;

    public CachedSecret(Secret loaded)
    {
        _secret = loaded.CopyWithoutVersions();
        var versions = loaded.Versions;
        _versions = new Row[versions.Count];
        for (var i = 0; i < _versions.Length; i++)
        {
            var version = versions[i];
            _versions[i] = new Row(version.VersionId, version.CreatedDate, version.LastAccessedDate, version.HasValue, [.. version.Stages]);
        }

        _values = new StoredValue?[_versions.Length];
    }

    /// <summary>A secret of the caller's own, with its versions and labels, no values loaded.</summary>
    public Secret Copy()
    {
        var secret = _secret.CopyWithoutVersions();
        foreach (var row in _versions)
        {
            var version = new SecretVersion(row.VersionId, row.CreatedDate, row.HasValue) { LastAccessedDate = row.LastAccessedDate };
            version.RestoreStages(row.Stages);
            secret.AddVersion(version);
        }

        return secret;
    }

    /// <summary>The version's position here, or -1.</summary>
    public int IndexOf(string versionId)
    {
        for (var i = 0; i < _versions.Length; i++)
        {
            if (string.Equals(_versions[i].VersionId, versionId, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    public bool HasValue(int index) => _versions[index].HasValue;

    public StoredValue? ValueAt(int index) => Volatile.Read(ref _values[index]);

    internal void SetValue(int index, StoredValue value) => Volatile.Write(ref _values[index], value);

    private sealed record Row(string VersionId, DateTimeOffset CreatedDate, DateTimeOffset? LastAccessedDate, bool HasValue, string[] Stages);
}
