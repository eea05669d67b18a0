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

    /// <summary>When the scheduler should start the next rotation: the start of the window that ends at NextRotationDate.</summary>
    public static DateTimeOffset? NextWindowStart(Secret secret)
    {
        if (ScheduleOf(secret) is not { } schedule || secret.Rotation is not { Enabled: true })
        {
            return null;
        }

        var from = secret.LastRotatedDate ?? secret.CreatedDate;
        if (secret.LastChangedDate > from && schedule.Kind != RotationScheduleKind.Cron && schedule.Kind != RotationScheduleKind.RateHours)
        {
            // A manual value change counts as a rotation for day-based schedules.
            from = secret.LastChangedDate;
        }

        var nextDate = secret.NextRotationDate ?? RotationScheduleCalculator.NextRotationDate(schedule, from);
        return RotationScheduleCalculator.NextWindow(schedule, nextDate.AddDays(-1) > from ? nextDate.AddDays(-1) : from).Start;
    }
}
