namespace Keyturn.Storage.Sqlite;

/// <summary>
/// Versioned schema. Labels live in their own table keyed by (secret, label), so the database itself
/// guarantees a label has one holder. Values are stored only as ciphertext.
/// </summary>
internal static class SqliteSchema
{
    public const int CurrentVersion = 1;

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
    ];
}
