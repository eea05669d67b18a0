using System.Globalization;
using Keyturn.Domain.Rotation;

namespace Keyturn.Domain.Tests.Rotation;

public sealed class CronExpressionTests
{
    [Theory]
    // First and 15th at 16:00 (CLI example): strictly after, across a month end.
    [InlineData("cron(0 16 1,15 * ? *)", "2024-01-01T00:00:00Z", "2024-01-01T16:00:00Z")]
    [InlineData("cron(0 16 1,15 * ? *)", "2024-01-01T16:00:00Z", "2024-01-15T16:00:00Z")]
    [InlineData("cron(0 16 1,15 * ? *)", "2024-01-31T20:00:00Z", "2024-02-01T16:00:00Z")]
    // Weekday hours: Friday evening rolls to Monday morning; within a day, the next hour.
    [InlineData("cron(0 8-10 ? * MON-FRI *)", "2024-06-07T10:30:00Z", "2024-06-10T08:00:00Z")]
    [InlineData("cron(0 8-10 ? * MON-FRI *)", "2024-06-10T08:00:00Z", "2024-06-10T09:00:00Z")]
    [InlineData("cron(0 8-10 ? * 2-6 *)", "2024-06-08T00:00:00Z", "2024-06-10T08:00:00Z")]
    // Last day of the month, leap and common Februaries.
    [InlineData("cron(0 0 L * ? *)", "2024-02-01T00:00:00Z", "2024-02-29T00:00:00Z")]
    [InlineData("cron(0 0 L * ? *)", "2023-02-01T00:00:00Z", "2023-02-28T00:00:00Z")]
    [InlineData("cron(0 0 L * ? *)", "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z")]
    [InlineData("cron(0 17 L * ? *)", "2024-04-30T17:00:00Z", "2024-05-31T17:00:00Z")]
    [InlineData("cron(0 0 L * ? *)", "2100-02-01T00:00:00Z", "2100-02-28T00:00:00Z")]
    // Hour increments restart each day, across a year end.
    [InlineData("cron(0 4/12 * * ? *)", "2024-12-31T17:00:00Z", "2025-01-01T04:00:00Z")]
    [InlineData("cron(0 4/12 * * ? *)", "2024-12-31T04:00:00Z", "2024-12-31T16:00:00Z")]
    // Day-of-month increments: 1, 11, 21, 31.
    [InlineData("cron(0 8 1/10 * ? *)", "2024-01-21T09:00:00Z", "2024-01-31T08:00:00Z")]
    [InlineData("cron(0 8 1/10 * ? *)", "2024-02-21T09:00:00Z", "2024-03-01T08:00:00Z")]
    // Nth, last and named days of the week.
    [InlineData("cron(0 0 ? * SUN#1 *)", "2024-08-05T00:00:00Z", "2024-09-01T00:00:00Z")]
    [InlineData("cron(0 0 ? * 2#5 *)", "2024-02-01T00:00:00Z", "2024-04-29T00:00:00Z")]
    [InlineData("cron(0 0 ? * FRIL *)", "2024-02-01T00:00:00Z", "2024-02-23T00:00:00Z")]
    [InlineData("cron(0 0 ? * 6L *)", "2024-03-01T00:00:00Z", "2024-03-29T00:00:00Z")]
    [InlineData("cron(0 0 ? * L *)", "2024-06-03T00:00:00Z", "2024-06-08T00:00:00Z")]
    [InlineData("cron(0 18 ? * sat *)", "2024-06-03T00:00:00Z", "2024-06-08T18:00:00Z")]
    // Nearest weekday, never leaving the month.
    [InlineData("cron(0 0 15W * ? *)", "2024-06-01T00:00:00Z", "2024-06-14T00:00:00Z")]
    [InlineData("cron(0 0 1W * ? *)", "2024-05-31T12:00:00Z", "2024-06-03T00:00:00Z")]
    [InlineData("cron(0 0 31W * ? *)", "2024-03-01T00:00:00Z", "2024-03-29T00:00:00Z")]
    [InlineData("cron(0 0 LW * ? *)", "2024-08-01T00:00:00Z", "2024-08-30T00:00:00Z")]
    // Months by increment and by name.
    [InlineData("cron(0 1 ? 1/3 SUN *)", "2024-01-31T00:00:00Z", "2024-04-07T01:00:00Z")]
    [InlineData("cron(0 0 1 JAN,APR,JUL,OCT ? *)", "2024-04-01T00:00:00Z", "2024-07-01T00:00:00Z")]
    [InlineData("cron(0 0 1 1 ? *)", "2024-12-31T23:30:00Z", "2025-01-01T00:00:00Z")]
    // February 29th is found four years on.
    [InlineData("cron(0 0 29 2 ? *)", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    // Non-UTC input is converted: 01:00+05:00 is 20:00 UTC the previous day.
    [InlineData("cron(0 22 * * ? *)", "2024-01-01T01:00:00+05:00", "2023-12-31T22:00:00Z")]
    public void NextOccurrence_Expression_ReturnsFirstWindowStrictlyAfter(string expression, string after, string expected)
    {
        var next = CronExpression.Parse(expression).NextOccurrence(At(after));

        Assert.Equal(At(expected), next);
        Assert.Equal(TimeSpan.Zero, next!.Value.Offset);
    }

    [Fact]
    public void NextOccurrence_ImpossibleDate_ReturnsNull()
    {
        Assert.Null(CronExpression.Parse("cron(0 0 30 2 ? *)").NextOccurrence(At("2024-01-01T00:00:00Z")));
    }

    [Theory]
    [InlineData("cron(0 16 1,15 * ? *)", new[] { 16 }, false)]
    [InlineData("cron(0 4/12 * * ? *)", new[] { 4, 16 }, true)]
    [InlineData("cron(0 8-10 ? * MON-FRI *)", new[] { 8, 9, 10 }, true)]
    [InlineData("cron(0 */6 * * ? *)", new[] { 0, 6, 12, 18 }, true)]
    [InlineData("cron(0 1,5-7,20/2 * * ? *)", new[] { 1, 5, 6, 7, 20, 22 }, true)]
    [InlineData("cron(0 2-20/9 * * ? *)", new[] { 2, 11, 20 }, true)]
    public void Parse_HoursField_ExpandsToWindowStarts(string expression, int[] hours, bool hourly)
    {
        var cron = CronExpression.Parse(expression);

        Assert.Equal(hours, cron.Hours);
        Assert.Equal(hourly, cron.IsHourly);
    }

    [Theory]
    [InlineData("cron(0 16 1,15 * ? *)", 17)]
    [InlineData("cron(0 10 * * ? *)", 1)]
    [InlineData("cron(0 8 ? * MON-FRI *)", 3)]
    [InlineData("cron(0 0 1 1 ? *)", 366)]
    public void LongestGap_Expression_IsLongestTimeBetweenWindows(string expression, int days)
    {
        Assert.Equal(TimeSpan.FromDays(days), CronExpression.Parse(expression).LongestGap);
    }

    [Fact]
    public void LongestGap_NeverMatches_IsNull()
    {
        Assert.Null(CronExpression.Parse("cron(0 0 31 FEB ? *)").LongestGap);
    }

    [Theory]
    [InlineData("cron(30 16 * * ? *)", "the Minutes field must be 0")]
    [InlineData("cron(0 16 * * ? 2025)", "the Year field must be *")]
    [InlineData("cron(0 16 * * * *)", "exactly one of the Day-of-month and Day-of-week fields must be ?")]
    [InlineData("cron(0 16 ? * ? *)", "exactly one of the Day-of-month and Day-of-week fields must be ?")]
    [InlineData("cron(0 1 1 * MON *)", "exactly one of the Day-of-month and Day-of-week fields must be ?")]
    [InlineData("cron(0 16 * * ?)", "it has 5 fields, but needs 6")]
    [InlineData("rate(4 hours)", "it must have the form cron(")]
    [InlineData("cron(0 24 * * ? *)", "Hours value 24 is outside 0-23")]
    [InlineData("cron(0 0 32 * ? *)", "Day-of-month value 32 is outside 1-31")]
    [InlineData("cron(0 0 0 * ? *)", "Day-of-month value 0 is outside 1-31")]
    [InlineData("cron(0 0 1 13 ? *)", "Month value 13 is outside 1-12")]
    [InlineData("cron(0 0 ? * 8 *)", "Day-of-week value 8 is outside 1-7")]
    [InlineData("cron(0 0 ? * FRI-MON *)", "the Day-of-week range FRI-MON runs backwards")]
    [InlineData("cron(0 0 ? * MON#6 *)", "Day-of-week # value 6 is outside 1-5")]
    [InlineData("cron(0 0 ? * FUN *)", "'FUN' is not a valid Day-of-week value")]
    [InlineData("cron(0 0/0 * * ? *)", "Hours increment value 0 is outside 1-1000")]
    [InlineData("cron(0 0 L-2 * ? *)", "'L' is not a valid Day-of-month value")]
    [InlineData("cron(0 0,,1 * * ? *)", "'' is not a valid Hours value")]
    public void Parse_InvalidExpression_ThrowsWithReason(string expression, string reason)
    {
        var error = Assert.Throws<RotationRulesException>(() => CronExpression.Parse(expression));

        Assert.Equal(RotationRulesException.InvalidParameter, error.ErrorCode);
        Assert.StartsWith($"Invalid cron expression {expression}: {reason}", error.Message);
    }

    [Fact]
    public void Equals_SameText_AreEqual()
    {
        Assert.Equal(CronExpression.Parse("cron(0 10 * * ? *)"), CronExpression.Parse("cron(0 10 * * ? *)"));
        Assert.NotEqual(CronExpression.Parse("cron(0 10 * * ? *)"), CronExpression.Parse("cron(0 11 * * ? *)"));
    }

    private static DateTimeOffset At(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);
}
