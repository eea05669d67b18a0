using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Keyturn.Protocol.Client;

/// <summary>
/// HTTPS trust as the AWS CLI and SDKs configure it: a CA bundle (<c>--ca-bundle</c>, <c>AWS_CA_BUNDLE</c>) replaces
/// the system's roots, so a Keyturn with a self-signed or private-CA certificate is verified rather than skipped.
/// </summary>
public static class CaBundleTrust
{
    public const string EnvironmentVariable = "AWS_CA_BUNDLE";

    /// <summary>A handler trusting only the certificates in <paramref name="caBundle"/> (PEM), or the system's roots when null.</summary>
    /// <exception cref="InvalidOperationException">The bundle is missing, unreadable or holds no certificate.</exception>
    public static SocketsHttpHandler CreateHandler(string? caBundle)
    {
        var handler = new SocketsHttpHandler();
        if (string.IsNullOrEmpty(caBundle))
        {
            return handler;
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caBundle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException($"The CA bundle {caBundle} cannot be read: {e.Message}");
        }

        if (roots.Count == 0)
        {
            throw new InvalidOperationException($"The CA bundle {caBundle} holds no PEM certificate.");
        }

        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.AddRange(roots);
        handler.SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy };
        return handler;
    }

    /// <summary>A one-line explanation when <paramref name="error"/> is a refused server certificate, else null.</summary>
    public static string? Describe(HttpRequestException error, Uri endpoint) =>
        error.InnerException is AuthenticationException
            ? $"the TLS certificate of {endpoint.GetLeftPart(UriPartial.Authority)} is not trusted or does not name that host ({error.InnerException.Message}); pass --ca-bundle FILE or set {EnvironmentVariable} to the CA (for keyturn serve --tls self-signed: DATA/tls/self-signed.crt)."
            : null;
}
