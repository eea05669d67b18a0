using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>Engine settings; tests shorten the delays.</summary>
public sealed class RotationOptions
{
    public RetryPolicy Retry { get; set; } = RetryPolicy.Default;

    /// <summary>How long a node's claim on a secret's rotation lasts without renewal.</summary>
    public TimeSpan LeaseLifetime { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The default time limit of one step (Lambda's is configurable; the field report's was 30 s).</summary>
    public TimeSpan DefaultFunctionTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a command function's processes get to exit after SIGTERM (on a timeout, a cancelled step or the
    /// server's shutdown) before SIGKILL.
    /// </summary>
    public TimeSpan FunctionStopGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many rotations run at once (the scheduler may find many due together).</summary>
    public int MaxConcurrentRotations { get; set; } = 16;

    /// <summary>
    /// How often a node looks for open rotations whose runner died or stalled (capped at half the lease lifetime). Short,
    /// so another node resumes a rotation within about this long of its lease expiring; each look is one read, plus one
    /// lease attempt per open rotation that no runner of this node holds.
    /// </summary>
    public TimeSpan TakeoverInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the scheduler looks for due rotations.</summary>
    public TimeSpan SchedulerInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The URL rotation functions use to reach this server's Secrets Manager API.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The CA bundle (PEM) rotation commands verify <see cref="Endpoint"/>'s certificate with, when it is HTTPS.</summary>
    public string? CaBundle { get; set; }
}
