using Keyturn.Domain.Errors;
using Keyturn.Domain.Listing;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record BatchGetSecretValueRequest(
    IReadOnlyList<string>? SecretIdList, IReadOnlyList<ListFilter>? Filters, int? MaxResults, string? NextToken);

public sealed record BatchGetSecretValueResponse(
    IReadOnlyList<GetSecretValueResponse> SecretValues, string? NextToken, IReadOnlyList<BatchError> Errors);

public sealed record BatchError(string SecretId, string ErrorCode, string Message);

public sealed class BatchGetSecretValueHandler(SecretServices services) : IOperation<BatchGetSecretValueRequest, BatchGetSecretValueResponse>
{
    public string Name => "BatchGetSecretValue";

    public async Task<BatchGetSecretValueResponse> ExecuteAsync(BatchGetSecretValueRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .Count(request.SecretIdList, "secretIdList", 1, 20)
            .Each(request.SecretIdList, (m, id, name) => m.Required(id, name).Length(id, name, 1, 2048), "secretIdList")
            .Count(request.Filters, "filters", 0, 10)
            .Range(request.MaxResults, "maxResults", 1, 20)
            .Length(request.NextToken, "nextToken", 1, 4096)
            .ThrowIfInvalid();

        if (request.SecretIdList is not null && request.Filters is not null)
        {
            throw new ServiceException(ErrorKind.InvalidParameter, "Either 'SecretIdList' or 'Filters' must be provided, but not both.");
        }

        if (request.SecretIdList is null && request.Filters is null)
        {
            throw new ServiceException(ErrorKind.InvalidParameter, "Either 'SecretIdList' or 'Filters' must be provided.");
        }

        if (request.MaxResults is not null && request.Filters is null)
        {
            throw new ServiceException(ErrorKind.InvalidParameter, "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.");
        }

        services.Authorizer.Authorize(context, Name, "*");

        if (request.Filters is not null && SecretFilter.Validate(request.Filters) is { } filterError)
        {
            throw new ServiceException(ErrorKinds.Parse(filterError.Code), filterError.Message);
        }

        // Everything the unit finds is built inside it and returned: a backend may run it again.
        var (values, errors, reads, nextToken) = await services.Store.ReadAsync(async (session, ct) =>
        {
            var values = new List<GetSecretValueResponse>();
            var errors = new List<BatchError>();
            var reads = new List<(Secret Secret, SecretVersion Version)>();
            string? nextToken = null;
            IEnumerable<string> ids;
            if (request.SecretIdList is not null)
            {
                ids = request.SecretIdList;
            }
            else
            {
                var fingerprint = "batch:" + string.Join(";", request.Filters!.Select(f => f.Key + "=" + string.Join(",", f.Values)));
                var matching = (await session.ListMetadataAsync(context.Region, ct).ConfigureAwait(false))
                    .Where(s => !s.IsDeleted && SecretFilter.Matches(ListSecretsHandler.View(s), request.Filters!))
                    .OrderBy(s => s.CreatedDate).ThenBy(s => s.Name, StringComparer.Ordinal)
                    .ToList();
                var offset = Pagination.Offset(request.NextToken, fingerprint);
                var pageSize = request.MaxResults ?? 20;
                ids = matching.Skip(offset).Take(pageSize).Select(s => s.Arn).ToList();
                nextToken = Pagination.NextToken(offset + pageSize, matching.Count, fingerprint);
            }

            foreach (var id in ids)
            {
                try
                {
                    var secret = await services.ResolveAsync(session, id, context, "GetSecretValue", ct).ConfigureAwait(false);
                    var (version, response) = await GetSecretValueHandler.ReadAsync(services, session, secret, null, null, ct).ConfigureAwait(false);
                    values.Add(response);
                    reads.Add((secret, version));
                }
                catch (ServiceException e)
                {
                    errors.Add(new BatchError(id, ErrorCodes.For(e.Kind), e.Message));
                }
            }

            return (values, errors, reads, nextToken);
        }, cancellationToken).ConfigureAwait(false);

        await GetSecretValueHandler.RecordAccessAsync(services, reads, cancellationToken).ConfigureAwait(false);

        return new BatchGetSecretValueResponse(values, nextToken, errors);
    }
}
