using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record TagResourceRequest(string? SecretId, IReadOnlyList<SecretTag>? Tags);

public sealed record UntagResourceRequest(string? SecretId, IReadOnlyList<string>? TagKeys);

/// <summary>TagResource and UntagResource answer with an empty body.</summary>
public sealed record EmptyResponse;

public sealed class TagResourceHandler(SecretServices services) : IOperation<TagResourceRequest, EmptyResponse>
{
    public string Name => "TagResource";

    public Task<EmptyResponse> ExecuteAsync(TagResourceRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).Required(request.Tags, "tags").Tags(request.Tags).ThrowIfInvalid();
        TagRules.Validate(request.Tags);
        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, conditions: new RequestConditions { RequestTags = request.Tags }).ConfigureAwait(false);
            secret.Tags = TagRules.Merge(secret.Tags, request.Tags!);
            secret.LastChangedDate = services.Now;
            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            return new EmptyResponse();
        }, cancellationToken).AsTask();
    }
}

public sealed class UntagResourceHandler(SecretServices services) : IOperation<UntagResourceRequest, EmptyResponse>
{
    public string Name => "UntagResource";

    public Task<EmptyResponse> ExecuteAsync(UntagResourceRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .Required(request.TagKeys, "tagKeys")
            .Each(request.TagKeys, (m, k, name) => m.Required(k, name).Length(k, name, 1, 128), "tagKeys")
            .ThrowIfInvalid();
        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, conditions: new RequestConditions { TagKeys = request.TagKeys }).ConfigureAwait(false);
            if (secret.Tags is not null)
            {
                // Once tagged, a secret shows "Tags": [] after its last tag is removed, as on AWS.
                secret.Tags = secret.Tags.Where(t => !request.TagKeys!.Contains(t.Key, StringComparer.Ordinal)).ToList();
                secret.LastChangedDate = services.Now;
                await session.SaveAsync(secret, ct).ConfigureAwait(false);
            }

            return new EmptyResponse();
        }, cancellationToken).AsTask();
    }
}
