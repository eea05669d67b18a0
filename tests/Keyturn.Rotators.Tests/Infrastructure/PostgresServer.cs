using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace Keyturn.Rotators.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL 15 cluster: initdb with SCRAM authentication in a temp directory owned by the postgres
/// OS user, TLS on with the test CA's certificate, started with pg_ctl on a free loopback port, stopped with
/// immediate shutdown and deleted afterwards. Statements of DDL are logged, so tests can check that no password
/// ever reaches the server's log.
/// </summary>
public sealed class PostgresServer
{
    /// <summary>Debian's PostgreSQL 15 binaries; another installed major version is used when 15 is absent.</summary>
    public static readonly string BinDirectory = FindBinDirectory();
    public const string Database = "keyturn";
    public const string Superuser = "postgres";
    public const string MasterUser = "keyturn_master";

    /// <summary>A master whose sessions use <c>password_encryption = md5</c>.</summary>
    public const string Md5MasterUser = "keyturn_md5_master";

    /// <summary>Logs in with the md5 method (pg_hba), for the md5 verifier test.</summary>
    public const string Md5User = "keyturn_md5_user";

    /// <summary>pg_hba rejects this user on connections without TLS.</summary>
    public const string TlsOnlyUser = "keyturn_tls_only";

    private string? _root;

    public int Port { get; private set; }

    public string SuperuserPassword { get; } = NewPassword();

    public string MasterPassword { get; } = NewPassword();

    public string DataDirectory => Path.Combine(_root!, "data");

    public string LogPath => Path.Combine(_root!, "server.log");

    public static string? MissingBinary() =>
        File.Exists(Path.Combine(BinDirectory, "postgres")) && File.Exists(Path.Combine(BinDirectory, "initdb"))
            ? null
            : $"{BinDirectory}/postgres (Debian package postgresql-15)";

    /// <summary>Starts the cluster; without <paramref name="certificates"/> it runs without TLS, as initdb leaves it (benchmarks).</summary>
    /// <param name="maxConnections">More for a store shared by several Keyturn nodes, each with its own pool.</param>
    public async Task StartAsync(TestCertificates? certificates, int maxConnections = 40)
    {
        _root = Directory.CreateTempSubdirectory("keyturn-pg-").FullName;
        var passwordFile = Path.Combine(_root, "pwfile");
        await File.WriteAllTextAsync(passwordFile, SuperuserPassword + "\n");
        var tls = certificates is null ? "-c ssl=off" : TlsOptions(certificates.WriteServerFiles(_root));
        await ChownAsync();

        await ProcessRunner.RunAsPostgresAsync(
            Path.Combine(BinDirectory, "initdb"),
            ["-D", DataDirectory, "-U", Superuser, "--auth=scram-sha-256", $"--pwfile={passwordFile}", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            TimeSpan.FromSeconds(60));

        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), $"""
            local all all scram-sha-256
            hostnossl all {TlsOnlyUser} 127.0.0.1/32 reject
            host all {Md5User} 127.0.0.1/32 md5
            host all all 127.0.0.1/32 scram-sha-256
            """);
        await ChownAsync();

        // A port found free can be taken by another process before PostgreSQL binds it: then another one is tried.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            var options = string.Join(' ', [
                $"-k {_root}",
                string.Create(CultureInfo.InvariantCulture, $"-p {Port}"),
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                string.Create(CultureInfo.InvariantCulture, $"-c shared_buffers=16MB -c max_connections={maxConnections}"),
                tls,
                "-c log_statement=ddl -c log_min_error_statement=error",
            ]);
            try
            {
                await ProcessRunner.RunAsPostgresAsync(
                    Path.Combine(BinDirectory, "pg_ctl"),
                    ["-D", DataDirectory, "-l", LogPath, "-w", "-t", "60", "-o", options, "start"],
                    TimeSpan.FromSeconds(90));
                break;
            }
            catch (InvalidOperationException) when (attempt < 5 && File.Exists(LogPath) && File.ReadAllText(LogPath).Contains("Address already in use", StringComparison.Ordinal))
            {
                await File.WriteAllTextAsync(LogPath, "");
            }
        }

        await ExecuteAsSuperuserAsync(
            "postgres",
            $"CREATE ROLE {MasterUser} LOGIN CREATEROLE CREATEDB PASSWORD '{MasterPassword}'",
            $"CREATE DATABASE {Database} OWNER {MasterUser}",
            $"CREATE ROLE {Md5MasterUser} LOGIN CREATEROLE PASSWORD '{MasterPassword}'",
            $"ALTER ROLE {Md5MasterUser} SET password_encryption = 'md5'");
        await using var master = new NpgsqlConnection(ConnectionString(MasterUser, MasterPassword));
        await master.OpenAsync();
        foreach (var sql in new[]
        {
            "CREATE TABLE orders (id int PRIMARY KEY, note text)",
            "INSERT INTO orders VALUES (1, 'first'), (2, 'second')",
            "CREATE TABLE invoices (id int PRIMARY KEY, amount numeric, secret_note text)",
            "CREATE SEQUENCE order_numbers",
            "CREATE SCHEMA shared",
        })
        {
            await using var command = new NpgsqlCommand(sql, master);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static string TlsOptions((string Certificate, string Key) files) => $"-c ssl=on -c ssl_cert_file={files.Certificate} -c ssl_key_file={files.Key}";

    public string ConnectionString(string user, string password, string database = Database) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = user,
            Password = password,
            Database = database,
            Pooling = false,
            SslMode = SslMode.Disable,
        }.ConnectionString;

    /// <summary>Runs statements as the superuser, one at a time, outside a transaction.</summary>
    public async Task ExecuteAsSuperuserAsync(string database, params string[] statements)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(Superuser, SuperuserPassword, database));
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public async Task<T?> ScalarAsSuperuserAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(Superuser, SuperuserPassword));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>Stops the server (fast shutdown), keeping its data, as a PostgreSQL restart or failover would.</summary>
    public Task StopServerAsync() =>
        ProcessRunner.RunAsPostgresAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"], TimeSpan.FromSeconds(90));

    /// <summary>Starts the stopped server again with the options of its last run (pg_ctl keeps them in postmaster.opts).</summary>
    public Task StartServerAgainAsync() =>
        ProcessRunner.RunAsPostgresAsync(Path.Combine(BinDirectory, "pg_ctl"), ["-D", DataDirectory, "-l", LogPath, "-w", "-t", "60", "restart"], TimeSpan.FromSeconds(90));

    public async Task StopAsync()
    {
        if (_root is null)
        {
            return;
        }

        try
        {
            if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
            {
                await ProcessRunner.RunAsPostgresAsync(
                    Path.Combine(BinDirectory, "pg_ctl"),
                    ["-D", DataDirectory, "-m", "immediate", "-w", "stop"],
                    TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            TestDirectories.Delete(_root);
            _root = null;
        }
    }

    /// <summary>Synchronous last-resort stop for process exit; does nothing when already stopped.</summary>
    public void StopNow()
    {
        var root = _root;
        if (root is null || !File.Exists(Path.Combine(root, "data", "postmaster.pid")))
        {
            return;
        }

        try
        {
            ProcessRunner.RunAsPostgresAsync(
                Path.Combine(BinDirectory, "pg_ctl"),
                ["-D", Path.Combine(root, "data"), "-m", "immediate", "-w", "stop"],
                TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            TestDirectories.Delete(root);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or TimeoutException)
        {
        }
    }

    private static string FindBinDirectory()
    {
        const string Preferred = "/usr/lib/postgresql/15/bin";
        if (File.Exists(Path.Combine(Preferred, "postgres")) || !Directory.Exists("/usr/lib/postgresql"))
        {
            return Preferred;
        }

        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(version => Path.Combine(version, "bin"))
            .Where(bin => File.Exists(Path.Combine(bin, "postgres")))
            .OrderByDescending(bin => int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0)
            .FirstOrDefault() ?? Preferred;
    }

    private static string NewPassword() => "Pg" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    private Task ChownAsync() =>
        ProcessRunner.IsRoot
            ? ProcessRunner.RunAsync("chown", ["-R", "postgres:postgres", _root!], TimeSpan.FromSeconds(30))
            : Task.CompletedTask;
}
