using System.CommandLine;
using System.Globalization;
using System.Net;
using Keyturn.Server.Hosting;

namespace Keyturn.Cli.Commands;

/// <summary>
/// <c>keyturn serve</c>'s transport options: <c>--tls self-signed</c>, <c>--tls-cert</c>/<c>--tls-key</c>,
/// <c>--tls-san</c> and <c>--insecure-http</c>, how they become <see cref="ServerOptions.Tls"/>, and what the start-up
/// banner tells clients about trusting the certificate.
/// </summary>
internal sealed class ServeTlsOptions
{
    public const string SelfSigned = "self-signed";

    private readonly Option<string?> _mode = new("--tls")
    {
        Description = $"'{SelfSigned}': serve HTTPS with a certificate Keyturn creates in DATA/{ServerTls.SelfSignedDirectory} on first start and reuses (or KEYTURN_TLS).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEYTURN_TLS"),
    };

    private readonly Option<string?> _certificate = new("--tls-cert")
    {
        Description = "Serve HTTPS with this PEM certificate: the server's first, then any intermediates (or KEYTURN_TLS_CERT). Re-read when it changes.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEYTURN_TLS_CERT"),
    };

    private readonly Option<string?> _key = new("--tls-key")
    {
        Description = "The PEM private key (RSA or ECDSA, unencrypted) of --tls-cert (or KEYTURN_TLS_KEY).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEYTURN_TLS_KEY"),
    };

    private readonly Option<string[]> _names = new("--tls-san")
    {
        Description = $"With --tls {SelfSigned}: another DNS name or IP address clients use to reach this server (repeatable).",
    };

    private readonly Option<bool> _insecureHttp = new("--insecure-http")
    {
        Description = "Allow plain HTTP on a non-loopback --listen address (secret values and signed requests then cross the network in clear).",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_mode);
        command.Options.Add(_certificate);
        command.Options.Add(_key);
        command.Options.Add(_names);
        command.Options.Add(_insecureHttp);
    }

    /// <summary>
    /// The transport settings checked and a supplied certificate loaded, with nothing written to the data directory
    /// (a self-signed certificate is made by <see cref="CheckedTransport.Create"/> once the store opened), or the one
    /// line that says why the server cannot start.
    /// </summary>
    public (CheckedTransport? Transport, string? Error) Check(ParseResult parse, ServerOptions options)
    {
        IPEndPoint listen;
        try
        {
            listen = KeyturnServer.ParseEndpoint(options.Listen);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return (null, e.Message);
        }

        var mode = parse.GetValue(_mode);
        var certificate = parse.GetValue(_certificate);
        var key = parse.GetValue(_key);
        var names = parse.GetValue(_names) ?? [];
        if (mode is not null && mode != SelfSigned)
        {
            return (null, $"--tls takes '{SelfSigned}'; for your own certificate use --tls-cert FILE --tls-key FILE.");
        }

        if (mode is not null && (certificate is not null || key is not null))
        {
            return (null, $"--tls {SelfSigned} and --tls-cert/--tls-key exclude each other: choose one certificate.");
        }

        if ((certificate is null) != (key is null))
        {
            return (null, "--tls-cert and --tls-key go together: give the certificate and its private key.");
        }

        if (names.Length > 0 && mode is null)
        {
            return (null, $"--tls-san names what a --tls {SelfSigned} certificate covers; a supplied certificate already names its hosts.");
        }

        var insecure = parse.GetValue(_insecureHttp);
        if (insecure && (mode is not null || certificate is not null))
        {
            return (null, "--insecure-http serves plain HTTP; it cannot go with --tls, --tls-cert or --tls-key.");
        }

        // Refuse before creating anything.
        if ((options with { InsecureHttp = insecure }).TransportProblem(listen) is { } plainProblem && mode is null && certificate is null)
        {
            return (null, plainProblem);
        }

        try
        {
            var selfSignedNames = mode is not null ? ServerTls.NamesFor(listen, names) : null;
            var tls = certificate is not null ? ServerTls.FromFiles(certificate, key!, TimeProvider.System) : null;
            return (new CheckedTransport(options with { Tls = tls, InsecureHttp = insecure }, listen, selfSignedNames), null);
        }
        catch (TlsSetupException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>Transport settings that passed <see cref="Check"/>.</summary>
    public sealed class CheckedTransport(ServerOptions options, IPEndPoint listen, IReadOnlyList<string>? selfSignedNames)
    {
        /// <summary>
        /// The options with their certificate (the self-signed one created or reused in the data directory when
        /// wanted) and the transport rule checked, or the one line that says why the server cannot start.
        /// </summary>
        public (ServerOptions? Options, string? Error) Create()
        {
            try
            {
                var configured = selfSignedNames is null
                    ? options
                    : options with { Tls = ServerTls.SelfSigned(options.DataDirectory, selfSignedNames, TimeProvider.System) };
                return configured.TransportProblem(listen) is { } problem ? (null, problem) : (configured, null);
            }
            catch (TlsSetupException e)
            {
                return (null, e.Message);
            }
        }
    }

    /// <summary>The banner's TLS lines: which certificate, its fingerprint, and how the AWS CLI and SDKs trust it.</summary>
    public static void PrintBanner(TextWriter output, ServerOptions options)
    {
        if (options.Tls is not { } tls)
        {
            return;
        }

        var names = tls.Certificate.Extensions.OfType<System.Security.Cryptography.X509Certificates.X509SubjectAlternativeNameExtension>()
            .SelectMany(san => san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(address => address.ToString())));
        var until = tls.Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        foreach (var warning in tls.Warnings)
        {
            output.WriteLine(warning);
        }

        if (tls.IsSelfSigned)
        {
            output.WriteLine(tls.CreatedBecause is null
                ? $"TLS: self-signed certificate {tls.CertificateFile} (reused), valid until {until}, for {string.Join(", ", names)}."
                : $"TLS: created the self-signed certificate {tls.CertificateFile} ({tls.CreatedBecause}), valid until {until}, for {string.Join(", ", names)}. Clients must trust this file.");
        }
        else
        {
            output.WriteLine($"TLS: certificate {tls.CertificateFile} ({tls.Certificate.Subject}), valid until {until}, for {string.Join(", ", names)}.");
        }

        output.WriteLine($"  SHA-256 fingerprint {tls.Fingerprint}");
        if (tls.CaBundle is { } bundle)
        {
            output.WriteLine("  Trust it with the AWS CLI:  --ca-bundle " + ShellWord(bundle));
            output.WriteLine("  or for the AWS CLI, boto3 and other SDKs:");
            output.WriteLine("  export AWS_CA_BUNDLE=" + ShellWord(bundle));
        }
    }

    /// <summary>The options the banner's example <c>aws</c> command needs to reach this server.</summary>
    public static string ClientArguments(ServerOptions options)
    {
        var endpoint = options.LocalEndpoint(KeyturnServer.ParseEndpoint(options.Listen));
        return options.Tls?.CaBundle is { } bundle ? $"--endpoint-url {endpoint} --ca-bundle {ShellWord(bundle)}" : $"--endpoint-url {endpoint}";
    }

    /// <summary>A path as one shell word, so the printed lines can be pasted as they are.</summary>
    private static string ShellWord(string text) =>
        text.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+:=@,".Contains(c, StringComparison.Ordinal))
            ? text
            : "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
