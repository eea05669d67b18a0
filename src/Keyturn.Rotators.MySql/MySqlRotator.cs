using System.Diagnostics;
using System.Globalization;
using System.Text;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using MySqlConnector;

namespace Keyturn.Rotators.MySql;

/// <summary>
/// The MySQL, MariaDB and Aurora MySQL side of rotation. Users are handled per account (<c>user@host</c>): every
/// account with the user name is changed or cloned with its own host, never an assumed <c>'%'</c> (aws-samples
/// issue #101). Passwords travel only as MySqlConnector parameters. A privileged source (see
/// <see cref="MySqlPrivileges"/>) is not cloned unless the caller allows it.
/// </summary>
public sealed class MySqlRotator : IDatabaseRotator
{
    /// <summary>
    /// MySQL, MariaDB and Aurora MySQL. AWS's default EXCLUDE_CHARACTERS (the colon is allowed). User names: 32
    /// characters on MySQL 5.7.8 and later (Aurora MySQL 2 and 3, MySQL 8 and 9); MariaDB has long allowed 80 (10.11
    /// even takes 128), which holds on every release RDS still runs. The same <c>mysql</c> secret may point at either
    /// server, so only <c>mariadb</c> gets the longer limit.
    /// </summary>
    public static DatabaseEngine Descriptor { get; } = new(
        Family: "mysql",
        Product: "MySQL",
        EngineValues: ["mysql", "mariadb", "aurora-mysql"],
        DefaultPort: 3306,
        DefaultDatabase: "",
        ExcludedCharacters: "/@\"'\\",
        UsernameLimitFor: engine => engine.Trim().Equals("mariadb", StringComparison.OrdinalIgnoreCase)
            ? new UsernameLimit(80, CountsBytes: false, "MariaDB")
            : new UsernameLimit(32, CountsBytes: false, "MySQL"));

    // Password-capable authentication plugins whose hash the server can compute from a plaintext password.
    private static readonly string[] MariaDbPasswordPlugins = ["mysql_native_password", "ed25519"];
    private static readonly string[] MySqlPasswordPlugins = ["mysql_native_password", "caching_sha2_password", "sha256_password"];

    private readonly DatabaseRotatorOptions _options;

    private MySqlRotator(DatabaseRotatorOptions options)
    {
        _options = options;
    }

    public DatabaseEngine Engine => Descriptor;

    /// <summary>The rotator, wrapped so that no error can carry a password.</summary>
    public static IDatabaseRotator Create(DatabaseRotatorOptions? options = null) =>
        new SanitizingDatabaseRotator(new MySqlRotator(options ?? new DatabaseRotatorOptions()));

    /// <summary>The bare rotator, for tests of the sanitizer's necessity only.</summary>
    internal static IDatabaseRotator CreateUnsanitized(DatabaseRotatorOptions? options = null) =>
        new MySqlRotator(options ?? new DatabaseRotatorOptions());

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
            await using var session = await ConnectAsync(connection, timeout, deadline.Token).ConfigureAwait(false);
            if (!loginOnly)
            {
                await using var command = new MySqlCommand("SELECT 1", session);
                await command.ExecuteScalarAsync(deadline.Token).ConfigureAwait(false);
            }

            return new LoginProbe(LoginOutcome.Ok, DatabaseReasons.Ok, null, $"Logged in as {connection.Username}.", stopwatch.Elapsed);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (outcome, reason, code, message) = MySqlFailures.ClassifyLogin(e, deadline.IsCancellationRequested);
            return new LoginProbe(outcome, reason, code, message, stopwatch.Elapsed);
        }
    }

    public async Task SetOwnPasswordAsync(DatabaseConnection current, string newPassword, CancellationToken cancellationToken)
    {
        CheckEngine(current);
        ArgumentNullException.ThrowIfNull(newPassword);
        await using var session = await OpenAsync(current, cancellationToken).ConfigureAwait(false);

        // SET PASSWORD keeps the account's authentication plugin(s) and hashes with them. On MariaDB a plain
        // string would be taken as an already-computed hash, so it goes through PASSWORD(); MySQL 5.7.6+ takes
        // the plaintext (PASSWORD() is gone in 8.0). AWS picked the branch by "version starts with 8", which
        // sends MariaDB 10/11 and MySQL 9 down the wrong one.
        var sql = session.IsMariaDb ? "SET PASSWORD = PASSWORD(@password)" : "SET PASSWORD = @password";
        await ExecuteAsync(session, sql, $"Changing the password of {current.Username}", cancellationToken, ("password", newPassword))
            .ConfigureAwait(false);
    }

    public async Task SetUserPasswordAsync(DatabaseConnection master, string username, string newPassword, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckUserName(username);
        ArgumentNullException.ThrowIfNull(newPassword);
        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        var hosts = await FindHostsAsync(session, username, cancellationToken).ConfigureAwait(false);
        if (hosts.Count == 0)
        {
            throw new RotatorException(DatabaseReasons.UnknownUser, null, $"No account named {username} exists.");
        }

        // Every account with this name: a client may reach the server through any of them.
        foreach (var host in hosts)
        {
            var account = MySqlSyntax.Account(username, host);
            var sql = session.IsMariaDb ? $"SET PASSWORD FOR {account} = PASSWORD(@password)" : $"SET PASSWORD FOR {account} = @password";
            await ExecuteAsync(session, sql, $"Changing the password of {username}@{host}", cancellationToken, ("password", newPassword))
                .ConfigureAwait(false);
        }
    }

    public async Task<bool> UserExistsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckUserName(username);
        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        return (await FindHostsAsync(session, username, cancellationToken).ConfigureAwait(false)).Count > 0;
    }

    public async Task CloneUserAsync(DatabaseConnection master, string sourceUser, string newUser, string newPassword, bool allowPrivilegedRoles, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckUserName(sourceUser);
        CheckUserName(newUser);
        ArgumentNullException.ThrowIfNull(newPassword);
        if (sourceUser == newUser)
        {
            throw new ArgumentException("The clone must have another name than its source.", nameof(newUser));
        }

        await using var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        var hosts = await FindHostsAsync(session, sourceUser, cancellationToken).ConfigureAwait(false);
        if (hosts.Count == 0)
        {
            throw new RotatorException(DatabaseReasons.UnknownUser, null, $"No account named {sourceUser} exists to clone.");
        }

        if ((await FindHostsAsync(session, newUser, cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            throw new RotatorException(DatabaseReasons.UserExists, null, $"An account named {newUser} already exists.");
        }

        // Read everything first, so a grant line this code can't parse stops the clone before anything exists.
        var privileges = allowPrivilegedRoles ? null : new PrivilegeFindings();
        var plans = await ReadAccountsAsync(session, sourceUser, hosts, privileges, cancellationToken).ConfigureAwait(false);
        if (privileges is { Reasons.Count: > 0 })
        {
            throw new RotatorException(
                DatabaseReasons.PrivilegedUser,
                null,
                $"Refusing to clone {sourceUser}: {string.Join("; ", privileges.Reasons)}. The clone would get the same grants; "
                + "only an administrator can allow cloning privileged users for this rotation function.");
        }

        // DDL can't be rolled back in MySQL: on any failure drop what was created, so a retry starts clean and no
        // half-privileged clone is left for the engine to promote.
        var created = new List<string>();
        try
        {
            foreach (var (host, account, grants) in plans)
            {
                var clone = MySqlSyntax.Account(newUser, host);
                var (sql, parameters) = CreateUserStatement(session.IsMariaDb, clone, account, newPassword);
                await ExecuteAsync(session, sql, $"Creating {newUser}@{host}", cancellationToken, parameters).ConfigureAwait(false);
                created.Add(clone);
                foreach (var grant in grants)
                {
                    await ExecuteAsync(session, grant.ReplayFor(clone), $"Copying a grant of {sourceUser}@{host} to {newUser}@{host}", cancellationToken)
                        .ConfigureAwait(false);
                }
            }
        }
        catch
        {
            foreach (var clone in created)
            {
                try
                {
                    await using var drop = new MySqlCommand($"DROP USER IF EXISTS {clone}", session.Connection);
                    await drop.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (MySqlException)
                {
                    // Best effort; the original failure is what matters.
                }
            }

            throw;
        }
    }

    public async Task<IReadOnlyList<string>> DescribePrivilegeConcernsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        var (session, hosts) = await OpenExistingUserAsync(master, username, cancellationToken).ConfigureAwait(false);
        await using var lease = session;

        var privileges = new PrivilegeFindings();
        await ReadAccountsAsync(session, username, hosts, privileges, cancellationToken).ConfigureAwait(false);
        return privileges.Reasons;
    }

    public async Task<IReadOnlyList<string>> DescribePrivilegesAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        var (session, hosts) = await OpenExistingUserAsync(master, username, cancellationToken).ConfigureAwait(false);
        await using var lease = session;

        var lines = new List<string>();
        foreach (var host in hosts)
        {
            // The placeholder stands for the user name; the host stays, because it is part of what was copied.
            var prefix = $"{IDatabaseRotator.UserPlaceholder}@{MySqlSyntax.QuoteIdentifier(host)}";
            var account = await ReadAccountAsync(session, username, host, cancellationToken).ConfigureAwait(false);
            lines.AddRange(account.Describe().Select(option => $"{prefix}: {option}"));
            foreach (var grant in await ReadGrantsAsync(session, username, host, cancellationToken).ConfigureAwait(false))
            {
                lines.AddRange(grant.Describe(prefix));
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static (string Sql, (string Name, object Value)[] Parameters) CreateUserStatement(bool mariaDb, string clone, AccountInfo source, string password)
    {
        var parameters = new List<(string, object)> { ("password", password) };
        var sql = new StringBuilder("CREATE USER ").Append(clone);

        // The same authentication plugin as the source when it is a password plugin the server hashes itself
        // (names come from a fixed list, never from the server's text); the server default otherwise.
        if (mariaDb && MariaDbPasswordPlugins.Contains(source.Plugin, StringComparer.Ordinal))
        {
            sql.Append(" IDENTIFIED VIA ").Append(source.Plugin).Append(" USING PASSWORD(@password)");
        }
        else if (!mariaDb && MySqlPasswordPlugins.Contains(source.Plugin, StringComparer.Ordinal))
        {
            sql.Append(" IDENTIFIED WITH ").Append(source.Plugin).Append(" BY @password");
        }
        else
        {
            sql.Append(" IDENTIFIED BY @password");
        }

        switch (source.SslType)
        {
            case "ANY":
                sql.Append(" REQUIRE SSL");
                break;
            case "X509":
                sql.Append(" REQUIRE X509");
                break;
            case "SPECIFIED":
                var parts = new List<string>();
                AddRequirement("CIPHER", "cipher", source.SslCipher);
                AddRequirement("ISSUER", "issuer", source.X509Issuer);
                AddRequirement("SUBJECT", "subject", source.X509Subject);
                if (parts.Count > 0)
                {
                    sql.Append(" REQUIRE ").Append(string.Join(" AND ", parts));
                }

                void AddRequirement(string keyword, string name, string value)
                {
                    if (value.Length > 0)
                    {
                        parts.Add($"{keyword} @{name}");
                        parameters.Add((name, value));
                    }
                }

                break;
        }

        var limits = source.Limits().ToList();
        if (limits.Count > 0)
        {
            sql.Append(" WITH ").Append(string.Join(' ', limits));
        }

        return (sql.ToString(), parameters.ToArray());
    }

    private string ConnectionString(DatabaseConnection connection, TimeSpan connectTimeout)
    {
        var builder = new MySqlConnectionStringBuilder
        {
            Server = connection.Host,
            Port = checked((uint)connection.Port),
            UserID = connection.Username,
            Password = connection.Password,
            Database = connection.DbName ?? string.Empty,
            SslMode = connection.Ssl switch
            {
                SslMode.Prefer => MySqlSslMode.Preferred,
                SslMode.Require => MySqlSslMode.VerifyFull,
                SslMode.Disable => MySqlSslMode.None,
                _ => throw new ArgumentOutOfRangeException(nameof(connection), connection.Ssl, "Unknown SSL mode."),
            },
            ConnectionTimeout = (uint)Math.Clamp(Math.Ceiling(connectTimeout.TotalSeconds), 1, 3600),
            DefaultCommandTimeout = (uint)Math.Clamp(Math.Ceiling(_options.CommandTimeout.TotalSeconds), 1, 3600),
            Pooling = false,
            AutoEnlist = false,
            ApplicationName = "keyturn-rotator",
            ConnectionProtocol = MySqlConnectionProtocol.Sockets,

            // Replayed grant text is the server's own and may contain '@' or '?' inside quoted names; with this,
            // only parameters this code adds are ever substituted.
            AllowUserVariables = true,

            // Without TLS, MySQL 8's caching_sha2_password needs the server's RSA key to send the password.
            AllowPublicKeyRetrieval = connection.Ssl == SslMode.Disable,
        };
        if (connection.Ssl == SslMode.Require && _options.RootCertificatePath is { } root)
        {
            builder.SslCa = root;
        }

        return builder.ConnectionString;
    }

    private async Task<Session> OpenAsync(DatabaseConnection connection, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ConnectTimeout);
        MySqlConnection session;
        try
        {
            session = await ConnectAsync(connection, _options.ConnectTimeout, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw MySqlFailures.LoginFailed(connection.ToString(), e, deadline.IsCancellationRequested);
        }

        try
        {
            // A known sql_mode for this session: backticks quote names and backslashes escape in strings, which
            // is what the grant parser expects of the server's SHOW GRANTS text.
            await using var command = new MySqlCommand("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'; SELECT VERSION()", session);
            var version = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? string.Empty;
            return new Session(session, version.Contains("MariaDB", StringComparison.OrdinalIgnoreCase));
        }
        catch (Exception e)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw e is MySqlException ? MySqlFailures.StatementFailed("Reading the server version", e) : e;
        }
    }

    /// <summary>
    /// Opens a connection, giving up as soon as <paramref name="cancellationToken"/> fires; an open still pending
    /// then is abandoned and disposed in the background when it ends (at the driver's own timeout at the latest).
    /// </summary>
    private async Task<MySqlConnection> ConnectAsync(DatabaseConnection connection, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var session = new MySqlConnection(ConnectionString(connection, connectTimeout));
        var open = session.OpenAsync(cancellationToken);
        try
        {
            await open.WaitAsync(cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch
        {
            _ = open.ContinueWith(
                async finished =>
                {
                    _ = finished.Exception;
                    await session.DisposeAsync().ConfigureAwait(false);
                },
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>A session as <paramref name="master"/> and the hosts of <paramref name="username"/>'s accounts; unknown-user when there are none.</summary>
    private async Task<(Session Session, List<string> Hosts)> OpenExistingUserAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        CheckEngine(master);
        CheckUserName(username);
        var session = await OpenAsync(master, cancellationToken).ConfigureAwait(false);
        try
        {
            var hosts = await FindHostsAsync(session, username, cancellationToken).ConfigureAwait(false);
            return hosts.Count > 0 ? (session, hosts) : throw new RotatorException(DatabaseReasons.UnknownUser, null, $"No account named {username} exists.");
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<List<string>> FindHostsAsync(Session session, string user, CancellationToken cancellationToken)
    {
        // MariaDB lists roles in mysql.user too (is_role = 'Y', empty host); they are not accounts.
        var sql = session.IsMariaDb
            ? "SELECT Host FROM mysql.user WHERE User = @user AND is_role = 'N' ORDER BY Host"
            : "SELECT Host FROM mysql.user WHERE User = @user ORDER BY Host";
        var hosts = new List<string>();
        try
        {
            await using var command = new MySqlCommand(sql, session.Connection);
            command.Parameters.AddWithValue("@user", user);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                hosts.Add(Text(reader.GetValue(0)));
            }
        }
        catch (MySqlException e)
        {
            throw MySqlFailures.StatementFailed($"Looking up the accounts named {user}", e);
        }

        return hosts;
    }

    private static async Task<AccountInfo> ReadAccountAsync(Session session, string user, string host, CancellationToken cancellationToken)
    {
        var sql = session.IsMariaDb
            ? "SELECT plugin, ssl_type, ssl_cipher, x509_issuer, x509_subject, max_questions, max_updates, max_connections, max_user_connections, max_statement_time FROM mysql.user WHERE User = @user AND Host = @host"
            : "SELECT plugin, ssl_type, ssl_cipher, x509_issuer, x509_subject, max_questions, max_updates, max_connections, max_user_connections, 0 FROM mysql.user WHERE User = @user AND Host = @host";
        try
        {
            await using var command = new MySqlCommand(sql, session.Connection);
            command.Parameters.AddWithValue("@user", user);
            command.Parameters.AddWithValue("@host", host);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new RotatorException(DatabaseReasons.UnknownUser, null, $"The account {user}@{host} disappeared.");
            }

            return new AccountInfo(
                Text(reader.GetValue(0)),
                Text(reader.GetValue(1)).ToUpperInvariant(),
                Text(reader.GetValue(2)),
                Text(reader.GetValue(3)),
                Text(reader.GetValue(4)),
                Number(reader.GetValue(5)),
                Number(reader.GetValue(6)),
                Number(reader.GetValue(7)),
                Number(reader.GetValue(8)),
                Convert.ToDecimal(reader.IsDBNull(9) ? 0 : reader.GetValue(9), CultureInfo.InvariantCulture));
        }
        catch (MySqlException e)
        {
            throw MySqlFailures.StatementFailed($"Reading the account {user}@{host}", e);
        }
    }

    /// <summary>
    /// Reads every account of <paramref name="user"/> (its properties and grants) and, given
    /// <paramref name="privileges"/>, judges each as soon as it is read: once one is privileged, an account that
    /// can't be read (a host name under skip-name-resolve, say) doesn't hide that, and the accounts read so far
    /// are returned.
    /// </summary>
    private static async Task<List<(string Host, AccountInfo Account, List<MySqlGrant> Grants)>> ReadAccountsAsync(
        Session session, string user, List<string> hosts, PrivilegeFindings? privileges, CancellationToken cancellationToken)
    {
        var accounts = new List<(string Host, AccountInfo Account, List<MySqlGrant> Grants)>();
        foreach (var host in hosts)
        {
            try
            {
                var account = await ReadAccountAsync(session, user, host, cancellationToken).ConfigureAwait(false);
                var grants = await ReadGrantsAsync(session, user, host, cancellationToken).ConfigureAwait(false);
                accounts.Add((host, account, grants));
                if (privileges is not null)
                {
                    await JudgeAsync(session, privileges, $"{user}@{host}", grants, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (RotatorException) when (privileges is { Reasons.Count: > 0 })
            {
                break;
            }
        }

        return accounts;
    }

    /// <summary>
    /// Adds what makes <paramref name="account"/> privileged (see <see cref="MySqlPrivileges"/>), in its own
    /// <paramref name="grants"/> or in those of any role it has, however deeply nested.
    /// </summary>
    private static async Task JudgeAsync(Session session, PrivilegeFindings findings, string account, List<MySqlGrant> grants, CancellationToken cancellationToken)
    {
        var roles = new Queue<string>();
        void Judge(string holder, MySqlGrant grant)
        {
            findings.Add(MySqlPrivileges.Reasons(grant).Select(reason => $"{holder} has {reason}"));
            if (grant.Kind == MySqlGrantKind.Roles)
            {
                foreach (var role in grant.Items.Where(findings.SeenRoles.Add))
                {
                    roles.Enqueue(role);
                }
            }
        }

        try
        {
            foreach (var grant in grants)
            {
                Judge(account, grant);
            }

            // Role names come from the server's own SHOW GRANTS text, already quoted (`r` on MariaDB, `r`@`%` on MySQL).
            while (roles.TryDequeue(out var role))
            {
                foreach (var grant in (await ShowGrantsAsync(session, role, cancellationToken).ConfigureAwait(false)).Select(MySqlGrant.Parse))
                {
                    Judge($"{account}'s role {(grant.Host.Length == 0 ? grant.User : $"{grant.User}@{grant.Host}")}, which", grant);
                }
            }
        }
        catch (FormatException e)
        {
            throw new RotatorException(DatabaseReasons.Unsupported, null, $"Judging the grants of {account} failed: {e.Message}");
        }
    }

    private static async Task<List<string>> ShowGrantsAsync(Session session, string grantee, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        try
        {
            await using var command = new MySqlCommand($"SHOW GRANTS FOR {grantee}", session.Connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                lines.Add(Text(reader.GetValue(0)));
            }
        }
        catch (MySqlException e)
        {
            throw MySqlFailures.StatementFailed($"Reading the grants of {grantee}", e);
        }

        return lines;
    }

    private static async Task<List<MySqlGrant>> ReadGrantsAsync(Session session, string user, string host, CancellationToken cancellationToken)
    {
        var lines = await ShowGrantsAsync(session, MySqlSyntax.Account(user, host), cancellationToken).ConfigureAwait(false);
        try
        {
            return lines.Select(line => MySqlGrant.Parse(line, user, host)).ToList();
        }
        catch (FormatException e)
        {
            throw new RotatorException(DatabaseReasons.Unsupported, null, $"Reading the grants of {user}@{host} failed: {e.Message}");
        }
    }

    private static async Task ExecuteAsync(Session session, string sql, string what, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        try
        {
            await using var command = new MySqlCommand(sql, session.Connection);
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue("@" + name, value);
            }

            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e)
        {
            throw MySqlFailures.StatementFailed(what, e);
        }
    }

    private void CheckEngine(DatabaseConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!Descriptor.Serves(connection.Engine))
        {
            throw new ArgumentException($"The MySQL rotator does not handle engine '{connection.Engine}'.", nameof(connection));
        }
    }

    private static void CheckUserName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.Contains('\0', StringComparison.Ordinal))
        {
            throw new RotatorException(DatabaseReasons.Unsupported, null, "A MySQL user name must be non-empty and without NUL.");
        }
    }

    private static string Text(object value) =>
        value switch
        {
            null or DBNull => string.Empty,
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
        };

    private static long Number(object value) =>
        value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private sealed class Session(MySqlConnection connection, bool isMariaDb) : IAsyncDisposable
    {
        public MySqlConnection Connection { get; } = connection;

        public bool IsMariaDb { get; } = isMariaDb;

        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }

    /// <summary>What makes a source privileged, distinct and in the order found, and the roles already judged.</summary>
    private sealed class PrivilegeFindings
    {
        private readonly List<string> _reasons = [];

        public IReadOnlyList<string> Reasons => _reasons;

        public HashSet<string> SeenRoles { get; } = new(StringComparer.Ordinal);

        public void Add(IEnumerable<string> reasons)
        {
            foreach (var reason in reasons.Where(reason => !_reasons.Contains(reason, StringComparer.Ordinal)).ToList())
            {
                _reasons.Add(reason);
            }
        }
    }

    /// <summary>The account properties that are not grants: plugin, TLS requirement, resource limits.</summary>
    private sealed record AccountInfo(
        string Plugin,
        string SslType,
        string SslCipher,
        string X509Issuer,
        string X509Subject,
        long MaxQuestions,
        long MaxUpdates,
        long MaxConnections,
        long MaxUserConnections,
        decimal MaxStatementTime)
    {
        public IEnumerable<string> Limits()
        {
            if (MaxQuestions > 0)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"MAX_QUERIES_PER_HOUR {MaxQuestions}");
            }

            if (MaxUpdates > 0)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"MAX_UPDATES_PER_HOUR {MaxUpdates}");
            }

            if (MaxConnections > 0)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"MAX_CONNECTIONS_PER_HOUR {MaxConnections}");
            }

            if (MaxUserConnections != 0)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"MAX_USER_CONNECTIONS {MaxUserConnections}");
            }

            if (MaxStatementTime > 0)
            {
                yield return string.Create(CultureInfo.InvariantCulture, $"MAX_STATEMENT_TIME {MaxStatementTime}");
            }
        }

        /// <summary>The lines DescribePrivileges reports for the account itself (the plugin is not a privilege).</summary>
        public IEnumerable<string> Describe()
        {
            var require = SslType switch
            {
                "ANY" => "REQUIRE SSL",
                "X509" => "REQUIRE X509",
                "SPECIFIED" => $"REQUIRE CIPHER '{SslCipher}' ISSUER '{X509Issuer}' SUBJECT '{X509Subject}'",
                _ => null,
            };
            if (require is not null)
            {
                yield return require;
            }

            foreach (var limit in Limits())
            {
                yield return limit;
            }
        }
    }
}
