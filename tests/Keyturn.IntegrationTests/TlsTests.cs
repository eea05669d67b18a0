using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// <c>keyturn serve</c> over HTTPS, driven by the real AWS CLI v2, boto3, OpenSSL and the doctor: the self-signed
/// certificate (trusted through the printed --ca-bundle / AWS_CA_BUNDLE lines, kept across restarts), an operator's
/// certificate with its chain, clients without the CA refused, and start-up refusals in one line.
/// </summary>
public sealed partial class TlsTests(SelfSignedServerFixture fixture) : IClassFixture<SelfSignedServerFixture>
{
    private const string Python = "/usr/bin/python3";

    private static readonly string ClientScript = Path.Combine(AppContext.BaseDirectory, "Scripts", "tls_client.py");

    private KeyturnProcess Server => fixture.Server;

    [Fact]
    public async Task SelfSigned_AwsCliWithCaBundle_CreatesAndReadsASecret()
    {
        var name = "tls/cli-" + Guid.NewGuid().ToString("N")[..8];

        await fixture.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", "tls-dummy-value");

        var read = await fixture.Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name);
        Assert.Equal("tls-dummy-value", read.GetProperty("SecretString").GetString());
        Assert.StartsWith("https://", Server.Endpoint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SelfSigned_BannerAwsCommand_RunsAsPrinted()
    {
        var banner = await Server.WaitForOutputAsync("aws secretsmanager list-secrets");
        var line = banner.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("aws secretsmanager list-secrets", StringComparison.Ordinal));
        Assert.Contains($"--ca-bundle {Server.CaBundle}", line, StringComparison.Ordinal);

        var result = await ExternalTool.RunAsync(AwsCli.Path, line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..], Server);

        Assert.True(result.ExitCode == 0, $"the banner's command failed: {result}");
        Assert.Contains("SecretList", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SelfSigned_Boto3_TrustsItThroughVerifyAndThePrintedAwsCaBundle()
    {
        var banner = await Server.WaitForOutputAsync("export AWS_CA_BUNDLE=");
        var bundle = banner.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("export AWS_CA_BUNDLE=", StringComparison.Ordinal))["export AWS_CA_BUNDLE=".Length..];
        Assert.Equal(Server.CaBundle, bundle);

        var verify = await Boto3Async(Server, "verify", Server.CaBundle!);
        var environment = await Boto3Async(Server, "env", null, new Dictionary<string, string> { ["AWS_CA_BUNDLE"] = bundle });

        Assert.True(verify.ExitCode == 0, $"boto3 with verify=path failed: {verify}");
        Assert.True(environment.ExitCode == 0, $"boto3 with AWS_CA_BUNDLE failed: {environment}");
    }

    [Fact]
    public async Task ClientsWithoutTheCertificate_AreRefused()
    {
        using var otherCa = new TlsCertificates();

        var cliDefault = await ExternalTool.RunAsync(AwsCli.Path, ["secretsmanager", "list-secrets", "--endpoint-url", Server.Endpoint], Server);
        var cliOtherCa = await ExternalTool.RunAsync(AwsCli.Path, ["secretsmanager", "list-secrets", "--endpoint-url", Server.Endpoint, "--ca-bundle", otherCa.RootPath], Server);
        var boto3Default = await Boto3Async(Server, "none", null);

        Assert.NotEqual(0, cliDefault.ExitCode);
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", cliDefault.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, cliOtherCa.ExitCode);
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", cliOtherCa.Stderr, StringComparison.Ordinal);
        Assert.True(boto3Default.ExitCode == 3, $"boto3 without the CA must fail verification: {boto3Default}");
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", boto3Default.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SelfSigned_PrintedFingerprint_IsTheServedCertificateAndTheBundleFile()
    {
        var printed = PrintedFingerprint(await Server.WaitForOutputAsync("SHA-256 fingerprint"));

        using var served = await ServedCertificateAsync(Server);
        using var file = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Server.CaBundle!));

        Assert.Equal(Fingerprint(served), printed);
        Assert.Equal(Fingerprint(file), printed);
        Assert.True(served.MatchesHostname("127.0.0.1") && served.MatchesHostname("localhost") && served.MatchesHostname("::1"), served.ToString());
        Assert.False(served.MatchesHostname("example.com"));
        var key = Path.Combine(Server.DataDirectory, "tls", "self-signed.key");
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(key) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), "the key file must be mode 0600");
        Assert.DoesNotContain("PRIVATE KEY", await File.ReadAllTextAsync(Server.CaBundle!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsBelow12_IsRefusedByTheServer()
    {
        var port = new Uri(Server.Endpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // SECLEVEL=0 lets OpenSSL offer TLS 1.1 at all, so the refusal seen is the server's.
        var old = await OpenSslAsync("s_client", "-connect", $"127.0.0.1:{port}", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");
        var current = await OpenSslAsync("s_client", "-connect", $"127.0.0.1:{port}", "-tls1_2", "-CAfile", Server.CaBundle!, "-verify_return_error", "-verify_ip", "127.0.0.1");

        Assert.Contains("alert protocol version", old, StringComparison.Ordinal);
        Assert.Contains("Verify return code: 0 (ok)", current, StringComparison.Ordinal);
        Assert.Contains("TLSv1.2", current, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_OverHttps_TrustsTheCaBundleAndExplainsARefusal()
    {
        string[] doctor = [KeyturnProcess.KeyturnDll, "doctor", "--all", "--endpoint-url", Server.Endpoint, "--data-dir", Server.DataDirectory];

        var trusted = await ExternalTool.RunAsync("dotnet", [.. doctor, "--ca-bundle", Server.CaBundle!], Server);
        var fromEnvironment = await ExternalTool.RunAsync("dotnet", doctor, Server, new Dictionary<string, string> { ["AWS_CA_BUNDLE"] = Server.CaBundle! });
        var untrusted = await ExternalTool.RunAsync("dotnet", doctor, Server);

        Assert.True(trusted.ExitCode == 0, $"doctor with --ca-bundle: {trusted}");
        Assert.True(fromEnvironment.ExitCode == 0, $"doctor with AWS_CA_BUNDLE: {fromEnvironment}");
        Assert.Equal(2, untrusted.ExitCode);
        var line = Assert.Single(untrusted.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("is not trusted", line, StringComparison.Ordinal);
        Assert.Contains("--ca-bundle", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecureTransportCondition_FollowsTheConnection()
    {
        const string policy = """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"secretsmanager:ListSecrets","Resource":"*"},
              {"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}
            """;
        await using var plain = await KeyturnProcess.StartAsync();

        var overTls = await ListSecretsWithKeyAsync(Server, await Server.KeysAsync("create", "tls-only", "--policy", policy));
        var overHttp = await ListSecretsWithKeyAsync(plain, await plain.KeysAsync("create", "tls-only", "--policy", policy));

        Assert.True(overTls.ExitCode == 0, $"over HTTPS: {overTls}");
        Assert.NotEqual(0, overHttp.ExitCode);
        Assert.Contains("(AccessDeniedException)", overHttp.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SelfSigned_IsKeptAcrossRestarts_AndReplacedOnlyWhenItNoLongerCoversTheNames()
    {
        var dataDirectory = TestDirectories.Create("keyturn-tls-restart-");
        try
        {
            await SelfSignedAcrossRestartsAsync(dataDirectory);
        }
        finally
        {
            TestDirectories.Delete(dataDirectory);
        }
    }

    private async Task SelfSignedAcrossRestartsAsync(string dataDirectory)
    {
        var root = new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = "AKIATLSRESTART000001", ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = "tls-restart-test-secret-0001" };

        string first;
        await using (var server = await KeyturnProcess.StartAsync(dataDirectory, root, tls: TlsSettings.SelfSigned))
        {
            var banner = await server.WaitForOutputAsync("SHA-256 fingerprint");
            Assert.Contains("created the self-signed certificate", banner, StringComparison.Ordinal);
            first = PrintedFingerprint(banner);
            await new AwsCli(server).JsonAsync("secretsmanager", "create-secret", "--name", "tls/kept", "--secret-string", "tls-dummy-value");
            Assert.Equal(0, await server.StopAsync());
        }

        await using (var server = await KeyturnProcess.StartAsync(dataDirectory, root, tls: TlsSettings.SelfSigned))
        {
            var banner = await server.WaitForOutputAsync("SHA-256 fingerprint");
            Assert.Contains("(reused)", banner, StringComparison.Ordinal);
            Assert.Equal(first, PrintedFingerprint(banner));
            using var served = await ServedCertificateAsync(server);
            Assert.Equal(first, Fingerprint(served));
            var read = await new AwsCli(server).JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "tls/kept");
            Assert.Equal("tls-dummy-value", read.GetProperty("SecretString").GetString());
            Assert.Equal(0, await server.StopAsync());
        }

        var withName = TlsSettings.SelfSigned with { Arguments = ["--tls", "self-signed", "--tls-san", "keyturn.example.test"] };
        await using (var server = await KeyturnProcess.StartAsync(dataDirectory, root, tls: withName))
        {
            var banner = await server.WaitForOutputAsync("SHA-256 fingerprint");
            Assert.Contains("did not cover keyturn.example.test", banner, StringComparison.Ordinal);
            Assert.NotEqual(first, PrintedFingerprint(banner));
            using var served = await ServedCertificateAsync(server);
            Assert.True(served.MatchesHostname("keyturn.example.test") && served.MatchesHostname("127.0.0.1"), served.ToString());
        }
    }

    [Theory]
    [InlineData(TlsCertificates.KeyKind.Rsa)]
    [InlineData(TlsCertificates.KeyKind.Ecdsa)]
    public async Task SuppliedCertificate_WithItsChain_ServesTheAwsCliAndBoto3(TlsCertificates.KeyKind kind)
    {
        using var pki = new TlsCertificates();
        var issued = pki.Issue("server", kind);

        await using var server = await KeyturnProcess.StartAsync(tls: new TlsSettings(["--tls-cert", issued.CertificateFile, "--tls-key", issued.KeyFile], pki.RootPath, "localhost"));
        var banner = await server.WaitForOutputAsync("aws secretsmanager list-secrets");
        var cli = new AwsCli(server);
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", "tls/supplied", "--secret-string", "tls-dummy-value");
        var read = await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "tls/supplied");
        var boto3 = await Boto3Async(server, "verify", pki.RootPath);

        Assert.Equal("tls-dummy-value", read.GetProperty("SecretString").GetString());
        Assert.True(boto3.ExitCode == 0, $"boto3 with verify=root CA failed: {boto3}");
        Assert.Equal(issued.Fingerprint, PrintedFingerprint(banner));
        Assert.DoesNotContain("AWS_CA_BUNDLE=", banner, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuppliedCertificate_RenewedOnDisk_IsServedWithoutRestart_AndABrokenRenewalKeepsTheLastGoodOne()
    {
        using var pki = new TlsCertificates();
        var first = pki.Issue("server", TlsCertificates.KeyKind.Ecdsa);
        await using var server = await KeyturnProcess.StartAsync(tls: new TlsSettings(["--tls-cert", first.CertificateFile, "--tls-key", first.KeyFile], pki.RootPath, "localhost"));
        using (var served = await ServedCertificateAsync(server))
        {
            Assert.Equal(first.Fingerprint, Fingerprint(served));
        }

        // Issuing under the same name overwrites both files, as a renewal does.
        var renewed = pki.Issue("server", TlsCertificates.KeyKind.Rsa);
        await HandshakeUntilAsync(server, () => server.Output.Contains("TLS certificate reloaded", StringComparison.Ordinal));
        using (var served = await ServedCertificateAsync(server))
        {
            Assert.Equal(renewed.Fingerprint, Fingerprint(served));
        }

        var other = pki.Issue("other", TlsCertificates.KeyKind.Ecdsa);
        File.Copy(other.KeyFile, renewed.KeyFile, overwrite: true);
        await HandshakeUntilAsync(server, () => server.Output.Contains("were not taken", StringComparison.Ordinal));
        using (var served = await ServedCertificateAsync(server))
        {
            Assert.Equal(renewed.Fingerprint, Fingerprint(served));
        }

        var read = await new AwsCli(server).RunAsync("secretsmanager", "list-secrets");
        Assert.True(read.ExitCode == 0, read.ToString());
    }

    [Fact]
    public async Task SuppliedCertificate_WithoutItsIntermediate_IsRefusedByClientsTrustingTheRoot()
    {
        // The counterpart of the test above: what makes clients accept a supplied certificate is the chain Keyturn serves.
        using var pki = new TlsCertificates();
        var issued = pki.Issue("leaf-only", TlsCertificates.KeyKind.Ecdsa, withChain: false);

        // The start-up probe trusts both CAs; the client below only the root, as in the test above.
        await using var server = await KeyturnProcess.StartAsync(tls: new TlsSettings(["--tls-cert", issued.CertificateFile, "--tls-key", issued.KeyFile], pki.RootAndIntermediatePath, "localhost"));
        var result = await ExternalTool.RunAsync(AwsCli.Path, ["secretsmanager", "list-secrets", "--endpoint-url", server.Endpoint, "--ca-bundle", pki.RootPath], server);

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a key that belongs to another certificate", "does not belong to the certificate")]
    [InlineData("a certificate file that does not exist", "does not exist")]
    [InlineData("a key file that holds only a certificate", "holds no PEM ECDSA private key")]
    [InlineData("an encrypted key", "is encrypted")]
    [InlineData("a certificate that has expired", "expired on")]
    [InlineData("a certificate for TLS clients only", "lacks serverAuth")]
    [InlineData("a certificate without its key", "--tls-cert and --tls-key go together")]
    [InlineData("plain HTTP on every IPv4 address", "--insecure-http")]
    [InlineData("plain HTTP on every IPv6 address", "--insecure-http")]
    [InlineData("--insecure-http together with TLS", "cannot go with --tls")]
    [InlineData("a self-signed name that is not a host name", "is neither a DNS name nor an IP address")]
    public async Task Serve_RefusesToStartInOneLine_With(string @case, string expected)
    {
        using var pki = new TlsCertificates();
        var dataDirectory = Path.Combine(pki.Directory, "data");

        var result = await KeyturnProcess.ServeExpectingRefusalAsync([.. ArgumentsFor(@case, pki), "--data-dir", dataDirectory]);

        Assert.True(result.ExitCode == 2, $"{@case}: {result}");
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", result.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(dataDirectory, "tls")), "a refused start must not create a certificate");
    }

    private static string[] ArgumentsFor(string @case, TlsCertificates pki)
    {
        var loopback = $"127.0.0.1:{FreePort.Next()}";
        string[] Supplied(TlsCertificates.Issued issued) => ["--listen", loopback, "--tls-cert", issued.CertificateFile, "--tls-key", issued.KeyFile];
        switch (@case)
        {
            case "a key that belongs to another certificate":
                return ["--listen", loopback, "--tls-cert", pki.Issue("one", TlsCertificates.KeyKind.Ecdsa).CertificateFile, "--tls-key", pki.Issue("two", TlsCertificates.KeyKind.Ecdsa).KeyFile];
            case "a certificate file that does not exist":
                return ["--listen", loopback, "--tls-cert", Path.Combine(pki.Directory, "missing.crt"), "--tls-key", pki.Issue("one", TlsCertificates.KeyKind.Ecdsa).KeyFile];
            case "a key file that holds only a certificate":
                var issued = pki.Issue("one", TlsCertificates.KeyKind.Ecdsa);
                return ["--listen", loopback, "--tls-cert", issued.CertificateFile, "--tls-key", issued.CertificateFile];
            case "an encrypted key":
                var plain = pki.Issue("one", TlsCertificates.KeyKind.Ecdsa);
                using (var key = ECDsa.Create())
                {
                    key.ImportFromPem(File.ReadAllText(plain.KeyFile));
                    File.WriteAllText(plain.KeyFile, key.ExportEncryptedPkcs8PrivateKeyPem("dummy-passphrase", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000)));
                }

                return Supplied(plain);
            case "a certificate that has expired":
                return Supplied(pki.Issue("old", TlsCertificates.KeyKind.Ecdsa, notAfter: DateTimeOffset.UtcNow.AddDays(-1)));
            case "a certificate for TLS clients only":
                return Supplied(pki.IssueClientOnly("client"));
            case "a certificate without its key":
                return ["--listen", loopback, "--tls-cert", pki.Issue("one", TlsCertificates.KeyKind.Ecdsa).CertificateFile];
            case "plain HTTP on every IPv4 address":
                return ["--listen", $"0.0.0.0:{FreePort.Next()}"];
            case "plain HTTP on every IPv6 address":
                return ["--listen", $"[::]:{FreePort.Next()}"];
            case "--insecure-http together with TLS":
                return ["--listen", loopback, "--tls", "self-signed", "--insecure-http"];
            case "a self-signed name that is not a host name":
                return ["--listen", loopback, "--tls", "self-signed", "--tls-san", "not a host"];
            default:
                throw new ArgumentOutOfRangeException(nameof(@case), @case, "no arguments for this case");
        }
    }

    private static Task<ToolResult> ListSecretsWithKeyAsync(KeyturnProcess server, string created) =>
        new AwsCli(server).RunAsAsync(new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = KeyturnProcess.KeyLine(created, "aws_access_key_id"),
            ["AWS_SECRET_ACCESS_KEY"] = KeyturnProcess.KeyLine(created, "aws_secret_access_key"),
        }, "secretsmanager", "list-secrets");

    private static Task<ToolResult> Boto3Async(KeyturnProcess server, string mode, string? caBundle, IDictionary<string, string>? environment = null) =>
        ExternalTool.RunAsync(Python, caBundle is null ? [ClientScript, mode, server.Endpoint] : [ClientScript, mode, server.Endpoint, caBundle], server,
            new Dictionary<string, string>(environment ?? new Dictionary<string, string>()) { ["PYTHONDONTWRITEBYTECODE"] = "1" });

    private static string PrintedFingerprint(string banner) => FingerprintLine().Match(banner) is { Success: true } match
        ? match.Groups[1].Value
        : throw new Xunit.Sdk.XunitException("no SHA-256 fingerprint line in:\n" + banner);

    private static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', Convert.ToHexString(SHA256.HashData(certificate.RawData)).Chunk(2).Select(pair => new string(pair)));

    /// <summary>The certificate the server presents in a handshake, taken as it comes (the tests compare it, not trust it).</summary>
    private static async Task<X509Certificate2> ServedCertificateAsync(KeyturnProcess server)
    {
        var endpoint = new Uri(server.Endpoint);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", endpoint.Port);
        X509Certificate2? presented = null;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
        {
            presented = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = endpoint.Host });
        return presented ?? throw new Xunit.Sdk.XunitException("the server presented no certificate");
    }

    /// <summary>Shakes hands every half second (the server looks at its files at most every 10 s, on a handshake) until <paramref name="done"/>.</summary>
    private static async Task HandshakeUntilAsync(KeyturnProcess server, Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(40);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the server did not look at its renewed files in time:\n" + server.Output);
            (await ServedCertificateAsync(server)).Dispose();
            await Task.Delay(500);
        }
    }

    private static async Task<string> OpenSslAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start openssl.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return await stdout + await stderr;
    }

    [GeneratedRegex("SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})")]
    private static partial Regex FingerprintLine();
}

/// <summary>One <c>keyturn serve --tls self-signed</c> shared by the tests of <see cref="TlsTests"/>.</summary>
public sealed class SelfSignedServerFixture : IAsyncLifetime
{
    public KeyturnProcess Server { get; private set; } = null!;

    public AwsCli Cli { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await KeyturnProcess.StartAsync(tls: TlsSettings.SelfSigned);
        Cli = new AwsCli(Server);
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
