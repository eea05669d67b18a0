using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Keyturn.Cli.Demo;

/// <summary>
/// A PostgreSQL 15 server for the demo: Debian's package (installed on request), a fresh cluster in a
/// temporary directory owned by the postgres user (PostgreSQL refuses to run as root), loopback only.
/// </summary>
internal sealed class ThrowawayPostgres : IAsyncDisposable
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";
    private readonly string _root = Directory.CreateTempSubdirectory("keyturn-demo-pg-").FullName;
    private readonly string _superPassword = "demo-" + Guid.NewGuid().ToString("N")[..12];
    private bool _running;

    public int Port { get; } = FreePort();

    public string Host => "127.0.0.1";

    public static async Task EnsureInstalledAsync(TextWriter log)
    {
        if (File.Exists(Path.Combine(BinDirectory, "postgres")))
        {
            return;
        }

        log.WriteLine("PostgreSQL 15 is not installed; installing Debian's package (apt-get install postgresql)...");
        await RunAsync("apt-get", ["update", "-qq"], null).ConfigureAwait(false);
        await RunAsync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "postgresql"], new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" }).ConfigureAwait(false);
    }

    public async Task StartAsync()
    {
        var data = Path.Combine(_root, "data");
        var passwordFile = Path.Combine(_root, "pw");
        await File.WriteAllTextAsync(passwordFile, _superPassword).ConfigureAwait(false);
        await RunAsync("chown", ["-R", "postgres:postgres", _root], null).ConfigureAwait(false);
        await RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, "initdb"), "-D", data, "-U", "postgres", "--auth=scram-sha-256", "--pwfile=" + passwordFile], null).ConfigureAwait(false);
        await StartServerAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the server (to show an unreachable database) without deleting it.</summary>
    public Task StopServerAsync()
    {
        _running = false;
        return RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, "pg_ctl"), "-D", Path.Combine(_root, "data"), "-m", "fast", "-w", "stop"], null);
    }

    public async Task StartServerAsync()
    {
        var options = string.Create(CultureInfo.InvariantCulture, $"-k {_root} -p {Port} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=40");
        await RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, "pg_ctl"), "-D", Path.Combine(_root, "data"), "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "-o", options, "start"], null).ConfigureAwait(false);
        _running = true;
    }

    public async Task ExecuteAsync(string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder { Host = Host, Port = Port, Username = "postgres", Password = _superPassword, Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_running)
        {
            try
            {
                await StopServerAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException)
            {
                // Already gone; the directory is removed below either way.
            }
        }

        Directory.Delete(_root, recursive: true);
    }

    private static async Task RunAsync(string file, IEnumerable<string> arguments, IDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', start.ArgumentList)} failed ({process.ExitCode}): {await error.ConfigureAwait(false)}{await output.ConfigureAwait(false)}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
