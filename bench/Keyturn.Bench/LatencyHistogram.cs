namespace Keyturn.Bench;

/// <summary>
/// A log-linear latency histogram in 100 ns units (HdrHistogram's layout with 11 significant bits):
/// exact below 205 µs, within 0.1% above, fixed size, so recording never allocates.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SignificantBits = 11;
    private const int Half = 1 << (SignificantBits - 1);
    private const long UnitsPerSecond = 10_000_000;

    // Values are capped at 2^40 units (about 30 hours), far beyond any request.
    private const long MaxValue = (1L << 40) - 1;

    private readonly long[] _counts = new long[(40 - SignificantBits + 2) * Half];

    public long Count { get; private set; }

    public long MaxUnits { get; private set; }

    public double SumUnits { get; private set; }

    public void RecordTicks(long stopwatchTicks)
    {
        var units = Math.Clamp((long)(stopwatchTicks * ((double)UnitsPerSecond / System.Diagnostics.Stopwatch.Frequency)), 0, MaxValue);
        _counts[Index(units)]++;
        Count++;
        SumUnits += units;
        MaxUnits = Math.Max(MaxUnits, units);
    }

    public void Add(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        SumUnits += other.SumUnits;
        MaxUnits = Math.Max(MaxUnits, other.MaxUnits);
    }

    /// <summary>The latency at a percentile (0–100) in milliseconds: the middle of the bucket holding that rank.</summary>
    public double PercentileMs(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Min(Middle(i), MaxUnits) / (UnitsPerSecond / 1000.0);
            }
        }

        return MaxUnits / (UnitsPerSecond / 1000.0);
    }

    public double MeanMs => Count == 0 ? 0 : SumUnits / Count / (UnitsPerSecond / 1000.0);

    public double MaxMs => MaxUnits / (UnitsPerSecond / 1000.0);

    private static int Index(long units)
    {
        if (units < 2 * Half)
        {
            return (int)units;
        }

        var shift = 64 - long.LeadingZeroCount(units) - SignificantBits;
        return (int)(shift * Half + (units >> (int)shift));
    }

    private static double Middle(int index)
    {
        if (index < 2 * Half)
        {
            return index;
        }

        var shift = index / Half - 1;
        var low = (long)(index - shift * Half) << shift;
        return low + (1L << shift) / 2.0;
    }
}
