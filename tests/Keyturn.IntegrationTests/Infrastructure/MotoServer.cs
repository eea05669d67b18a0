using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// moto (an independent AWS emulator, see moto/README.md) in server mode on a free loopback port, started through
/// moto/moto-up.sh and stopped on dispose.
/// </summary>
public sealed class MotoServer : IAsyncDisposable
{
    private readonly int _pid;

    private MotoServer(int pid, string endpoint)
    {
        _pid = pid;
        Endpoint = endpoint;
    }

    /// <summary>http://127.0.0.1:PORT, for <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c> or <c>--endpoint-url</c>.</summary>
    public string Endpoint { get; }

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Infrastructure", "moto", "moto-up.sh");

    /// <summary>The environment an AWS SDK or CLI needs to talk to this server (fixed test credentials, us-east-1).</summary>
    public Dictionary<string, string> ClientEnvironment(string service) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = "testing",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
        ["AWS_REGION"] = "us-east-1",
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_CONFIG_FILE"] = "/dev/null",
        ["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null",
        ["AWS_ENDPOINT_URL_" + service.ToUpperInvariant()] = Endpoint,
    };

    public static async Task<MotoServer> StartAsync()
    {
        // A port found free can be taken by another process before moto binds it: then another one is tried.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync().ConfigureAwait(false);
            }
            catch (InvalidOperationException e) when (attempt < 5 && e.Message.Contains("Address already in use", StringComparison.Ordinal))
            {
            }
        }
    }

    private static async Task<MotoServer> StartOnceAsync()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Script);
        start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not run moto-up.sh.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        var output = await stdout.ConfigureAwait(false);
        var line = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("PID=", StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"moto did not start (exit {process.ExitCode}):\n{output}\n{await stderr.ConfigureAwait(false)}");
        }

        return new MotoServer(int.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture), $"http://127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var process = Process.GetProcessById(_pid);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
    }
}
