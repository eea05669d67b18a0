using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// A throwaway PKI for the TLS tests: a root CA (the only thing clients trust), an intermediate CA, and server
/// certificates the intermediate issues, so serving the chain from the certificate file is what makes clients accept it.
/// </summary>
public sealed class TlsCertificates : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly RSA _rootKey = RSA.Create(2048);
    private readonly ECDsa _intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _root;
    private readonly X509Certificate2 _intermediate;

    public TlsCertificates()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("keyturn-pki-").FullName;
        var now = DateTimeOffset.UtcNow;

        var rootRequest = new CertificateRequest("CN=Keyturn Test Root CA", _rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        AddCaExtensions(rootRequest);
        _root = rootRequest.CreateSelfSigned(now.AddDays(-2), now.AddDays(60));

        var intermediateRequest = new CertificateRequest("CN=Keyturn Test Intermediate CA", _intermediateKey, HashAlgorithmName.SHA256);
        AddCaExtensions(intermediateRequest);
        intermediateRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_root, true, false));
        // Each issuer signs with its own key type (the root RSA, the intermediate ECDSA), hence the explicit generators.
        using var intermediate = intermediateRequest.Create(_root.SubjectName, X509SignatureGenerator.CreateForRSA(_rootKey, RSASignaturePadding.Pkcs1), now.AddDays(-2), now.AddDays(50), RandomNumberGenerator.GetBytes(16));
        _intermediate = intermediate.CopyWithPrivateKey(_intermediateKey);

        RootPath = Path.Combine(Directory, "root-ca.crt");
        File.WriteAllText(RootPath, _root.ExportCertificatePem());
        RootAndIntermediatePath = Path.Combine(Directory, "root-and-intermediate.crt");
        File.WriteAllText(RootAndIntermediatePath, _root.ExportCertificatePem() + "\n" + _intermediate.ExportCertificatePem() + "\n");
    }

    public string Directory { get; }

    /// <summary>The root CA alone (PEM): what a client's --ca-bundle holds.</summary>
    public string RootPath { get; }

    /// <summary>Both CAs (PEM): trusts a server certificate even when the server does not send the intermediate.</summary>
    public string RootAndIntermediatePath { get; }

    public enum KeyKind
    {
        Rsa,
        Ecdsa,
    }

    /// <summary>A server certificate file (the server's, then the intermediate) and its key file, with what the tests need to know.</summary>
    public sealed record Issued(string CertificateFile, string KeyFile, string Fingerprint);

    /// <summary>
    /// Issues a certificate for localhost and 127.0.0.1 with a <paramref name="kind"/> key written in its traditional PEM
    /// form (RSA PRIVATE KEY, EC PRIVATE KEY); <paramref name="name"/> names the files.
    /// </summary>
    public Issued Issue(string name, KeyKind kind, DateTimeOffset? notAfter = null, string usage = ServerAuthentication, bool withChain = true)
    {
        var now = DateTimeOffset.UtcNow;
        using var rsa = kind == KeyKind.Rsa ? RSA.Create(2048) : null;
        using var ecdsa = kind == KeyKind.Ecdsa ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : null;
        var request = rsa is not null
            ? new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : new CertificateRequest("CN=localhost", ecdsa!, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            kind == KeyKind.Rsa ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment : X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_intermediate, true, false));
        var expiry = notAfter ?? now.AddDays(40);
        using var certificate = request.Create(_intermediate.SubjectName, X509SignatureGenerator.CreateForECDsa(_intermediateKey), expiry.AddDays(-60), expiry, RandomNumberGenerator.GetBytes(16));

        var certificateFile = Path.Combine(Directory, name + ".crt");
        var keyFile = Path.Combine(Directory, name + ".key");
        File.WriteAllText(certificateFile, certificate.ExportCertificatePem() + "\n" + (withChain ? _intermediate.ExportCertificatePem() + "\n" : ""));
        File.WriteAllText(keyFile, rsa is not null ? rsa.ExportRSAPrivateKeyPem() : ecdsa!.ExportECPrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return new Issued(certificateFile, keyFile, string.Join(':', Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(c => new string(c))));
    }

    /// <summary>A server certificate for client authentication only: a TLS server must not present it.</summary>
    public Issued IssueClientOnly(string name) => Issue(name, KeyKind.Ecdsa, usage: ClientAuthentication);

    public void Dispose()
    {
        _root.Dispose();
        _intermediate.Dispose();
        _rootKey.Dispose();
        _intermediateKey.Dispose();
        TestDirectories.Delete(Directory);
    }

    private static void AddCaExtensions(CertificateRequest request)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }
}
