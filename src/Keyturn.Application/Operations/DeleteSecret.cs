using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record DeleteSecretRequest(string? SecretId, long? RecoveryWindowInDays, bool? ForceDeleteWithoutRecovery);

public sealed record DeleteSecretResponse(string ARN, string Name, DateTimeOffset DeletionDate);

public sealed class DeleteSecretHandler(SecretServices services) : IOperation<DeleteSecretRequest, DeleteSecretResponse>
{
    public string Name => "DeleteSecret";

    public Task<DeleteSecretResponse> ExecuteAsync(DeleteSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).ThrowIfInvalid();
        // The window's range is checked before the combination, so a forced delete with window 0 hears about the
        // range (as AWS answers it); ForceDeleteWithoutRecovery=false with a window is an ordinary scheduled delete.
        var force = request.ForceDeleteWithoutRecovery == true;
        if (request.RecoveryWindowInDays is < 7 or > 30)
        {
            throw new ServiceException(ErrorKind.InvalidParameter,
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
        }

        if (force && request.RecoveryWindowInDays is not null)
        {
            throw new ServiceException(ErrorKind.InvalidParameter,
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
        }

        var secretId = request.SecretId!;
        var conditions = new RequestConditions
        {
            ForceDeleteWithoutRecovery = request.ForceDeleteWithoutRecovery,
            RecoveryWindowInDays = request.RecoveryWindowInDays,
        };
        return services.Store.WriteAsync(async (session, ct) =>
        {
            // Name validation comes first, even on the force-delete-of-nothing path.
            var secret = await services.FindAsync(session, secretId, context, ct).ConfigureAwait(false);
            var now = services.Now;
            if (secret is null)
            {
                services.Authorizer.Authorize(context, Name, services.ResourceFor(secretId, context), conditions: conditions);
                if (!force)
                {
                    throw ServiceException.SecretNotFound();
                }

                // AWS answers a forced delete of a missing secret with success (the deletion is asynchronous there).
                var name = SecretNames.TryGetArnResource(secretId, out var resource) ? resource : secretId;
                var arn = secretId.StartsWith("arn:", StringComparison.Ordinal) ? secretId : await services.NewArnAsync(session, name, context, ct).ConfigureAwait(false);
                return new DeleteSecretResponse(arn, name, now);
            }

            services.Authorizer.Authorize(context, Name, secret.Arn, secret, conditions);
            if (force)
            {
                await session.DeleteAsync(secret, ct).ConfigureAwait(false);
                return new DeleteSecretResponse(secret.Arn, secret.Name, now);
            }

            if (secret.IsDeleted)
            {
                throw ServiceException.MarkedForDeletion();
            }

            secret.DeletedDate = now;
            secret.DeletionDate = now.AddDays(request.RecoveryWindowInDays ?? 30);
            secret.LastChangedDate = now;
            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            return new DeleteSecretResponse(secret.Arn, secret.Name, secret.DeletionDate.Value);
        }, cancellationToken).AsTask();
    }
}
