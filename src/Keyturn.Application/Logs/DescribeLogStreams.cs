using System.Globalization;
using Keyturn.Application.Operations;

namespace Keyturn.Application.Logs;

public sealed record DescribeLogStreamsRequest(
    string? LogGroupName,
    string? LogGroupIdentifier,
    string? LogStreamNamePrefix,
    string? OrderBy,
    bool? Descending,
    string? NextToken,
    int? Limit);

public sealed record LogStreamEntry(
    string LogStreamName,
    long CreationTime,
    long? FirstEventTimestamp,
    long? LastEventTimestamp,
    long? LastIngestionTime,
    string? UploadSequenceToken,
    string Arn,
    long StoredBytes);

public sealed record DescribeLogStreamsResponse(IReadOnlyList<LogStreamEntry> LogStreams, string? NextToken);

public sealed class DescribeLogStreamsHandler(LogsServices logs) : IOperation<DescribeLogStreamsRequest, DescribeLogStreamsResponse>
{
    public const int DefaultLimit = 50;

    public string Name => "DescribeLogStreams";

    public async Task<DescribeLogStreamsResponse> ExecuteAsync(DescribeLogStreamsRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .GroupName(request.LogGroupName)
            .GroupIdentifier(request.LogGroupIdentifier)
            .StreamName(request.LogStreamNamePrefix, "logStreamNamePrefix")
            .NextToken(request.NextToken)
            .Range(request.Limit, "limit", 1, 50)
            .ThrowIfInvalidParameter();
        var order = request.OrderBy switch
        {
            null or nameof(LogStreamOrder.LogStreamName) => LogStreamOrder.LogStreamName,
            nameof(LogStreamOrder.LastEventTime) => LogStreamOrder.LastEventTime,
            _ => throw LogsServices.InvalidParameter(
                $"1 validation error detected: Value '{request.OrderBy}' at 'orderBy' failed to satisfy constraint: Member must satisfy enum value set: [LogStreamName, LastEventTime]"),
        };
        if (order == LogStreamOrder.LastEventTime && request.LogStreamNamePrefix is not null)
        {
            throw LogsServices.InvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.");
        }

        var groupName = LogsServices.GroupNameOf(request.LogGroupName, request.LogGroupIdentifier);
        logs.Authorize(context, Name, logs.RequestResource(context, groupName));
        await logs.RequireGroupAsync(groupName, cancellationToken).ConfigureAwait(false);

        var descending = request.Descending == true;
        var query = $"streams|{groupName}|{request.LogStreamNamePrefix}|{order}|{descending}";
        LogStreamCursor? after = null;
        if (request.NextToken is not null)
        {
            var values = LogTokens.ReadPage(request.NextToken, query, 2);
            after = long.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var lastEvent)
                ? new LogStreamCursor(lastEvent, values[1])
                : throw LogTokens.Invalid();
        }

        var limit = request.Limit ?? DefaultLimit;
        var streams = await logs.Store.DescribeStreamsAsync(
            new LogStreamQuery(groupName, request.LogStreamNamePrefix, order, descending, after, limit + 1), cancellationToken).ConfigureAwait(false);
        var page = streams.Take(limit).ToList();
        var next = streams.Count > limit
            ? LogTokens.Page(query, (page[^1].LastEventMs ?? 0).ToString(CultureInfo.InvariantCulture), page[^1].Name)
            : null;
        return new DescribeLogStreamsResponse(
            [.. page.Select(s => new LogStreamEntry(
                s.Name, s.CreatedMs, s.FirstEventMs, s.LastEventMs, s.LastIngestionMs, null, logs.StreamArn(context, groupName, s.Name), s.StoredBytes))],
            next);
    }
}
