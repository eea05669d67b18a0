using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record UpdateSecretVersionStageRequest(string? SecretId, string? VersionStage, string? RemoveFromVersionId, string? MoveToVersionId);

public sealed record SecretReference(string ARN, string Name);

public sealed class UpdateSecretVersionStageHandler(SecretServices services) : IOperation<UpdateSecretVersionStageRequest, SecretReference>
{
    public string Name => "UpdateSecretVersionStage";

    public Task<SecretReference> ExecuteAsync(UpdateSecretVersionStageRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .Required(request.VersionStage, "versionStage").Stage(request.VersionStage, "versionStage")
            .VersionId(request.RemoveFromVersionId, "removeFromVersionId")
            .VersionId(request.MoveToVersionId, "moveToVersionId")
            .ThrowIfInvalid();

        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, conditions: new RequestConditions { VersionStage = request.VersionStage }).ConfigureAwait(false);
            StageRules.UpdateVersionStage(secret, request.VersionStage!, request.RemoveFromVersionId, request.MoveToVersionId);
            secret.LastChangedDate = services.Now;
            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            return new SecretReference(secret.Arn, secret.Name);
        }, cancellationToken).AsTask();
    }
}
