namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// What <see cref="PostgreSqlRotator.DescribePrivilegesAsync"/> lists: a role's <em>effective</em> privileges,
/// computed by the server's own <c>has_*_privilege</c> and <c>pg_has_role</c> functions, so privileges held
/// directly, through group roles, through ownership or through membership in the owner all look the same. That
/// is what makes a role and its clone (a member of it) comparable line by line; the lines never name the role
/// itself. Covered: role attributes membership does not pass on, membership in predefined <c>pg_*</c> roles,
/// CONNECT/CREATE/TEMPORARY on every database, and, in the database connected to, USAGE/CREATE on schemas,
/// table, view, sequence and column privileges, EXECUTE on functions, owner rights on all of them, and per-role
/// settings. Not covered: large objects, types, languages, foreign servers, tablespaces and default privileges.
/// </summary>
internal static class PostgresPrivileges
{
    public const string Query = """
        WITH target AS (
            SELECT oid, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolcanlogin, rolconnlimit
            FROM pg_catalog.pg_roles WHERE rolname = @role
        ),
        schemas AS (
            SELECT n.oid, n.nspname, n.nspowner FROM pg_catalog.pg_namespace n
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
              AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
        ),
        relations AS (
            SELECT c.oid, c.relkind, c.relowner, s.nspname, c.relname,
                   CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'view'
                                  WHEN 'f' THEN 'foreign table' ELSE 'table' END AS kind
            FROM pg_catalog.pg_class c JOIN schemas s ON s.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
        )
        SELECT 'attribute SUPERUSER' FROM target WHERE rolsuper
        UNION ALL SELECT 'attribute CREATEDB' FROM target WHERE rolcreatedb
        UNION ALL SELECT 'attribute CREATEROLE' FROM target WHERE rolcreaterole
        UNION ALL SELECT 'attribute REPLICATION' FROM target WHERE rolreplication
        UNION ALL SELECT 'attribute BYPASSRLS' FROM target WHERE rolbypassrls
        UNION ALL SELECT 'attribute LOGIN' FROM target WHERE rolcanlogin
        UNION ALL SELECT 'attribute CONNECTION LIMIT ' || rolconnlimit FROM target WHERE rolconnlimit <> -1
        UNION ALL
        SELECT 'member of ' || quote_ident(r.rolname)
        FROM pg_catalog.pg_roles r, target t
        WHERE r.rolname LIKE 'pg\_%' AND r.oid <> t.oid AND pg_catalog.pg_has_role(t.oid, r.oid, 'USAGE')
        UNION ALL
        SELECT 'database ' || quote_ident(d.datname) || ': ' || p.priv
        FROM pg_catalog.pg_database d, target t, unnest(ARRAY['CONNECT', 'CREATE', 'TEMPORARY']) p(priv)
        WHERE d.datallowconn AND pg_catalog.has_database_privilege(t.oid, d.oid, p.priv)
        UNION ALL
        SELECT 'database ' || quote_ident(d.datname) || ': OWNER'
        FROM pg_catalog.pg_database d, target t
        WHERE d.datallowconn AND pg_catalog.pg_has_role(t.oid, d.datdba, 'USAGE')
        UNION ALL
        SELECT 'schema ' || quote_ident(s.nspname) || ': ' || p.priv
        FROM schemas s, target t, unnest(ARRAY['USAGE', 'CREATE']) p(priv)
        WHERE pg_catalog.has_schema_privilege(t.oid, s.oid, p.priv)
        UNION ALL
        SELECT 'schema ' || quote_ident(s.nspname) || ': OWNER'
        FROM schemas s, target t
        WHERE pg_catalog.pg_has_role(t.oid, s.nspowner, 'USAGE')
        UNION ALL
        SELECT r.kind || ' ' || quote_ident(r.nspname) || '.' || quote_ident(r.relname) || ': ' || p.priv
        FROM relations r, target t,
             LATERAL unnest(CASE WHEN r.relkind = 'S' THEN ARRAY['USAGE', 'SELECT', 'UPDATE']
                                 ELSE ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'] END) p(priv)
        WHERE CASE WHEN r.relkind = 'S' THEN pg_catalog.has_sequence_privilege(t.oid, r.oid, p.priv)
                   ELSE pg_catalog.has_table_privilege(t.oid, r.oid, p.priv) END
        UNION ALL
        SELECT r.kind || ' ' || quote_ident(r.nspname) || '.' || quote_ident(r.relname) || ': OWNER'
        FROM relations r, target t
        WHERE pg_catalog.pg_has_role(t.oid, r.relowner, 'USAGE')
        UNION ALL
        SELECT 'column ' || quote_ident(r.nspname) || '.' || quote_ident(r.relname) || '.' || quote_ident(a.attname) || ': ' || p.priv
        FROM relations r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid, target t,
             unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'REFERENCES']) p(priv)
        WHERE r.relkind <> 'S' AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
          AND NOT pg_catalog.has_table_privilege(t.oid, r.oid, p.priv)
          AND pg_catalog.has_column_privilege(t.oid, r.oid, a.attnum, p.priv)
        UNION ALL
        SELECT 'function ' || f.oid::pg_catalog.regprocedure::text || ': EXECUTE'
        FROM pg_catalog.pg_proc f JOIN schemas s ON s.oid = f.pronamespace, target t
        WHERE pg_catalog.has_function_privilege(t.oid, f.oid, 'EXECUTE')
        UNION ALL
        SELECT 'function ' || f.oid::pg_catalog.regprocedure::text || ': OWNER'
        FROM pg_catalog.pg_proc f JOIN schemas s ON s.oid = f.pronamespace, target t
        WHERE pg_catalog.pg_has_role(t.oid, f.proowner, 'USAGE')
        UNION ALL
        SELECT 'setting ' || coalesce('in database ' || quote_ident(d.datname) || ' ', '') || x.cfg
        FROM pg_catalog.pg_db_role_setting st JOIN target t ON st.setrole = t.oid
             LEFT JOIN pg_catalog.pg_database d ON d.oid = st.setdatabase,
             unnest(st.setconfig) x(cfg)
        """;
}
