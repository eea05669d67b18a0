using System.Globalization;

namespace Keyturn.Bench.Shared;

/// <summary>A distribution of durations in milliseconds; percentiles by nearest rank.</summary>
internal sealed record Stats(int Count, double Min, double P50, double P90, double P99, double Max, double Mean)
{
    public static Stats Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0
            ? new Stats(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN)
            : new Stats(sorted.Length, sorted[0], Rank(sorted, 50), Rank(sorted, 90), Rank(sorted, 99), sorted[^1], sorted.Average());
    }

    public static double Median(IEnumerable<double> values) => Of(values).P50;

    public string Row(string label) => string.Create(CultureInfo.InvariantCulture,
        $"| {label} | {Count} | {Min:F1} | {P50:F1} | {P90:F1} | {P99:F1} | {Max:F1} | {Mean:F1} |");

    public const string Header = "| | n | min | p50 | p90 | p99 | max | mean |\n|---|---:|---:|---:|---:|---:|---:|---:|";

    private static double Rank(double[] sorted, int percentile) =>
        sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1, 0, sorted.Length - 1)];
}
