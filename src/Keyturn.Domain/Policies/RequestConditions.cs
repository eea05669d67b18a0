using System.Globalization;
using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Policies;

/// <summary>
/// The request parameters that Secrets Manager condition keys read, as one handler supplies them. Only the keys
/// <see cref="ConditionKeys"/> documents for the action reach the policy, and only when the request carries them.
/// </summary>
public sealed record RequestConditions
{
    public string? Name { get; init; }

    public string? Description { get; init; }

    public string? KmsKeyId { get; init; }

    public string? Type { get; init; }

    public string? VersionId { get; init; }

    public string? VersionStage { get; init; }

    public string? RotationLambdaArn { get; init; }

    public bool? RotateImmediately { get; init; }

    /// <summary>Whether the request sets rotation rules.</summary>
    public bool? ModifyRotationRules { get; init; }

    public bool? BlockPublicPolicy { get; init; }

    public bool? ForceDeleteWithoutRecovery { get; init; }

    public long? RecoveryWindowInDays { get; init; }

    public bool? ForceOverwriteReplicaSecret { get; init; }

    public IReadOnlyList<string>? AddReplicaRegions { get; init; }

    /// <summary>The tags the request attaches (aws:RequestTag/*; their keys also form aws:TagKeys).</summary>
    public IReadOnlyList<SecretTag>? RequestTags { get; init; }

    /// <summary>The tag keys the request names without values (UntagResource); aws:TagKeys.</summary>
    public IReadOnlyList<string>? TagKeys { get; init; }

    /// <summary>
    /// The Secrets Manager, request-tag and resource-tag condition keys of one call: <paramref name="secret"/>'s
    /// facts (its ARN, region, tags, rotation function, type) and this request's parameters, filtered to what AWS
    /// documents for <paramref name="action"/> (e.g. <c>secretsmanager:GetSecretValue</c>).
    /// </summary>
    /// <param name="resource">The ARN authorized; it is the secretsmanager:SecretId when the secret does not exist (yet).</param>
    public static Dictionary<string, IReadOnlyList<string>> ContextFor(string action, string resource, Secret? secret, RequestConditions? request)
    {
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(resource);
        var all = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        void Set(string key, string? value)
        {
            if (value is not null)
            {
                all[key] = [value];
            }
        }

        static string? Bool(bool? value) => value switch { true => "true", false => "false", null => null };

        if (resource != "*")
        {
            Set(ConditionKeys.SecretId, secret?.Arn ?? resource);
        }

        if (secret is not null)
        {
            // Keyturn does not replicate, so every secret is in its primary region.
            Set(ConditionKeys.SecretPrimaryRegion, secret.Region);
            Set(ConditionKeys.AllowRotationLambdaArn, secret.Rotation?.LambdaArn);
            Set(ConditionKeys.ResourceType, secret.Type);
        }

        // A secret being created carries the tags of its request.
        var creating = secret is null && string.Equals(action, "secretsmanager:CreateSecret", StringComparison.OrdinalIgnoreCase);
        var resourceTags = creating ? request?.RequestTags : secret?.Tags;
        foreach (var tag in resourceTags ?? [])
        {
            Set(ConditionKeys.ResourceTagPrefix + tag.Key, tag.Value);
            Set(ConditionKeys.SecretsManagerResourceTagPrefix + tag.Key, tag.Value);
        }

        if (request is not null)
        {
            Set(ConditionKeys.Name, request.Name);
            Set(ConditionKeys.Description, request.Description);
            Set(ConditionKeys.KmsKeyId, request.KmsKeyId);
            Set(ConditionKeys.Type, request.Type);
            Set(ConditionKeys.VersionId, request.VersionId);
            Set(ConditionKeys.VersionStage, request.VersionStage);
            Set(ConditionKeys.RotationLambdaArn, request.RotationLambdaArn);
            Set(ConditionKeys.RotateImmediately, Bool(request.RotateImmediately));
            Set(ConditionKeys.ModifyRotationRules, Bool(request.ModifyRotationRules));
            Set(ConditionKeys.BlockPublicPolicy, Bool(request.BlockPublicPolicy));
            Set(ConditionKeys.ForceDeleteWithoutRecovery, Bool(request.ForceDeleteWithoutRecovery));
            Set(ConditionKeys.RecoveryWindowInDays, request.RecoveryWindowInDays?.ToString(CultureInfo.InvariantCulture));
            Set(ConditionKeys.ForceOverwriteReplicaSecret, Bool(request.ForceOverwriteReplicaSecret));
            if (request.AddReplicaRegions is { Count: > 0 } regions)
            {
                all[ConditionKeys.AddReplicaRegions] = regions;
            }

            foreach (var tag in request.RequestTags ?? [])
            {
                Set(ConditionKeys.RequestTagPrefix + tag.Key, tag.Value);
            }

            IReadOnlyList<string> tagKeys = [.. (request.RequestTags ?? []).Select(t => t.Key), .. request.TagKeys ?? []];
            if (tagKeys.Count > 0)
            {
                all[ConditionKeys.TagKeys] = tagKeys.Distinct(StringComparer.Ordinal).ToArray();
            }
        }

        return all.Where(e => ConditionKeys.IsDocumentedFor(action, e.Key))
            .ToDictionary(e => e.Key, e => e.Value, StringComparer.OrdinalIgnoreCase);
    }
}
