using Keyturn.Application.Logs;

namespace Keyturn.Application.Tests.Logs;

public sealed class RotationLogHistoryTests : IDisposable
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf";
    private const string OtherArn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-two-XyZ123";
    private const string Id1 = "0f8fad5b-d9cb-469f-a165-70867728950e";
    private const string Id2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    private const string Id3 = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";

    private readonly LogsHarness _logs = new();

    public void Dispose() => _logs.Dispose();

    [Fact]
    public async Task ForSecretAsync_ReturnsWholeInvocationsThatMentionTheSecret()
    {
        // One shared stream with three invocations; the second is about another secret.
        await _logs.Append("/aws/lambda/rotator", "shared", 0, 1, Invocation(Id1, $"createSecret: Successfully put secret for ARN {Arn} and version v2."));
        await _logs.Append("/aws/lambda/rotator", "shared", 100, 1, Invocation(Id2, $"createSecret: Successfully put secret for ARN {OtherArn} and version v9."));
        await _logs.Append("/aws/lambda/rotator", "shared", 200, 1, Invocation(Id3, $"setSecret: Unable to log into database for secret arn {Arn}."));
        await _logs.Append("/aws/lambda/other", "s", 300, 1, Invocation(Id2, "nothing about it"));

        var history = new RotationLogHistory(_logs.Store);
        var byArn = await history.ForSecretAsync(Arn, 1000, default);

        Assert.Equal(8, byArn.Count);
        Assert.All(byArn, l => Assert.True(l.Message.Contains(Id1[..4], StringComparison.Ordinal) || l.Message.Contains(Id3[..4], StringComparison.Ordinal), l.Message));
        Assert.StartsWith("START RequestId: " + Id1, byArn[0].Message, StringComparison.Ordinal);
        Assert.StartsWith("REPORT RequestId: " + Id3, byArn[^1].Message, StringComparison.Ordinal);
        Assert.Contains(byArn, l => l.Message == "a line without a request id " + Id3[..4]);

        // A name matches its ARNs only (app/db is not app/db-two).
        Assert.Equal(byArn.Select(l => l.Message), (await history.ForSecretAsync("app/db", 1000, default)).Select(l => l.Message));
        Assert.Equal(4, (await history.ForSecretAsync("app/db-two", 1000, default)).Count);
        Assert.Empty(await history.ForSecretAsync("app", 1000, default));

        var newest = await history.ForSecretAsync(Arn, 3, default);
        Assert.Equal(byArn.TakeLast(3).Select(l => l.Message), newest.Select(l => l.Message));
    }

    [Fact]
    public async Task ForFunctionAsync_ReturnsTheNewestLinesOldestFirst()
    {
        await _logs.Append("/aws/lambda/rotator", "a", 0, 10, "1", "2", "3");
        await _logs.Append("/aws/lambda/rotator", "b", 5, 10, "1.5", "2.5");
        var history = new RotationLogHistory(_logs.Store);

        Assert.Equal(["2.5", "3"], (await history.ForFunctionAsync("rotator", 2, default))!.Select(l => l.Message));
        Assert.Equal(["1", "1.5", "2", "2.5", "3"], (await history.ForFunctionAsync("rotator", 100, default))!.Select(l => l.Message));
        Assert.Null(await history.ForFunctionAsync("none", 10, default));
    }

    [Theory]
    [InlineData("START RequestId: " + Id1 + " Version: $LATEST", Id1)]
    [InlineData("END RequestId: " + Id1, Id1)]
    [InlineData("REPORT RequestId: " + Id1 + "\tDuration: 1.00 ms\t", Id1)]
    [InlineData("[INFO]\t2026-03-28T09:50:06.006Z\t" + Id1 + "\tcreateSecret: ok", Id1)]
    [InlineData("2026-03-28T09:50:06.006Z " + Id1 + " Task timed out after 30.00 seconds", Id1)]
    [InlineData("plain output", null)]
    [InlineData("[INFO]\tcreateSecret: a\tb\tc", null)]
    public void RequestIdOf_ReadsLambdaLineShapes(string message, string? expected)
    {
        Assert.Equal(expected, RotationLogHistory.RequestIdOf(message));
    }

    private static string[] Invocation(string requestId, string message) =>
    [
        $"START RequestId: {requestId} Version: $LATEST",
        $"[INFO]\t2026-03-28T09:50:06.006Z\t{requestId}\t{message}",
        "a line without a request id " + requestId[..4],
        $"REPORT RequestId: {requestId}\tDuration: 1.00 ms\tBilled Duration: 1 ms\t",
    ];
}
