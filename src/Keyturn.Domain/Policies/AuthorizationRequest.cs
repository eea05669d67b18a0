namespace Keyturn.Domain.Policies;

/// <summary>One API call to authorize.</summary>
/// <param name="PrincipalArn">The caller, e.g. <c>arn:aws:iam::000000000000:user/app</c> or <c>arn:aws:iam::000000000000:root</c>.</param>
/// <param name="AccountId">The caller's account, e.g. <c>000000000000</c>.</param>
/// <param name="Action">The IAM action, e.g. <c>secretsmanager:GetSecretValue</c>.</param>
/// <param name="Resource">The secret ARN, or <c>*</c> for actions without a resource (ListSecrets, GetRandomPassword).</param>
/// <param name="Context">
/// Extra single-valued condition keys (case-insensitive), e.g. <c>secretsmanager:SecretId</c>, <c>aws:ResourceTag/team</c>,
/// <c>secretsmanager:VersionStage</c>. <c>aws:PrincipalArn</c>, <c>aws:PrincipalAccount</c>, <c>aws:PrincipalType</c>
/// and <c>aws:username</c> are derived from the principal unless given here.
/// </param>
/// <param name="MultiValuedContext">
/// Condition keys with a set of values, e.g. <c>aws:TagKeys</c> or <c>secretsmanager:AddReplicaRegions</c>; an
/// empty set counts as an absent key. Entries here override <paramref name="Context"/>.
/// </param>
/// <param name="UnknownKeys">
/// Keys Keyturn would normally evaluate but whose value this request cannot tell (e.g. <c>aws:SourceIp</c> for a
/// call made inside the server); statements testing them get the restrictive outcome.
/// </param>
public sealed record AuthorizationRequest(
    string PrincipalArn,
    string AccountId,
    string Action,
    string Resource,
    IReadOnlyDictionary<string, string>? Context = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? MultiValuedContext = null,
    IReadOnlyCollection<string>? UnknownKeys = null);
