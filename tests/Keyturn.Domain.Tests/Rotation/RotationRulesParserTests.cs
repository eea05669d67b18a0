using Keyturn.Domain.Rotation;

namespace Keyturn.Domain.Tests.Rotation;

public sealed class RotationRulesParserTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(30)]
    [InlineData(1000)]
    public void Parse_AutomaticallyAfterDaysInRange_ReturnsDaySchedule(long days)
    {
        var rules = new RotationRules(days, null, null);

        var schedule = RotationRulesParser.Parse(rules);

        Assert.Equal(new RotationSchedule(RotationScheduleKind.AutomaticallyAfterDays, (int)days, null, null, rules), schedule);
        Assert.False(schedule.IsHourly);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    [InlineData(-5)]
    [InlineData(long.MaxValue)]
    public void Parse_AutomaticallyAfterDaysOutOfRange_Throws(long days)
    {
        AssertRejected(new RotationRules(days, null, null), "RotationRules.AutomaticallyAfterDays must be within 1-1000.");
    }

    [Fact]
    public void Parse_DaysAndExpression_Throws()
    {
        AssertRejected(
            new RotationRules(10, "rate(10 days)", null),
            "You can't specify both RotationRules.AutomaticallyAfterDays and RotationRules.ScheduleExpression. Use one or the other.");
    }

    [Fact]
    public void Parse_NeitherDaysNorExpression_Throws()
    {
        AssertRejected(new RotationRules(null, null, "3h"), "RotationRules must contain either AutomaticallyAfterDays or ScheduleExpression.");
    }

    [Theory]
    [InlineData("rate(4 hours)", RotationScheduleKind.RateHours, 4)]
    [InlineData("rate(23 hours)", RotationScheduleKind.RateHours, 23)]
    [InlineData("rate(10 days)", RotationScheduleKind.RateDays, 10)]
    [InlineData("rate(1 day)", RotationScheduleKind.RateDays, 1)]
    [InlineData("rate(999 days)", RotationScheduleKind.RateDays, 999)]
    [InlineData("rate( 7  days )", RotationScheduleKind.RateDays, 7)]
    public void Parse_ValidRate_ReturnsRateSchedule(string expression, RotationScheduleKind kind, int interval)
    {
        var schedule = RotationRulesParser.Parse(new RotationRules(null, expression, null));

        Assert.Equal(kind, schedule.Kind);
        Assert.Equal(interval, schedule.Interval);
        Assert.Equal(kind == RotationScheduleKind.RateHours, schedule.IsHourly);
    }

    [Fact]
    public void Parse_RateInHours_OpensWindowsFromMidnightEveryNHours()
    {
        var schedule = RotationRulesParser.Parse(new RotationRules(null, "rate(5 hours)", null));

        Assert.Equal([0, 5, 10, 15, 20], schedule.Cron!.Hours);
    }

    [Theory]
    [InlineData("rate(3 hours)", "Invalid ScheduleExpression rate(3 hours): Secrets Manager can rotate a secret at most every 4 hours.")]
    [InlineData("rate(1 hour)", "Invalid ScheduleExpression rate(1 hour): Secrets Manager can rotate a secret at most every 4 hours.")]
    [InlineData("rate(24 hours)", "Invalid ScheduleExpression rate(24 hours): a rate in hours must be at most 23 hours; use a rate in days for longer intervals.")]
    [InlineData("rate(0 days)", "Invalid ScheduleExpression rate(0 days): a rate in days must be between 1 and 999 days.")]
    [InlineData("rate(1000 days)", "Invalid ScheduleExpression rate(1000 days): a rate in days must be between 1 and 999 days.")]
    [InlineData("rate(99999999999 days)", "Invalid ScheduleExpression rate(99999999999 days): a rate in days must be between 1 and 999 days.")]
    [InlineData("rate(2 weeks)", "Invalid ScheduleExpression rate(2 weeks): use rate(Value Unit) with a unit of hours or days, or cron(Minutes Hours Day-of-month Month Day-of-week Year).")]
    [InlineData("rate(10days)", "Invalid ScheduleExpression rate(10days): use rate(Value Unit) with a unit of hours or days, or cron(Minutes Hours Day-of-month Month Day-of-week Year).")]
    [InlineData("RATE(10 days)", "Invalid ScheduleExpression RATE(10 days): use rate(Value Unit) with a unit of hours or days, or cron(Minutes Hours Day-of-month Month Day-of-week Year).")]
    public void Parse_InvalidRate_Throws(string expression, string message)
    {
        AssertRejected(new RotationRules(null, expression, null), message);
    }

    [Theory]
    [InlineData("cron(0 16 1,15 * ? *)", false)]
    [InlineData("cron(0 0 L * ? *)", false)]
    [InlineData("cron(0 10 * * ? *)", false)]
    [InlineData("cron(0 18 ? * SAT *)", false)]
    [InlineData("cron(0 8 1 * ? *)", false)]
    [InlineData("cron(0 17 L * ? *)", false)]
    [InlineData("cron(0 8 ? * MON-FRI *)", false)]
    [InlineData("cron(0 0 ? * SUN#1 *)", false)]
    [InlineData("cron(0 1 ? 1/3 SUN *)", false)]
    [InlineData("cron(0 0 1 1 ? *)", false)]
    [InlineData("cron(0 4/12 * * ? *)", true)]
    [InlineData("cron(0 8/8 * * ? *)", true)]
    [InlineData("cron(0 2/10 * * ? *)", true)]
    [InlineData("cron(0 8/4 ? * MON-FRI *)", true)]
    public void Parse_ValidCron_ReturnsCronSchedule(string expression, bool hourly)
    {
        var schedule = RotationRulesParser.Parse(new RotationRules(null, expression, null));

        Assert.Equal(RotationScheduleKind.Cron, schedule.Kind);
        Assert.Equal(expression, schedule.Cron!.Expression);
        Assert.Equal(hourly, schedule.IsHourly);
    }

    [Theory]
    [InlineData("cron(30 16 * * ? *)", "Invalid cron expression cron(30 16 * * ? *): the Minutes field must be 0, because rotation windows open on the hour.")]
    [InlineData("cron(0 16 * * ? 2025)", "Invalid cron expression cron(0 16 * * ? 2025): the Year field must be *.")]
    [InlineData("cron(0 16 1 * MON *)", "Invalid cron expression cron(0 16 1 * MON *): exactly one of the Day-of-month and Day-of-week fields must be ?.")]
    [InlineData("cron(0 8-10 ? * MON-FRI *)", "Invalid cron expression cron(0 8-10 ? * MON-FRI *): Secrets Manager can rotate a secret at most every 4 hours, but windows open at 8:00 and 9:00.")]
    [InlineData("cron(0 * * * ? *)", "Invalid cron expression cron(0 * * * ? *): Secrets Manager can rotate a secret at most every 4 hours, but windows open at 0:00 and 1:00.")]
    [InlineData("cron(0 0 30 2 ? *)", "Invalid cron expression cron(0 0 30 2 ? *): it never opens a rotation window.")]
    [InlineData("cron(0 0 29 2 ? *)", "Invalid cron expression cron(0 0 29 2 ? *): rotations can't be more than a year apart.")]
    public void Parse_InvalidCron_Throws(string expression, string message)
    {
        AssertRejected(new RotationRules(null, expression, null), message);
    }

    [Theory]
    [InlineData(7L, null, "3h", 3)]
    [InlineData(7L, null, "24h", 24)]
    [InlineData(null, "rate(10 days)", "1h", 1)]
    [InlineData(null, "cron(0 16 1,15 * ? *)", "2h", 2)]
    [InlineData(null, "cron(0 16 1,15 * ? *)", "8h", 8)]
    [InlineData(null, "cron(0 8/8 * * ? *)", "2h", 2)]
    [InlineData(null, "rate(4 hours)", "4h", 4)]
    [InlineData(null, "rate(10 hours)", "10h", 10)]
    [InlineData(null, "cron(0 4/12 * * ? *)", "12h", 12)]
    [InlineData(null, "cron(0 0 L * ? *)", "03h", 3)]
    public void Parse_DurationFitsWindow_SetsDurationHours(long? days, string? expression, string duration, int hours)
    {
        var rules = new RotationRules(days, expression, duration);

        var schedule = RotationRulesParser.Parse(rules);

        Assert.Equal(hours, schedule.DurationHours);
        Assert.Same(rules, schedule.Rules);
    }

    [Theory]
    [InlineData(7L, null, "25h", "Invalid RotationRules.Duration 25h: the rotation window must be a whole number of hours from 1h to 24h, for example 3h.")]
    [InlineData(7L, null, "0h", "Invalid RotationRules.Duration 0h: the rotation window must be a whole number of hours from 1h to 24h, for example 3h.")]
    [InlineData(7L, null, "hh", "Invalid RotationRules.Duration hh: the rotation window must be a whole number of hours from 1h to 24h, for example 3h.")]
    [InlineData(7L, null, "3h3", "Invalid RotationRules.Duration 3h3: the rotation window must be a whole number of hours from 1h to 24h, for example 3h.")]
    [InlineData(null, "cron(0 16 1,15 * ? *)", "9h", "Invalid RotationRules.Duration 9h: the rotation window can't extend into the next UTC day; a window opening at 16:00 can last at most 8h.")]
    [InlineData(null, "rate(4 hours)", "5h", "Invalid RotationRules.Duration 5h: the rotation window can't extend into the next rotation window, which opens 4 hours later.")]
    [InlineData(null, "cron(0 4/12 * * ? *)", "13h", "Invalid RotationRules.Duration 13h: the rotation window can't extend into the next rotation window, which opens 12 hours later.")]
    [InlineData(null, "cron(0 0,4,12 * * ? *)", "5h", "Invalid RotationRules.Duration 5h: the rotation window can't extend into the next rotation window, which opens 4 hours later.")]
    public void Parse_DurationDoesNotFit_Throws(long? days, string? expression, string duration, string message)
    {
        AssertRejected(new RotationRules(days, expression, duration), message);
    }

    [Theory]
    [InlineData(null, "", "1 validation error detected: Value '' at 'rotationRules.scheduleExpression' failed to satisfy constraint: Member must have length greater than or equal to 1")]
    [InlineData(null, "rate(4 hours);", "1 validation error detected: Value 'rate(4 hours);' at 'rotationRules.scheduleExpression' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9A-Za-z\\(\\)#\\?\\*\\-\\/, ]+")]
    [InlineData("3", "rate(4 hours)", "1 validation error detected: Value '3' at 'rotationRules.duration' failed to satisfy constraint: Member must have length greater than or equal to 2")]
    [InlineData("100h", "rate(4 hours)", "1 validation error detected: Value '100h' at 'rotationRules.duration' failed to satisfy constraint: Member must have length less than or equal to 3")]
    [InlineData("2x", "rate(4 hours)", "1 validation error detected: Value '2x' at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9h]+")]
    [InlineData("1x0h", "rate(4 hours)", "2 validation errors detected: Value '1x0h' at 'rotationRules.duration' failed to satisfy constraint: Member must have length less than or equal to 3; Value '1x0h' at 'rotationRules.duration' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9h]+")]
    public void Parse_ModelConstraintBroken_ThrowsValidationException(string? duration, string expression, string message)
    {
        var error = Assert.Throws<RotationRulesException>(() => RotationRulesParser.Parse(new RotationRules(null, expression, duration)));

        Assert.Equal(RotationRulesException.Validation, error.ErrorCode);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Parse_ExpressionLongerThan256_ThrowsValidationException()
    {
        var expression = "rate(" + new string('1', 250) + " days)";

        var error = Assert.Throws<RotationRulesException>(() => RotationRulesParser.Parse(new RotationRules(null, expression, null)));

        Assert.Equal(RotationRulesException.Validation, error.ErrorCode);
        Assert.EndsWith("Member must have length less than or equal to 256", error.Message);
    }

    private static void AssertRejected(RotationRules rules, string message)
    {
        var error = Assert.Throws<RotationRulesException>(() => RotationRulesParser.Parse(rules));

        Assert.Equal(RotationRulesException.InvalidParameter, error.ErrorCode);
        Assert.Equal(message, error.Message);
    }
}
