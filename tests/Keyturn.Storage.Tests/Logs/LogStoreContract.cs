using System.Text;
using Keyturn.Application.Logs;
using Keyturn.Domain.Logs;

namespace Keyturn.Storage.Tests.Logs;

/// <summary>
/// What every log store must do, run against each backend: appends and their figures, group and stream listings,
/// GetLogEvents' keyset paging in both directions under byte limits, FilterLogEvents' patterns, filters, windows and
/// scan limits, whole-store imports, concurrent writers and many events.
/// </summary>
public abstract class LogStoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 3, 28, 9, 50, 6, 6, TimeSpan.Zero);

    private const string Group = "/aws/lambda/rotator";

    private OpenedLogStore? _opened;

    protected ILogStore Store => _opened!.Store;

    protected ILogSink Sink => _opened!.Sink;

    public async Task InitializeAsync() => _opened = await OpenEmptyAsync();

    public async Task DisposeAsync()
    {
        if (_opened is not null)
        {
            await _opened.DisposeAsync();
        }
    }

    /// <summary>A new, empty store of the backend under test.</summary>
    protected abstract Task<OpenedLogStore> OpenEmptyAsync();

    protected static long Ms(int offsetMs) => T0.AddMilliseconds(offsetMs).ToUnixTimeMilliseconds();

    [Fact]
    public async Task Append_FirstAndLaterLines_RecordTimesIngestionAndUtf8Bytes()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Append(Group, "s1", 100, 10, "héllo", "world");
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var stream = await Store.FindStreamAsync(Group, "s1", default);
        Assert.NotNull(stream);
        Assert.Equal((Ms(100), Ms(110), 11L), (stream.FirstEventMs, stream.LastEventMs, stream.StoredBytes));
        Assert.InRange(stream.CreatedMs, before, after);
        Assert.InRange(stream.LastIngestionMs!.Value, before, after);

        await Append(Group, "s1", 50, 0, "early");
        await Append(Group, "s2", 0, 0, "x");
        stream = await Store.FindStreamAsync(Group, "s1", default);
        Assert.Equal((Ms(50), Ms(110), 16L), (stream!.FirstEventMs, stream.LastEventMs, stream.StoredBytes));
        var group = await Store.FindGroupAsync(Group, default);
        Assert.Equal((Group, 17L), (group!.Name, group.StoredBytes));
        Assert.InRange(group.CreatedMs, before, after);

        await Sink.AppendAsync("/aws/lambda/empty", "s", [], default);
        Assert.Null(await Store.FindGroupAsync("/aws/lambda/empty", default));
        Assert.Null(await Store.FindStreamAsync(Group, "missing", default));
    }

    [Fact]
    public async Task DescribeGroups_ListsInAsciiOrder_WithPrefixSubstringNamesAndCursor()
    {
        foreach (var name in new[] { "/other/Alpha", "/aws/lambda/ab", "/aws/lambda/a", "/aws/lambda/_x", "/aws/lambda/B" })
        {
            await Append(name, "s", 0, 0, "line");
        }

        Assert.Equal(["/aws/lambda/B", "/aws/lambda/_x", "/aws/lambda/a", "/aws/lambda/ab", "/other/Alpha"], await Groups(new(null, null, null, null, 10)));
        Assert.Equal(["/aws/lambda/a", "/aws/lambda/ab"], await Groups(new("/aws/lambda/a", null, null, null, 10)));
        Assert.Equal(["/other/Alpha"], await Groups(new(null, "ALPHA", null, null, 10)));
        Assert.Equal(["/aws/lambda/ab", "/other/Alpha"], await Groups(new(null, null, ["/other/Alpha", "/aws/lambda/ab", "/missing"], null, 10)));
        Assert.Equal(["/aws/lambda/B", "/aws/lambda/_x"], await Groups(new(null, null, null, null, 2)));
        Assert.Equal(["/aws/lambda/a", "/aws/lambda/ab"], await Groups(new(null, null, null, "/aws/lambda/_x", 2)));
        Assert.Equal(["/other/Alpha"], await Groups(new(null, null, null, "/aws/lambda/ab", 2)));
        Assert.Empty(await Groups(new("/aws/", null, null, "/aws/lambda/ab", 2)));
    }

    [Fact]
    public async Task DescribeStreams_ByNameOrLastEventTime_PageInEitherDirection()
    {
        await Append(Group, "2026/a", 300, 0, "a");
        await Append(Group, "2026/b", 100, 0, "b");
        await Append(Group, "2026/c", 200, 0, "c");
        await Append(Group, "other", 100, 0, "o");
        await Append("/aws/lambda/elsewhere", "2026/z", 0, 0, "z");

        Assert.Equal(["2026/a", "2026/b", "2026/c", "other"], await Streams(new(Group, null, LogStreamOrder.LogStreamName, false, null, 10)));
        Assert.Equal(["2026/a", "2026/b"], await Streams(new(Group, "2026/", LogStreamOrder.LogStreamName, false, null, 2)));
        Assert.Equal(["2026/c"], await Streams(new(Group, "2026/", LogStreamOrder.LogStreamName, false, new(0, "2026/b"), 2)));
        Assert.Equal(["other", "2026/c", "2026/b", "2026/a"], await Streams(new(Group, null, LogStreamOrder.LogStreamName, true, null, 10)));
        Assert.Equal(["2026/b", "2026/a"], await Streams(new(Group, null, LogStreamOrder.LogStreamName, true, new(0, "2026/c"), 10)));

        // Equal last event times fall back to the name, in the same direction.
        Assert.Equal(["2026/b", "other", "2026/c", "2026/a"], await Streams(new(Group, null, LogStreamOrder.LastEventTime, false, null, 10)));
        Assert.Equal(["other", "2026/c"], await Streams(new(Group, null, LogStreamOrder.LastEventTime, false, new(Ms(100), "2026/b"), 2)));
        Assert.Equal(["2026/a", "2026/c", "other", "2026/b"], await Streams(new(Group, null, LogStreamOrder.LastEventTime, true, null, 10)));
        Assert.Equal(["other", "2026/b"], await Streams(new(Group, null, LogStreamOrder.LastEventTime, true, new(Ms(200), "2026/c"), 10)));
    }

    [Fact]
    public async Task ReadStream_PagesForwardAndBackward_InTimeThenStoredOrder()
    {
        await Sink.AppendAsync(Group, "s", [Line(20, "b1"), Line(10, "a"), Line(20, "b2"), Line(30, "c")], default);
        await Sink.AppendAsync(Group, "s", [Line(20, "b3")], default);
        await Append(Group, "other", 15, 0, "not this stream");

        var page = await Read(LogEventPosition.Head, forward: true, limit: 2);
        Assert.Equal(["a", "b1"], Messages(page));
        page = await Read(page[^1].Position, forward: true, limit: 2);
        Assert.Equal(["b2", "b3"], Messages(page));
        page = await Read(page[^1].Position, forward: true, limit: 2);
        Assert.Equal(["c"], Messages(page));
        Assert.Empty(await Read(page[^1].Position, forward: true, limit: 2));

        page = await Read(LogEventPosition.Tail, forward: false, limit: 2);
        Assert.Equal(["b3", "c"], Messages(page));
        page = await Read(page[0].Position, forward: false, limit: 2);
        Assert.Equal(["b1", "b2"], Messages(page));
        page = await Read(page[0].Position, forward: false, limit: 2);
        Assert.Equal(["a"], Messages(page));
        Assert.Empty(await Read(page[0].Position, forward: false, limit: 2));

        // The window includes its start and excludes its end.
        Assert.Equal(["b1", "b2", "b3"], Messages(await Read(LogEventPosition.Head, forward: true, limit: 10, startMs: Ms(20), endMs: Ms(30))));
        var first = (await Read(LogEventPosition.Head, forward: true, limit: 1))[0];
        Assert.Equal(("s", Ms(10)), (first.StreamName, first.TimestampMs));
        Assert.True(first.IngestionMs > 0);
    }

    [Fact]
    public async Task ReadStream_ByteLimit_CutsThePageButNeverBelowOneEvent()
    {
        var hundred = new string('x', 100);
        await Append(Group, "s", 0, 1, [.. Enumerable.Range(0, 5).Select(i => hundred[..99] + i)]);
        var accented = new string('é', 60);
        await Append(Group, "utf8", 0, 1, accented, accented, accented);

        // Each event counts its UTF-8 length plus 26: three of 126 bytes exceed 300.
        Assert.Equal(["0", "1"], (await Read(LogEventPosition.Head, forward: true, limit: 10, maxBytes: 300)).Select(e => e.Message[^1..]));
        Assert.Equal(["3", "4"], (await Read(LogEventPosition.Tail, forward: false, limit: 10, maxBytes: 300)).Select(e => e.Message[^1..]));
        Assert.Single(await Read(LogEventPosition.Head, forward: true, limit: 10, maxBytes: 10));
        Assert.Equal(2, (await Read(LogEventPosition.Head, forward: true, limit: 10, maxBytes: 292, stream: "utf8")).Count);
        Assert.Single(await Read(LogEventPosition.Head, forward: true, limit: 10, maxBytes: 291, stream: "utf8"));
    }

    [Theory]
    [InlineData("a required term matches case-sensitively", "ERROR", new[] { "ERROR disk full on /dev/sda", "ERROR timeout after 30s" })]
    [InlineData("a lowercase term finds only lowercase text", "error", new[] { "error lowercase" })]
    [InlineData("a term in another case finds nothing", "Error", new string[0])]
    [InlineData("a quoted phrase is one term", "\"disk full\"", new[] { "ERROR disk full on /dev/sda" })]
    [InlineData("two terms may be apart", "disk full", new[] { "ERROR disk full on /dev/sda", "WARN disk nearly full" })]
    [InlineData("an exclusion removes matches", "ERROR -timeout", new[] { "ERROR disk full on /dev/sda" })]
    [InlineData("alternatives need one of them", "?WARN ?timeout", new[] { "WARN disk nearly full", "ERROR timeout after 30s", "WARN path C:\\tmp\\x" })]
    [InlineData("alternatives and a required term", "?WARN ?timeout ERROR", new[] { "ERROR timeout after 30s" })]
    [InlineData("a percent sign is literal", "100%", new[] { "INFO 100% done_ok" })]
    [InlineData("an underscore is literal", "do_e", new string[0])]
    [InlineData("a percent sign is no wildcard", "1%0", new string[0])]
    [InlineData("a backslash is literal", "C:\\tmp", new[] { "WARN path C:\\tmp\\x" })]
    [InlineData("an empty pattern matches everything", "", new[] { "ERROR disk full on /dev/sda", "WARN disk nearly full", "error lowercase", "ERROR timeout after 30s", "INFO 100% done_ok", "WARN path C:\\tmp\\x" })]
    public async Task Filter_Pattern_MatchesAsCloudWatch(string because, string pattern, string[] expected)
    {
        await SeedFilterEvents();
        var result = await Filter(pattern);
        Assert.True(expected.SequenceEqual(Messages(result.Events)), $"{because}: got [{string.Join(", ", Messages(result.Events))}]");
        Assert.Null(result.ResumeFrom);
    }

    [Fact]
    public async Task Filter_StreamsTimeWindowAndDirection_NarrowTheSearch()
    {
        await SeedFilterEvents();
        Assert.Equal(["WARN disk nearly full"], Messages((await Filter("disk", streams: ["s2"])).Events));
        Assert.Equal(["ERROR disk full on /dev/sda"], Messages((await Filter("disk", streamPrefix: "s1")).Events));
        Assert.Equal(["WARN disk nearly full", "error lowercase"], Messages((await Filter("", startMs: Ms(10), endMs: Ms(30))).Events));
        Assert.Equal(["ERROR in another group"], Messages((await Filter("ERROR", group: "/aws/lambda/elsewhere")).Events));

        // Backward: the newest matches, oldest first in the page, then on before them.
        var tail = await Filter("", limit: 2, backward: true);
        Assert.Equal(["INFO 100% done_ok", "WARN path C:\\tmp\\x"], Messages(tail.Events));
        tail = await Filter("", limit: 2, backward: true, from: tail.ResumeFrom);
        Assert.Equal(["error lowercase", "ERROR timeout after 30s"], Messages(tail.Events));
        tail = await Filter("", limit: 2, backward: true, from: tail.ResumeFrom);
        Assert.Equal(["ERROR disk full on /dev/sda", "WARN disk nearly full"], Messages(tail.Events));
        Assert.NotNull(tail.ResumeFrom);
        tail = await Filter("", limit: 2, backward: true, from: tail.ResumeFrom);
        Assert.Equal((0, (LogEventPosition?)null), (tail.Events.Count, tail.ResumeFrom));
    }

    [Fact]
    public async Task Filter_LimitBytesAndScanLimit_ResumeWhereTheyStopped()
    {
        await Append(Group, "s", 0, 1, [.. Enumerable.Range(0, 2500).Select(i => i % 500 == 0 ? $"signal {i}" : $"noise {i}")]);

        // An exclusion cannot narrow the candidates: every event is scanned, 1000 per call.
        var counts = new List<int>();
        LogEventPosition? from = null;
        do
        {
            var page = await Filter("-noise", scanLimit: 1000, from: from);
            counts.Add(page.Events.Count);
            from = page.ResumeFrom;
        }
        while (from is not null);
        Assert.Equal([2, 2, 1], counts);

        var byLimit = await Filter("signal", limit: 2);
        Assert.Equal(["signal 0", "signal 500"], Messages(byLimit.Events));
        Assert.Equal(byLimit.Events[^1].Position, byLimit.ResumeFrom);
        byLimit = await Filter("signal", limit: 2, from: byLimit.ResumeFrom);
        Assert.Equal(["signal 1000", "signal 1500"], Messages(byLimit.Events));
        byLimit = await Filter("signal", limit: 2, from: byLimit.ResumeFrom);
        Assert.Equal(["signal 2000"], Messages(byLimit.Events));
        Assert.Null(byLimit.ResumeFrom);

        // "signal 0" is 8 bytes plus 26; a second match would pass 50.
        var pages = 0;
        from = null;
        do
        {
            var page = await Filter("signal", maxBytes: 50, from: from);
            Assert.Single(page.Events);
            pages++;
            from = page.ResumeFrom;
        }
        while (from is not null && pages < 10);
        Assert.Equal(5, pages);
    }

    [Fact]
    public async Task ManyEvents_EveryEventIsPagedOnceInEitherDirection()
    {
        for (var chunk = 0; chunk < 4; chunk++)
        {
            foreach (var stream in new[] { "s1", "s2", "s3" })
            {
                var offset = stream[1] - '1';
                await Sink.AppendAsync(Group, stream, [.. Enumerable.Range(0, 500).Select(i =>
                {
                    var n = (chunk * 500) + i;
                    return Line((n * 3) + offset, $"{stream} event {n}{(n % 100 == 7 ? " RARE" : "")}");
                })], default);
            }
        }

        var forward = new List<LogEventRecord>();
        var position = LogEventPosition.Head;
        while (await Read(position, forward: true, limit: 700, stream: "s2") is { Count: > 0 } page)
        {
            forward.AddRange(page);
            position = page[^1].Position;
        }

        var backward = new List<LogEventRecord>();
        position = LogEventPosition.Tail;
        while (await Read(position, forward: false, limit: 700, stream: "s2") is { Count: > 0 } page)
        {
            backward.InsertRange(0, page);
            position = page[0].Position;
        }

        Assert.Equal(2000, forward.Count);
        Assert.Equal(forward, backward);
        Assert.True(forward.Zip(forward.Skip(1)).All(p => p.First.Position.CompareTo(p.Second.Position) < 0));

        var all = new List<LogEventRecord>();
        LogEventPosition? from = null;
        do
        {
            var page = await Filter("", limit: 1000, from: from);
            all.AddRange(page.Events);
            from = page.ResumeFrom;
        }
        while (from is not null);
        Assert.Equal(6000, all.Count);
        Assert.Equal(Enumerable.Range(0, 6000).Select(i => Ms(i)), all.Select(e => e.TimestampMs));

        var rare = await Filter("RARE", limit: 1000);
        Assert.Equal(60, rare.Events.Count);
        Assert.All(rare.Events, e => Assert.EndsWith(" RARE", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Import_KeepsIdsTimesIngestionAndFigures_AndLaterAppendsNumberAfter()
    {
        await Append(Group, "b", 50, 1, "one", "two");
        await Append(Group, "a", 0, 1, "three");
        await Append(Group, "b", 10, 1, "four");
        var group = (await Store.FindGroupAsync(Group, default))!;
        var streams = await Store.DescribeStreamsAsync(new(Group, null, LogStreamOrder.LogStreamName, false, null, 50), default);
        var events = (await Filter("", limit: 100)).Events;

        await using var target = await OpenEmptyAsync();
        await target.Archive.ImportStreamsAsync(group, streams, default);
        await target.Archive.ImportEventsAsync(Group, events, default);

        Assert.Equal(group, await target.Store.FindGroupAsync(Group, default));
        Assert.Equal(streams, await target.Store.DescribeStreamsAsync(new(Group, null, LogStreamOrder.LogStreamName, false, null, 50), default));
        var copied = await target.Store.FilterAsync(AllOf(Group, 100), default);
        Assert.Equal(events, copied.Events);

        await target.Sink.AppendAsync(Group, "b", [Line(10, "five")], default);
        var read = await target.Store.ReadStreamAsync(new(Group, "b", null, null, LogEventPosition.Head, true, 10, 1 << 20), default);
        Assert.Equal(["four", "five", "one", "two"], Messages(read));
        Assert.True(read[1].Id > events.Max(e => e.Id));
    }

    [Fact]
    public async Task ConcurrentAppends_ToOneStream_KeepEveryEventAndTheStreamFigures()
    {
        await Task.WhenAll(Enumerable.Range(0, 12).Select(t => Sink.AppendAsync(Group, "s",
            [.. Enumerable.Range(0, 40).Select(i => Line((t * 40) + i, $"writer {t} line {i}"))], default)));

        var stream = (await Store.FindStreamAsync(Group, "s", default))!;
        var expectedBytes = Enumerable.Range(0, 12).SelectMany(t => Enumerable.Range(0, 40).Select(i => Encoding.UTF8.GetByteCount($"writer {t} line {i}"))).Sum();
        Assert.Equal((Ms(0), Ms(479), (long)expectedBytes), (stream.FirstEventMs, stream.LastEventMs, stream.StoredBytes));
        var events = await Read(LogEventPosition.Head, forward: true, limit: 1000);
        Assert.Equal(480, events.Count);
        Assert.Equal(480, events.Select(e => e.Id).Distinct().Count());
    }

    private static LogLine Line(int offsetMs, string message) => new(T0.AddMilliseconds(offsetMs), message);

    private static string[] Messages(IEnumerable<LogEventRecord> events) => [.. events.Select(e => e.Message)];

    private static LogFilterQuery AllOf(string group, int limit) =>
        new(group, null, null, null, null, LogFilterPattern.All, null, limit, 1 << 20, 100_000);

    private Task Append(string group, string stream, int startMs, int stepMs, params string[] messages) =>
        Sink.AppendAsync(group, stream, [.. messages.Select((m, i) => Line(startMs + (i * stepMs), m))], default);

    private async Task SeedFilterEvents()
    {
        await Append(Group, "s1", 0, 0, "ERROR disk full on /dev/sda");
        await Append(Group, "s2", 10, 0, "WARN disk nearly full");
        await Append(Group, "s1", 20, 0, "error lowercase");
        await Append(Group, "s2", 30, 0, "ERROR timeout after 30s");
        await Append(Group, "s1", 40, 0, "INFO 100% done_ok");
        await Append(Group, "s3", 50, 0, "WARN path C:\\tmp\\x");
        await Append("/aws/lambda/elsewhere", "s1", 0, 0, "ERROR in another group");
    }

    private async Task<string[]> Groups(LogGroupQuery query) => [.. (await Store.DescribeGroupsAsync(query, default)).Select(g => g.Name)];

    private async Task<string[]> Streams(LogStreamQuery query) => [.. (await Store.DescribeStreamsAsync(query, default)).Select(s => s.Name)];

    private Task<IReadOnlyList<LogEventRecord>> Read(
        LogEventPosition from, bool forward, int limit, int maxBytes = 1 << 20, long? startMs = null, long? endMs = null, string stream = "s") =>
        Store.ReadStreamAsync(new(Group, stream, startMs, endMs, from, forward, limit, maxBytes), default);

    private Task<LogFilterResult> Filter(
        string pattern, string group = Group, IReadOnlyList<string>? streams = null, string? streamPrefix = null, long? startMs = null, long? endMs = null,
        LogEventPosition? from = null, int limit = 100, int maxBytes = 1 << 20, int scanLimit = 100_000, bool backward = false) =>
        Store.FilterAsync(new(group, streams, streamPrefix, startMs, endMs, LogFilterPattern.Parse(pattern), from, limit, maxBytes, scanLimit, backward), default);
}
