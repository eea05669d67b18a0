using System.Globalization;
using System.Text.RegularExpressions;

namespace Keyturn.Domain.Rotation;

/// <summary>
/// Validates RotateSecret <c>RotationRules</c> the way the Secrets Manager docs describe.
/// </summary>
/// <remarks>
/// Sources: API model <c>RotationRulesType</c> (ranges, patterns, "but not both") and the user guide's
/// "Rotation schedules" page: rates of <c>hour(s)</c> or <c>day(s)</c>, "as often as every four hours",
/// "the maximum rotation period is 999 days", cron Minutes <c>0</c> and Year <c>*</c>, and the window rules
/// (for a schedule in hours the window is at most the hours between rotations; for a schedule in days
/// start hour + duration is at most 24). AWS's exact messages are unpublished; only the
/// AutomaticallyAfterDays one is taken from moto. Inferred, not documented: rates in hours stop at 23
/// (longer intervals are a rate in days; hourly windows restart at midnight), crons must open a window at
/// least once a year (docs: no schedules "more than a year apart"), and a cron's windows on one day must be
/// at least four hours apart.
/// </remarks>
public static partial class RotationRulesParser
{
    public const long MinDays = 1;
    public const long MaxDays = 1000;
    public const int MinRateHours = 4;
    public const int MaxRateHours = 23;
    public const int MaxRateDays = 999;
    public const int MaxDurationHours = 24;
    public const int MaxScheduleExpressionLength = 256;
    public const string ScheduleExpressionPattern = @"[0-9A-Za-z\(\)#\?\*\-\/, ]+";
    public const string DurationPattern = "[0-9h]+";

    private static readonly TimeSpan LongestCronGap = TimeSpan.FromDays(366);

    /// <summary>Returns the parsed schedule, or throws <see cref="RotationRulesException"/>.</summary>
    public static RotationSchedule Parse(RotationRules rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ValidateModelConstraints(rules);

        var (days, expression) = (rules.AutomaticallyAfterDays, rules.ScheduleExpression);
        if (days is not null && expression is not null)
        {
            throw new RotationRulesException(
                "You can't specify both RotationRules.AutomaticallyAfterDays and RotationRules.ScheduleExpression. Use one or the other.");
        }

        RotationSchedule schedule;
        if (days is { } n)
        {
            if (n is < MinDays or > MaxDays)
            {
                throw new RotationRulesException($"RotationRules.AutomaticallyAfterDays must be within {MinDays}-{MaxDays}.");
            }

            schedule = new RotationSchedule(RotationScheduleKind.AutomaticallyAfterDays, (int)n, null, null, rules);
        }
        else if (expression is not null)
        {
            schedule = ParseExpression(expression, rules);
        }
        else
        {
            throw new RotationRulesException(
                "RotationRules must contain either AutomaticallyAfterDays or ScheduleExpression.");
        }

        return rules.Duration is { } duration
            ? schedule with { DurationHours = ParseDuration(duration, schedule) }
            : schedule;
    }

    private static void ValidateModelConstraints(RotationRules rules)
    {
        var violations = new List<string>();
        if (rules.ScheduleExpression is { } expression)
        {
            if (expression.Length < 1)
            {
                violations.Add(Violation(expression, "scheduleExpression", "Member must have length greater than or equal to 1"));
            }
            else if (expression.Length > MaxScheduleExpressionLength)
            {
                violations.Add(Violation(expression, "scheduleExpression", $"Member must have length less than or equal to {MaxScheduleExpressionLength}"));
            }

            if (expression.Length > 0 && !ScheduleExpressionRegex().IsMatch(expression))
            {
                violations.Add(Violation(expression, "scheduleExpression", $"Member must satisfy regular expression pattern: {ScheduleExpressionPattern}"));
            }
        }

        if (rules.Duration is { } duration)
        {
            if (duration.Length is < 2 or > 3)
            {
                var bound = duration.Length < 2 ? "greater than or equal to 2" : "less than or equal to 3";
                violations.Add(Violation(duration, "duration", $"Member must have length {bound}"));
            }

            if (duration.Length > 0 && !DurationModelRegex().IsMatch(duration))
            {
                violations.Add(Violation(duration, "duration", $"Member must satisfy regular expression pattern: {DurationPattern}"));
            }
        }

        if (violations.Count > 0)
        {
            var noun = violations.Count == 1 ? "error" : "errors";
            throw new RotationRulesException(
                RotationRulesException.Validation,
                $"{violations.Count} validation {noun} detected: {string.Join("; ", violations)}");
        }

        static string Violation(string value, string member, string constraint) =>
            $"Value '{value}' at 'rotationRules.{member}' failed to satisfy constraint: {constraint}";
    }

    private static RotationSchedule ParseExpression(string expression, RotationRules rules)
    {
        var rate = RateRegex().Match(expression);
        if (rate.Success)
        {
            if (!int.TryParse(rate.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                value = int.MaxValue;
            }

            if (rate.Groups[2].Value.StartsWith("hour", StringComparison.Ordinal))
            {
                if (value < MinRateHours)
                {
                    throw new RotationRulesException(
                        $"Invalid ScheduleExpression {expression}: Secrets Manager can rotate a secret at most every {MinRateHours} hours.");
                }

                if (value > MaxRateHours)
                {
                    throw new RotationRulesException(
                        $"Invalid ScheduleExpression {expression}: a rate in hours must be at most {MaxRateHours} hours; use a rate in days for longer intervals.");
                }

                var hourly = CronExpression.Parse(string.Create(CultureInfo.InvariantCulture, $"cron(0 0/{value} * * ? *)"));
                return new RotationSchedule(RotationScheduleKind.RateHours, value, hourly, null, rules);
            }

            if (value is < 1 or > MaxRateDays)
            {
                throw new RotationRulesException(
                    $"Invalid ScheduleExpression {expression}: a rate in days must be between 1 and {MaxRateDays} days.");
            }

            return new RotationSchedule(RotationScheduleKind.RateDays, value, null, null, rules);
        }

        if (!expression.StartsWith("cron(", StringComparison.Ordinal))
        {
            throw new RotationRulesException(
                $"Invalid ScheduleExpression {expression}: use rate(Value Unit) with a unit of hours or days, or cron(Minutes Hours Day-of-month Month Day-of-week Year).");
        }

        var cron = CronExpression.Parse(expression);
        for (var i = 1; i < cron.Hours.Count; i++)
        {
            if (cron.Hours[i] - cron.Hours[i - 1] < MinRateHours)
            {
                throw new RotationRulesException(
                    $"Invalid cron expression {expression}: Secrets Manager can rotate a secret at most every {MinRateHours} hours, but windows open at {cron.Hours[i - 1]}:00 and {cron.Hours[i]}:00.");
            }
        }

        if (cron.LongestGap is not { } gap)
        {
            throw new RotationRulesException($"Invalid cron expression {expression}: it never opens a rotation window.");
        }

        if (gap > LongestCronGap)
        {
            throw new RotationRulesException(
                $"Invalid cron expression {expression}: rotations can't be more than a year apart.");
        }

        return new RotationSchedule(RotationScheduleKind.Cron, 0, cron, null, rules);
    }

    private static int ParseDuration(string duration, RotationSchedule schedule)
    {
        var match = DurationRegex().Match(duration);
        var hours = match.Success && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var h) ? h : -1;
        if (hours is < 1 or > MaxDurationHours)
        {
            throw new RotationRulesException(
                $"Invalid RotationRules.Duration {duration}: the rotation window must be a whole number of hours from 1h to {MaxDurationHours}h, for example 3h.");
        }

        if (schedule.IsHourly)
        {
            var between = schedule.Kind == RotationScheduleKind.RateHours
                ? schedule.Interval
                : schedule.Cron!.Hours.Zip(schedule.Cron.Hours.Skip(1), (a, b) => b - a).Min();
            if (hours > between)
            {
                throw new RotationRulesException(
                    $"Invalid RotationRules.Duration {duration}: the rotation window can't extend into the next rotation window, which opens {between} hours later.");
            }
        }
        else
        {
            var start = schedule.Kind == RotationScheduleKind.Cron ? schedule.Cron!.Hours[0] : 0;
            if (start + hours > 24)
            {
                throw new RotationRulesException(
                    $"Invalid RotationRules.Duration {duration}: the rotation window can't extend into the next UTC day; a window opening at {start}:00 can last at most {24 - start}h.");
            }
        }

        return hours;
    }

    [GeneratedRegex(@"^rate\(\s*([0-9]+)\s+(hours?|days?)\s*\)$", RegexOptions.CultureInvariant)]
    private static partial Regex RateRegex();

    [GeneratedRegex(@"^([0-9]+)h$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationRegex();

    [GeneratedRegex("^" + ScheduleExpressionPattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex ScheduleExpressionRegex();

    [GeneratedRegex("^" + DurationPattern + "$", RegexOptions.CultureInvariant)]
    private static partial Regex DurationModelRegex();
}
