namespace Keyturn.Domain.Rotation;

/// <summary>
/// Rotation-window arithmetic, all in UTC.
/// </summary>
/// <remarks>
/// Day-based schedules (<c>AutomaticallyAfterDays</c>, <c>rate(N days)</c>) count from the <em>date</em> of the
/// last rotation or value change (PutSecretValue/UpdateSecret count as rotations): the window opens at midnight
/// N days later and, by default, lasts the whole day. Hourly rates and crons are absolute: the next window is the
/// first one opening after the given instant. NextRotationDate is the last second of that window, "the latest date
/// by which the next rotation runs" — a real DescribeSecret showed AutomaticallyAfterDays 30, a change at
/// 2026-02-03T17:42Z and NextRotationDate 2026-03-05T23:59:59Z.
/// </remarks>
public static class RotationScheduleCalculator
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    /// <summary>The last second of the next rotation window after a rotation or value change at <paramref name="lastRotatedOrChanged"/>.</summary>
    public static DateTimeOffset NextRotationDate(RotationSchedule schedule, DateTimeOffset lastRotatedOrChanged) =>
        NextWindow(schedule, lastRotatedOrChanged).End - OneSecond;

    /// <summary>
    /// The next rotation window, as [Start, End). For day-based schedules <paramref name="after"/> is the last
    /// rotation or value change the interval counts from; for hourly rates and crons it is any instant, and the
    /// window is the first opening strictly after it. Windows never run past the end of their UTC day.
    /// </summary>
    public static (DateTimeOffset Start, DateTimeOffset End) NextWindow(RotationSchedule schedule, DateTimeOffset after)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var start = schedule.Kind switch
        {
            RotationScheduleKind.AutomaticallyAfterDays or RotationScheduleKind.RateDays =>
                UtcMidnight(after).AddDays(schedule.Interval),
            RotationScheduleKind.RateHours or RotationScheduleKind.Cron =>
                Cron(schedule).NextOccurrence(after)
                    ?? throw new InvalidOperationException($"{schedule.Cron} opens no rotation window after {after:O}."),
            _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule.Kind, null),
        };

        var endOfDay = UtcMidnight(start).AddDays(1);
        var length = TimeSpan.FromHours(schedule.DurationHours ?? (schedule.IsHourly ? 1 : 24));
        var end = start + length;
        return (start, end < endOfDay ? end : endOfDay);
    }

    /// <summary>
    /// The AutomaticallyAfterDays DescribeSecret reports for a schedule ("calculated from the rotation schedule"):
    /// the interval for day-based schedules, 1 for schedules in hours, and for crons the longest gap between
    /// windows rounded up to whole days (so the value still bounds the time between rotations).
    /// </summary>
    public static long DerivedAutomaticallyAfterDays(RotationSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return schedule.Kind switch
        {
            RotationScheduleKind.AutomaticallyAfterDays or RotationScheduleKind.RateDays => schedule.Interval,
            RotationScheduleKind.RateHours => 1,
            RotationScheduleKind.Cron => Cron(schedule).LongestGap is { } gap
                ? Math.Clamp((long)Math.Ceiling(gap.TotalDays), RotationRulesParser.MinDays, RotationRulesParser.MaxDays)
                : RotationRulesParser.MaxDays,
            _ => throw new ArgumentOutOfRangeException(nameof(schedule), schedule.Kind, null),
        };
    }

    private static CronExpression Cron(RotationSchedule schedule) =>
        schedule.Cron ?? throw new ArgumentException($"A {schedule.Kind} schedule needs its cron expression.", nameof(schedule));

    private static DateTimeOffset UtcMidnight(DateTimeOffset instant) =>
        new(instant.UtcDateTime.Date, TimeSpan.Zero);
}
