using Keyturn.Domain.Errors;
using Keyturn.Domain.Listing;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record ListSecretsRequest(
    bool? IncludePlannedDeletion, int? MaxResults, string? NextToken, IReadOnlyList<ListFilter>? Filters,
    string? SortOrder, string? SortBy);

public sealed record ListSecretsResponse(IReadOnlyList<DescribeSecretResponse> SecretList, string? NextToken);

public sealed class ListSecretsHandler(SecretServices services) : IOperation<ListSecretsRequest, ListSecretsResponse>
{
    public string Name => "ListSecrets";

    public Task<ListSecretsResponse> ExecuteAsync(ListSecretsRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .Range(request.MaxResults, "maxResults", 1, 100)
            .Length(request.NextToken, "nextToken", 1, 4096)
            .Count(request.Filters, "filters", 0, 10)
            .ThrowIfInvalid();

        var filters = request.Filters ?? [];
        if (SecretFilter.Validate(filters) is { } filterError)
        {
            throw new ServiceException(ErrorKinds.Parse(filterError.Code), filterError.Message);
        }

        if (SecretSorter.ParseSortBy(request.SortBy, out var sortBy) is { } sortByError)
        {
            throw new ServiceException(ErrorKinds.Parse(sortByError.Code), sortByError.Message);
        }

        if (SecretSorter.ParseSortOrder(request.SortOrder, out var descending) is { } sortOrderError)
        {
            throw new ServiceException(ErrorKinds.Parse(sortOrderError.Code), sortOrderError.Message);
        }
        services.Authorizer.Authorize(context, Name, "*");

        var includeDeleted = request.IncludePlannedDeletion == true;
        var fingerprint = $"secrets:{includeDeleted}:{request.SortBy}:{request.SortOrder}:" +
            string.Join(";", filters.Select(f => f.Key + "=" + string.Join(",", f.Values)));

        return services.Store.ReadAsync(async (session, ct) =>
        {
            var now = services.Now;
            // Filter and sort first, then load versions and labels for the page only. The usual listing (by creation
            // date or name, filtered by name at most) needs no metadata; any other reads every secret's metadata.
            var candidates = sortBy is SecretSortBy.CreatedDate or SecretSortBy.Name && filters.All(f => f.Key == "name")
                ? (await session.ListKeysAsync(context.Region, ct).ConfigureAwait(false)).Select(k => (k.Arn, k.IsDeleted, k.DeletionDate, View: new SecretListingView(k.Name, null, [], null, null, k.CreatedDate, default, null)))
                : (await session.ListMetadataAsync(context.Region, ct).ConfigureAwait(false)).Select(s => (s.Arn, s.IsDeleted, s.DeletionDate, View: View(s)));
            var matching = candidates
                .Where(c => (includeDeleted || !c.IsDeleted) && !(c.DeletionDate is { } due && due <= now))
                .Where(c => SecretFilter.Matches(c.View, filters))
                .OrderBy(c => c.View, SecretSorter.Comparer(sortBy, descending))
                .ThenBy(c => c.Arn, StringComparer.Ordinal)
                .Select(c => c.Arn)
                .ToList();

            var offset = Pagination.Offset(request.NextToken, fingerprint);
            var pageSize = request.MaxResults ?? 100;
            var pageArns = matching.Skip(offset).Take(pageSize).ToList();
            var loaded = (await session.FindByArnsAsync(pageArns, ct).ConfigureAwait(false)).ToDictionary(s => s.Arn, StringComparer.Ordinal);
            var page = pageArns.Where(loaded.ContainsKey).Select(arn => DescribeSecretHandler.From(loaded[arn], listEntry: true)).ToList();
            return new ListSecretsResponse(page, Pagination.NextToken(offset + pageSize, matching.Count, fingerprint));
        }, cancellationToken).AsTask();
    }

    internal static SecretListingView View(Secret secret) => new(
        secret.Name,
        secret.Description,
        (secret.Tags ?? []).Select(t => new KeyValuePair<string, string>(t.Key, t.Value)).ToList(),
        null,
        null,
        secret.CreatedDate,
        secret.LastChangedDate,
        secret.LastAccessedDate);
}
