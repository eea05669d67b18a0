namespace Keyturn.Application.Operations;

public sealed record RestoreSecretRequest(string? SecretId);

public sealed class RestoreSecretHandler(SecretServices services) : IOperation<RestoreSecretRequest, SecretReference>
{
    public string Name => "RestoreSecret";

    public Task<SecretReference> ExecuteAsync(RestoreSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).ThrowIfInvalid();
        return services.Store.WriteAsync(session =>
        {
            var secret = services.Resolve(session, request.SecretId!, context, Name, allowDeleted: true);
            if (secret.IsDeleted)
            {
                secret.DeletedDate = null;
                secret.DeletionDate = null;
                secret.LastChangedDate = services.Now;
                session.Save(secret);
            }

            return new SecretReference(secret.Arn, secret.Name);
        }, cancellationToken);
    }
}
