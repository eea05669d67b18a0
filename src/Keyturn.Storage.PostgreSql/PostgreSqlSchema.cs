namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// One migration of the PostgreSQL schema. <paramref name="CompatibleFrom"/> is the oldest schema version a node's code may
/// require and still run against a database this migration was applied to: an additive migration (new tables, new nullable
/// columns) keeps the previous code working and says so, which lets nodes of version N and N+1 run side by side during a
/// rolling upgrade.
/// </summary>
public sealed record PostgreSqlMigration(int Version, string Description, int CompatibleFrom, string Sql);

/// <summary>
/// The versioned schema, applied in order by <see cref="PostgreSqlDatabase"/>. The same tables and meaning as the embedded
/// store (timestamps in Unix milliseconds, a secret's metadata as one JSON document, labels keyed by (secret, label) so a
/// label has one holder, values only as ciphertext with the master key id read from each blob's header), so a whole-store
/// copy moves rows and sealed blobs as they are.
/// <para>
/// To extend: append a <see cref="PostgreSqlMigration"/> with the next version number; never edit one that was released.
/// Set <see cref="PostgreSqlMigration.CompatibleFrom"/> to the previous version when running code still works against the
/// new schema (added tables, columns with defaults), or to its own version when older nodes must stop first.
/// </para>
/// </summary>
public static class PostgreSqlSchema
{
    /// <summary>The schema version this build requires: the last migration's.</summary>
    public static int RequiredVersion => Migrations[^1].Version;

    public static readonly IReadOnlyList<PostgreSqlMigration> Migrations =
    [
        new(1, "secrets, versions, labels, access keys, functions, rotations, journal, leases, master keys", 1, Initial),
        new(2, "log groups, streams and events with a trigram index", 1, PostgreSqlLogSchema.Migration),
    ];

    private const string Initial =
        """
        -- The master key id recorded in a sealed blob's header ("KT1", id length, ASCII id); null for anything else.
        CREATE FUNCTION keyturn_key_id(blob bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
            SELECT CASE WHEN length(blob) >= 4 AND substring(blob FROM 1 FOR 3) = '\x4b5431'::bytea
                THEN encode(substring(blob FROM 5 FOR get_byte(blob, 3)), 'escape') END
        $$;

        CREATE TABLE secrets (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            arn text NOT NULL CONSTRAINT secrets_arn_key UNIQUE,
            region text NOT NULL,
            name text NOT NULL,
            created_ms bigint NOT NULL,
            deletion_ms bigint,
            rotation_enabled boolean NOT NULL DEFAULT false,
            metadata jsonb NOT NULL,
            CONSTRAINT secrets_region_name_key UNIQUE (region, name)
        );
        CREATE INDEX secrets_deletion ON secrets (deletion_ms) WHERE deletion_ms IS NOT NULL;
        CREATE INDEX secrets_rotation_enabled ON secrets (id) WHERE rotation_enabled;

        CREATE TABLE versions (
            secret_id bigint NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
            version_id text NOT NULL,
            created_ms bigint NOT NULL,
            accessed_ms bigint,
            value_kind integer,
            ciphertext bytea,
            master_key_id text GENERATED ALWAYS AS (keyturn_key_id(ciphertext)) STORED,
            CONSTRAINT versions_pkey PRIMARY KEY (secret_id, version_id)
        );
        CREATE INDEX versions_master_key ON versions (master_key_id) WHERE master_key_id IS NOT NULL;

        CREATE TABLE stages (
            secret_id bigint NOT NULL,
            label text NOT NULL,
            version_id text NOT NULL,
            position integer NOT NULL,
            PRIMARY KEY (secret_id, label),
            FOREIGN KEY (secret_id, version_id) REFERENCES versions (secret_id, version_id) ON DELETE CASCADE
        );
        CREATE INDEX stages_version ON stages (secret_id, version_id);

        CREATE TABLE access_keys (
            access_key_id text PRIMARY KEY,
            user_name text NOT NULL,
            secret_ciphertext bytea NOT NULL,
            policy text NOT NULL,
            created_ms bigint NOT NULL,
            revoked_ms bigint,
            tags text,
            expires_ms bigint,
            master_key_id text GENERATED ALWAYS AS (keyturn_key_id(secret_ciphertext)) STORED
        );
        CREATE INDEX access_keys_master_key ON access_keys (master_key_id) WHERE master_key_id IS NOT NULL;

        CREATE TABLE functions (
            name text PRIMARY KEY,
            kind text NOT NULL,
            target text NOT NULL,
            timeout_ms bigint NOT NULL,
            access_key_id text,
            secret_ciphertext bytea,
            created_ms bigint NOT NULL,
            handler text,
            runtime text,
            memory_mb integer NOT NULL DEFAULT 128,
            environment_names text NOT NULL DEFAULT '',
            environment_ciphertext bytea,
            master_key_id text GENERATED ALWAYS AS (keyturn_key_id(secret_ciphertext)) STORED,
            environment_master_key_id text GENERATED ALWAYS AS (keyturn_key_id(environment_ciphertext)) STORED
        );
        CREATE INDEX functions_master_key ON functions (master_key_id) WHERE master_key_id IS NOT NULL;
        CREATE INDEX functions_environment_master_key ON functions (environment_master_key_id) WHERE environment_master_key_id IS NOT NULL;

        CREATE TABLE function_policies (
            name text PRIMARY KEY,
            allowed_masters text NOT NULL,
            allow_privileged_clone boolean NOT NULL,
            updated_ms bigint NOT NULL
        );

        CREATE TABLE rotations (
            secret_arn text NOT NULL,
            token text NOT NULL,
            function_name text NOT NULL,
            mode text NOT NULL,
            status text NOT NULL,
            step text,
            attempt integer NOT NULL DEFAULT 0,
            reason text,
            started_ms bigint NOT NULL,
            updated_ms bigint NOT NULL,
            next_attempt_ms bigint,
            version bigint NOT NULL DEFAULT 1,
            CONSTRAINT rotations_pkey PRIMARY KEY (secret_arn, token)
        );
        CREATE INDEX rotations_open ON rotations (secret_arn) WHERE status IN ('Pending', 'Running', 'Retrying');

        CREATE TABLE rotation_journal (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            secret_arn text NOT NULL,
            token text NOT NULL,
            step text NOT NULL,
            attempt integer NOT NULL,
            phase text NOT NULL,
            outcome text,
            reason text,
            at_ms bigint NOT NULL,
            node text NOT NULL,
            fencing bigint NOT NULL
        );
        CREATE INDEX rotation_journal_token ON rotation_journal (secret_arn, token, id);

        CREATE TABLE leases (
            resource text PRIMARY KEY,
            owner text NOT NULL,
            fencing bigint NOT NULL,
            expires_ms bigint NOT NULL
        );

        CREATE TABLE master_keys (
            key_id text PRIMARY KEY,
            added_ms bigint NOT NULL,
            retired_ms bigint
        );

        -- A node that missed the end of a master-key rotation fails its write instead of sealing data that no configured
        -- key can open. AFTER row triggers, because stored generated columns are computed only by then.
        CREATE FUNCTION keyturn_refuse_retired_key() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            sealing_key text := to_jsonb(NEW) ->> TG_ARGV[0];
        BEGIN
            IF sealing_key IS NOT NULL AND EXISTS (SELECT 1 FROM master_keys WHERE key_id = sealing_key AND retired_ms IS NOT NULL) THEN
                RAISE EXCEPTION 'sealed by a retired master key' USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER versions_retired_key AFTER INSERT OR UPDATE OF ciphertext ON versions
            FOR EACH ROW EXECUTE FUNCTION keyturn_refuse_retired_key('master_key_id');
        CREATE TRIGGER access_keys_retired_key AFTER INSERT OR UPDATE OF secret_ciphertext ON access_keys
            FOR EACH ROW EXECUTE FUNCTION keyturn_refuse_retired_key('master_key_id');
        CREATE TRIGGER functions_retired_key AFTER INSERT OR UPDATE OF secret_ciphertext ON functions
            FOR EACH ROW EXECUTE FUNCTION keyturn_refuse_retired_key('master_key_id');
        CREATE TRIGGER functions_environment_retired_key AFTER INSERT OR UPDATE OF environment_ciphertext ON functions
            FOR EACH ROW EXECUTE FUNCTION keyturn_refuse_retired_key('environment_master_key_id');
        """;
}
