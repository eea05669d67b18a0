using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Keyturn.Server.Protocol;

namespace Keyturn.IntegrationTests;

/// <summary>Request ids come from a per-thread block of random bytes: they must still be distinct version 4 UUIDs.</summary>
public sealed partial class RequestIdTests
{
    [Fact]
    public void Next_GivesDistinctVersion4Uuids_AcrossBlockRefillsAndThreads()
    {
        // 4 threads × 1,000 ids: each thread refills its 256-id block several times.
        var ids = new ConcurrentBag<string>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                ids.Add(RequestIds.Next());
            }
        });

        Assert.Equal(4_000, ids.Distinct().Count());
        Assert.All(ids, id => Assert.Matches(Version4(), id));
    }

    [Fact]
    public void Next_SpreadsEveryFreeBit()
    {
        // Every one of the 122 random bits must take both values over a few hundred ids (a stuck bit would be a constant).
        var ids = Enumerable.Range(0, 600).Select(_ => Guid.Parse(RequestIds.Next()).ToByteArray()).ToList();
        var fixedBits = new Dictionary<int, byte> { [7] = 0xF0, [8] = 0xC0 };
        for (var b = 0; b < 16; b++)
        {
            var free = (byte)~fixedBits.GetValueOrDefault(b);
            var ones = ids.Aggregate(0, (all, id) => all | id[b]);
            var zeros = ids.Aggregate(0, (all, id) => all | ~id[b] & 0xFF);
            Assert.True((ones & free) == free && (zeros & free) == free, $"byte {b}: some free bit never changed");
        }
    }

    [GeneratedRegex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex Version4();
}
