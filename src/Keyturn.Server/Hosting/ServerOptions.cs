using Keyturn.Application.Crypto;

namespace Keyturn.Server.Hosting;

/// <summary>How <c>keyturn serve</c> was asked to run.</summary>
public sealed record ServerOptions
{
    public const int DefaultPort = 4566;

    public const int DefaultSchedulerIntervalSeconds = 30;

    public required string DataDirectory { get; init; }

    /// <summary>host:port; loopback by default so nothing is exposed by accident.</summary>
    public string Listen { get; init; } = $"127.0.0.1:{DefaultPort}";

    public string AccountId { get; init; } = "000000000000";

    public string LogLevel { get; init; } = "Information";

    /// <summary>How often secrets whose recovery window has passed are purged.</summary>
    public TimeSpan PurgeInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the rotation scheduler looks for due rotations.</summary>
    public TimeSpan SchedulerInterval { get; init; } = TimeSpan.FromSeconds(DefaultSchedulerIntervalSeconds);

    /// <summary>True only for <c>keyturn serve</c> (and the demo's own throwaway directory): may create the master key of an empty data directory.</summary>
    public bool CreateMasterKey { get; init; }

    /// <summary>The KMS key that wraps a master key created now (<c>--kms-key-id</c>); existing keys name their own.</summary>
    public string? KmsKeyId { get; init; }

    /// <summary>KMS, for master keys kept under a KMS key; null when this process can't reach KMS.</summary>
    public IKmsKeyService? Kms { get; init; }
}
