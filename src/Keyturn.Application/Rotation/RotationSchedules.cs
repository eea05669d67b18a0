using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Rotation;

/// <summary>The schedule maths applied to a secret's stored rotation settings.</summary>
public static class RotationSchedules
{
    public static RotationSchedule? ScheduleOf(Secret secret)
    {
        if (secret.Rotation is not { } rotation || (rotation.AutomaticallyAfterDays is null && rotation.ScheduleExpression is null))
        {
            return null;
        }

        try
        {
            return RotationRulesParser.Parse(new RotationRules(rotation.AutomaticallyAfterDays, rotation.ScheduleExpression, rotation.Duration));
        }
        catch (RotationRulesException)
        {
            return null;
        }
    }

    /// <summary>The latest date by which the next rotation runs, counted from the last rotation or value change.</summary>
    public static DateTimeOffset? NextRotationDate(Secret secret, DateTimeOffset lastRotatedOrChanged) =>
        ScheduleOf(secret) is { } schedule ? RotationScheduleCalculator.NextRotationDate(schedule, lastRotatedOrChanged) : null;

    /// <summary>
    /// When the scheduler should start the next rotation: the opening of the window whose last second is
    /// NextRotationDate. Null when rotation is off or has no schedule.
    /// </summary>
    public static DateTimeOffset? DueAt(Secret secret)
    {
        if (ScheduleOf(secret) is not { } schedule || secret.Rotation is not { Enabled: true })
        {
            return null;
        }

        var last = secret.NextRotationDate ?? RotationScheduleCalculator.NextRotationDate(schedule, secret.LastRotatedDate ?? secret.CreatedDate);
        var end = last.AddSeconds(1);
        var start = end - WindowLength(schedule);
        var midnight = new DateTimeOffset(last.UtcDateTime.Date, TimeSpan.Zero);
        return start > midnight ? start : midnight;
    }

    /// <summary>When a failed rotation is tried again: the next window after the failure (the next day for day-based schedules).</summary>
    public static DateTimeOffset? RetryAt(Secret secret, DateTimeOffset failedAt)
    {
        if (ScheduleOf(secret) is not { } schedule)
        {
            return null;
        }

        return schedule.Kind is RotationScheduleKind.Cron or RotationScheduleKind.RateHours
            ? RotationScheduleCalculator.NextWindow(schedule, failedAt).Start
            : new DateTimeOffset(failedAt.UtcDateTime.Date, TimeSpan.Zero).AddDays(1);
    }

    private static TimeSpan WindowLength(RotationSchedule schedule) => TimeSpan.FromHours(schedule.DurationHours ?? (schedule.IsHourly ? 1 : 24));
}
