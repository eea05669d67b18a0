namespace Keyturn.Application.Operations;

public sealed record RestoreSecretRequest(string? SecretId);

public sealed class RestoreSecretHandler(SecretServices services) : IOperation<RestoreSecretRequest, SecretReference>
{
    public string Name => "RestoreSecret";

    public Task<SecretReference> ExecuteAsync(RestoreSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).ThrowIfInvalid();
        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, allowDeleted: true).ConfigureAwait(false);
            if (secret.IsDeleted)
            {
                secret.DeletedDate = null;
                secret.DeletionDate = null;
                secret.LastChangedDate = services.Now;
                await session.SaveAsync(secret, ct).ConfigureAwait(false);
            }

            return new SecretReference(secret.Arn, secret.Name);
        }, cancellationToken).AsTask();
    }
}
