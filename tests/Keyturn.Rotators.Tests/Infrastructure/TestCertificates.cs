using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Keyturn.Rotators.Tests.Infrastructure;

/// <summary>
/// A throwaway CA and a server certificate it signed for "localhost" only, so both test servers speak TLS and
/// "ssl": true can be tested with full verification: trusted through <see cref="CaPath"/> at "localhost", and
/// refused without the CA or at "127.0.0.1" (a name the certificate lacks).
/// </summary>
public sealed class TestCertificates
{
    private TestCertificates(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>The CA certificate (PEM) to trust.</summary>
    public string CaPath => Path.Combine(Directory, "ca.crt");

    public string ServerCertificatePem { get; private init; } = string.Empty;

    public string ServerKeyPem { get; private init; } = string.Empty;

    public static TestCertificates Create()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("keyturn-tls-").FullName;
        var now = DateTimeOffset.UtcNow;

        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Keyturn Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        using var server = serverRequest.Create(ca, now.AddDays(-1), now.AddDays(29), RandomNumberGenerator.GetBytes(16));

        File.WriteAllText(Path.Combine(directory, "ca.crt"), ca.ExportCertificatePem());
        return new TestCertificates(directory)
        {
            ServerCertificatePem = server.ExportCertificatePem(),
            ServerKeyPem = serverKey.ExportPkcs8PrivateKeyPem(),
        };
    }

    /// <summary>Writes the server certificate and key (mode 0600) into <paramref name="directory"/>.</summary>
    public (string Certificate, string Key) WriteServerFiles(string directory)
    {
        var certificate = Path.Combine(directory, "server.crt");
        var key = Path.Combine(directory, "server.key");
        File.WriteAllText(certificate, ServerCertificatePem);
        File.WriteAllText(key, ServerKeyPem);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return (certificate, key);
    }

    public void Delete() => TestDirectories.Delete(Directory);
}
