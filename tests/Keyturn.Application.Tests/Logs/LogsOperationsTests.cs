using Keyturn.Application.Logs;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Tests.Logs;

public sealed class LogsOperationsTests : IDisposable
{
    private const string Group = "/aws/lambda/rotator";

    private readonly LogsHarness _logs = new();

    public void Dispose() => _logs.Dispose();

    [Fact]
    public async Task Append_FirstLines_CreateGroupAndStreamWithTimesAndBytes()
    {
        await _logs.Append(Group, "s1", 100, 10, "START", "ab");
        await _logs.Append(Group, "s1", 50, 0, "é");

        var stream = await _logs.Store.FindStreamAsync(Group, "s1", default);
        Assert.NotNull(stream);
        Assert.Equal(LogsHarness.Ms(50), stream.FirstEventMs);
        Assert.Equal(LogsHarness.Ms(110), stream.LastEventMs);
        Assert.NotNull(stream.LastIngestionMs);
        Assert.Equal(5 + 2 + 2, stream.StoredBytes);
        Assert.Equal(9, (await _logs.Store.FindGroupAsync(Group, default))!.StoredBytes);
    }

    [Fact]
    public async Task Append_WhileTheSecretStoreWrites_QueuesWithoutBlockingTheCaller()
    {
        using var writing = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        var write = Task.Run(async () => await _logs.SecretStore.WriteAsync((_, _) =>
        {
            writing.Set();
            finish.Wait(TimeSpan.FromSeconds(30));
            return ValueTask.FromResult(true);
        }, default));
        Assert.True(writing.Wait(TimeSpan.FromSeconds(10)));

        // Both stores write one file: the append waits its turn asynchronously instead of sleeping in SQLite's busy retry.
        var append = _logs.Append(Group, "queued", 0, 0, "after the secret write");
        Assert.False(append.IsCompleted);
        finish.Set();
        await write;
        await append;

        Assert.True((await _logs.Store.FindStreamAsync(Group, "queued", default))!.StoredBytes > 0);
    }

    [Fact]
    public async Task DescribeLogGroups_Paged_ReturnsAsciiOrderWithArnsAndTokens()
    {
        foreach (var name in new[] { "/aws/lambda/b", "/aws/lambda/a", "/aws/lambda/C", "/other/x", "/aws/lambda/d" })
        {
            await _logs.Append(name, "s", 0, 0, "line");
        }

        var names = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _logs.Groups(new(null, "/aws/lambda/", null, token, 2, null, null, null));
            names.AddRange(page.LogGroups.Select(g => g.LogGroupName));
            token = page.NextToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(["/aws/lambda/C", "/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/d"], names);
        Assert.Equal(2, pages);

        var first = (await _logs.Groups(new(null, null, null, null, null, null, null, null))).LogGroups[0];
        Assert.Equal("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/C:*", first.Arn);
        Assert.Equal("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/C", first.LogGroupArn);
        Assert.Equal(4, first.StoredBytes);
        Assert.Equal(0, first.MetricFilterCount);
        Assert.Equal("STANDARD", first.LogGroupClass);
    }

    [Fact]
    public async Task DescribeLogGroups_PatternAndIdentifiers_Filter()
    {
        await _logs.Append("/aws/lambda/Rotator-A", "s", 0, 0, "x");
        await _logs.Append("/aws/lambda/b", "s", 0, 0, "x");

        var byPattern = await _logs.Groups(new(null, null, "rotator", null, null, null, null, null));
        Assert.Equal(["/aws/lambda/Rotator-A"], byPattern.LogGroups.Select(g => g.LogGroupName));

        var byIdentifier = await _logs.Groups(new(null, null, null, null, null, null, null,
            ["arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/b:*", "/aws/lambda/none"]));
        Assert.Equal(["/aws/lambda/b"], byIdentifier.LogGroups.Select(g => g.LogGroupName));
    }

    [Fact]
    public async Task DescribeLogGroups_BadInput_IsInvalidParameter()
    {
        await ServiceHarness.Fails(() => _logs.Groups(new(null, null, null, null, 51, null, null, null)), ErrorKind.InvalidParameter,
            "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50");
        await ServiceHarness.Fails(() => _logs.Groups(new(null, "/a", "b", null, null, null, null, null)), ErrorKind.InvalidParameter);
        await ServiceHarness.Fails(() => _logs.Groups(new(null, "a b", null, null, null, null, null, null)), ErrorKind.InvalidParameter);

        await _logs.Append("/a/1", "s", 0, 0, "x");
        await _logs.Append("/a/2", "s", 0, 0, "x");
        var token = (await _logs.Groups(new(null, "/a/", null, null, 1, null, null, null))).NextToken!;
        await ServiceHarness.Fails(() => _logs.Groups(new(null, "/b/", null, token, 1, null, null, null)), ErrorKind.InvalidParameter,
            "The specified nextToken is invalid.");
    }

    [Fact]
    public async Task DescribeLogStreams_ByNameAndByLastEventTime_PageInEitherDirection()
    {
        await _logs.Append(Group, "c", 300, 0, "x");
        await _logs.Append(Group, "a", 100, 0, "x");
        await _logs.Append(Group, "b", 500, 0, "x");
        await _logs.Append(Group, "ab", 200, 0, "x");

        Assert.Equal(["a", "ab", "b", "c"], await AllStreams(null, null, null));
        Assert.Equal(["c", "b", "ab", "a"], await AllStreams(null, null, true));
        Assert.Equal(["a", "ab", "c", "b"], await AllStreams(null, "LastEventTime", null));
        Assert.Equal(["b", "c", "ab", "a"], await AllStreams(null, "LastEventTime", true));
        Assert.Equal(["a", "ab"], await AllStreams("a", null, null));

        var entry = (await _logs.Streams(new(Group, null, "b", null, null, null, null))).LogStreams.Single();
        Assert.Equal(LogsHarness.Ms(500), entry.FirstEventTimestamp);
        Assert.Equal(LogsHarness.Ms(500), entry.LastEventTimestamp);
        Assert.Equal("arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/rotator:log-stream:b", entry.Arn);
        Assert.Null(entry.UploadSequenceToken);
    }

    [Fact]
    public async Task DescribeLogStreams_MissingGroupOrBadOrder_FailsAsCloudWatch()
    {
        await ServiceHarness.Fails(() => _logs.Streams(new("/aws/lambda/none", null, null, null, null, null, null)), ErrorKind.ResourceNotFound,
            "The specified log group does not exist.");
        await _logs.Append(Group, "s", 0, 0, "x");
        await ServiceHarness.Fails(() => _logs.Streams(new(Group, null, "s", "LastEventTime", null, null, null)), ErrorKind.InvalidParameter,
            "Cannot order by LastEventTime with a logStreamNamePrefix.");
        await ServiceHarness.Fails(() => _logs.Streams(new(Group, null, null, "Size", null, null, null)), ErrorKind.InvalidParameter);
        await ServiceHarness.Fails(() => _logs.Streams(new(Group, Group, null, null, null, null, null)), ErrorKind.InvalidParameter);
        await ServiceHarness.Fails(() => _logs.Streams(new(null, null, null, null, null, null, null)), ErrorKind.InvalidParameter);
        Assert.Single((await _logs.Streams(new(null, "arn:aws:logs:us-east-1:000000000000:log-group:" + Group, null, null, null, null, null))).LogStreams);
    }

    [Fact]
    public async Task GetLogEvents_FromTheTail_PagesBackwardThenStopsWithTheSameToken()
    {
        await SeedStream(25);

        var latest = await _logs.Events(new(Group, null, "s", null, null, null, 10, null, null));
        Assert.Equal(Range(15, 10), Messages(latest.Events));

        var older = await _logs.Events(new(Group, null, "s", null, null, latest.NextBackwardToken, 10, null, null));
        Assert.Equal(Range(5, 10), Messages(older.Events));
        var oldest = await _logs.Events(new(Group, null, "s", null, null, older.NextBackwardToken, 10, null, null));
        Assert.Equal(Range(0, 5), Messages(oldest.Events));
        var none = await _logs.Events(new(Group, null, "s", null, null, oldest.NextBackwardToken, 10, null, null));
        Assert.Empty(none.Events);
        Assert.Equal(oldest.NextBackwardToken, none.NextBackwardToken);

        // Forward from the oldest page picks up right after it.
        var forward = await _logs.Events(new(Group, null, "s", null, null, oldest.NextForwardToken, 3, null, null));
        Assert.Equal(Range(5, 3), Messages(forward.Events));
        Assert.Matches("^f/[0-9]{39}/s$", forward.NextForwardToken);
        Assert.Matches("^b/[0-9]{39}/s$", forward.NextBackwardToken);
    }

    [Fact]
    public async Task GetLogEvents_FromTheHead_PagesForwardAndFollowsNewEvents()
    {
        await SeedStream(25);

        var seen = new List<string>();
        var request = new GetLogEventsRequest(Group, null, "s", null, null, null, 10, true, null);
        GetLogEventsResponse page;
        while (true)
        {
            page = await _logs.Events(request);
            seen.AddRange(Messages(page.Events));
            if (page.NextForwardToken == request.NextToken)
            {
                break;
            }

            request = request with { NextToken = page.NextForwardToken };
        }

        Assert.Equal(Range(0, 25), seen);

        await _logs.Append(Group, "s", 100_000, 1, "late");
        var after = await _logs.Events(request);
        Assert.Equal(["late"], Messages(after.Events));
        Assert.Equal(LogsHarness.Ms(100_000), after.Events[0].Timestamp);
        Assert.True(after.Events[0].IngestionTime > LogsHarness.Ms(0));
    }

    [Fact]
    public async Task GetLogEvents_TimeRange_IncludesStartExcludesEnd()
    {
        await SeedStream(10);

        var page = await _logs.Events(new(Group, null, "s", LogsHarness.Ms(2000), LogsHarness.Ms(5000), null, null, true, null));

        Assert.Equal(Range(2, 3), Messages(page.Events));
    }

    [Fact]
    public async Task GetLogEvents_MissingStreamOrBadToken_FailsAsCloudWatch()
    {
        await SeedStream(1);
        await ServiceHarness.Fails(() => _logs.Events(new(Group, null, "nope", null, null, null, null, null, null)), ErrorKind.ResourceNotFound,
            "The specified log stream does not exist.");
        await ServiceHarness.Fails(() => _logs.Events(new("/aws/lambda/none", null, "s", null, null, null, null, null, null)), ErrorKind.ResourceNotFound,
            "The specified log group does not exist.");
        await ServiceHarness.Fails(() => _logs.Events(new(Group, null, "s", null, null, "f/123", null, null, null)), ErrorKind.InvalidParameter,
            "The specified nextToken is invalid.");
        await ServiceHarness.Fails(() => _logs.Events(new(Group, null, null, null, null, null, null, null, null)), ErrorKind.InvalidParameter,
            "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null");
        await ServiceHarness.Fails(() => _logs.Events(new(Group, null, "s", null, null, null, 10001, null, null)), ErrorKind.InvalidParameter);
    }

    [Fact]
    public async Task FilterLogEvents_AcrossStreams_InterleavesByTimeAndPages()
    {
        await _logs.Append(Group, "one", 0, 20, "[ERROR] a0", "[INFO] a1", "[ERROR] a2", "[ERROR] a3");
        await _logs.Append(Group, "two", 10, 20, "[ERROR] b0", "[INFO] b1", "[ERROR] b2");
        await _logs.Append(Group, "other", 5, 0, "[ERROR] c0");

        var all = await _logs.Filter(new(Group, null, null, null, null, null, "ERROR", null, null, null, null));
        Assert.Equal(["[ERROR] a0", "[ERROR] c0", "[ERROR] b0", "[ERROR] a2", "[ERROR] b2", "[ERROR] a3"], all.Events.Select(e => e.Message));
        Assert.Null(all.NextToken);
        Assert.Empty(all.SearchedLogStreams); // as AWS since May 2020: the member is always an empty list
        Assert.Equal("other", all.Events[1].LogStreamName);
        Assert.Equal(LogsHarness.Ms(5), all.Events[1].Timestamp);

        var paged = new List<string>();
        string? token = null;
        do
        {
            var page = await _logs.Filter(new(Group, null, ["one", "two"], null, null, null, "ERROR", token, 2, null, null));
            Assert.True(page.Events.Count <= 2);
            paged.AddRange(page.Events.Select(e => e.Message));
            token = page.NextToken;
        }
        while (token is not null);

        Assert.Equal(["[ERROR] a0", "[ERROR] b0", "[ERROR] a2", "[ERROR] b2", "[ERROR] a3"], paged);

        var prefixed = await _logs.Filter(new(Group, null, null, "o", LogsHarness.Ms(5), LogsHarness.Ms(40), "?a1 ?c0", null, null, null, null));
        Assert.Equal(["[ERROR] c0", "[INFO] a1"], prefixed.Events.Select(e => e.Message));
    }

    [Fact]
    public async Task FilterLogEvents_PhraseAndExclusion_MatchAsCloudWatch()
    {
        await _logs.Append(Group, "s", 0, 1,
            "[ERROR]\tt\tid\tsetSecret: Unable to log into database",
            "[INFO]\tt\tid\tsetSecret: Unable",
            "[INFO]\tt\tid\tUnable to setSecret:");

        Assert.Equal(2, (await _logs.Filter(new(Group, null, null, null, null, null, "\"setSecret: Unable\"", null, null, null, null))).Events.Count);
        Assert.Single((await _logs.Filter(new(Group, null, null, null, null, null, "\"setSecret: Unable\" -INFO", null, null, null, null))).Events);
        Assert.Equal(3, (await _logs.Filter(new(Group, null, null, null, null, null, "setSecret: Unable", null, null, null, null))).Events.Count);
        Assert.Equal(3, (await _logs.Filter(new(Group, null, null, null, null, null, "", null, null, null, null))).Events.Count);
    }

    [Fact]
    public async Task FilterLogEvents_UnsupportedPatternOrBadCombination_IsInvalidParameter()
    {
        await _logs.Append(Group, "s", 0, 0, "x");

        var json = await ServiceHarness.Fails(() => _logs.Filter(new(Group, null, null, null, null, null, "{ $.level = \"ERROR\" }", null, null, null, null)), ErrorKind.InvalidParameter);
        Assert.Contains("JSON filter patterns", json.Message, StringComparison.Ordinal);
        var delimited = await ServiceHarness.Fails(() => _logs.Filter(new(Group, null, null, null, null, null, "[ip, user]", null, null, null, null)), ErrorKind.InvalidParameter);
        Assert.Contains("Space-delimited filter patterns", delimited.Message, StringComparison.Ordinal);
        // Reproduced as a 500: the NUL reached SQLite's full-text query.
        var nul = await ServiceHarness.Fails(() => _logs.Filter(new(Group, null, null, null, null, null, "abc\0def", null, null, null, null)), ErrorKind.InvalidParameter);
        Assert.Contains("control character U+0000", nul.Message, StringComparison.Ordinal);
        await ServiceHarness.Fails(() => _logs.Filter(new(Group, null, ["s"], "s", null, null, null, null, null, null, null)), ErrorKind.InvalidParameter);
        await ServiceHarness.Fails(() => _logs.Filter(new("/aws/lambda/none", null, null, null, null, null, null, null, null, null, null)), ErrorKind.ResourceNotFound,
            "The specified log group does not exist.");
    }

    [Fact]
    public async Task FilterLogEvents_TermsTheTextIndexServes_MatchAsCaseSensitiveSubstringsOfThisGroupOnly()
    {
        const string Arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app-AbCdEf";
        await _logs.Append(Group, "s", 0, 1,
            $"[ERROR]\tt\tid\tsetSecret: Unable to log into database for {Arn}",
            "[error] lower case",
            "Task timed out after 30.03 seconds",
            "パスワード ローテーション 失敗",
            $"{Arn}-suffix is another secret's prefix match");
        await _logs.Append("/aws/lambda/other", "s", 0, 1, $"[ERROR] {Arn} in another group");

        async Task<string[]> Matching(string pattern) =>
            [.. (await _logs.Filter(new(Group, null, null, null, null, null, pattern, null, null, null, null))).Events.Select(e => e.Message)];

        Assert.Equal(2, (await Matching($"\"{Arn}\"")).Length);
        Assert.Single(await Matching("ERROR"));
        Assert.Single(await Matching("error"));
        Assert.Equal(3, (await Matching($"?\"{Arn}\" ?\"Task timed out\"")).Length);
        Assert.Single(await Matching("ローテーション"));
        Assert.Single(await Matching($"\"{Arn}\" -suffix"));
        Assert.Equal(2, (await Matching("?ERROR ?ed")).Length);
        Assert.Empty(await Matching("\"not there at all\""));

        Assert.Equal("\"ERROR\" AND (\"abc\" OR \"défg\")", Keyturn.Storage.Sqlite.SqliteLogStore.TextIndexQuery(Domain.Logs.LogFilterPattern.Parse("ERROR ?abc ?défg")));
        Assert.Null(Keyturn.Storage.Sqlite.SqliteLogStore.TextIndexQuery(Domain.Logs.LogFilterPattern.Parse("?ab ?abc")));
    }

    [Fact]
    public async Task FilterLogEvents_LargeGroup_ResumesWhereTheScanStopped()
    {
        var messages = Enumerable.Range(0, 2500).Select(i => i == 2400 ? "needle" : "hay " + i).ToArray();
        await _logs.Append(Group, "s", 0, 1, messages);

        var result = await _logs.Store.FilterAsync(new LogFilterQuery(
            Group, null, null, null, null, Domain.Logs.LogFilterPattern.Parse("-hay"), null, 10, int.MaxValue, ScanLimit: 1000), default);
        Assert.Empty(result.Events);
        Assert.NotNull(result.ResumeFrom);

        var rest = await _logs.Store.FilterAsync(new LogFilterQuery(
            Group, null, null, null, null, Domain.Logs.LogFilterPattern.Parse("-hay"), result.ResumeFrom, 10, int.MaxValue, ScanLimit: 5000), default);
        Assert.Equal(["needle"], rest.Events.Select(e => e.Message));
        Assert.Null(rest.ResumeFrom);
    }

    [Fact]
    public async Task Operations_CallerWithoutLogsPermission_IsDenied()
    {
        await _logs.Append(Group, "s", 0, 0, "x");
        var reader = LogsHarness.Caller("""
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:FilterLogEvents","logs:DescribeLogStreams"],"Resource":"arn:aws:logs:*:*:log-group:/aws/lambda/*"}]}
            """);

        Assert.Single((await _logs.Filter(new(Group, null, null, null, null, null, null, null, null, null, null), reader)).Events);
        Assert.Single((await _logs.Streams(new(Group, null, null, null, null, null, null), reader)).LogStreams);
        var denied = await ServiceHarness.Fails(() => _logs.Events(new(Group, null, "s", null, null, null, null, null, null), reader), ErrorKind.AccessDenied);
        Assert.Equal(
            "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: logs:GetLogEvents on resource: " +
            "arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/rotator:log-stream:s because no identity-based policy allows the logs:GetLogEvents action",
            denied.Message);
        await ServiceHarness.Fails(() => _logs.Groups(new(null, null, null, null, null, null, null, null), reader), ErrorKind.AccessDenied);
    }

    private static string[] Range(int start, int count) => [.. Enumerable.Range(start, count).Select(i => "event " + i)];

    private static string[] Messages(IEnumerable<OutputLogEvent> events) => [.. events.Select(e => e.Message)];

    private Task SeedStream(int count) =>
        _logs.Append(Group, "s", 0, 1000, [.. Enumerable.Range(0, count).Select(i => "event " + i)]);

    private async Task<List<string>> AllStreams(string? prefix, string? orderBy, bool? descending)
    {
        var names = new List<string>();
        string? token = null;
        do
        {
            var page = await _logs.Streams(new(Group, null, prefix, orderBy, descending, token, 1));
            Assert.True(page.LogStreams.Count <= 1);
            names.AddRange(page.LogStreams.Select(s => s.LogStreamName));
            token = page.NextToken;
        }
        while (token is not null);

        return names;
    }
}
