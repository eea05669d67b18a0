using Keyturn.Application.Logs;
using Keyturn.Application.Security;
using Keyturn.Domain.Policies;
using Keyturn.Storage.Sqlite;

namespace Keyturn.Application.Tests.Logs;

/// <summary>The CloudWatch Logs handlers over a real SQLite log store, seeded through its sink.</summary>
internal sealed class LogsHarness : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 28, 9, 50, 6, 6, TimeSpan.Zero);

    private readonly ServiceHarness _harness = new();

    public LogsHarness()
    {
        Logs = new LogsServices(Store, _harness.Authorizer, new KeyturnOptions());
    }

    public SqliteLogStore Store => _harness.Database.Logs;

    /// <summary>The secrets' store on the same database file.</summary>
    public SqliteSecretStore SecretStore => _harness.Store;

    public LogsServices Logs { get; }

    public RequestContext Root => _harness.Root;

    public static long Ms(int offsetMs) => T0.AddMilliseconds(offsetMs).ToUnixTimeMilliseconds();

    public static RequestContext Caller(string policy)
    {
        Assert.True(PolicyDocument.TryParse(policy, out var document, out var error), error?.ToString());
        return new RequestContext("req-2", "us-east-1", new CallerIdentity("AKIAUSER", "arn:aws:iam::000000000000:user/reader", IsRoot: false, document));
    }

    /// <summary>Appends one line per message, <paramref name="stepMs"/> apart from <paramref name="startMs"/> after T0.</summary>
    public Task Append(string group, string stream, int startMs, int stepMs, params string[] messages) =>
        Store.AppendAsync(group, stream, [.. messages.Select((m, i) => new LogLine(T0.AddMilliseconds(startMs + (i * stepMs)), m))], default);

    public Task<DescribeLogGroupsResponse> Groups(DescribeLogGroupsRequest request, RequestContext? context = null) =>
        new DescribeLogGroupsHandler(Logs).ExecuteAsync(request, context ?? Root, default);

    public Task<DescribeLogStreamsResponse> Streams(DescribeLogStreamsRequest request, RequestContext? context = null) =>
        new DescribeLogStreamsHandler(Logs).ExecuteAsync(request, context ?? Root, default);

    public Task<GetLogEventsResponse> Events(GetLogEventsRequest request, RequestContext? context = null) =>
        new GetLogEventsHandler(Logs).ExecuteAsync(request, context ?? Root, default);

    public Task<FilterLogEventsResponse> Filter(FilterLogEventsRequest request, RequestContext? context = null) =>
        new FilterLogEventsHandler(Logs).ExecuteAsync(request, context ?? Root, default);

    public void Dispose() => _harness.Dispose();
}
