using System.Net;
using Keyturn.Application.Crypto;

namespace Keyturn.Server.Hosting;

/// <summary>How <c>keyturn serve</c> was asked to run.</summary>
public sealed record ServerOptions
{
    public const int DefaultPort = 4566;

    public const int DefaultSchedulerIntervalSeconds = 30;

    public const int DefaultFunctionStopGraceSeconds = 5;

    /// <summary>The longest <see cref="FunctionStopGrace"/>: shutdown must stay well within what a service manager waits.</summary>
    public const int MaxFunctionStopGraceSeconds = 30;

    /// <summary>Node-local files: the master key, root credentials, running functions' records, TLS; and the embedded store unless <see cref="Store"/> says otherwise.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Where the secrets live (<c>--store</c>, <c>KEYTURN_STORE</c>); null is the embedded store in <see cref="DataDirectory"/>. See <see cref="StorageOptions"/>.</summary>
    public string? Store { get; init; }

    /// <summary>host:port; loopback by default so nothing is exposed by accident.</summary>
    public string Listen { get; init; } = $"127.0.0.1:{DefaultPort}";

    public string AccountId { get; init; } = "000000000000";

    public string LogLevel { get; init; } = "Information";

    /// <summary>How often secrets whose recovery window has passed are purged.</summary>
    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the rotation scheduler looks for due rotations.</summary>
    public TimeSpan SchedulerInterval { get; init; } = TimeSpan.FromSeconds(DefaultSchedulerIntervalSeconds);

    /// <summary>How long a rotation function's processes get after SIGTERM (timeout, shutdown) before SIGKILL.</summary>
    public TimeSpan FunctionStopGrace { get; init; } = TimeSpan.FromSeconds(DefaultFunctionStopGraceSeconds);

    /// <summary>True only for <c>keyturn serve</c> (and the demo's own throwaway directory): may create the master key of an empty data directory.</summary>
    public bool CreateMasterKey { get; init; }

    /// <summary>The KMS key that wraps a master key created now (<c>--kms-key-id</c>); existing keys name their own.</summary>
    public string? KmsKeyId { get; init; }

    /// <summary>KMS, for master keys kept under a KMS key; null when this process can't reach KMS.</summary>
    public IKmsKeyService? Kms { get; init; }

    /// <summary>The certificate to serve HTTPS with; null serves plain HTTP.</summary>
    public ServerTls? Tls { get; init; }

    /// <summary>The operator's explicit consent to plain HTTP on a non-loopback address (<c>--insecure-http</c>).</summary>
    public bool InsecureHttp { get; init; }

    public string Scheme => Tls is null ? "http" : "https";

    /// <summary>
    /// Why this server must not start as configured, or null: plain HTTP beyond loopback would carry secret values and
    /// signed requests in clear, so it needs TLS or an explicit <c>--insecure-http</c>.
    /// </summary>
    public string? TransportProblem(IPEndPoint listen) =>
        Tls is not null && InsecureHttp ? "--insecure-http serves plain HTTP; it cannot go with --tls, --tls-cert or --tls-key."
        : Tls is null && !InsecureHttp && !IsLoopback(listen.Address)
            ? $"Refusing plain HTTP on {Listen}, which is not a loopback address: serve TLS (--tls self-signed, or --tls-cert FILE --tls-key FILE) or pass --insecure-http to accept it."
        : null;

    /// <summary>The URL a client on this machine uses (rotation commands, the start-up banner): loopback for 0.0.0.0 and ::, and a name the certificate covers.</summary>
    public string LocalEndpoint(IPEndPoint listen)
    {
        var host = Tls?.LocalHost(listen)
            ?? (listen.Address.Equals(IPAddress.Any) ? IPAddress.Loopback : listen.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : listen.Address).ToString();
        return $"{Scheme}://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{listen.Port}";
    }

    private static bool IsLoopback(IPAddress address) =>
        IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
