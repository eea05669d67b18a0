using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record ListSecretVersionIdsRequest(string? SecretId, int? MaxResults, string? NextToken, bool? IncludeDeprecated);

public sealed record SecretVersionsListEntry(
    string VersionId, IReadOnlyList<string>? VersionStages, DateTimeOffset? LastAccessedDate,
    DateTimeOffset CreatedDate, IReadOnlyList<string> KmsKeyIds);

public sealed record ListSecretVersionIdsResponse(
    IReadOnlyList<SecretVersionsListEntry> Versions, string? NextToken, string ARN, string Name);

public sealed class ListSecretVersionIdsHandler(SecretServices services) : IOperation<ListSecretVersionIdsRequest, ListSecretVersionIdsResponse>
{
    public string Name => "ListSecretVersionIds";

    public Task<ListSecretVersionIdsResponse> ExecuteAsync(ListSecretVersionIdsRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .Range(request.MaxResults, "maxResults", 1, 100)
            .Length(request.NextToken, "nextToken", 1, 4096)
            .ThrowIfInvalid();

        return services.Store.ReadAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, allowDeleted: true).ConfigureAwait(false);
            var includeDeprecated = request.IncludeDeprecated == true;

            // Newest first, as the console and the field report show them.
            var versions = secret.Versions
                .Where(v => includeDeprecated || !v.IsDeprecated)
                .OrderByDescending(v => v.CreatedDate).ThenBy(v => v.VersionId, StringComparer.Ordinal)
                .ToList();

            var fingerprint = $"versions:{secret.Arn}:{includeDeprecated}";
            var offset = Pagination.Offset(request.NextToken, fingerprint);
            var pageSize = request.MaxResults ?? 100;
            IReadOnlyList<string> kmsKeyIds = [secret.KmsKeyId ?? KmsKeys.DefaultKeyId];
            var page = versions.Skip(offset).Take(pageSize)
                .Select(v => new SecretVersionsListEntry(
                    v.VersionId, v.IsDeprecated ? null : [.. v.Stages], v.LastAccessedDate, v.CreatedDate, kmsKeyIds))
                .ToList();

            return new ListSecretVersionIdsResponse(page, Pagination.NextToken(offset + pageSize, versions.Count, fingerprint), secret.Arn, secret.Name);
        }, cancellationToken).AsTask();
    }
}
