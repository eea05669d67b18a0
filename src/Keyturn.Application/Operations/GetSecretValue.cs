using System.Runtime.CompilerServices;
using System.Text;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record GetSecretValueRequest(string? SecretId, string? VersionId, string? VersionStage);

public sealed record GetSecretValueResponse(
    string ARN, string Name, string VersionId, byte[]? SecretBinary, string? SecretString,
    IReadOnlyList<string>? VersionStages, DateTimeOffset CreatedDate);

/// <summary>
/// GetSecretValue's answer with the plaintext in pooled memory (<see cref="PooledPlaintext"/>); disposing wipes it.
/// The members are the response's, in its wire order.
/// </summary>
public sealed class PooledSecretValue(
    string arn, string name, string versionId, SecretValueKind kind, PooledPlaintext plaintext,
    IReadOnlyList<string>? versionStages, DateTimeOffset createdDate) : IDisposable
{
    public string ARN => arn;

    public string Name => name;

    public string VersionId => versionId;

    public SecretValueKind Kind => kind;

    /// <summary>The value's bytes: UTF-8 for SecretString, raw for SecretBinary.</summary>
    public ReadOnlySpan<byte> Plaintext => plaintext.Span;

    public IReadOnlyList<string>? VersionStages => versionStages;

    public DateTimeOffset CreatedDate => createdDate;

    /// <summary>The response with its own copy of the value, for in-process callers (rotation) that need a string.</summary>
    public GetSecretValueResponse ToResponse() => kind == SecretValueKind.Binary
        ? new(arn, name, versionId, Plaintext.ToArray(), null, versionStages, createdDate)
        : new(arn, name, versionId, null, Encoding.UTF8.GetString(Plaintext), versionStages, createdDate);

    public void Dispose() => plaintext.Dispose();
}

public sealed class GetSecretValueHandler(SecretServices services) : IOperation<GetSecretValueRequest, GetSecretValueResponse>
{
    public string Name => "GetSecretValue";

    public async Task<GetSecretValueResponse> ExecuteAsync(GetSecretValueRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        using var value = await ExecutePooledAsync(request, context, cancellationToken).ConfigureAwait(false);
        return value.ToResponse();
    }

    /// <summary>
    /// The same answer with the plaintext in pooled memory: the server writes it straight into the response and
    /// disposes it, which wipes it. Authorization, version selection and access recording are the same. Its frame is
    /// pooled (on a store that answers over the network it waits on every request): await the result once.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PooledSecretValue> ExecutePooledAsync(GetSecretValueRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .VersionId(request.VersionId, "versionId")
            .Stage(request.VersionStage, "versionStage")
            .ThrowIfInvalid();

        // The unit reads the sealed value only; it is decrypted once the unit is over, so a unit the store runs again
        // (or that fails at commit) leaves no plaintext behind undisposed. Its frame is pooled: on a store that answers
        // over the network it waits on every request, and the store awaits each run of it once.
        var (secret, version) = await services.Store.ReadAsync([AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] async ValueTask<(Secret Secret, SecretVersion Version)> (ISecretSession session, CancellationToken ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct,
                conditions: request.VersionId is null && request.VersionStage is null
                    ? null
                    : new RequestConditions { VersionId = request.VersionId, VersionStage = request.VersionStage }).ConfigureAwait(false);
            var version = SelectVersion(secret, request.VersionId, request.VersionStage);
            await services.LoadValueAsync(session, secret, version, ct).ConfigureAwait(false);
            return (secret, version);
        }, cancellationToken).ConfigureAwait(false);

        var (kind, plaintext) = services.OpenLoaded(secret, version);
        // The version is this unit's own copy (stores hand each unit its own), so its label list is not copied again.
        var value = new PooledSecretValue(secret.Arn, secret.Name, version.VersionId, kind, plaintext,
            version.Stages.Count > 0 ? version.Stages : null, version.CreatedDate);
        try
        {
            await RecordAccessAsync(services, secret, version, cancellationToken).ConfigureAwait(false);
            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    /// <summary>Selects the version (by id, stage, or AWSCURRENT) and decrypts it, with AWS's error for each miss.</summary>
    internal static async ValueTask<(SecretVersion Version, GetSecretValueResponse Response)> ReadAsync(
        SecretServices services, ISecretSession session, Secret secret, string? versionId, string? versionStage, CancellationToken cancellationToken)
    {
        var version = SelectVersion(secret, versionId, versionStage);
        var (secretString, secretBinary) = await services.OpenAsync(session, secret, version, cancellationToken).ConfigureAwait(false);
        var response = new GetSecretValueResponse(
            secret.Arn, secret.Name, version.VersionId, secretBinary, secretString,
            version.Stages.Count > 0 ? [.. version.Stages] : null, version.CreatedDate);
        return (version, response);
    }

    private static SecretVersion SelectVersion(Secret secret, string? versionId, string? versionStage)
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

        return version;
    }

    /// <summary>LastAccessedDate has day resolution, so at most one write per secret and version a day.</summary>
    internal static Task RecordAccessAsync(SecretServices services, Secret secret, SecretVersion version, CancellationToken cancellationToken) =>
        IsRecorded(secret, version, services.Today)
            ? Task.CompletedTask
            : RecordAccessAsync(services, [(secret, version)], cancellationToken);

    private static bool IsRecorded(Secret secret, SecretVersion version, DateTimeOffset today) =>
        secret.LastAccessedDate == today && version.LastAccessedDate == today;

    /// <summary>
    /// Records the reads that change a LastAccessedDate (day resolution), all in one write: a batch of values
    /// read together costs one transaction, not one per secret.
    /// </summary>
    internal static Task RecordAccessAsync(SecretServices services, IReadOnlyList<(Secret Secret, SecretVersion Version)> reads, CancellationToken cancellationToken)
    {
        var today = services.Today;
        var changed = new List<(Secret Secret, SecretVersion Version)>(reads.Count);
        foreach (var read in reads)
        {
            if (!IsRecorded(read.Secret, read.Version, today))
            {
                changed.Add(read);
            }
        }

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
        }, cancellationToken).AsTask();
    }
}
