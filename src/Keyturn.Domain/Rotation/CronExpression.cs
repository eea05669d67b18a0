using System.Globalization;
using System.Text.RegularExpressions;

namespace Keyturn.Domain.Rotation;

/// <summary>
/// A Secrets Manager <c>cron(Minutes Hours Day-of-month Month Day-of-week Year)</c> expression, evaluated in UTC
/// at hour granularity (rotation windows open on the hour, so Minutes must be <c>0</c>; Year must be <c>*</c>).
/// </summary>
/// <remarks>
/// Field syntax follows EventBridge/Quartz, as the Secrets Manager schedule docs describe it:
/// Hours 0–23 with <c>, - * /</c>; Day-of-month 1–31 with <c>, - * ? /</c>, <c>L</c>, <c>LW</c>, <c>nW</c>;
/// Month 1–12 or JAN–DEC with <c>, - * /</c>; Day-of-week 1–7 (1 = SUN) or SUN–SAT with <c>, - * ? /</c>,
/// <c>L</c> (Saturday), <c>nL</c> (last such day of the month), <c>n#k</c> (k-th such day).
/// Exactly one of Day-of-month and Day-of-week must be <c>?</c>. Hour increments restart each day:
/// <c>cron(0 4/12 * * ? *)</c> is 04:00 and 16:00 every day.
/// </remarks>
public sealed partial class CronExpression : IEquatable<CronExpression>
{
    private const int SearchDays = (366 * 5) + 1;

    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private readonly bool[] _hours;
    private readonly bool[] _months;
    private readonly Func<DateOnly, bool> _dayMatches;
    private readonly Lazy<TimeSpan?> _longestGap;

    private CronExpression(string expression, bool[] hours, bool[] months, Func<DateOnly, bool> dayMatches)
    {
        Expression = expression;
        _hours = hours;
        _months = months;
        _dayMatches = dayMatches;
        Hours = [.. Enumerable.Range(0, 24).Where(h => hours[h])];
        _longestGap = new Lazy<TimeSpan?>(ComputeLongestGap);
    }

    /// <summary>The expression as given, e.g. <c>cron(0 16 1,15 * ? *)</c>.</summary>
    public string Expression { get; }

    /// <summary>The UTC hours at which windows open on a matching day, ascending.</summary>
    public IReadOnlyList<int> Hours { get; }

    /// <summary>More than one window a day: a schedule "in hours".</summary>
    public bool IsHourly => Hours.Count > 1;

    /// <summary>Parses <c>cron(...)</c>; throws <see cref="RotationRulesException"/> with the reason when invalid.</summary>
    public static CronExpression Parse(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var match = CronRegex().Match(expression);
        if (!match.Success)
        {
            throw Invalid(expression, "it must have the form cron(Minutes Hours Day-of-month Month Day-of-week Year)");
        }

        var fields = match.Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 6)
        {
            throw Invalid(expression, $"it has {fields.Length} fields, but needs 6: Minutes Hours Day-of-month Month Day-of-week Year");
        }

        var (minutes, hours, dayOfMonth, month, dayOfWeek, year) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
        if (minutes != "0")
        {
            throw Invalid(expression, "the Minutes field must be 0, because rotation windows open on the hour");
        }

        if (year != "*")
        {
            throw Invalid(expression, "the Year field must be *");
        }

        if ((dayOfMonth == "?") == (dayOfWeek == "?"))
        {
            throw Invalid(expression, "exactly one of the Day-of-month and Day-of-week fields must be ?");
        }

        try
        {
            var hourSet = ParseSet(hours, 0, 23, null, "Hours");
            var monthSet = ParseSet(month, 1, 12, MonthNames, "Month");
            var dayMatches = dayOfMonth == "?" ? ParseDayOfWeek(dayOfWeek) : ParseDayOfMonth(dayOfMonth);
            return new CronExpression(expression, hourSet, monthSet, dayMatches);
        }
        catch (FormatException e)
        {
            throw Invalid(expression, e.Message);
        }
    }

    /// <summary>The first window opening strictly after <paramref name="after"/>, or null if none within five years.</summary>
    public DateTimeOffset? NextOccurrence(DateTimeOffset after)
    {
        var utc = after.UtcDateTime;
        var candidate = new DateTime(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, DateTimeKind.Utc).AddHours(1);
        var date = DateOnly.FromDateTime(candidate);
        var firstHour = candidate.Hour;
        for (var i = 0; i < SearchDays; i++)
        {
            if (_months[date.Month] && _dayMatches(date))
            {
                for (var hour = firstHour; hour < 24; hour++)
                {
                    if (_hours[hour])
                    {
                        return new DateTimeOffset(date.ToDateTime(new TimeOnly(hour, 0), DateTimeKind.Utc));
                    }
                }
            }

            if (date == DateOnly.MaxValue)
            {
                break;
            }

            date = date.AddDays(1);
            firstHour = 0;
        }

        return null;
    }

    /// <summary>
    /// The longest time between consecutive windows over the four years from 2024-01-01 (a leap cycle),
    /// or null when the expression opens no window in that span.
    /// </summary>
    public TimeSpan? LongestGap => _longestGap.Value;

    public bool Equals(CronExpression? other) => other is not null && string.Equals(Expression, other.Expression, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as CronExpression);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Expression);

    public override string ToString() => Expression;

    private TimeSpan? ComputeLongestGap()
    {
        var from = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var until = from.AddYears(4);
        var previous = NextOccurrence(from.AddTicks(-1));
        if (previous is null || previous >= until)
        {
            return null;
        }

        var longest = TimeSpan.Zero;
        while (previous < until)
        {
            var next = NextOccurrence(previous.Value);
            if (next is null)
            {
                return TimeSpan.MaxValue;
            }

            longest = TimeSpan.FromTicks(Math.Max(longest.Ticks, (next.Value - previous.Value).Ticks));
            previous = next;
        }

        return longest;
    }

    private static Func<DateOnly, bool> ParseDayOfMonth(string field)
    {
        switch (field)
        {
            case "*":
                return _ => true;
            case "L":
                return d => d.Day == DaysIn(d);
            case "LW":
                return d => d.Day == NearestWeekday(d.Year, d.Month, DaysIn(d));
        }

        var nearest = NearestWeekdayRegex().Match(field);
        if (nearest.Success)
        {
            var day = ParseNumber(nearest.Groups[1].Value, 1, 31, "Day-of-month");
            return d => day <= DaysIn(d) && d.Day == NearestWeekday(d.Year, d.Month, day);
        }

        var days = ParseSet(field, 1, 31, null, "Day-of-month");
        return d => days[d.Day];
    }

    private static Func<DateOnly, bool> ParseDayOfWeek(string field)
    {
        switch (field)
        {
            case "*":
                return _ => true;
            case "L":
                return d => CronDay(d) == 7;
        }

        var last = LastDayOfWeekRegex().Match(field);
        if (last.Success)
        {
            var day = ParseValue(last.Groups[1].Value, 1, 7, DayNames, "Day-of-week");
            return d => CronDay(d) == day && d.Day + 7 > DaysIn(d);
        }

        var nth = NthDayOfWeekRegex().Match(field);
        if (nth.Success)
        {
            var day = ParseValue(nth.Groups[1].Value, 1, 7, DayNames, "Day-of-week");
            var week = ParseNumber(nth.Groups[2].Value, 1, 5, "Day-of-week #");
            return d => CronDay(d) == day && ((d.Day - 1) / 7) + 1 == week;
        }

        var days = ParseSet(field, 1, 7, DayNames, "Day-of-week");
        return d => days[CronDay(d)];
    }

    /// <summary>A set field: <c>*</c>, values, <c>a-b</c> ranges and <c>/n</c> steps, comma-separated.</summary>
    private static bool[] ParseSet(string field, int min, int max, string[]? names, string fieldName)
    {
        var set = new bool[max + 1];
        foreach (var part in field.Split(','))
        {
            var slash = part.IndexOf('/', StringComparison.Ordinal);
            var rangeText = slash < 0 ? part : part[..slash];
            var step = slash < 0 ? 1 : ParseNumber(part[(slash + 1)..], 1, 1000, $"{fieldName} increment");

            int from, to;
            if (rangeText == "*")
            {
                (from, to) = (min, max);
            }
            else
            {
                var dash = rangeText.IndexOf('-', StringComparison.Ordinal);
                if (dash < 0)
                {
                    from = ParseValue(rangeText, min, max, names, fieldName);
                    to = slash < 0 ? from : max;
                }
                else
                {
                    from = ParseValue(rangeText[..dash], min, max, names, fieldName);
                    to = ParseValue(rangeText[(dash + 1)..], min, max, names, fieldName);
                    if (from > to)
                    {
                        throw new FormatException($"the {fieldName} range {rangeText} runs backwards");
                    }
                }
            }

            for (var value = from; value <= to; value += step)
            {
                set[value] = true;
            }
        }

        return set;
    }

    private static int ParseValue(string text, int min, int max, string[]? names, string fieldName)
    {
        if (names is not null)
        {
            var index = Array.FindIndex(names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                return index + min;
            }
        }

        return ParseNumber(text, min, max, fieldName);
    }

    private static int ParseNumber(string text, int min, int max, string fieldName)
    {
        if (text.Length is 0 or > 4 || !text.All(char.IsAsciiDigit))
        {
            throw new FormatException($"'{text}' is not a valid {fieldName} value");
        }

        var value = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
        return value >= min && value <= max
            ? value
            : throw new FormatException($"{fieldName} value {value} is outside {min}-{max}");
    }

    /// <summary>Quartz <c>nW</c>: the weekday nearest day n, without leaving the month.</summary>
    private static int NearestWeekday(int year, int month, int day)
    {
        var daysInMonth = DateTime.DaysInMonth(year, month);
        return new DateOnly(year, month, day).DayOfWeek switch
        {
            DayOfWeek.Saturday => day == 1 ? 3 : day - 1,
            DayOfWeek.Sunday => day == daysInMonth ? day - 2 : day + 1,
            _ => day,
        };
    }

    private static int DaysIn(DateOnly date) => DateTime.DaysInMonth(date.Year, date.Month);

    /// <summary>Day of week numbered as cron does: 1 = Sunday … 7 = Saturday.</summary>
    private static int CronDay(DateOnly date) => (int)date.DayOfWeek + 1;

    private static RotationRulesException Invalid(string expression, string reason) =>
        new($"Invalid cron expression {expression}: {reason}.");

    [GeneratedRegex(@"^cron\((.*)\)$", RegexOptions.CultureInvariant)]
    private static partial Regex CronRegex();

    [GeneratedRegex(@"^([0-9]{1,2})W$", RegexOptions.CultureInvariant)]
    private static partial Regex NearestWeekdayRegex();

    [GeneratedRegex(@"^([0-9]|[A-Za-z]{3})L$", RegexOptions.CultureInvariant)]
    private static partial Regex LastDayOfWeekRegex();

    [GeneratedRegex(@"^([0-9]|[A-Za-z]{3})#([0-9])$", RegexOptions.CultureInvariant)]
    private static partial Regex NthDayOfWeekRegex();
}
