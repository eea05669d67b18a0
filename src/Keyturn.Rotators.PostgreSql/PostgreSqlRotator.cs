using System.Diagnostics;
using System.Globalization;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Npgsql;
using NpgsqlSslMode = Npgsql.SslMode;
using SslMode = Keyturn.Application.Rotation.SslMode;

namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// The PostgreSQL (and Aurora PostgreSQL) side of rotation. Passwords are hashed on the client into the verifier
/// the server's <c>password_encryption</c> asks for (see <see cref="PostgresPasswordVerifier"/>); alternating users
/// follow AWS (<c>CREATE ROLE ... LOGIN</c> then <c>GRANT source TO clone</c>), plus the role attributes and
/// per-role settings that membership does not carry. A privileged source (see <see cref="PostgresPrivilegedRoles"/>)
/// is not cloned unless the caller allows it.
/// </summary>
public sealed class PostgreSqlRotator : IDatabaseRotator
{
    /// <summary>Used when the secret has no <c>dbname</c>, as AWS's functions do.</summary>
    public const string DefaultDatabase = "postgres";

    /// <summary>
    /// The engine values AWS's PostgreSQL functions accept (postgres, aurora-postgresql) and the product's own name,
    /// which people write by hand. AWS's default EXCLUDE_CHARACTERS: the colon breaks <c>.pgpass</c>, the others URIs
    /// and quoting. Identifiers are at most NAMEDATALEN - 1 = 63 bytes: longer names are silently truncated.
    /// </summary>
    public static DatabaseEngine Descriptor { get; } = new(
        Family: "postgres",
        Product: "PostgreSQL",
        EngineValues: ["postgres", "aurora-postgresql", "postgresql"],
        DefaultPort: 5432,
        DefaultDatabase: DefaultDatabase,
        ExcludedCharacters: ":/@\"'\\",
        UsernameLimitFor: _ => new UsernameLimit(63, CountsBytes: true, "PostgreSQL"));

    private readonly DatabaseRotatorOptions _options;

    private PostgreSqlRotator(DatabaseRotatorOptions options)
    {
        _options = options;
    }

    public DatabaseEngine Engine => Descriptor;

    /// <summary>The rotator, wrapped so that no error can carry a password.</summary>
    public static IDatabaseRotator Create(DatabaseRotatorOptions? options = null) =>
        new SanitizingDatabaseRotator(new PostgreSqlRotator(options ?? new DatabaseRotatorOptions()));

    /// <summary>The bare rotator, for tests of the sanitizer's necessity only.</summary>
    internal static IDatabaseRotator CreateUnsanitized(DatabaseRotatorOptions? options = null) =>
        new PostgreSqlRotator(options ?? new DatabaseRotatorOptions());

    public Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProbeLoginAsync(connection, timeout, loginOnly: false, cancellationToken);

    public async Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, bool loginOnly, CancellationToken cancellationToken)
    {
        CheckEngine(connection);
        var stopwatch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (loginOnly)
            {
                await PostgresLogin.LoginAsync(connection, connection.DbName ?? DefaultDatabase, _options.RootCertificatePath, deadline.Token).ConfigureAwait(false);
            }
            else
            {
                await using var session = await ConnectAsync(connection, timeout, deadline.Token).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT 1", session.Connection);
                await command.ExecuteScalarAsync(deadline.Token).ConfigureAwait(false);
            }

            return new LoginProbe(LoginOutcome.Ok, DatabaseReasons.Ok, null, $"Logged in as {connection.Username}.", stopwatch.Elapsed);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (outcome, reason, code, message) = PostgresFailures.ClassifyLogin(e, deadline.IsCancellationRequested);
            return new LoginProbe(outcome, reason, code, message, stopwatch.Elapsed);
        }
    }

    public async Task SetOwnPasswordAsync(DatabaseConnection current, string newPassword, CancellationToken cancellationToken)
    {
        CheckEngine(current);
        ArgumentNullException.ThrowIfNull(newPassword);
        await using var session = await OpenAsync(current, cancellationToken).ConfigureAwait(false);
        var server = await ReadServerAsync(session.Connection, cancellationToken).ConfigureAwait(false);
        var sql = $"ALTER ROLE {PostgresSyntax.QuoteIdentifier(server.CurrentUser)} WITH PASSWORD {PasswordLiteral(server, newPassword, server.CurrentUser)}";
        await ExecuteAsync(session.Connection, sql, $"Changing the password of {server.CurrentUser}", cancellationToken).ConfigureAwait(false);
    }

    public async Task SetUserPasswordAsync(DatabaseConnection master, string username, string newPassword, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckRoleName(username);
        ArgumentNullException.ThrowIfNull(newPassword);
        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        if (await FindRoleAsync(session.Connection, username, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new RotatorException(DatabaseReasons.UnknownUser, null, $"The role {username} does not exist.");
        }

        var server = await ReadServerAsync(session.Connection, cancellationToken).ConfigureAwait(false);
        var sql = $"ALTER ROLE {PostgresSyntax.QuoteIdentifier(username)} WITH PASSWORD {PasswordLiteral(server, newPassword, username)}";
        await ExecuteAsync(session.Connection, sql, $"Changing the password of {username}", cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> UserExistsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckRoleName(username);
        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        return await FindRoleAsync(session.Connection, username, cancellationToken).ConfigureAwait(false) is not null;
    }

    public async Task CloneUserAsync(DatabaseConnection master, string sourceUser, string newUser, string newPassword, bool allowPrivilegedRoles, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckRoleName(sourceUser);
        CheckRoleName(newUser);
        ArgumentNullException.ThrowIfNull(newPassword);
        if (sourceUser == newUser)
        {
            throw new ArgumentException("The clone must have another name than its source.", nameof(newUser));
        }

        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        var source = await FindRoleAsync(session.Connection, sourceUser, cancellationToken).ConfigureAwait(false)
            ?? throw new RotatorException(DatabaseReasons.UnknownUser, null, $"The role {sourceUser} to clone does not exist.");
        if (!allowPrivilegedRoles)
        {
            if (await PrivilegeConcernsAsync(session.Connection, sourceUser, cancellationToken).ConfigureAwait(false) is { Count: > 0 } reasons)
            {
                throw new RotatorException(
                    DatabaseReasons.PrivilegedUser,
                    null,
                    $"Refusing to clone {sourceUser}: {string.Join("; ", reasons)}. The clone would reach the same powers; "
                    + "only an administrator can allow cloning privileged users for this rotation function.");
            }
        }

        if (await FindRoleAsync(session.Connection, newUser, cancellationToken).ConfigureAwait(false) is not null)
        {
            throw new RotatorException(DatabaseReasons.UserExists, null, $"The role {newUser} already exists.");
        }

        var server = await ReadServerAsync(session.Connection, cancellationToken).ConfigureAwait(false);
        var settings = await ReadSettingsAsync(session.Connection, sourceUser, cancellationToken).ConfigureAwait(false);
        var clone = PostgresSyntax.QuoteIdentifier(newUser);

        // Attributes membership does not pass on. Copied: CREATEDB, CREATEROLE (only when privileged roles are
        // allowed) and CONNECTION LIMIT (capabilities the source's applications may rely on). Always INHERIT, or the clone would not get the source's
        // privileges through membership. Never copied: SUPERUSER, REPLICATION and BYPASSRLS (a second account with
        // those must be a person's decision; DescribePrivileges reports the difference) and VALID UNTIL (it belongs
        // to the source's password, not to the clone's).
        var attributes = string.Concat(
            " WITH LOGIN INHERIT",
            source.CreateDb ? " CREATEDB" : string.Empty,
            source.CreateRole ? " CREATEROLE" : string.Empty,
            string.Create(CultureInfo.InvariantCulture, $" CONNECTION LIMIT {source.ConnectionLimit}"));

        await using var transaction = await session.Connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(session.Connection, $"CREATE ROLE {clone}{attributes} PASSWORD {PasswordLiteral(server, newPassword, newUser)}", $"Creating {newUser}", cancellationToken)
            .ConfigureAwait(false);
        await ExecuteAsync(session.Connection, $"GRANT {PostgresSyntax.QuoteIdentifier(sourceUser)} TO {clone}", $"Granting {sourceUser} to {newUser}", cancellationToken)
            .ConfigureAwait(false);
        foreach (var setting in settings)
        {
            var scope = setting.Database is null ? string.Empty : $" IN DATABASE {PostgresSyntax.QuoteIdentifier(setting.Database)}";
            await ExecuteAsync(
                session.Connection,
                $"ALTER ROLE {clone}{scope} SET {PostgresSyntax.QuoteSettingName(setting.Name)} = {SettingValue(setting)}",
                $"Copying the setting {setting.Name} of {sourceUser} to {newUser}",
                cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw PostgresFailures.StatementFailed($"Creating {newUser}", e);
        }
    }

    public async Task<IReadOnlyList<string>> DescribePrivilegeConcernsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckRoleName(username);
        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        if (await FindRoleAsync(session.Connection, username, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new RotatorException(DatabaseReasons.UnknownUser, null, $"The role {username} does not exist.");
        }

        return await PrivilegeConcernsAsync(session.Connection, username, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<string>> DescribePrivilegesAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckRoleName(username);
        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        if (await FindRoleAsync(session.Connection, username, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new RotatorException(DatabaseReasons.UnknownUser, null, $"The role {username} does not exist.");
        }

        var lines = new List<string>();
        try
        {
            await using var command = new NpgsqlCommand(PostgresPrivileges.Query, session.Connection);
            command.Parameters.AddWithValue("role", username);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                lines.Add(reader.GetString(0));
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw PostgresFailures.StatementFailed($"Describing the privileges of {username}", e);
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private NpgsqlDataSource DataSource(DatabaseConnection connection, TimeSpan connectTimeout)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = connection.Host,
            Port = connection.Port,
            Username = connection.Username,
            Password = connection.Password,
            Database = connection.DbName ?? DefaultDatabase,
            SslMode = connection.Ssl switch
            {
                SslMode.Prefer => NpgsqlSslMode.Prefer,
                SslMode.Require => NpgsqlSslMode.VerifyFull,
                SslMode.Disable => NpgsqlSslMode.Disable,
                _ => throw new ArgumentOutOfRangeException(nameof(connection), connection.Ssl, "Unknown SSL mode."),
            },
            GssEncryptionMode = GssEncryptionMode.Disable,
            Timeout = Seconds(connectTimeout),
            CommandTimeout = Seconds(_options.CommandTimeout),
            Pooling = false,
            Enlist = false,
            ApplicationName = "keyturn-rotator",
        };
        if (connection.Ssl == SslMode.Require && _options.RootCertificatePath is { } root)
        {
            builder.RootCertificate = root;
        }

        // Built-in types only: no catalog queries after login, so a probe is one round of SQL and works for
        // users that can read nothing.
        var dataSource = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        dataSource.ConfigureTypeLoading(loading => loading.EnableTypeLoading(false));
        return dataSource.Build();
    }

    private async Task<Session> OpenAsync(DatabaseConnection connection, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ConnectTimeout);
        try
        {
            return await ConnectAsync(connection, _options.ConnectTimeout, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw PostgresFailures.LoginFailed(connection, e, deadline.IsCancellationRequested);
        }
    }

    /// <summary>
    /// Opens a connection, giving up as soon as <paramref name="cancellationToken"/> fires. Npgsql does not
    /// always notice cancellation while it waits for the server's first bytes, so an open still pending then is
    /// abandoned and cleaned up in the background (it ends by itself at the driver's own timeout).
    /// </summary>
    private async Task<Session> ConnectAsync(DatabaseConnection connection, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var dataSource = DataSource(connection, connectTimeout);
        var open = dataSource.OpenConnectionAsync(cancellationToken).AsTask();
        try
        {
            return new Session(dataSource, await open.WaitAsync(cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            _ = open.ContinueWith(
                async finished =>
                {
                    if (finished.IsCompletedSuccessfully)
                    {
                        await finished.Result.DisposeAsync().ConfigureAwait(false);
                    }

                    _ = finished.Exception;
                    await dataSource.DisposeAsync().ConfigureAwait(false);
                },
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
            throw;
        }
    }

    private static async Task<ServerInfo> ReadServerAsync(NpgsqlConnection session, CancellationToken cancellationToken)
    {
        const string Sql = """
            SELECT current_user::text,
                   current_setting('password_encryption'),
                   coalesce(current_setting('scram_iterations', true), '')
            """;
        try
        {
            await using var command = new NpgsqlCommand(Sql, session);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var iterations = int.TryParse(reader.GetString(2), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n
                : PostgresPasswordVerifier.DefaultIterations;
            return new ServerInfo(reader.GetString(0), reader.GetString(1), iterations);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw PostgresFailures.StatementFailed("Reading the server's settings", e);
        }
    }

    private static async Task<RoleInfo?> FindRoleAsync(NpgsqlConnection session, string name, CancellationToken cancellationToken)
    {
        const string Sql = """
            SELECT rolcreatedb, rolcreaterole, rolconnlimit
            FROM pg_catalog.pg_roles WHERE rolname = @name
            """;
        try
        {
            await using var command = new NpgsqlCommand(Sql, session);
            command.Parameters.AddWithValue("name", name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new RoleInfo(reader.GetBoolean(0), reader.GetBoolean(1), reader.GetInt32(2))
                : null;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw PostgresFailures.StatementFailed($"Looking up the role {name}", e);
        }
    }

    /// <summary>What makes <paramref name="role"/> privileged (see <see cref="PostgresPrivilegedRoles"/>); empty when nothing does.</summary>
    private static async Task<IReadOnlyList<string>> PrivilegeConcernsAsync(NpgsqlConnection session, string role, CancellationToken cancellationToken) =>
        PostgresPrivilegedRoles.Reasons(role, await ReadReachAsync(session, role, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// The role and every role it is a member of, directly or not, with or without INHERIT, nearest first. Circular
    /// memberships are impossible in PostgreSQL; the depth bound only keeps a damaged catalog from looping.
    /// </summary>
    private static async Task<List<PostgresRoleReach>> ReadReachAsync(NpgsqlConnection session, string role, CancellationToken cancellationToken)
    {
        const string Sql = """
            WITH RECURSIVE reach(oid, via, depth) AS (
                SELECT r.oid, ARRAY[]::text[], 0 FROM pg_catalog.pg_roles r WHERE r.rolname = @name
                UNION ALL
                SELECT m.roleid, CASE WHEN reach.depth = 0 THEN reach.via ELSE reach.via || (member.rolname::text COLLATE "default") END, reach.depth + 1
                FROM reach
                JOIN pg_catalog.pg_auth_members m ON m.member = reach.oid
                JOIN pg_catalog.pg_roles member ON member.oid = reach.oid
                WHERE reach.depth < 32
            )
            SELECT r.rolname::text, reach.via, r.rolsuper, r.rolcreaterole, r.rolreplication, r.rolbypassrls, r.rolcreatedb
            FROM reach JOIN pg_catalog.pg_roles r ON r.oid = reach.oid
            ORDER BY reach.depth, r.rolname
            """;
        var reach = new List<PostgresRoleReach>();
        try
        {
            await using var command = new NpgsqlCommand(Sql, session);
            command.Parameters.AddWithValue("name", role);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                reach.Add(new PostgresRoleReach(
                    reader.GetString(0),
                    reader.GetFieldValue<string[]>(1),
                    reader.GetBoolean(2),
                    reader.GetBoolean(3),
                    reader.GetBoolean(4),
                    reader.GetBoolean(5),
                    reader.GetBoolean(6)));
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw PostgresFailures.StatementFailed($"Reading the roles {role} is a member of", e);
        }

        return reach;
    }

    private static async Task<List<RoleSetting>> ReadSettingsAsync(NpgsqlConnection session, string role, CancellationToken cancellationToken)
    {
        // pg_db_role_setting holds ALTER ROLE ... SET values as "name=value" (lists already flattened by the
        // server). Settings for every database (setdatabase = 0) and for single databases both count.
        const string Sql = """
            SELECT d.datname::text, unnest(s.setconfig)
            FROM pg_catalog.pg_db_role_setting s
            JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
            LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
            WHERE r.rolname = @name
            """;
        var settings = new List<RoleSetting>();
        try
        {
            await using var command = new NpgsqlCommand(Sql, session);
            command.Parameters.AddWithValue("name", role);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var database = reader.IsDBNull(0) ? null : reader.GetString(0);
                var entry = reader.GetString(1);
                var equals = entry.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0)
                {
                    settings.Add(new RoleSetting(database, entry[..equals], entry[(equals + 1)..]));
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw PostgresFailures.StatementFailed($"Reading the settings of {role}", e);
        }

        return settings;
    }

    /// <summary>
    /// The value of a copied setting. List parameters that quote their elements (<c>search_path</c> and the like)
    /// come back flattened as <c>"$user", public</c>; each element is passed as its own literal so the server
    /// flattens it to the same text. Everything else is one literal.
    /// </summary>
    private static string SettingValue(RoleSetting setting) =>
        PostgresSyntax.IsQuotedList(setting.Name)
            ? string.Join(", ", PostgresSyntax.SplitQuotedList(setting.Value).Select(PostgresSyntax.QuoteLiteral))
            : PostgresSyntax.QuoteLiteral(setting.Value);

    private static string PasswordLiteral(ServerInfo server, string password, string roleName)
    {
        if (PostgresPasswordVerifier.CanHashOnClient(password)
            && PostgresPasswordVerifier.For(server.PasswordEncryption, password, roleName, server.ScramIterations) is { } verifier)
        {
            return PostgresSyntax.QuoteLiteral(verifier);
        }

        // Non-ASCII passwords need SASLprep, which the server does; send an escaped literal and let it hash.
        return PostgresSyntax.QuoteLiteral(password);
    }

    private static async Task ExecuteAsync(NpgsqlConnection session, string sql, string what, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = new NpgsqlCommand(sql, session);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            throw PostgresFailures.StatementFailed(what, e);
        }
    }

    private void CheckEngine(DatabaseConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!Descriptor.Serves(connection.Engine))
        {
            throw new ArgumentException($"The PostgreSQL rotator does not handle engine '{connection.Engine}'.", nameof(connection));
        }
    }

    private static void CheckRoleName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!PostgresSyntax.IsValidRoleName(name))
        {
            throw new RotatorException(
                DatabaseReasons.Unsupported,
                null,
                $"'{name}' is not a usable PostgreSQL role name: it must be 1 to {PostgresSyntax.MaxIdentifierBytes} bytes without NUL.");
        }
    }

    private static int Seconds(TimeSpan timeout) =>
        (int)Math.Clamp(Math.Ceiling(timeout.TotalSeconds), 1, 1024);

    /// <summary>One logged-in connection and the unpooled data source it came from; disposing closes both.</summary>
    private sealed class Session(NpgsqlDataSource dataSource, NpgsqlConnection connection) : IAsyncDisposable
    {
        public NpgsqlConnection Connection { get; } = connection;

        public async ValueTask DisposeAsync()
        {
            await Connection.DisposeAsync().ConfigureAwait(false);
            await dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed record ServerInfo(string CurrentUser, string PasswordEncryption, int ScramIterations);

    private sealed record RoleInfo(bool CreateDb, bool CreateRole, int ConnectionLimit);

    private sealed record RoleSetting(string? Database, string Name, string Value);
}
