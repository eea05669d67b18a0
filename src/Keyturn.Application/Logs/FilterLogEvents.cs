using System.Globalization;
using Keyturn.Application.Operations;
using Keyturn.Domain.Logs;

namespace Keyturn.Application.Logs;

public sealed record FilterLogEventsRequest(
    string? LogGroupName,
    string? LogGroupIdentifier,
    IReadOnlyList<string>? LogStreamNames,
    string? LogStreamNamePrefix,
    long? StartTime,
    long? EndTime,
    string? FilterPattern,
    string? NextToken,
    int? Limit,
    bool? Interleaved,
    bool? Unmask);

public sealed record FilteredLogEvent(string LogStreamName, long Timestamp, string Message, long IngestionTime, string EventId);

public sealed record SearchedLogStream(string LogStreamName, bool SearchedCompletely);

public sealed record FilterLogEventsResponse(IReadOnlyList<FilteredLogEvent> Events, IReadOnlyList<SearchedLogStream> SearchedLogStreams, string? NextToken);

/// <summary>
/// Matching events of a group across its streams, in time order. Like CloudWatch, one call searches
/// a bounded span and may return fewer events than the limit (even none) with a nextToken.
/// </summary>
public sealed class FilterLogEventsHandler(LogsServices logs) : IOperation<FilterLogEventsRequest, FilterLogEventsResponse>
{
    public const int DefaultLimit = 10000;

    /// <summary>How many candidate events one call examines.</summary>
    public const int ScanLimit = 100_000;

    public string Name => "FilterLogEvents";

    public async Task<FilterLogEventsResponse> ExecuteAsync(FilterLogEventsRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .GroupName(request.LogGroupName)
            .GroupIdentifier(request.LogGroupIdentifier)
            .Count(request.LogStreamNames, "logStreamNames", 1, 100)
            .Each(request.LogStreamNames, (v, name, member) => v.Required(name, member).StreamName(name, member), "logStreamNames")
            .StreamName(request.LogStreamNamePrefix, "logStreamNamePrefix")
            .Times(request.StartTime, request.EndTime)
            .Length(request.FilterPattern, "filterPattern", 0, 1024)
            .NextToken(request.NextToken)
            .Range(request.Limit, "limit", 1, 10000)
            .ThrowIfInvalidParameter();
        if (request.LogStreamNames is not null && request.LogStreamNamePrefix is not null)
        {
            throw LogsServices.InvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.");
        }

        if (!LogFilterPattern.TryParse(request.FilterPattern, out var pattern, out var error))
        {
            throw LogsServices.InvalidParameter(error);
        }

        var groupName = LogsServices.GroupNameOf(request.LogGroupName, request.LogGroupIdentifier);
        logs.Authorize(context, Name, logs.RequestResource(context, groupName));
        await logs.RequireGroupAsync(groupName, cancellationToken).ConfigureAwait(false);

        var query = string.Join('|', "filter", groupName, string.Join(',', request.LogStreamNames ?? []), request.LogStreamNamePrefix,
            request.StartTime, request.EndTime, request.FilterPattern);
        LogEventPosition? from = null;
        if (request.NextToken is not null)
        {
            var values = LogTokens.ReadPage(request.NextToken, query, 2);
            from = long.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var time)
                && long.TryParse(values[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? new LogEventPosition(time, id)
                : throw LogTokens.Invalid();
        }

        var result = await logs.Store.FilterAsync(new LogFilterQuery(
            groupName, request.LogStreamNames, request.LogStreamNamePrefix, request.StartTime, request.EndTime, pattern,
            from, request.Limit ?? DefaultLimit, LogMembers.MaxPageBytes, ScanLimit), cancellationToken).ConfigureAwait(false);

        var next = result.ResumeFrom is { } resume
            ? LogTokens.Page(query, resume.TimestampMs.ToString(CultureInfo.InvariantCulture), resume.Id.ToString(CultureInfo.InvariantCulture))
            : null;
        return new FilterLogEventsResponse(
            [.. result.Events.Select(e => new FilteredLogEvent(e.StreamName, e.TimestampMs, e.Message, e.IngestionMs, e.Id.ToString(CultureInfo.InvariantCulture)))],
            // searchedLogStreams: "As of May 15, 2020, this parameter is no longer supported. This parameter returns an empty list."
            [],
            next);
    }
}
