using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Keyturn.Server.Hosting;

/// <summary>
/// The certificate <c>keyturn serve --tls …</c> presents: a PEM certificate (with its chain) and key the operator
/// supplies, or a self-signed one Keyturn creates in the data directory and reuses. Everything is checked at start so
/// a bad file stops the server with one line instead of failing every handshake; supplied files are re-read when they
/// change on disk (a renewed certificate needs no restart), and a broken renewal keeps the last good certificate.
/// </summary>
public sealed class ServerTls
{
    /// <summary>Where the self-signed certificate and key live, under the data directory.</summary>
    public const string SelfSignedDirectory = "tls";

    public const string SelfSignedCertificateName = "self-signed.crt";

    public const string SelfSignedKeyName = "self-signed.key";

    /// <summary>TLS 1.0 and 1.1 are off: AWS's endpoints require 1.2 as well.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    // How often a handshake may look at the supplied files' timestamps.
    private static readonly TimeSpan ReloadCheckInterval = TimeSpan.FromSeconds(10);

    // A self-signed certificate lives about a year and is replaced at start within a month of expiry.
    private static readonly TimeSpan SelfSignedLifetime = TimeSpan.FromDays(365);
    private static readonly TimeSpan SelfSignedRenewBefore = TimeSpan.FromDays(30);

    private readonly TimeProvider _time;
    private readonly Lock _reload = new();
    private Loaded _current;
    private FileStamp _stamp;
    private DateTimeOffset _nextCheck;

    private ServerTls(string certificateFile, string keyFile, bool selfSigned, Loaded loaded, TimeProvider time)
    {
        CertificateFile = certificateFile;
        KeyFile = keyFile;
        IsSelfSigned = selfSigned;
        _current = loaded;
        _time = time;
        _stamp = FileStamp.Of(certificateFile, keyFile);
        _nextCheck = time.GetUtcNow() + ReloadCheckInterval;
    }

    public string CertificateFile { get; }

    public string KeyFile { get; }

    public bool IsSelfSigned { get; }

    /// <summary>For a self-signed certificate: why it was created on this start (null when an existing one was reused).</summary>
    public string? CreatedBecause { get; private init; }

    /// <summary>Start-up notes the operator should see (e.g. a key file others can read).</summary>
    public IReadOnlyList<string> Warnings { get; private init; } = [];

    /// <summary>The server certificate currently presented.</summary>
    public X509Certificate2 Certificate => Volatile.Read(ref _current).Certificate;

    /// <summary>SHA-256 of the served certificate, as <c>openssl x509 -fingerprint -sha256</c> prints it.</summary>
    public string Fingerprint => FingerprintOf(Certificate);

    /// <summary>
    /// The file clients trust to reach this server: the self-signed certificate itself; null for a supplied
    /// certificate, which chains to a CA the clients already know.
    /// </summary>
    public string? CaBundle => IsSelfSigned ? CertificateFile : null;

    /// <summary>Raised when supplied files changed on disk: the new fingerprint, or the reason they were not taken.</summary>
    public event Action<string, bool>? Reloaded;

    public static string FingerprintOf(X509Certificate2 certificate) =>
        string.Join(':', Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(pair => new string(pair)));

    /// <summary>An operator's PEM certificate (the server's first, then any intermediates) and its RSA or ECDSA key.</summary>
    /// <exception cref="TlsSetupException">The files are missing, malformed, mismatched or not usable by a TLS server.</exception>
    public static ServerTls FromFiles(string certificateFile, string keyFile, TimeProvider time)
    {
        certificateFile = Path.GetFullPath(certificateFile);
        keyFile = Path.GetFullPath(keyFile);
        var loaded = Load(certificateFile, keyFile, time.GetUtcNow());
        return new ServerTls(certificateFile, keyFile, selfSigned: false, loaded, time) { Warnings = KeyFileWarnings(keyFile) };
    }

    /// <summary>
    /// The self-signed certificate in <c>DATA/tls</c>, created (ECDSA P-256) when missing, unusable, about to expire or not
    /// covering <paramref name="names"/> (see <see cref="NamesFor"/>); otherwise reused, so clients keep trusting it.
    /// </summary>
    public static ServerTls SelfSigned(string dataDirectory, IReadOnlyCollection<string> names, TimeProvider time)
    {
        var directory = Path.Combine(dataDirectory, SelfSignedDirectory);
        var certificateFile = Path.Combine(directory, SelfSignedCertificateName);
        var keyFile = Path.Combine(directory, SelfSignedKeyName);
        var now = time.GetUtcNow();

        string? reason;
        if (!File.Exists(certificateFile) || !File.Exists(keyFile))
        {
            reason = "none existed";
        }
        else
        {
            try
            {
                var existing = Load(certificateFile, keyFile, now);
                var missing = names.Where(name => !Covers(existing.Certificate, name)).ToList();
                reason = missing.Count > 0
                    ? $"the previous one did not cover {string.Join(", ", missing)}"
                    : existing.Certificate.NotAfter.ToUniversalTime() - now.UtcDateTime < SelfSignedRenewBefore
                        ? $"the previous one expired or was about to ({existing.Certificate.NotAfter.ToUniversalTime():yyyy-MM-dd})"
                        : null;
                if (reason is null)
                {
                    return new ServerTls(certificateFile, keyFile, selfSigned: true, existing, time);
                }
            }
            catch (TlsSetupException e)
            {
                reason = "the previous one could not be used: " + e.Message;
            }
        }

        Create(directory, certificateFile, keyFile, names, now);
        return new ServerTls(certificateFile, keyFile, selfSigned: true, Load(certificateFile, keyFile, now), time) { CreatedBecause = reason };
    }

    /// <summary>
    /// The names a self-signed certificate for <paramref name="listen"/> covers: its address; on loopback also
    /// localhost, 127.0.0.1 and ::1; on every address (0.0.0.0, ::) also this machine's host name and the loopback
    /// names; then the operator's <paramref name="extra"/> names and addresses.
    /// </summary>
    /// <exception cref="TlsSetupException">An extra name is neither a DNS name nor an IP address.</exception>
    public static IReadOnlyList<string> NamesFor(IPEndPoint listen, IEnumerable<string> extra)
    {
        var names = new List<string>();
        var address = listen.Address;
        var any = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
        if (any && Uri.CheckHostName(Dns.GetHostName()) == UriHostNameType.Dns)
        {
            names.Add(Dns.GetHostName());
        }
        else
        {
            names.Add(address.ToString());
        }

        if (any || IPAddress.IsLoopback(address))
        {
            names.AddRange(["localhost", "127.0.0.1", "::1"]);
        }

        foreach (var name in extra.Select(name => name.Trim()).Where(name => name.Length > 0))
        {
            names.Add(Uri.CheckHostName(name.Trim('[', ']')) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6
                ? name
                : throw new TlsSetupException($"--tls-san {name} is neither a DNS name nor an IP address."));
        }

        return names.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>Whether the certificate is valid for <paramref name="name"/> (a DNS name or an IP address), as clients check.</summary>
    public static bool Covers(X509Certificate2 certificate, string name) =>
        certificate.MatchesHostname(name.Trim('[', ']'), allowWildcards: true, allowCommonName: false);

    /// <summary>
    /// The host a client on this machine (a rotation command, the banner's example) should use for
    /// <paramref name="listen"/>: the listen address itself, or loopback when listening everywhere, unless the
    /// certificate only names something else, in which case its first DNS name.
    /// </summary>
    public string LocalHost(IPEndPoint listen)
    {
        var address = listen.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : listen.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : listen.Address;
        var literal = address.ToString();
        if (Covers(Certificate, literal))
        {
            return literal;
        }

        if (IPAddress.IsLoopback(address) && Covers(Certificate, "localhost"))
        {
            return "localhost";
        }

        var names = Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(san => san.EnumerateDnsNames());
        return names.FirstOrDefault(name => !name.StartsWith('*')) ?? literal;
    }

    /// <summary>The TLS settings of one handshake, with the current certificate (re-read first when its files changed).</summary>
    public SslServerAuthenticationOptions AuthenticationOptions() => new()
    {
        ServerCertificateContext = CurrentContext(),
        EnabledSslProtocols = Protocols,
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ApplicationProtocols = [SslApplicationProtocol.Http11],
    };

    private SslStreamCertificateContext CurrentContext()
    {
        var now = _time.GetUtcNow();
        if (IsSelfSigned || now < _nextCheck)
        {
            return Volatile.Read(ref _current).Context;
        }

        lock (_reload)
        {
            if (now < _nextCheck)
            {
                return _current.Context;
            }

            _nextCheck = now + ReloadCheckInterval;
            var stamp = FileStamp.Of(CertificateFile, KeyFile);
            if (stamp == _stamp)
            {
                return _current.Context;
            }

            _stamp = stamp;
            try
            {
                Volatile.Write(ref _current, Load(CertificateFile, KeyFile, now));
                Reloaded?.Invoke(Fingerprint, true);
            }
            catch (TlsSetupException e)
            {
                Reloaded?.Invoke(e.Message, false);
            }

            return _current.Context;
        }
    }

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context);

    private readonly record struct FileStamp(DateTime CertificateWritten, long CertificateLength, DateTime KeyWritten, long KeyLength)
    {
        public static FileStamp Of(string certificateFile, string keyFile)
        {
            var certificate = new FileInfo(certificateFile);
            var key = new FileInfo(keyFile);
            return new FileStamp(
                certificate.Exists ? certificate.LastWriteTimeUtc : default, certificate.Exists ? certificate.Length : -1,
                key.Exists ? key.LastWriteTimeUtc : default, key.Exists ? key.Length : -1);
        }
    }

    private static Loaded Load(string certificateFile, string keyFile, DateTimeOffset now)
    {
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(Read(certificateFile, "certificate"));
        }
        catch (CryptographicException)
        {
            throw new TlsSetupException($"The certificate file {certificateFile} is not valid PEM.");
        }

        if (certificates.Count == 0)
        {
            throw new TlsSetupException($"The certificate file {certificateFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
        }

        var leaf = certificates[0];
        var key = Read(keyFile, "key");
        if (key.Contains("ENCRYPTED", StringComparison.Ordinal))
        {
            throw new TlsSetupException($"The key file {keyFile} is encrypted; give Keyturn the unencrypted key (openssl pkey -in KEY -out PLAIN, then keep PLAIN mode 0600).");
        }

        var withKey = WithKey(leaf, key, certificateFile, keyFile);
        if (withKey.NotAfter.ToUniversalTime() <= now.UtcDateTime)
        {
            throw new TlsSetupException($"The certificate in {certificateFile} expired on {withKey.NotAfter.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)}.");
        }

        if (withKey.NotBefore.ToUniversalTime() > now.UtcDateTime)
        {
            throw new TlsSetupException($"The certificate in {certificateFile} is not valid before {withKey.NotBefore.ToUniversalTime().ToString("u", CultureInfo.InvariantCulture)}.");
        }

        if (withKey.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is { } usage
            && !usage.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value is ServerAuthentication or AnyExtendedKeyUsage))
        {
            throw new TlsSetupException($"The certificate in {certificateFile} is not for TLS servers: its extended key usage lacks serverAuth.");
        }

        var chain = new X509Certificate2Collection();
        for (var i = 1; i < certificates.Count; i++)
        {
            chain.Add(certificates[i]);
        }

        return new Loaded(withKey, SslStreamCertificateContext.Create(withKey, chain, offline: true));
    }

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string AnyExtendedKeyUsage = "2.5.29.37.0";
    private const string RsaKeyOid = "1.2.840.113549.1.1.1";
    private const string EcKeyOid = "1.2.840.10045.2.1";

    private static X509Certificate2 WithKey(X509Certificate2 leaf, string keyPem, string certificateFile, string keyFile)
    {
        var mismatch = $"The key in {keyFile} does not belong to the certificate in {certificateFile} (the first certificate there must be the server's).";
        try
        {
            switch (leaf.GetKeyAlgorithm())
            {
                case RsaKeyOid:
                    using (var rsa = RSA.Create())
                    {
                        ImportKey(rsa, keyPem, keyFile, "RSA");
                        if (rsa.KeySize < 2048)
                        {
                            throw new TlsSetupException($"The RSA key in {keyFile} has {rsa.KeySize} bits; TLS clients require at least 2048.");
                        }

                        return leaf.CopyWithPrivateKey(rsa);
                    }

                case EcKeyOid:
                    using (var ecdsa = ECDsa.Create())
                    {
                        ImportKey(ecdsa, keyPem, keyFile, "ECDSA");
                        return leaf.CopyWithPrivateKey(ecdsa);
                    }

                default:
                    throw new TlsSetupException($"The certificate in {certificateFile} has a key type Keyturn does not serve (OID {leaf.GetKeyAlgorithm()}); use RSA or ECDSA.");
            }
        }
        catch (ArgumentException)
        {
            // CopyWithPrivateKey: "The provided key does not match the public key for this certificate."
            throw new TlsSetupException(mismatch);
        }
        catch (CryptographicException)
        {
            throw new TlsSetupException(mismatch);
        }
    }

    private static void ImportKey(AsymmetricAlgorithm algorithm, string keyPem, string keyFile, string kind)
    {
        try
        {
            algorithm.ImportFromPem(keyPem);
        }
        catch (ArgumentException)
        {
            throw new TlsSetupException($"The key file {keyFile} holds no PEM {kind} private key (PRIVATE KEY, {kind.Replace("ECDSA", "EC", StringComparison.Ordinal)} PRIVATE KEY), which the certificate's key type needs.");
        }
        catch (CryptographicException)
        {
            throw new TlsSetupException($"The {kind} private key in {keyFile} is malformed.");
        }
    }

    private static string Read(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TlsSetupException($"The TLS {what} file {path} does not exist.");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new TlsSetupException($"The TLS {what} file {path} cannot be read: {e.Message}");
        }
    }

    private static IReadOnlyList<string> KeyFileWarnings(string keyFile)
    {
        if (OperatingSystem.IsWindows())
        {
            return [];
        }

        var others = UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        return (File.GetUnixFileMode(keyFile) & others) != 0
            ? [$"Warning: the TLS key file {keyFile} is readable by other users; chmod 600 it."]
            : [];
    }

    private static void Create(string directory, string certificateFile, string keyFile, IReadOnlyCollection<string> names, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=Keyturn self-signed"), key, HashAlgorithmName.SHA256);
        var alternativeNames = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name.Trim('[', ']'), out var address))
            {
                alternativeNames.AddIpAddress(address);
            }
            else
            {
                alternativeNames.AddDnsName(name);
            }
        }

        // An end-entity certificate (not a CA) that clients trust directly: OpenSSL, .NET and rustls accept that,
        // while rustls refuses a CA certificate presented as a server's.
        request.CertificateExtensions.Add(alternativeNames.Build(critical: false));
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthentication)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using var certificate = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddHours(-1), now + SelfSignedLifetime, serial);

        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // Key first: a crash between the two renames leaves a pair that does not match, which the next start replaces.
        WritePrivate(keyFile, key.ExportPkcs8PrivateKeyPem());
        WritePrivate(certificateFile, certificate.ExportCertificatePem());
    }

    /// <summary>Writes through a temporary file created with mode 0600 (whatever the umask), then renames it into place.</summary>
    private static void WritePrivate(string path, string content)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>A TLS file problem found at start, told in one line.</summary>
public sealed class TlsSetupException(string message) : Exception(message);
