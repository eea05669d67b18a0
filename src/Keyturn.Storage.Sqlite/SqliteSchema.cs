namespace Keyturn.Storage.Sqlite;

/// <summary>
/// Versioned schema. Labels live in their own table keyed by (secret, label), so the database itself
/// guarantees a label has one holder. Values are stored only as ciphertext.
/// </summary>
internal static class SqliteSchema
{
    public const int CurrentVersion = 7;

    public static readonly string[] Migrations =
    [
        """
        CREATE TABLE secrets (
            id INTEGER PRIMARY KEY,
            arn TEXT NOT NULL UNIQUE,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            deletion_ms INTEGER,
            rotation_enabled INTEGER NOT NULL DEFAULT 0,
            metadata TEXT NOT NULL
        );
        CREATE UNIQUE INDEX secrets_region_name ON secrets(region, name);
        CREATE INDEX secrets_deletion ON secrets(deletion_ms) WHERE deletion_ms IS NOT NULL;
        CREATE TABLE versions (
            secret_id INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
            version_id TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            accessed_ms INTEGER,
            value_kind INTEGER,
            ciphertext BLOB,
            PRIMARY KEY (secret_id, version_id)
        ) WITHOUT ROWID;
        CREATE TABLE stages (
            secret_id INTEGER NOT NULL,
            label TEXT NOT NULL,
            version_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (secret_id, label),
            FOREIGN KEY (secret_id, version_id) REFERENCES versions(secret_id, version_id) ON DELETE CASCADE
        ) WITHOUT ROWID;
        CREATE TABLE access_keys (
            access_key_id TEXT PRIMARY KEY,
            user_name TEXT NOT NULL,
            secret_ciphertext BLOB NOT NULL,
            policy TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            revoked_ms INTEGER
        );
        """,
        """
        CREATE TABLE functions (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            timeout_ms INTEGER NOT NULL,
            access_key_id TEXT,
            secret_ciphertext BLOB,
            created_ms INTEGER NOT NULL
        );
        CREATE TABLE rotations (
            secret_arn TEXT NOT NULL,
            token TEXT NOT NULL,
            function_name TEXT NOT NULL,
            mode TEXT NOT NULL,
            status TEXT NOT NULL,
            step TEXT,
            attempt INTEGER NOT NULL DEFAULT 0,
            reason TEXT,
            started_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            next_attempt_ms INTEGER,
            PRIMARY KEY (secret_arn, token)
        );
        CREATE INDEX rotations_status ON rotations(status);
        CREATE TABLE rotation_journal (
            id INTEGER PRIMARY KEY,
            secret_arn TEXT NOT NULL,
            token TEXT NOT NULL,
            step TEXT NOT NULL,
            attempt INTEGER NOT NULL,
            phase TEXT NOT NULL,
            outcome TEXT,
            reason TEXT,
            at_ms INTEGER NOT NULL,
            node TEXT NOT NULL,
            fencing INTEGER NOT NULL
        );
        CREATE INDEX rotation_journal_token ON rotation_journal(secret_arn, token);
        CREATE TABLE leases (
            resource TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            fencing INTEGER NOT NULL,
            expires_ms INTEGER NOT NULL
        );
        CREATE TABLE log_groups (
            name TEXT PRIMARY KEY,
            created_ms INTEGER NOT NULL
        );
        CREATE TABLE log_streams (
            group_name TEXT NOT NULL REFERENCES log_groups(name) ON DELETE CASCADE,
            name TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            first_event_ms INTEGER,
            last_event_ms INTEGER,
            last_ingestion_ms INTEGER,
            stored_bytes INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (group_name, name)
        ) WITHOUT ROWID;
        CREATE TABLE log_events (
            id INTEGER PRIMARY KEY,
            group_name TEXT NOT NULL,
            stream_name TEXT NOT NULL,
            timestamp_ms INTEGER NOT NULL,
            ingestion_ms INTEGER NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX log_events_stream ON log_events(group_name, stream_name, timestamp_ms, id);
        CREATE INDEX log_events_group_time ON log_events(group_name, timestamp_ms, id);
        """,

        // 3: a case-sensitive trigram index over log messages, kept by triggers: FilterLogEvents' quoted terms of three
        // characters or more find their candidate events in it instead of reading every message of the group's time span.
        """
        CREATE VIRTUAL TABLE log_events_text USING fts5(message, content='log_events', content_rowid='id', tokenize='trigram case_sensitive 1');
        INSERT INTO log_events_text(log_events_text) VALUES ('rebuild');
        CREATE TRIGGER log_events_text_insert AFTER INSERT ON log_events BEGIN
            INSERT INTO log_events_text(rowid, message) VALUES (new.id, new.message);
        END;
        CREATE TRIGGER log_events_text_delete AFTER DELETE ON log_events BEGIN
            INSERT INTO log_events_text(log_events_text, rowid, message) VALUES ('delete', old.id, old.message);
        END;
        """,

        // 4: an access key's tags (a JSON object), which policies read as aws:PrincipalTag/*.
        """
        ALTER TABLE access_keys ADD COLUMN tags TEXT;
        """,

        // 5: which master key seals each blob, read from the blob's own header by an indexed virtual column (it can't
        // drift from the data), the master keys the store has been used with, and triggers that refuse a blob sealed by
        // a retired key: a server that missed the end of a master-key rotation fails its write instead of sealing
        // data that no configured key can open.
        MasterKeyMigration(),

        // 6: rotation functions act as their own principals. An administrator's settings per function (the master
        // secrets it may read, whether alternating users may clone a privileged user); access keys may expire (the
        // per-invocation keys of external functions); and the permanent secretsmanager:*-on-* keys that registered
        // functions used to hold are revoked, since each invocation now gets a key scoped to its secret.
        """
        CREATE TABLE function_policies (
            name TEXT PRIMARY KEY,
            allowed_masters TEXT NOT NULL,
            allow_privileged_clone INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL
        );
        ALTER TABLE access_keys ADD COLUMN expires_ms INTEGER;
        UPDATE access_keys SET revoked_ms = CAST(strftime('%s', 'now') AS INTEGER) * 1000
            WHERE revoked_ms IS NULL AND access_key_id IN (SELECT access_key_id FROM functions WHERE access_key_id IS NOT NULL);
        UPDATE functions SET access_key_id = NULL, secret_ciphertext = NULL;
        """,

        // 7: Lambda handler functions (a handler in a code directory, its runtime and memory setting) and per-function
        // environment variables: their names readable, their values sealed like secret values, under the same
        // retired-key guard as every other sealed column.
        """
        ALTER TABLE functions ADD COLUMN handler TEXT;
        ALTER TABLE functions ADD COLUMN runtime TEXT;
        ALTER TABLE functions ADD COLUMN memory_mb INTEGER NOT NULL DEFAULT 128;
        ALTER TABLE functions ADD COLUMN environment_names TEXT NOT NULL DEFAULT '';
        ALTER TABLE functions ADD COLUMN environment_ciphertext BLOB;

        """ + SealedColumnGuard("functions", "environment_ciphertext", "environment_master_key_id"),
    ];

    /// <summary>The master key id in a blob's header ("KT1", id length, id), as SQL over <paramref name="column"/>.</summary>
    public static string KeyIdOf(string column) => $"CAST(substr({column}, 5, unicode(substr({column}, 4, 1))) AS TEXT)";

    private static string MasterKeyMigration()
    {
        (string Table, string Column)[] sealedColumns = [("versions", "ciphertext"), ("access_keys", "secret_ciphertext"), ("functions", "secret_ciphertext")];
        var sql = new System.Text.StringBuilder(
            """
            CREATE TABLE master_keys (
                key_id TEXT PRIMARY KEY,
                added_ms INTEGER NOT NULL,
                retired_ms INTEGER
            );

            """);
        foreach (var (table, column) in sealedColumns)
        {
            sql.Append(SealedColumnGuard(table, column, "master_key_id"));
        }

        return sql.ToString();
    }

    /// <summary>
    /// A sealed column's master key id as an indexed virtual column (master-key rotation finds what to rewrap by it), and
    /// triggers refusing a blob sealed by a retired key.
    /// </summary>
    private static string SealedColumnGuard(string table, string column, string keyColumn)
    {
        // Schema 5 named the first guarded column's index and triggers after the table alone; later ones after the column.
        var prefix = keyColumn == "master_key_id" ? table : $"{table}_{column}";
        var sql = new System.Text.StringBuilder();
        sql.Append($"ALTER TABLE {table} ADD COLUMN {keyColumn} TEXT GENERATED ALWAYS AS ({KeyIdOf(column)}) VIRTUAL;\n");
        sql.Append($"CREATE INDEX {prefix}_master_key ON {table}({keyColumn}) WHERE {keyColumn} IS NOT NULL;\n");
        foreach (var (name, when) in new[] { ("insert", "INSERT"), ("update", $"UPDATE OF {column}") })
        {
            sql.Append($"""
                CREATE TRIGGER {prefix}_retired_key_{name} BEFORE {when} ON {table}
                WHEN NEW.{column} IS NOT NULL AND EXISTS (SELECT 1 FROM master_keys WHERE retired_ms IS NOT NULL AND key_id = {KeyIdOf("NEW." + column)})
                BEGIN SELECT RAISE(ABORT, 'sealed by a retired master key'); END;

                """);
        }

        return sql.ToString();
    }
}
