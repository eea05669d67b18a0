using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record DescribeSecretRequest(string? SecretId);

/// <summary>
/// A secret's metadata as DescribeSecret returns it and as each ListSecrets entry carries it. The two
/// differ only in the name of the version map, so exactly one of the two map members is set.
/// </summary>
public sealed record DescribeSecretResponse
{
    public required string ARN { get; init; }
    public required string Name { get; init; }
    public string? Type { get; init; }
    public string? Description { get; init; }
    public string? KmsKeyId { get; init; }
    public bool? RotationEnabled { get; init; }
    public string? RotationLambdaARN { get; init; }
    public RotationRulesType? RotationRules { get; init; }
    public DateTimeOffset? LastRotatedDate { get; init; }
    public DateTimeOffset? LastChangedDate { get; init; }
    public DateTimeOffset? LastAccessedDate { get; init; }
    public DateTimeOffset? DeletedDate { get; init; }
    public DateTimeOffset? NextRotationDate { get; init; }
    public IReadOnlyList<SecretTag>? Tags { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? VersionIdsToStages { get; init; }
    public IReadOnlyDictionary<string, IReadOnlyList<string>>? SecretVersionsToStages { get; init; }
    public DateTimeOffset? CreatedDate { get; init; }
}

public sealed class DescribeSecretHandler(SecretServices services) : IOperation<DescribeSecretRequest, DescribeSecretResponse>
{
    public string Name => "DescribeSecret";

    public Task<DescribeSecretResponse> ExecuteAsync(DescribeSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).ThrowIfInvalid();
        return services.Store.ReadAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, allowDeleted: true).ConfigureAwait(false);
            return From(secret, listEntry: false);
        }, cancellationToken).AsTask();
    }

    internal static DescribeSecretResponse From(Secret secret, bool listEntry) => new()
    {
        ARN = secret.Arn,
        Name = secret.Name,
        Type = secret.Type,
        Description = secret.Description,
        KmsKeyId = secret.KmsKeyId,
        RotationEnabled = secret.Rotation?.Enabled,
        RotationLambdaARN = secret.Rotation?.LambdaArn,
        RotationRules = SecretMetadata.Rules(secret),
        LastRotatedDate = secret.LastRotatedDate,
        LastChangedDate = secret.LastChangedDate,
        LastAccessedDate = secret.LastAccessedDate,
        DeletedDate = secret.DeletedDate,
        NextRotationDate = SecretMetadata.NextRotationDate(secret),
        Tags = secret.Tags,
        VersionIdsToStages = listEntry ? null : SecretMetadata.VersionsToStages(secret),
        SecretVersionsToStages = listEntry ? SecretMetadata.VersionsToStages(secret) : null,
        CreatedDate = secret.CreatedDate,
    };
}
