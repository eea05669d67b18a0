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
}
