namespace Keyturn.Bench;

/// <summary>
/// Unmeasured load in rounds after a fixed warm-up, until a .NET server's JIT has finished promoting hot methods in the
/// background: Keyturn has far more code than a bare Kestrel, and on one core its tiered compilation was still busy (a
/// tenth of a core or more) long after a fixed 8 s warm-up, a cost that landed in the first measured cells.
/// </summary>
internal static class JitWarmup
{
    /// <summary>The share of a round's length below which the JIT's background work counts as done.</summary>
    public const double QuietShare = 0.01;

    /// <summary>
    /// How many quiet rounds in a row end the warm-up: the JIT promotes methods in bursts, and one quiet round after a
    /// fixed 8 s was followed by a measured cell in which it used 8 % of the server's CPU.
    /// </summary>
    public const int QuietRounds = 3;

    /// <summary>
    /// Runs <paramref name="round"/> (load of <paramref name="roundSeconds"/> in all) until the tiered-compilation thread of
    /// <paramref name="pid"/> used under <see cref="QuietShare"/> of each of <see cref="QuietRounds"/> rounds in a row, or
    /// <paramref name="maxSeconds"/> of rounds have run. Returns the seconds added, the JIT's share of the last round, and
    /// whether it went quiet.
    /// </summary>
    public static async Task<(double ExtraSeconds, double LastShare, bool Quiet)> RunAsync(int pid, double roundSeconds, double maxSeconds, Func<Task> round)
    {
        double extra = 0, share;
        var quietRounds = 0;
        do
        {
            var before = CpuUse.JitThreadTicks(pid);
            await round();
            share = CpuUse.JitSecondsBetween(before, CpuUse.JitThreadTicks(pid)) / roundSeconds;
            extra += roundSeconds;
            quietRounds = share < QuietShare ? quietRounds + 1 : 0;
        }
        while (quietRounds < QuietRounds && extra < maxSeconds);

        return (extra, share, quietRounds == QuietRounds);
    }
}
