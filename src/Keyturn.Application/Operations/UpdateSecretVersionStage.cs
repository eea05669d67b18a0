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

        return services.Store.WriteAsync(session =>
        {
            var secret = services.Resolve(session, request.SecretId!, context, Name, conditions: new RequestConditions { VersionStage = request.VersionStage });
            StageRules.UpdateVersionStage(secret, request.VersionStage!, request.RemoveFromVersionId, request.MoveToVersionId);
            secret.LastChangedDate = services.Now;
            session.Save(secret);
            return new SecretReference(secret.Arn, secret.Name);
        }, cancellationToken);
    }
}
