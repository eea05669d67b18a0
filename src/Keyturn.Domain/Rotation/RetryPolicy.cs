namespace Keyturn.Domain.Rotation;

/// <summary>
/// Exponential backoff with jitter, capped, with an attempt budget per step. Permanent errors never
/// retry: repeating an authentication failure only spams logs (Vault #21435) and burns passwords.
/// </summary>
public sealed record RetryPolicy(TimeSpan BaseDelay, TimeSpan MaxDelay, int MaxAttempts)
{
    public static RetryPolicy Default { get; } = new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), 6);

    /// <summary>True when a step that failed on <paramref name="attempt"/> (1-based) may run again.</summary>
    public bool ShouldRetry(int attempt, bool permanent) => !permanent && attempt < MaxAttempts;

    /// <summary>Delay before attempt <paramref name="attempt"/> + 1; <paramref name="jitter"/> in [0,1) spreads retries ("full jitter" over the upper half).</summary>
    public TimeSpan DelayAfter(int attempt, double jitter)
    {
        var exponential = BaseDelay.TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1));
        var capped = Math.Min(exponential, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds((capped / 2) + (capped / 2 * Math.Clamp(jitter, 0, 1)));
    }
}
