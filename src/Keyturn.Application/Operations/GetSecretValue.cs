using Keyturn.Application.Ports;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record GetSecretValueRequest(string? SecretId, string? VersionId, string? VersionStage);

public sealed record GetSecretValueResponse(
    string ARN, string Name, string VersionId, byte[]? SecretBinary, string? SecretString,
    IReadOnlyList<string>? VersionStages, DateTimeOffset CreatedDate);

public sealed class GetSecretValueHandler(SecretServices services) : IOperation<GetSecretValueRequest, GetSecretValueResponse>
{
    public string Name => "GetSecretValue";

    public async Task<GetSecretValueResponse> ExecuteAsync(GetSecretValueRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .VersionId(request.VersionId, "versionId")
            .Stage(request.VersionStage, "versionStage")
            .ThrowIfInvalid();

        var (response, secret, version) = await services.Store.ReadAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct,
                conditions: new RequestConditions { VersionId = request.VersionId, VersionStage = request.VersionStage }).ConfigureAwait(false);
            var (version, response) = await ReadAsync(services, session, secret, request.VersionId, request.VersionStage, ct).ConfigureAwait(false);
            return (response, secret, version);
        }, cancellationToken).ConfigureAwait(false);

        await RecordAccessAsync(services, secret, version, cancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>Selects the version (by id, stage, or AWSCURRENT) and decrypts it, with AWS's error for each miss.</summary>
    internal static async ValueTask<(SecretVersion Version, GetSecretValueResponse Response)> ReadAsync(
        SecretServices services, ISecretSession session, Secret secret, string? versionId, string? versionStage, CancellationToken cancellationToken)
    {
        SecretVersion? version;
        if (versionId is not null)
        {
            version = secret.FindVersion(versionId)
                ?? throw new ServiceException(ErrorKind.ResourceNotFound, $"Secrets Manager can't find the specified secret value for VersionId: {versionId}");
            if (versionStage is not null && !version.HasStage(versionStage))
            {
                throw new ServiceException(ErrorKind.InvalidRequest, "You provided a VersionStage that is not associated to the provided VersionId.");
            }
        }
        else
        {
            var stage = versionStage ?? StagingLabels.Current;
            version = secret.HolderOf(stage) is { HasValue: true } holder
                ? holder
                : throw new ServiceException(ErrorKind.ResourceNotFound, $"Secrets Manager can't find the specified secret value for staging label: {stage}");
        }

        if (!version.HasValue)
        {
            // A rotation placeholder that createSecret hasn't filled yet.
            throw new ServiceException(ErrorKind.ResourceNotFound, $"Secrets Manager can't find the specified secret value for VersionId: {version.VersionId}");
        }

        var (secretString, secretBinary) = await services.OpenAsync(session, secret, version, cancellationToken).ConfigureAwait(false);
        var response = new GetSecretValueResponse(
            secret.Arn, secret.Name, version.VersionId, secretBinary, secretString,
            version.Stages.Count > 0 ? [.. version.Stages] : null, version.CreatedDate);
        return (version, response);
    }

    /// <summary>LastAccessedDate has day resolution, so at most one write per secret and version a day.</summary>
    internal static Task RecordAccessAsync(SecretServices services, Secret secret, SecretVersion version, CancellationToken cancellationToken) =>
        RecordAccessAsync(services, [(secret, version)], cancellationToken);

    /// <summary>
    /// Records the reads that change a LastAccessedDate (day resolution), all in one write: a batch of values
    /// read together costs one transaction, not one per secret.
    /// </summary>
    internal static Task RecordAccessAsync(SecretServices services, IReadOnlyList<(Secret Secret, SecretVersion Version)> reads, CancellationToken cancellationToken)
    {
        var today = services.Today;
        var changed = reads.Where(r => r.Secret.LastAccessedDate != today || r.Version.LastAccessedDate != today).ToList();
        if (changed.Count == 0)
        {
            return Task.CompletedTask;
        }

        foreach (var (secret, version) in changed)
        {
            secret.LastAccessedDate = today;
            version.LastAccessedDate = today;
        }

        return services.Store.WriteAsync(async (session, ct) =>
        {
            foreach (var (secret, version) in changed)
            {
                await session.SaveAccessAsync(secret, version, ct).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }
}
