using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// A real <c>keyturn serve</c> process on a free loopback port with its own temporary data
/// directory. Everything it prints is kept, so tests can prove no secret reached the logs.
/// Disposing it deletes the directories it created (see <see cref="TestDirectories"/>; KEYTURN_TEST_KEEP=1 keeps them);
/// a data directory given to it is its caller's to delete.
/// </summary>
public sealed class KeyturnProcess : IAsyncDisposable
{
    public const string Region = "us-east-1";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    /// <summary>Set on a cluster's front (<see cref="KeyturnCluster.Front"/>): its output and disposal are the whole cluster's.</summary>
    private readonly KeyturnCluster? _cluster;

    /// <summary>The server's TMPDIR, deleted once it has exited.</summary>
    private readonly string? _temporaryDirectory;

    /// <summary>The data directory when none was given: this object's to delete when disposed (tests may still read it after a stop).</summary>
    private readonly string? _ownDataDirectory;

    private KeyturnProcess(Process process, string dataDirectory, string endpoint, string accessKeyId, string secretAccessKey, string? caBundle = null, string? temporaryDirectory = null, string? ownDataDirectory = null)
    {
        _process = process;
        _temporaryDirectory = temporaryDirectory;
        _ownDataDirectory = ownDataDirectory;
        CaBundle = caBundle;
        DataDirectory = dataDirectory;
        Endpoint = endpoint;
        AccessKeyId = accessKeyId;
        SecretAccessKey = secretAccessKey;
    }

    private KeyturnProcess(KeyturnProcess first, KeyturnCluster cluster, string endpoint)
        : this(first._process, first.DataDirectory, endpoint, first.AccessKeyId, first.SecretAccessKey, first.CaBundle)
    {
        _cluster = cluster;
        StoreEnvironment = first.StoreEnvironment;
    }

    /// <summary>Node-local files (master key, root credentials); the store too unless <see cref="StoreEnvironment"/> names a shared one.</summary>
    public string DataDirectory { get; }

    public string Endpoint { get; }

    /// <summary>
    /// What an administration command (<c>keyturn keys</c>, <c>functions</c>, <c>rotations</c>) needs besides
    /// <c>--data-dir</c> to open the same store: <c>KEYTURN_STORE</c> and <c>KEYTURN_MASTER_KEY</c> for a cluster node; empty for the embedded store.
    /// </summary>
    public IReadOnlyDictionary<string, string> StoreEnvironment { get; private init; } = new Dictionary<string, string>();

    /// <summary>The root key, plus <see cref="StoreEnvironment"/>: what <c>keyturn</c> administration commands run with.</summary>
    public Dictionary<string, string> AdminEnvironment => new(StoreEnvironment)
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = AccessKeyId,
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = SecretAccessKey,
    };

    public string AccessKeyId { get; }

    public string SecretAccessKey { get; }

    /// <summary>The PEM file clients trust when the server speaks HTTPS; null on plain HTTP.</summary>
    public string? CaBundle { get; }

    public string Output
    {
        get
        {
            if (_cluster is not null)
            {
                return _cluster.Output;
            }

            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string KeyturnDll => Path.Combine(AppContext.BaseDirectory, "keyturn.dll");

    /// <param name="arguments">More arguments for <c>keyturn serve</c>.</param>
    /// <param name="umask">Start the server under this umask (through sh), e.g. "000" to prove its files are private anyway.</param>
    /// <param name="tls">Serve HTTPS this way (see <see cref="TlsSettings"/>); plain HTTP on loopback when null.</param>
    /// <param name="port">Listen on this loopback port (a cluster node restarted where the proxy expects it); a free one when null.</param>
    /// <param name="storeEnvironment">Set for the server and for administration commands on it (see <see cref="StoreEnvironment"/>).</param>
    /// <param name="keyturnDll">Another build's <c>keyturn.dll</c> (an earlier version in a rolling upgrade); this build's when null.</param>
    public static async Task<KeyturnProcess> StartAsync(string? dataDirectory = null, IDictionary<string, string>? environment = null, IEnumerable<string>? arguments = null, string? umask = null, TlsSettings? tls = null,
        int? port = null, IReadOnlyDictionary<string, string>? storeEnvironment = null, string? keyturnDll = null)
    {
        var ownDataDirectory = dataDirectory is null ? TestDirectories.Create("keyturn-it-") : null;
        dataDirectory ??= ownDataDirectory!;
        if (port is not null)
        {
            return await StartOnceAsync(dataDirectory, ownDataDirectory, environment, arguments, umask, tls, port.Value, storeEnvironment, keyturnDll).ConfigureAwait(false);
        }

        // A port found free can be taken by another process before the server binds it (other test runs share the
        // machine): the server then refuses to start, and another free port is tried.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(dataDirectory, ownDataDirectory, environment, arguments, umask, tls, FreePort(), storeEnvironment, keyturnDll).ConfigureAwait(false);
            }
            catch (PortTakenException) when (attempt < 5)
            {
            }
        }
    }

    private static async Task<KeyturnProcess> StartOnceAsync(string dataDirectory, string? ownDataDirectory, IDictionary<string, string>? environment, IEnumerable<string>? arguments, string? umask, TlsSettings? tls,
        int port, IReadOnlyDictionary<string, string>? storeEnvironment, string? keyturnDll)
    {
        var endpoint = tls is null ? $"http://127.0.0.1:{port}" : $"https://{tls.Host}:{port}";
        var accessKeyId = environment?.TryGetValue("KEYTURN_ROOT_ACCESS_KEY_ID", out var givenId) == true ? givenId : "AKIAKEYTURNTEST" + Random.Shared.Next(10000, 99999);
        var secret = environment?.TryGetValue("KEYTURN_ROOT_SECRET_ACCESS_KEY", out var givenSecret) == true ? givenSecret : Convert.ToBase64String(Guid.NewGuid().ToByteArray()) + "Xy9";

        var start = new ProcessStartInfo(umask is null ? "dotnet" : "sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (umask is not null)
        {
            foreach (var arg in new[] { "-c", $"umask {umask} && exec dotnet \"$@\"", "sh" })
            {
                start.ArgumentList.Add(arg);
            }
        }

        foreach (var arg in new[] { keyturnDll ?? KeyturnDll, "serve", "--data-dir", dataDirectory, "--listen", $"127.0.0.1:{port}", "--log-level", "Debug" }.Concat(tls?.Arguments ?? []).Concat(arguments ?? []))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["KEYTURN_ROOT_ACCESS_KEY_ID"] = accessKeyId;
        start.Environment["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = secret;

        // The server's own temporary files (its handler runtimes' bootstrap scripts) and its functions' go here, deleted
        // with this process even when the test killed the server before it could clean up.
        var temporary = TestDirectories.Create("keyturn-it-tmp-");
        start.Environment["TMPDIR"] = temporary;
        foreach (var (key, value) in (storeEnvironment ?? new Dictionary<string, string>()).Concat(environment ?? new Dictionary<string, string>()))
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start keyturn.");
        var server = new KeyturnProcess(process, dataDirectory, endpoint, accessKeyId, secret, tls is null ? null : tls.CaBundle ?? TlsSettings.SelfSignedCertificate(dataDirectory), temporary, ownDataDirectory)
        {
            StoreEnvironment = storeEnvironment ?? new Dictionary<string, string>(),
        };
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilHealthyAsync(keyturnDll is null).ConfigureAwait(false);
        }
        catch (InvalidOperationException) when (server.Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
        {
            // The data directory stays for the next attempt; only this attempt's TMPDIR goes.
            await server.StopProcessAsync().ConfigureAwait(false);
            TestDirectories.Delete(temporary);
            throw new PortTakenException();
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return server;
    }

    /// <summary>SIGSTOP or SIGCONT, as a long GC pause or a frozen VM would stop the process and let it go on.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Runs <c>keyturn serve ARGUMENTS</c> that must refuse to start; fails the test if it is still running after 60 s.</summary>
    public static async Task<ToolResult> ServeExpectingRefusalAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { KeyturnDll, "serve" }.Concat(arguments))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start keyturn.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"keyturn serve {string.Join(' ', arguments)} started instead of refusing:\n{await stdout.ConfigureAwait(false)}");
        }

        return new ToolResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Waits until the server has printed <paramref name="text"/> (the banner follows the first healthy answer).</summary>
    public async Task<string> WaitForOutputAsync(string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"keyturn never printed '{text}':\n{Output}");
            await Task.Delay(50).ConfigureAwait(false);
        }

        return Output;
    }

    /// <summary>Runs <c>keyturn keys ARGUMENTS</c> as root on this server's data directory; returns its output, failing the test on an error exit.</summary>
    public Task<string> KeysAsync(params string[] arguments) => AdministerAsync("keys", arguments);

    /// <summary>Runs <c>keyturn functions ARGUMENTS</c> the same way (e.g. <c>policy NAME --allow-master PATTERN</c>).</summary>
    public Task<string> FunctionsAsync(params string[] arguments) => AdministerAsync("functions", arguments);

    private async Task<string> AdministerAsync(string command, string[] arguments)
    {
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnDll, command, .. arguments, "--data-dir", DataDirectory], this, AdminEnvironment);
        Assert.True(result.ExitCode == 0, $"keyturn {command} {string.Join(' ', arguments)} failed:\n{result.Stdout}\n{result.Stderr}");
        return result.Stdout;
    }

    /// <summary>
    /// Runs <c>keyturn ARGUMENTS</c> to completion without a server (no root or master key from this process's
    /// environment unless given), killing it after <paramref name="timeout"/>; <paramref name="keyturnDll"/> runs another build.
    /// </summary>
    public static async Task<ToolResult> RunCommandAsync(IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? keyturnDll = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(keyturnDll ?? KeyturnDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("KEYTURN_", StringComparison.Ordinal) || k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start keyturn.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"keyturn {string.Join(' ', arguments)} did not finish:\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
        }

        return new ToolResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>The value of a <c>key = value</c> line of <c>keyturn keys create</c>'s output.</summary>
    public static string KeyLine(string output, string key) =>
        output.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith(key, StringComparison.Ordinal)).Split('=', 2)[1].Trim();

    /// <summary>The one endpoint of a cluster (its proxy), standing for the cluster in tests written for one server.</summary>
    internal static KeyturnProcess Front(KeyturnProcess first, KeyturnCluster cluster, string endpoint) => new(first, cluster, endpoint);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync().ConfigureAwait(false);
            return;
        }

        await StopProcessAsync().ConfigureAwait(false);
        TestDirectories.Delete(_temporaryDirectory, _ownDataDirectory);
    }

    private async Task StopProcessAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
    }

    /// <summary>The server could not bind the port chosen for it.</summary>
    private sealed class PortTakenException : Exception;

    /// <summary>The server's pid (<c>dotnet keyturn.dll serve</c> runs in the <c>dotnet</c> process itself).</summary>
    public int ProcessId => _process.Id;

    /// <summary>SIGKILL of the server process alone, as a crash or the OOM killer would: what it started lives on.</summary>
    public async Task CrashAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the server gracefully (SIGTERM) and returns its exit code.</summary>
    public async Task<int> StopAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().ConfigureAwait(false);
        }

        // Generous: shutting down stops the functions it runs (with their grace) on a machine that may be busy.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);

        // It stopped its functions before it exited: nothing uses its TMPDIR any more (a test may drop a stopped server undisposed).
        TestDirectories.Delete(_temporaryDirectory);
        return _process.ExitCode;
    }

    /// <param name="banner">Also wait for this build's banner, which it prints once it has bound its port: a health answer
    /// alone may come from another server that took the port first.</param>
    private async Task WaitUntilHealthyAsync(bool banner)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("keyturn exited during start-up:\n" + Output);
            }

            // Over HTTPS the probe verifies the certificate as clients do; a self-signed one exists once the server wrote it.
            if (CaBundle is null || File.Exists(CaBundle))
            {
                try
                {
                    using var http = new HttpClient(Keyturn.Protocol.Client.CaBundleTrust.CreateHandler(CaBundle)) { Timeout = TimeSpan.FromSeconds(2) };
                    using var response = await http.GetAsync(new Uri(Endpoint + "/health")).ConfigureAwait(false);
                    if (response.StatusCode == HttpStatusCode.OK && !_process.HasExited && (!banner || Output.Contains("Keyturn is listening on ", StringComparison.Ordinal)))
                    {
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException)
                {
                    // Not answering yet.
                }
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        throw new TimeoutException("keyturn did not become healthy within 60 s:\n" + Output);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// How a test server serves HTTPS: the extra <c>keyturn serve</c> arguments, the CA bundle its clients trust (null: the
/// self-signed certificate in the data directory) and the host name they connect to.
/// </summary>
public sealed record TlsSettings(IReadOnlyList<string> Arguments, string? CaBundle = null, string Host = "127.0.0.1")
{
    public static TlsSettings SelfSigned { get; } = new(["--tls", "self-signed"]);

    public static string SelfSignedCertificate(string dataDirectory) => Path.Combine(dataDirectory, "tls", "self-signed.crt");
}
