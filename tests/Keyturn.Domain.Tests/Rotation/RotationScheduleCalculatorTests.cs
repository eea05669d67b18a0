using System.Globalization;
using Keyturn.Domain.Rotation;

namespace Keyturn.Domain.Tests.Rotation;

public sealed class RotationScheduleCalculatorTests
{
    [Fact]
    public void NextRotationDate_ThirtyDays_MatchesObservedAws()
    {
        // A real DescribeSecret: AutomaticallyAfterDays 30, last change 2026-02-03T17:42:24Z,
        // NextRotationDate 2026-03-06T00:59:59+01:00, the last second of 5 March UTC.
        var schedule = Parse(30, null, null);

        var next = RotationScheduleCalculator.NextRotationDate(schedule, At("2026-02-03T18:42:24.335+01:00"));

        Assert.Equal(At("2026-03-05T23:59:59Z"), next);
    }

    [Theory]
    // Day-based schedules count from the date of the last rotation or change, whatever its time.
    [InlineData(30L, null, "2024-02-15T10:00:00Z", "2024-03-16T00:00:00Z", "2024-03-17T00:00:00Z")]
    [InlineData(30L, null, "2023-02-15T10:00:00Z", "2023-03-17T00:00:00Z", "2023-03-18T00:00:00Z")]
    [InlineData(null, "rate(10 days)", "2024-02-25T23:59:59Z", "2024-03-06T00:00:00Z", "2024-03-07T00:00:00Z")]
    [InlineData(null, "rate(10 days)", "2023-02-25T00:00:00Z", "2023-03-07T00:00:00Z", "2023-03-08T00:00:00Z")]
    [InlineData(1L, null, "2024-01-31T23:59:59Z", "2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z")]
    [InlineData(1L, null, "2024-12-31T12:00:00Z", "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z")]
    [InlineData(365L, null, "2024-01-01T08:00:00Z", "2024-12-31T00:00:00Z", "2025-01-01T00:00:00Z")]
    [InlineData(1L, null, "2024-03-01T02:00:00+05:00", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z")]
    // Daily crons stay open to the end of the UTC day.
    [InlineData(null, "cron(0 16 1,15 * ? *)", "2024-01-31T20:00:00Z", "2024-02-01T16:00:00Z", "2024-02-02T00:00:00Z")]
    [InlineData(null, "cron(0 0 L * ? *)", "2024-02-01T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z")]
    [InlineData(null, "cron(0 0 L * ? *)", "2023-02-01T00:00:00Z", "2023-02-28T00:00:00Z", "2023-03-01T00:00:00Z")]
    [InlineData(null, "cron(0 0 L * ? *)", "2024-12-31T00:00:00Z", "2025-01-31T00:00:00Z", "2025-02-01T00:00:00Z")]
    // Hourly schedules close after an hour by default.
    [InlineData(null, "rate(4 hours)", "2024-02-29T21:30:00Z", "2024-03-01T00:00:00Z", "2024-03-01T01:00:00Z")]
    [InlineData(null, "rate(4 hours)", "2024-02-29T04:00:00Z", "2024-02-29T08:00:00Z", "2024-02-29T09:00:00Z")]
    [InlineData(null, "cron(0 4/12 * * ? *)", "2024-12-31T17:00:00Z", "2025-01-01T04:00:00Z", "2025-01-01T05:00:00Z")]
    public void NextWindow_DefaultDuration_ReturnsWindow(long? days, string? expression, string after, string start, string end)
    {
        var window = RotationScheduleCalculator.NextWindow(Parse(days, expression, null), At(after));

        Assert.Equal((At(start), At(end)), window);
    }

    [Theory]
    [InlineData(7L, null, "3h", "2024-02-26T15:00:00Z", "2024-03-04T00:00:00Z", "2024-03-04T03:00:00Z")]
    [InlineData(null, "cron(0 16 1,15 * ? *)", "2h", "2024-01-31T20:00:00Z", "2024-02-01T16:00:00Z", "2024-02-01T18:00:00Z")]
    [InlineData(null, "cron(0 16 1,15 * ? *)", "8h", "2024-02-15T16:30:00Z", "2024-03-01T16:00:00Z", "2024-03-02T00:00:00Z")]
    [InlineData(null, "cron(0 8/8 * * ? *)", "2h", "2024-01-01T09:00:00Z", "2024-01-01T16:00:00Z", "2024-01-01T18:00:00Z")]
    [InlineData(null, "cron(0 4/12 * * ? *)", "12h", "2024-01-01T05:00:00Z", "2024-01-01T16:00:00Z", "2024-01-02T00:00:00Z")]
    // A window never runs past midnight, even when it would fit before the next one.
    [InlineData(null, "rate(10 hours)", "10h", "2024-01-01T15:00:00Z", "2024-01-01T20:00:00Z", "2024-01-02T00:00:00Z")]
    public void NextWindow_ExplicitDuration_ReturnsWindow(long? days, string? expression, string duration, string after, string start, string end)
    {
        var window = RotationScheduleCalculator.NextWindow(Parse(days, expression, duration), At(after));

        Assert.Equal((At(start), At(end)), window);
    }

    [Theory]
    [InlineData(30L, null, null, "2024-02-15T10:00:00Z", "2024-03-16T23:59:59Z")]
    [InlineData(7L, null, "3h", "2024-02-26T15:00:00Z", "2024-03-04T02:59:59Z")]
    [InlineData(null, "cron(0 16 1,15 * ? *)", null, "2024-01-31T20:00:00Z", "2024-02-01T23:59:59Z")]
    [InlineData(null, "cron(0 16 1,15 * ? *)", "2h", "2024-01-31T20:00:00Z", "2024-02-01T17:59:59Z")]
    [InlineData(null, "cron(0 0 L * ? *)", null, "2024-02-01T00:00:00Z", "2024-02-29T23:59:59Z")]
    [InlineData(null, "rate(4 hours)", null, "2024-02-29T21:30:00Z", "2024-03-01T00:59:59Z")]
    public void NextRotationDate_Schedule_IsLastSecondOfNextWindow(long? days, string? expression, string? duration, string last, string expected)
    {
        var next = RotationScheduleCalculator.NextRotationDate(Parse(days, expression, duration), At(last));

        Assert.Equal(At(expected), next);
    }

    [Theory]
    [InlineData(7L, null, 7)]
    [InlineData(1000L, null, 1000)]
    [InlineData(null, "rate(10 days)", 10)]
    [InlineData(null, "rate(4 hours)", 1)]
    [InlineData(null, "cron(0 4/12 * * ? *)", 1)]
    [InlineData(null, "cron(0 10 * * ? *)", 1)]
    [InlineData(null, "cron(0 8 ? * MON-FRI *)", 3)]
    [InlineData(null, "cron(0 16 1,15 * ? *)", 17)]
    [InlineData(null, "cron(0 0 L * ? *)", 31)]
    [InlineData(null, "cron(0 0 1 1 ? *)", 366)]
    public void DerivedAutomaticallyAfterDays_Schedule_BoundsDaysBetweenRotations(long? days, string? expression, long expected)
    {
        Assert.Equal(expected, RotationScheduleCalculator.DerivedAutomaticallyAfterDays(Parse(days, expression, null)));
    }

    [Fact]
    public void NextWindow_ConsecutiveCronWindows_AdvanceThroughLeapFebruary()
    {
        var schedule = Parse(null, "cron(0 0 L * ? *)", null);
        var starts = new List<DateTimeOffset>();
        var after = At("2024-01-15T00:00:00Z");
        for (var i = 0; i < 3; i++)
        {
            var (start, _) = RotationScheduleCalculator.NextWindow(schedule, after);
            starts.Add(start);
            after = start;
        }

        Assert.Equal([At("2024-01-31T00:00:00Z"), At("2024-02-29T00:00:00Z"), At("2024-03-31T00:00:00Z")], starts);
    }

    private static RotationSchedule Parse(long? days, string? expression, string? duration) =>
        RotationRulesParser.Parse(new RotationRules(days, expression, duration));

    private static DateTimeOffset At(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);
}
