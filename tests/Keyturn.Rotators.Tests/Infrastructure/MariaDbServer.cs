using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using MySqlConnector;

namespace Keyturn.Rotators.Tests.Infrastructure;

/// <summary>
/// A throwaway MariaDB 10.11 server: mariadb-install-db into a temp directory, then mariadbd (ignoring every
/// option file) on a free loopback port with a Unix socket for set-up, TLS with the test CA's certificate, and
/// <c>--skip-name-resolve</c> so accounts match on 127.0.0.1 without DNS. Killed and deleted afterwards.
/// </summary>
public sealed class MariaDbServer
{
    public const string ServerBinary = "/usr/sbin/mariadbd";
    public const string InstallBinary = "/usr/bin/mariadb-install-db";
    public const string Database = "keyturn";
    public const string MasterUser = "keyturn_master";

    private string? _root;
    private Process? _process;

    public int Port { get; private set; }

    public string MasterPassword { get; } = "My" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));

    public string SocketPath => Path.Combine(_root!, "mysqld.sock");

    public static string? MissingBinary() =>
        File.Exists(ServerBinary) && File.Exists(InstallBinary) ? null : $"{ServerBinary} (Debian package mariadb-server)";

    public async Task StartAsync(TestCertificates certificates)
    {
        _root = Directory.CreateTempSubdirectory("keyturn-mariadb-").FullName;
        var data = Path.Combine(_root, "data");
        var user = Environment.UserName;
        await ProcessRunner.RunAsync(
            InstallBinary,
            ["--no-defaults", $"--user={user}", $"--datadir={data}", "--auth-root-authentication-method=normal", "--skip-test-db"],
            TimeSpan.FromSeconds(60));

        var (certificate, key) = certificates.WriteServerFiles(_root);

        // A port found free can be taken by another process before mariadbd binds it: then another one is tried.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await LaunchAsync(user, data, certificate, key);
                break;
            }
            catch (InvalidOperationException) when (attempt < 5 && ReadErrorLog().Contains("Address already in use", StringComparison.Ordinal))
            {
                StopProcess();
                File.Delete(Path.Combine(_root!, "error.log"));
            }
        }

        await ExecuteAsRootAsync(
            $"CREATE USER '{MasterUser}'@'%' IDENTIFIED BY '{MasterPassword}'",
            $"GRANT ALL PRIVILEGES ON *.* TO '{MasterUser}'@'%' WITH GRANT OPTION",
            $"CREATE DATABASE {Database}",
            $"CREATE TABLE {Database}.orders (id INT PRIMARY KEY, note VARCHAR(50))",
            $"INSERT INTO {Database}.orders VALUES (1, 'first'), (2, 'second')",
            $"CREATE TABLE {Database}.lobby (id INT)",
            $"CREATE TABLE {Database}.invoices (id INT PRIMARY KEY, amount DECIMAL(10,2), secret_note VARCHAR(50))");
    }

    private async Task LaunchAsync(string user, string data, string certificate, string key)
    {
        var root = _root!;
        Port = FreePort.Next();
        var info = new ProcessStartInfo(ServerBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--no-defaults",
            $"--user={user}",
            $"--datadir={data}",
            $"--socket={SocketPath}",
            string.Create(CultureInfo.InvariantCulture, $"--port={Port}"),
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            $"--pid-file={Path.Combine(root, "mariadbd.pid")}",
            $"--log-error={Path.Combine(root, "error.log")}",
            "--innodb-buffer-pool-size=16M",
            "--innodb-flush-log-at-trx-commit=0",
            "--plugin-load-add=auth_ed25519",
            $"--ssl-cert={certificate}",
            $"--ssl-key={key}",
        })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {ServerBinary}.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        await WaitUntilReadyAsync();
    }

    /// <summary>Runs statements as root over the Unix socket.</summary>
    public async Task ExecuteAsRootAsync(params string[] statements)
    {
        await using var connection = new MySqlConnection(RootConnectionString());
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = new MySqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    public async Task<List<string>> QueryAsRootAsync(string sql)
    {
        await using var connection = new MySqlConnection(RootConnectionString());
        await connection.OpenAsync();
        await using var command = new MySqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join('|', Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    public Task StopAsync()
    {
        StopNow();
        return Task.CompletedTask;
    }

    /// <summary>Kills the server and deletes its directory; does nothing when already stopped.</summary>
    public void StopNow()
    {
        try
        {
            StopProcess();
        }
        finally
        {
            TestDirectories.Delete(_root);
            _root = null;
        }
    }

    private void StopProcess()
    {
        try
        {
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            _process?.Dispose();
            _process = null;
        }
    }

    private string RootConnectionString() =>
        new MySqlConnectionStringBuilder
        {
            Server = SocketPath,
            ConnectionProtocol = MySqlConnectionProtocol.UnixSocket,
            UserID = "root",
            Pooling = false,
            AllowUserVariables = true,
        }.ConnectionString;

    private async Task WaitUntilReadyAsync()
    {
        var deadline = Stopwatch.StartNew();
        Exception? last = null;
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"mariadbd exited with {_process.ExitCode}: {ReadErrorLog()}");
            }

            if (File.Exists(SocketPath))
            {
                try
                {
                    await using var connection = new MySqlConnection(RootConnectionString());
                    await connection.OpenAsync();
                    return;
                }
                catch (MySqlException e)
                {
                    last = e;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"mariadbd did not accept connections within 60 s ({last?.Message}): {ReadErrorLog()}");
    }

    private string ReadErrorLog()
    {
        var path = Path.Combine(_root!, "error.log");
        return File.Exists(path) ? File.ReadAllText(path) : "(no error log)";
    }
}
