using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;

namespace Keyturn.Application.Operations;

public sealed record ReplicateSecretToRegionsRequest(string? SecretId, IReadOnlyList<ReplicaRegion>? AddReplicaRegions, bool? ForceOverwriteReplicaSecret);

public sealed record RemoveRegionsFromReplicationRequest(string? SecretId, IReadOnlyList<string>? RemoveReplicaRegions);

public sealed record StopReplicationToReplicaRequest(string? SecretId);

/// <summary>
/// The replication actions: Keyturn runs in one place, so after the usual checks (the secret
/// exists, the caller may act on it) these answer with a clear InvalidRequestException.
/// </summary>
public sealed class ReplicationHandler(SecretServices services, string name) :
    IOperation<ReplicateSecretToRegionsRequest, EmptyResponse>,
    IOperation<RemoveRegionsFromReplicationRequest, EmptyResponse>,
    IOperation<StopReplicationToReplicaRequest, EmptyResponse>
{
    public string Name => name;

    public Task<EmptyResponse> ExecuteAsync(ReplicateSecretToRegionsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        RefuseAsync(request.SecretId, context, cancellationToken, new RequestConditions
        {
            AddReplicaRegions = request.AddReplicaRegions?.Select(r => r.Region).OfType<string>().ToList(),
            ForceOverwriteReplicaSecret = request.ForceOverwriteReplicaSecret,
        });

    public Task<EmptyResponse> ExecuteAsync(RemoveRegionsFromReplicationRequest request, RequestContext context, CancellationToken cancellationToken) =>
        RefuseAsync(request.SecretId, context, cancellationToken);

    public Task<EmptyResponse> ExecuteAsync(StopReplicationToReplicaRequest request, RequestContext context, CancellationToken cancellationToken) =>
        RefuseAsync(request.SecretId, context, cancellationToken);

    private async Task<EmptyResponse> RefuseAsync(string? secretId, RequestContext context, CancellationToken cancellationToken, RequestConditions? conditions = null)
    {
        new MemberValidator().SecretId(secretId).ThrowIfInvalid();
        await services.Store.ReadAsync(
            async (session, ct) => await services.ResolveAsync(session, secretId!, context, Name, ct, conditions: conditions).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        throw new ServiceException(ErrorKind.InvalidRequest,
            "Keyturn doesn't replicate secrets to other regions: it has no replica regions to add, remove or promote.");
    }
}
