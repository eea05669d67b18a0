namespace Keyturn.Domain.Policies;

/// <summary>
/// The condition keys Keyturn can evaluate, and which Secrets Manager keys each action carries. The per-action
/// lists follow AWS's Service Authorization Reference for Secrets Manager ("Actions defined by AWS Secrets
/// Manager"); every other condition key a policy names is one Keyturn cannot evaluate, and
/// <see cref="PolicyEvaluator"/> then gives the statement its restrictive outcome.
/// </summary>
public static class ConditionKeys
{
    public const string SourceIp = "aws:SourceIp";
    public const string SecureTransport = "aws:SecureTransport";
    public const string CurrentTime = "aws:CurrentTime";
    public const string EpochTime = "aws:EpochTime";
    public const string PrincipalArn = "aws:PrincipalArn";
    public const string PrincipalAccount = "aws:PrincipalAccount";
    public const string PrincipalType = "aws:PrincipalType";
    public const string UserName = "aws:username";
    public const string RequestedRegion = "aws:RequestedRegion";
    public const string TagKeys = "aws:TagKeys";
    public const string PrincipalTagPrefix = "aws:PrincipalTag/";
    public const string RequestTagPrefix = "aws:RequestTag/";
    public const string ResourceTagPrefix = "aws:ResourceTag/";

    public const string SecretId = "secretsmanager:SecretId";
    public const string Name = "secretsmanager:Name";
    public const string Description = "secretsmanager:Description";
    public const string KmsKeyId = "secretsmanager:KmsKeyId";
    public const string KmsKeyArn = "secretsmanager:KmsKeyArn";
    public const string Type = "secretsmanager:Type";
    public const string VersionId = "secretsmanager:VersionId";
    public const string VersionStage = "secretsmanager:VersionStage";
    public const string RotationLambdaArn = "secretsmanager:RotationLambdaARN";
    public const string RotateImmediately = "secretsmanager:RotateImmediately";
    public const string ModifyRotationRules = "secretsmanager:ModifyRotationRules";
    public const string ExternalSecretRotationRoleArn = "secretsmanager:ExternalSecretRotationRoleArn";
    public const string BlockPublicPolicy = "secretsmanager:BlockPublicPolicy";
    public const string ForceDeleteWithoutRecovery = "secretsmanager:ForceDeleteWithoutRecovery";
    public const string RecoveryWindowInDays = "secretsmanager:RecoveryWindowInDays";
    public const string AddReplicaRegions = "secretsmanager:AddReplicaRegions";
    public const string ForceOverwriteReplicaSecret = "secretsmanager:ForceOverwriteReplicaSecret";
    public const string SecretPrimaryRegion = "secretsmanager:SecretPrimaryRegion";
    public const string AllowRotationLambdaArn = "secretsmanager:resource/AllowRotationLambdaArn";
    public const string ResourceType = "secretsmanager:resource/Type";
    public const string SecretsManagerResourceTagPrefix = "secretsmanager:ResourceTag/";

    /// <summary>Global keys set on every request (absent only when the request has no such fact, e.g. an untagged caller).</summary>
    private static readonly HashSet<string> GlobalKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        SourceIp, SecureTransport, CurrentTime, EpochTime, PrincipalArn, PrincipalAccount, PrincipalType, UserName,
        RequestedRegion, TagKeys,
    };

    private static readonly string[] GlobalPrefixes = [PrincipalTagPrefix, RequestTagPrefix, ResourceTagPrefix];

    /// <summary>The keys of a secret that every action on an existing secret carries.</summary>
    private static readonly string[] SecretKeys =
        [SecretId, SecretPrimaryRegion, AllowRotationLambdaArn, ResourceType, ResourceTagPrefix, SecretsManagerResourceTagPrefix];

    private static readonly string[] TagRequestKeys = [RequestTagPrefix, TagKeys];

    /// <summary>
    /// Secrets Manager keys AWS documents but Keyturn cannot fill in: it has no KMS to resolve a key to its ARN
    /// and no external rotation roles. A policy that tests them gets the restrictive outcome.
    /// </summary>
    private static readonly HashSet<string> UnevaluableServiceKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        KmsKeyArn, ExternalSecretRotationRoleArn,
    };

    /// <summary>Action (without the service prefix) → the Secrets Manager and tag keys AWS documents for it.</summary>
    private static readonly Dictionary<string, string[]> ByAction = new(StringComparer.OrdinalIgnoreCase)
    {
        ["BatchGetSecretValue"] = [],
        ["CancelRotateSecret"] = SecretKeys,
        ["CreateSecret"] =
        [
            .. TagRequestKeys, ResourceTagPrefix, SecretsManagerResourceTagPrefix, Name, Description, KmsKeyId, KmsKeyArn,
            Type, AddReplicaRegions, ForceOverwriteReplicaSecret,
        ],
        ["DeleteResourcePolicy"] = SecretKeys,
        ["DeleteSecret"] = [.. SecretKeys, ForceDeleteWithoutRecovery, RecoveryWindowInDays],
        ["DescribeSecret"] = SecretKeys,
        ["GetRandomPassword"] = [],
        ["GetResourcePolicy"] = SecretKeys,
        ["GetSecretValue"] = [.. SecretKeys, VersionId, VersionStage],
        ["ListSecretVersionIds"] = SecretKeys,
        ["ListSecrets"] = [],
        ["PutResourcePolicy"] = [.. SecretKeys, BlockPublicPolicy],
        ["PutSecretValue"] = SecretKeys,
        ["RemoveRegionsFromReplication"] = SecretKeys,
        ["ReplicateSecretToRegions"] = [.. SecretKeys, AddReplicaRegions, ForceOverwriteReplicaSecret],
        ["RestoreSecret"] = SecretKeys,
        ["RotateSecret"] = [.. SecretKeys, RotationLambdaArn, RotateImmediately, ModifyRotationRules, ExternalSecretRotationRoleArn],
        ["StopReplicationToReplica"] = SecretKeys,
        ["TagResource"] = [.. SecretKeys, .. TagRequestKeys],
        ["UntagResource"] = [.. SecretKeys, TagKeys],
        ["UpdateSecret"] = [.. SecretKeys, Description, KmsKeyId, KmsKeyArn, Type],
        ["UpdateSecretVersionStage"] = [.. SecretKeys, VersionStage],
        ["ValidateResourcePolicy"] = SecretKeys,
    };

    /// <summary>Every Secrets Manager key named in the table, for telling a known-but-inapplicable key from an unknown one.</summary>
    private static readonly HashSet<string> ServiceKeys = new(
        ByAction.Values.SelectMany(k => k).Where(k => k.StartsWith("secretsmanager:", StringComparison.OrdinalIgnoreCase) && !k.EndsWith('/')),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Keys whose request value is a set (AWS's "Multivalued" global keys and Secrets Manager's ArrayOfString keys);
    /// conditions on them need ForAnyValue: or ForAllValues:.
    /// </summary>
    private static readonly HashSet<string> MultivaluedKeys = new(StringComparer.OrdinalIgnoreCase)
    {
        TagKeys, AddReplicaRegions, "aws:CalledVia", "aws:PrincipalOrgPaths", "aws:ResourceOrgPaths", "aws:SourceOrgPaths",
        "aws:VpceOrgPaths", "aws:PrincipalServiceNamesList",
    };

    /// <summary>True for a key whose request value is a set, e.g. aws:TagKeys.</summary>
    public static bool IsMultivalued(string key) => MultivaluedKeys.Contains(key);

    /// <summary>The keys AWS documents for a Secrets Manager action (tag keys end in "/"); empty for other actions.</summary>
    public static IReadOnlyList<string> DocumentedFor(string action)
    {
        ArgumentNullException.ThrowIfNull(action);
        var name = action.StartsWith("secretsmanager:", StringComparison.OrdinalIgnoreCase) ? action["secretsmanager:".Length..] : null;
        return name is not null && ByAction.TryGetValue(name, out var keys) ? keys : [];
    }

    /// <summary>True when the action carries <paramref name="key"/> (a full key, e.g. "aws:RequestTag/team").</summary>
    public static bool IsDocumentedFor(string action, string key) =>
        DocumentedFor(action).Any(k => k.EndsWith('/') ? key.StartsWith(k, StringComparison.OrdinalIgnoreCase) && key.Length > k.Length : string.Equals(k, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// True when Keyturn knows the key's value, or knows that it is absent, for every request: the global keys it
    /// sets and the Secrets Manager keys it fills in. Keys of other services, Organizations and network keys
    /// (aws:PrincipalOrgID, aws:SourceVpc…) and unknown keys are not evaluable.
    /// </summary>
    public static bool IsEvaluable(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (GlobalKeys.Contains(key) || ServiceKeys.Contains(key) && !UnevaluableServiceKeys.Contains(key))
        {
            return true;
        }

        foreach (var prefix in (ReadOnlySpan<string>)[.. GlobalPrefixes, SecretsManagerResourceTagPrefix])
        {
            if (key.Length > prefix.Length && key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The distinct condition keys (including those named by policy variables) Keyturn cannot evaluate, in order of appearance.</summary>
    public static IReadOnlyList<string> Unevaluable(PolicyDocument policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var found = new List<string>();
        foreach (var statement in policy.Statements)
        {
            foreach (var key in ReferencedKeys(statement, policy.SupportsPolicyVariables))
            {
                if (!IsEvaluable(key) && !found.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    found.Add(key);
                }
            }
        }

        return found.AsReadOnly();
    }

    /// <summary>The condition keys a statement tests, and those its policy variables read.</summary>
    internal static IEnumerable<string> ReferencedKeys(PolicyStatement statement, bool variables)
    {
        foreach (var condition in statement.Conditions)
        {
            yield return condition.Key;
            foreach (var value in condition.Values)
            {
                foreach (var key in PolicyVariables.KeysIn(value, variables))
                {
                    yield return key;
                }
            }
        }

        foreach (var resource in statement.Resources ?? [])
        {
            foreach (var key in PolicyVariables.KeysIn(resource, variables))
            {
                yield return key;
            }
        }
    }
}
