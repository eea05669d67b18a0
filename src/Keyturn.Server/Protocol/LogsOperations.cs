using System.Text.Json;
using Keyturn.Application.Logs;

namespace Keyturn.Server.Protocol;

/// <summary>The CloudWatch Logs read API (<c>X-Amz-Target: Logs_20140328.*</c>, signed for service <c>logs</c>) over rotation logs.</summary>
public static class LogsOperations
{
    public const string TargetPrefix = "Logs_20140328.";

    public const string Service = "logs";

    public static OperationTable Create(IServiceProvider services)
    {
        var logs = (LogsServices)(services.GetService(typeof(LogsServices)) ?? throw new InvalidOperationException($"{nameof(LogsServices)} is not registered."));
        var json = LogsJsonContext.Wire;
        var table = new OperationTable(Service, TargetPrefix,
            (code, message) => JsonSerializer.SerializeToUtf8Bytes(new LogsErrorBody(code, message), json.LogsErrorBody));
        table.Add(new DescribeLogGroupsHandler(logs), json.DescribeLogGroupsRequest, json.DescribeLogGroupsResponse);
        table.Add(new DescribeLogStreamsHandler(logs), json.DescribeLogStreamsRequest, json.DescribeLogStreamsResponse);
        table.Add(new GetLogEventsHandler(logs), json.GetLogEventsRequest, json.GetLogEventsResponse);
        table.Add(new FilterLogEventsHandler(logs), json.FilterLogEventsRequest, json.FilterLogEventsResponse);
        return table;
    }
}
