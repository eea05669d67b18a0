using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record CreateSecretRequest(
    string? Name, string? ClientRequestToken, string? Description, string? KmsKeyId,
    byte[]? SecretBinary, string? SecretString, IReadOnlyList<SecretTag>? Tags,
    IReadOnlyList<ReplicaRegion>? AddReplicaRegions, bool? ForceOverwriteReplicaSecret, string? Type);

public sealed record ReplicaRegion(string? Region, string? KmsKeyId);

public sealed record CreateSecretResponse(string ARN, string Name, string? VersionId);

public sealed class CreateSecretHandler(SecretServices services) : IOperation<CreateSecretRequest, CreateSecretResponse>
{
    public string Name => "CreateSecret";

    public Task<CreateSecretResponse> ExecuteAsync(CreateSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .Required(request.Name, "name").Length(request.Name, "name", 1, 512)
            .Token(request.ClientRequestToken)
            .Length(request.Description, "description", 0, 2048)
            .Length(request.KmsKeyId, "kmsKeyId", 0, 2048)
            .Value(request.SecretString, request.SecretBinary)
            .Tags(request.Tags)
            .Length(request.Type, "type", 0, 256)
            .ThrowIfInvalid();

        var hasValue = request.SecretString is not null || request.SecretBinary is not null;
        if (hasValue && request.ClientRequestToken is null)
        {
            // AWS checks this before anything else, even whether the name is taken.
            throw ServiceException.MissingClientRequestToken();
        }

        ValueWriter.RequireOneValue(request.SecretString, request.SecretBinary);
        var name = request.Name!;
        if (!SecretNames.IsValidName(name))
        {
            throw ServiceException.InvalidName();
        }

        TagRules.Validate(request.Tags);
        services.Authorizer.Authorize(context, Name, services.ResourceFor(name, context), conditions: new RequestConditions
        {
            Name = name,
            Description = request.Description,
            KmsKeyId = request.KmsKeyId,
            Type = request.Type,
            RequestTags = request.Tags,
            AddReplicaRegions = request.AddReplicaRegions?.Select(r => r.Region).OfType<string>().ToList(),
            ForceOverwriteReplicaSecret = request.ForceOverwriteReplicaSecret,
        });

        if (request.AddReplicaRegions is { Count: > 0 })
        {
            throw new ServiceException(ErrorKind.InvalidRequest, "Keyturn doesn't replicate secrets to other regions.");
        }

        return services.Store.WriteAsync(async (session, ct) =>
        {
            var existing = await session.FindByNameAsync(context.Region, name, ct).ConfigureAwait(false);
            if (existing is { DeletionDate: { } due } && due <= services.Now)
            {
                await session.DeleteAsync(existing, ct).ConfigureAwait(false);
                existing = null;
            }

            if (existing is not null)
            {
                if (existing.IsDeleted)
                {
                    throw new ServiceException(ErrorKind.InvalidRequest,
                        "You can't create this secret because a secret with this name is already scheduled for deletion.");
                }

                if (request.ClientRequestToken is { } token && existing.FindVersion(token) is { HasValue: true } version)
                {
                    return await services.HasSameValueAsync(session, existing, version, request.SecretString, request.SecretBinary, ct).ConfigureAwait(false)
                        ? new CreateSecretResponse(existing.Arn, existing.Name, version.VersionId)
                        : throw ServiceException.TokenInUse(token, existing.Arn);
                }

                throw new ServiceException(ErrorKind.ResourceExists, $"The operation failed because the secret {name} already exists.");
            }

            var now = services.Now;
            var secret = new Secret(await services.NewArnAsync(session, name, context, ct).ConfigureAwait(false), name, context.Region, now)
            {
                Description = string.IsNullOrEmpty(request.Description) ? null : request.Description,
                KmsKeyId = KmsKeys.Normalize(request.KmsKeyId),
                Type = string.IsNullOrEmpty(request.Type) ? null : request.Type,
                Tags = request.Tags is { Count: > 0 } tags ? TagRules.Merge(null, tags) : null,
            };

            string? versionId = null;
            if (hasValue)
            {
                versionId = (await ValueWriter.WriteAsync(services, session, secret, request.ClientRequestToken!, request.SecretString, request.SecretBinary, null, ct).ConfigureAwait(false)).VersionId;
            }

            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            return new CreateSecretResponse(secret.Arn, secret.Name, versionId);
        }, cancellationToken).AsTask();
    }
}
