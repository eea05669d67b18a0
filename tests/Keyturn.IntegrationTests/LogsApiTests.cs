using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Protocol.SigV4;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The CloudWatch Logs read API on the server's endpoint, through the real AWS CLI, boto3 and raw
/// HTTP, over logs seeded before the server started (<see cref="SeededLogsFixture"/>); one test
/// also reads what a real rotation wrote, and <c>keyturn logs</c> prints both.
/// </summary>
public sealed class LogsApiTests(SeededLogsFixture fixture) : IClassFixture<SeededLogsFixture>
{
    private const string Group = SeededLogsFixture.Group;
    private const string SecretArn = SeededLogsFixture.SecretArn;
    private const string FailedId = SeededLogsFixture.FailedId;
    private const string OtherId = SeededLogsFixture.OtherId;
    private const int BulkCount = SeededLogsFixture.BulkCount;
    private const string FailedStream = SeededLogsFixture.FailedStream;
    private const string OtherStream = SeededLogsFixture.OtherStream;

    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "Scripts", "template_rotation_function.py");

    private readonly KeyturnProcess _server = fixture.Server;
    private readonly AwsCli _cli = new(fixture.Server);
    private readonly string _dataDirectory = fixture.DataDirectory;

    [Fact]
    public async Task AwsCli_DescribeLogGroups_ShapesMillisecondsAndPaging()
    {
        var all = await _cli.JsonAsync("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/seeded", "--page-size", "1");
        var groups = all.GetProperty("logGroups").EnumerateArray().ToList();
        Assert.Equal([Group, SeededLogsFixture.SecondGroup], groups.Select(g => g.GetProperty("logGroupName").GetString()));

        var group = groups[0];
        var created = group.GetProperty("creationTime");
        Assert.Equal(JsonValueKind.Number, created.ValueKind);
        Assert.InRange(created.GetInt64(), DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal($"arn:aws:logs:us-east-1:000000000000:log-group:{Group}:*", group.GetProperty("arn").GetString());
        Assert.Equal(0, group.GetProperty("metricFilterCount").GetInt32());
        Assert.True(group.GetProperty("storedBytes").GetInt64() > 0);

        var first = await _cli.JsonAsync("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/seeded", "--no-paginate", "--limit", "1");
        Assert.Single(first.GetProperty("logGroups").EnumerateArray());
        var token = first.GetProperty("nextToken").GetString()!;
        var second = await _cli.JsonAsync("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/lambda/seeded", "--no-paginate", "--limit", "1", "--next-token", token);
        Assert.Equal(SeededLogsFixture.SecondGroup, second.GetProperty("logGroups")[0].GetProperty("logGroupName").GetString());
        Assert.False(second.TryGetProperty("nextToken", out _));
    }

    [Fact]
    public async Task AwsCli_DescribeLogStreams_OrdersAndDescribesStreams()
    {
        var byTime = await _cli.JsonAsync("logs", "describe-log-streams", "--log-group-name", Group, "--order-by", "LastEventTime", "--descending", "--page-size", "1");
        var streams = byTime.GetProperty("logStreams").EnumerateArray().ToList();
        Assert.Equal(["bulk", OtherStream, FailedStream], streams.Select(s => s.GetProperty("logStreamName").GetString()));

        var bulk = streams[0];
        Assert.Equal(Ms(1000), bulk.GetProperty("firstEventTimestamp").GetInt64());
        Assert.Equal(Ms(1000 + BulkCount - 1), bulk.GetProperty("lastEventTimestamp").GetInt64());
        Assert.True(bulk.GetProperty("lastIngestionTime").GetInt64() > Ms(0));
        Assert.True(bulk.GetProperty("creationTime").GetInt64() > Ms(0));
        Assert.Equal($"arn:aws:logs:us-east-1:000000000000:log-group:{Group}:log-stream:bulk", bulk.GetProperty("arn").GetString());
        Assert.Equal(BulkCount * "event 000".Length, bulk.GetProperty("storedBytes").GetInt64());

        var prefixed = await _cli.JsonAsync("logs", "describe-log-streams", "--log-group-name", Group, "--log-stream-name-prefix", "2026/");
        Assert.Equal([FailedStream, OtherStream],
            prefixed.GetProperty("logStreams").EnumerateArray().Select(s => s.GetProperty("logStreamName").GetString()));
    }

    [Fact]
    public async Task AwsCli_GetLogEvents_NewestByDefaultFromHeadOnRequestAndTokensMove()
    {
        var latest = await _cli.JsonAsync("logs", "get-log-events", "--log-group-name", Group, "--log-stream-name", "bulk", "--limit", "50");
        Assert.Equal(Expected(70, 50), Messages(latest));
        var ev = latest.GetProperty("events")[0];
        Assert.Equal(Ms(1070), ev.GetProperty("timestamp").GetInt64());
        Assert.True(ev.GetProperty("ingestionTime").GetInt64() > Ms(0));
        Assert.StartsWith("f/", latest.GetProperty("nextForwardToken").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("b/", latest.GetProperty("nextBackwardToken").GetString(), StringComparison.Ordinal);

        var older = await _cli.JsonAsync("logs", "get-log-events", "--log-group-name", Group, "--log-stream-name", "bulk", "--limit", "50",
            "--next-token", latest.GetProperty("nextBackwardToken").GetString()!);
        Assert.Equal(Expected(20, 50), Messages(older));

        var head = await _cli.JsonAsync("logs", "get-log-events", "--log-group-name", Group, "--log-stream-name", "bulk", "--limit", "10", "--start-from-head");
        Assert.Equal(Expected(0, 10), Messages(head));
        var next = await _cli.JsonAsync("logs", "get-log-events", "--log-group-name", Group, "--log-stream-name", "bulk", "--limit", "10",
            "--next-token", head.GetProperty("nextForwardToken").GetString()!);
        Assert.Equal(Expected(10, 10), Messages(next));

        var range = await _cli.JsonAsync("logs", "get-log-events", "--log-group-name", Group, "--log-stream-name", "bulk", "--start-from-head",
            "--start-time", Ms(1005).ToString(System.Globalization.CultureInfo.InvariantCulture), "--end-time", Ms(1008).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Expected(5, 3), Messages(range));
    }

    [Fact]
    public async Task AwsCli_FilterLogEvents_PhraseFindsTheFailureAndPagesAggregate()
    {
        var failure = await _cli.JsonAsync("logs", "filter-log-events", "--log-group-name", Group, "--filter-pattern", "\"setSecret: Unable\"");
        var events = failure.GetProperty("events").EnumerateArray().ToList();
        var only = Assert.Single(events);
        Assert.StartsWith("[ERROR]\t", only.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(FailedStream, only.GetProperty("logStreamName").GetString());
        Assert.Equal(Ms(2), only.GetProperty("timestamp").GetInt64());
        Assert.False(string.IsNullOrEmpty(only.GetProperty("eventId").GetString()));
        Assert.True(only.GetProperty("ingestionTime").GetInt64() > Ms(0));
        Assert.Empty(failure.GetProperty("searchedLogStreams").EnumerateArray()); // AWS: an empty list since May 2020

        var paged = await _cli.JsonAsync("logs", "filter-log-events", "--log-group-name", Group, "--log-stream-names", "bulk", "--filter-pattern", "event -\"event 05\"", "--page-size", "7");
        Assert.Equal(Expected(0, BulkCount).Where(m => !m.StartsWith("event 05", StringComparison.Ordinal)), Messages(paged));

        var alternatives = await _cli.JsonAsync("logs", "filter-log-events", "--log-group-name", Group, "--filter-pattern", "?START ?REPORT");
        Assert.Equal(4, alternatives.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task AwsCli_MissingGroupStreamOrUnsupportedPattern_FailsAsCloudWatch()
    {
        var group = await _cli.ErrorAsync("ResourceNotFoundException", "logs", "describe-log-streams", "--log-group-name", "/aws/lambda/nope");
        Assert.Contains("The specified log group does not exist.", group, StringComparison.Ordinal);
        var stream = await _cli.ErrorAsync("ResourceNotFoundException", "logs", "get-log-events", "--log-group-name", Group, "--log-stream-name", "nope");
        Assert.Contains("The specified log stream does not exist.", stream, StringComparison.Ordinal);
        var json = await _cli.ErrorAsync("InvalidParameterException", "logs", "filter-log-events", "--log-group-name", Group, "--filter-pattern", "{ $.level = \"ERROR\" }");
        Assert.Contains("not supported", json, StringComparison.Ordinal);
        await _cli.ErrorAsync("InvalidParameterException", "logs", "describe-log-groups", "--limit", "51");
    }

    [Fact]
    public async Task RawHttp_LogsBodies_CarryNewMembersLowercaseErrorsAndTheLogsScope()
    {
        using var logs = Signed("logs");
        var missing = await logs.PostAsync("Logs_20140328.DescribeLogStreams", """{"logGroupName":"/aws/lambda/nope"}""");
        Assert.Equal(400, missing.Status);
        Assert.Equal("""{"__type":"ResourceNotFoundException","message":"The specified log group does not exist."}""", missing.Body);

        // Members newer than the CLI's model (logGroupArn) are on the wire all the same.
        var described = await logs.PostAsync("Logs_20140328.DescribeLogGroups", $$"""{"logGroupNamePrefix":"{{Group}}"}""");
        Assert.Equal(200, described.Status);
        var group = JsonDocument.Parse(described.Body).RootElement.GetProperty("logGroups")[0];
        Assert.Equal($"arn:aws:logs:us-east-1:000000000000:log-group:{Group}", group.GetProperty("logGroupArn").GetString());
        Assert.Equal("STANDARD", group.GetProperty("logGroupClass").GetString());
        Assert.Matches("\"creationTime\":[0-9]{13},", described.Body);

        using var wrongScope = Signed("secretsmanager");
        var refused = await wrongScope.PostAsync("Logs_20140328.DescribeLogGroups", "{}");
        Assert.NotEqual(200, refused.Status);
        Assert.Contains("'logs'", JsonDocument.Parse(refused.Body).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Secrets Manager keeps its capitalized Message.
        var secrets = await wrongScope.PostAsync("secretsmanager.DescribeSecret", """{"SecretId":"nope"}""");
        Assert.True(JsonDocument.Parse(secrets.Body).RootElement.TryGetProperty("Message", out _), secrets.Body);
    }

    [Fact]
    public async Task Boto3_LogsClient_ReadsPagesAndErrors()
    {
        var script = Path.Combine(_dataDirectory, "read_logs.py");
        await File.WriteAllTextAsync(script, $$"""
            import os, boto3
            c = boto3.client("logs", endpoint_url=os.environ["KEYTURN_ENDPOINT"])
            g = "{{Group}}"
            groups = c.describe_log_groups(logGroupNamePrefix=g)["logGroups"]
            assert [x["logGroupName"] for x in groups] == [g], groups
            assert isinstance(groups[0]["creationTime"], int) and groups[0]["creationTime"] > 10**12, groups
            streams = [s["logStreamName"] for p in c.get_paginator("describe_log_streams").paginate(logGroupName=g, PaginationConfig={"PageSize": 1}) for s in p["logStreams"]]
            assert streams == ["2026/03/28/[$LATEST]failed", "2026/03/28/[$LATEST]other", "bulk"], streams
            events = [e for p in c.get_paginator("filter_log_events").paginate(logGroupName=g, logStreamNamePrefix="bu", filterPattern="event", PaginationConfig={"PageSize": 7}) for e in p["events"]]
            assert [e["message"] for e in events] == ["event %03d" % i for i in range({{BulkCount}})], events[:3]
            assert all(isinstance(e["timestamp"], int) for e in events)
            r = c.get_log_events(logGroupName=g, logStreamName="bulk", limit=50)
            messages = [e["message"] for e in r["events"]]
            while True:
                previous = c.get_log_events(logGroupName=g, logStreamName="bulk", limit=50, nextToken=r["nextBackwardToken"])
                if previous["nextBackwardToken"] == r["nextBackwardToken"]:
                    assert previous["events"] == [], previous
                    break
                messages = [e["message"] for e in previous["events"]] + messages
                r = previous
            assert messages == ["event %03d" % i for i in range({{BulkCount}})], messages[:3]
            try:
                c.get_log_events(logGroupName="/aws/lambda/nope", logStreamName="x")
                raise SystemExit("expected ResourceNotFoundException")
            except c.exceptions.ResourceNotFoundException as e:
                assert e.response["Error"]["Message"] == "The specified log group does not exist.", e.response
            try:
                c.filter_log_events(logGroupName=g, filterPattern="[ip, user]")
                raise SystemExit("expected InvalidParameterException")
            except c.exceptions.InvalidParameterException as e:
                assert "not supported" in e.response["Error"]["Message"], e.response
            print("ok")
            """);

        var result = await ExternalTool.RunAsync("/usr/bin/python3", [script], _server);

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task KeyturnLogs_Secret_PrintsItsInvocationsOnly()
    {
        var byName = await KeyturnAsync("logs", "seeded/db", "--data-dir", _dataDirectory);
        Assert.True(byName.ExitCode == 0, byName.ToString());
        Assert.Contains($"START RequestId: {FailedId}", byName.Stdout, StringComparison.Ordinal);
        Assert.Contains("2026-03-28T09:50:06.008Z [ERROR]\t2026-03-28T09:50:06.007Z", byName.Stdout, StringComparison.Ordinal);
        Assert.Contains($"REPORT RequestId: {FailedId}", byName.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(OtherId, byName.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("event 000", byName.Stdout, StringComparison.Ordinal);

        var byArn = await KeyturnAsync("logs", SecretArn, "--data-dir", _dataDirectory, "--limit", "2");
        Assert.Equal([$"==> {Group} {FailedStream} <==", $"2026-03-28T09:50:06.009Z END RequestId: {FailedId}"],
            byArn.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(2));

        var tail = await KeyturnAsync("logs", "--function", "seeded-rotator", "--limit", "3", "--data-dir", _dataDirectory);
        Assert.Equal([$"==> {Group} bulk <==", "event 117", "event 118", "event 119"],
            tail.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.StartsWith("==>", StringComparison.Ordinal) ? l : l[25..]));
    }

    [Fact]
    public async Task RealRotation_WritesLambdaLinesReadableThroughLogsApiAndCli()
    {
        var register = await KeyturnAsync("functions", "register", "logged-template", "--command", $"/usr/bin/python3 {Script}", "--data-dir", _dataDirectory);
        Assert.True(register.ExitCode == 0, register.ToString());
        var created = await _cli.JsonAsync("secretsmanager", "create-secret", "--name", "logs/rotated", "--secret-string", "initial-value-never-logged");
        var arn = created.GetProperty("ARN").GetString()!;
        await _cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "logs/rotated", "--rotation-lambda-arn", "logged-template", "--rotation-rules", "AutomaticallyAfterDays=7");

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!(await _cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", "logs/rotated")).TryGetProperty("LastRotatedDate", out _))
        {
            Assert.True(DateTime.UtcNow < deadline, "the rotation did not finish within 90 s");
            await Task.Delay(200);
        }

        var rotatedValue = (await _cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "logs/rotated")).GetProperty("SecretString").GetString()!;
        var all = await _cli.JsonAsync("logs", "filter-log-events", "--log-group-name", "/aws/lambda/logged-template");
        var messages = all.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
        Assert.Equal(4, messages.Count(m => m.StartsWith("START RequestId: ", StringComparison.Ordinal)));
        Assert.Equal(4, messages.Count(m => m.StartsWith("REPORT RequestId: ", StringComparison.Ordinal)));
        Assert.Contains(messages, m => m.Contains("finishSecret: Successfully set AWSCURRENT stage", StringComparison.Ordinal) && m.Contains(arn, StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains("initial-value-never-logged", StringComparison.Ordinal) || m.Contains(rotatedValue, StringComparison.Ordinal));

        var history = await KeyturnAsync("logs", "logs/rotated", "--data-dir", _dataDirectory);
        Assert.True(history.ExitCode == 0, history.ToString());
        foreach (var step in new[] { "createSecret", "setSecret", "testSecret", "finishSecret" })
        {
            Assert.Contains(step + ":", history.Stdout, StringComparison.Ordinal);
        }

        Assert.Equal(4, history.Stdout.Split('\n').Count(l => l.Contains(" START RequestId: ", StringComparison.Ordinal)));
    }

    private static long Ms(int offsetMs) => SeededLogsFixture.T0.AddMilliseconds(offsetMs).ToUnixTimeMilliseconds();

    private static IEnumerable<string> Expected(int start, int count) => Enumerable.Range(start, count).Select(i => $"event {i:D3}");

    private static List<string> Messages(JsonElement response) =>
        [.. response.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString()!)];

    private SignedClient Signed(string service) => new(_server, service);

    private async Task<ToolResult> KeyturnAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(KeyturnProcess.KeyturnDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in SeededLogsFixture.Root)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Signed requests for any service's scope and target, to see raw error bodies.</summary>
    private sealed class SignedClient(KeyturnProcess server, string service) : IDisposable
    {
        private readonly HttpClient _http = new(new SigV4SigningHandler(
            new SigV4Credentials(server.AccessKeyId, server.SecretAccessKey), KeyturnProcess.Region, service, TimeProvider.System)
        {
            InnerHandler = new SocketsHttpHandler(),
        });

        public async Task<(int Status, string Body)> PostAsync(string target, string body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint + "/") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
            request.Headers.TryAddWithoutValidation("X-Amz-Target", target);
            using var response = await _http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        public void Dispose() => _http.Dispose();
    }
}
