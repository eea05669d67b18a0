using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;

namespace Keyturn.Application.Operations;

public sealed record UpdateSecretRequest(
    string? SecretId, string? ClientRequestToken, string? Description, string? KmsKeyId,
    byte[]? SecretBinary, string? SecretString, string? Type);

public sealed record UpdateSecretResponse(string ARN, string Name, string? VersionId);

public sealed class UpdateSecretHandler(SecretServices services) : IOperation<UpdateSecretRequest, UpdateSecretResponse>
{
    public string Name => "UpdateSecret";

    public Task<UpdateSecretResponse> ExecuteAsync(UpdateSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .Token(request.ClientRequestToken)
            .Length(request.Description, "description", 0, 2048)
            .Length(request.KmsKeyId, "kmsKeyId", 0, 2048)
            .Value(request.SecretString, request.SecretBinary)
            .Length(request.Type, "type", 0, 256)
            .ThrowIfInvalid();

        var hasValue = request.SecretString is not null || request.SecretBinary is not null;
        if (hasValue && request.ClientRequestToken is null)
        {
            throw ServiceException.MissingClientRequestToken();
        }

        ValueWriter.RequireOneValue(request.SecretString, request.SecretBinary);

        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct,
                conditions: new RequestConditions { Description = request.Description, KmsKeyId = request.KmsKeyId, Type = request.Type }).ConfigureAwait(false);
            var changed = false;
            if (request.Description is not null)
            {
                secret.Description = request.Description.Length == 0 ? null : request.Description;
                changed = true;
            }

            if (request.KmsKeyId is not null)
            {
                secret.KmsKeyId = KmsKeys.Normalize(request.KmsKeyId);
                changed = true;
            }

            if (request.Type is not null)
            {
                secret.Type = request.Type.Length == 0 ? null : request.Type;
                changed = true;
            }

            string? versionId = null;
            if (hasValue)
            {
                versionId = (await ValueWriter.WriteAsync(services, session, secret, request.ClientRequestToken!, request.SecretString, request.SecretBinary, null, ct).ConfigureAwait(false)).VersionId;
            }
            else if (changed)
            {
                secret.LastChangedDate = services.Now;
            }

            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            return new UpdateSecretResponse(secret.Arn, secret.Name, versionId);
        }, cancellationToken).AsTask();
    }
}
