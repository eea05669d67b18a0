using Keyturn.Application.Operations;

namespace Keyturn.Application.Logs;

public sealed record GetLogEventsRequest(
    string? LogGroupName,
    string? LogGroupIdentifier,
    string? LogStreamName,
    long? StartTime,
    long? EndTime,
    string? NextToken,
    int? Limit,
    bool? StartFromHead,
    bool? Unmask);

public sealed record OutputLogEvent(long Timestamp, string Message, long IngestionTime);

public sealed record GetLogEventsResponse(IReadOnlyList<OutputLogEvent> Events, string NextForwardToken, string NextBackwardToken);

/// <summary>
/// One stream's events, oldest first within a page. Without a token it returns the newest events
/// (or the oldest with <c>startFromHead</c>); a forward token continues after a page, a backward
/// token before it, and at either end the same token comes back, which is how callers know to stop.
/// </summary>
public sealed class GetLogEventsHandler(LogsServices logs) : IOperation<GetLogEventsRequest, GetLogEventsResponse>
{
    public const int DefaultLimit = 10000;

    public string Name => "GetLogEvents";

    public async Task<GetLogEventsResponse> ExecuteAsync(GetLogEventsRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .GroupName(request.LogGroupName)
            .GroupIdentifier(request.LogGroupIdentifier)
            .Required(request.LogStreamName, "logStreamName")
            .StreamName(request.LogStreamName, "logStreamName")
            .Times(request.StartTime, request.EndTime)
            .NextToken(request.NextToken)
            .Range(request.Limit, "limit", 1, 10000)
            .ThrowIfInvalidParameter();
        var groupName = LogsServices.GroupNameOf(request.LogGroupName, request.LogGroupIdentifier);
        var (forward, from) = request.NextToken is { } token
            ? LogTokens.ReadEventToken(token)
            : request.StartFromHead == true ? (true, LogEventPosition.Head) : (false, LogEventPosition.Tail);

        logs.Authorize(context, Name, logs.RequestResource(context, groupName, request.LogStreamName!));
        await logs.RequireGroupAsync(groupName, cancellationToken).ConfigureAwait(false);
        if (await logs.Store.FindStreamAsync(groupName, request.LogStreamName!, cancellationToken).ConfigureAwait(false) is null)
        {
            throw LogsServices.StreamNotFound();
        }

        var events = await logs.Store.ReadStreamAsync(new LogStreamEventsQuery(
            groupName, request.LogStreamName!, request.StartTime, request.EndTime, from, forward, request.Limit ?? DefaultLimit, LogMembers.MaxPageBytes),
            cancellationToken).ConfigureAwait(false);

        string nextForward, nextBackward;
        if (events.Count > 0)
        {
            nextForward = LogTokens.Forward(events[^1].Position);
            nextBackward = LogTokens.Backward(events[0].Position);
        }
        else if (request.NextToken is null)
        {
            // Nothing yet: reading forward from the start will pick up whatever arrives.
            nextForward = LogTokens.Forward(LogEventPosition.Head);
            nextBackward = LogTokens.Backward(LogEventPosition.Head);
        }
        else
        {
            nextForward = LogTokens.Forward(from);
            nextBackward = LogTokens.Backward(from);
        }

        return new GetLogEventsResponse([.. events.Select(e => new OutputLogEvent(e.TimestampMs, e.Message, e.IngestionMs))], nextForward, nextBackward);
    }
}
