namespace Keyturn.Domain.Rotation;

/// <summary>How a rotation schedule was expressed.</summary>
public enum RotationScheduleKind
{
    /// <summary><c>AutomaticallyAfterDays</c>: N days after the last rotation or value change.</summary>
    AutomaticallyAfterDays,

    /// <summary><c>rate(N hours)</c>: windows open at 00:00 UTC and every N hours after, each day.</summary>
    RateHours,

    /// <summary><c>rate(N days)</c>: N days after the last rotation or value change, window from midnight.</summary>
    RateDays,

    /// <summary><c>cron(...)</c>: windows open at the matching hours, UTC.</summary>
    Cron,
}

/// <summary>
/// Validated rotation rules. <see cref="Interval"/> is in days for <see cref="RotationScheduleKind.AutomaticallyAfterDays"/>
/// and <see cref="RotationScheduleKind.RateDays"/>, in hours for <see cref="RotationScheduleKind.RateHours"/>, 0 for cron.
/// <see cref="Cron"/> is set for cron and hourly rates (a rate in hours is evaluated as <c>cron(0 0/N * * ? *)</c>).
/// <see cref="DurationHours"/> is the explicit window length; null means the default.
/// <see cref="Rules"/> is the input to echo back in DescribeSecret.
/// </summary>
public sealed record RotationSchedule(
    RotationScheduleKind Kind,
    int Interval,
    CronExpression? Cron,
    int? DurationHours,
    RotationRules Rules)
{
    /// <summary>
    /// A schedule "in hours" (docs): an hourly rate or a cron opening more than one window a day.
    /// Its default window closes after one hour; a schedule in days keeps the window open to the end of the UTC day.
    /// </summary>
    public bool IsHourly => Kind == RotationScheduleKind.RateHours || (Kind == RotationScheduleKind.Cron && Cron?.IsHourly == true);
}
