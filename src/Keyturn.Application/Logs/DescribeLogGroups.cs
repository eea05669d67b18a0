using Keyturn.Application.Operations;

namespace Keyturn.Application.Logs;

public sealed record DescribeLogGroupsRequest(
    IReadOnlyList<string>? AccountIdentifiers,
    string? LogGroupNamePrefix,
    string? LogGroupNamePattern,
    string? NextToken,
    int? Limit,
    bool? IncludeLinkedAccounts,
    string? LogGroupClass,
    IReadOnlyList<string>? LogGroupIdentifiers);

public sealed record LogGroupEntry(
    string LogGroupName, long CreationTime, int MetricFilterCount, string Arn, long StoredBytes, string LogGroupClass, string LogGroupArn);

public sealed record DescribeLogGroupsResponse(IReadOnlyList<LogGroupEntry> LogGroups, string? NextToken);

public sealed class DescribeLogGroupsHandler(LogsServices logs) : IOperation<DescribeLogGroupsRequest, DescribeLogGroupsResponse>
{
    public const int DefaultLimit = 50;

    // Every group is STANDARD: no retention classes here.
    private const string StandardClass = "STANDARD";

    public string Name => "DescribeLogGroups";

    public async Task<DescribeLogGroupsResponse> ExecuteAsync(DescribeLogGroupsRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .GroupName(request.LogGroupNamePrefix, "logGroupNamePrefix")
            .Length(request.LogGroupNamePattern, "logGroupNamePattern", 0, 512)
            .NextToken(request.NextToken)
            .Range(request.Limit, "limit", 1, 50)
            .Count(request.AccountIdentifiers, "accountIdentifiers", 0, 20)
            .Count(request.LogGroupIdentifiers, "logGroupIdentifiers", 1, 50)
            .ThrowIfInvalidParameter();
        if (request.LogGroupNamePrefix is not null && request.LogGroupNamePattern is not null)
        {
            throw LogsServices.InvalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.");
        }

        if (request.LogGroupIdentifiers is not null && (request.LogGroupNamePrefix ?? request.LogGroupNamePattern) is not null)
        {
            throw LogsServices.InvalidParameter("logGroupIdentifiers can't be combined with logGroupNamePrefix or logGroupNamePattern.");
        }

        if (request.LogGroupClass is not (null or StandardClass or "INFREQUENT_ACCESS" or "DELIVERY"))
        {
            throw LogsServices.InvalidParameter(
                $"1 validation error detected: Value '{request.LogGroupClass}' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]");
        }

        logs.Authorize(context, Name, logs.RequestResource(context, ""));

        var names = request.LogGroupIdentifiers?.Select(i => LogsServices.GroupNameOf(null, i)).ToList();
        var query = $"groups|{request.LogGroupNamePrefix}|{request.LogGroupNamePattern}|{request.LogGroupClass}|{string.Join('|', names ?? [])}";
        var after = request.NextToken is null ? null : LogTokens.ReadPage(request.NextToken, query, 1)[0];
        if (request.LogGroupClass is not (null or StandardClass))
        {
            return new DescribeLogGroupsResponse([], null);
        }

        var limit = request.Limit ?? DefaultLimit;
        var groups = await logs.Store.DescribeGroupsAsync(
            new LogGroupQuery(request.LogGroupNamePrefix, request.LogGroupNamePattern, names, after, limit + 1), cancellationToken).ConfigureAwait(false);
        var page = groups.Take(limit).Select(g =>
        {
            var arn = logs.GroupArn(context, g.Name);
            return new LogGroupEntry(g.Name, g.CreatedMs, 0, arn + ":*", g.StoredBytes, StandardClass, arn);
        }).ToList();
        return new DescribeLogGroupsResponse(page, groups.Count > limit ? LogTokens.Page(query, page[^1].LogGroupName) : null);
    }
}
