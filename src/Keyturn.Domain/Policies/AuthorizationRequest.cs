namespace Keyturn.Domain.Policies;

/// <summary>One API call to authorize.</summary>
/// <param name="PrincipalArn">The caller, e.g. <c>arn:aws:iam::000000000000:user/app</c> or <c>arn:aws:iam::000000000000:root</c>.</param>
/// <param name="AccountId">The caller's account, e.g. <c>000000000000</c>.</param>
/// <param name="Action">The IAM action, e.g. <c>secretsmanager:GetSecretValue</c>.</param>
/// <param name="Resource">The secret ARN, or <c>*</c> for actions without a resource (ListSecrets, GetRandomPassword).</param>
/// <param name="Context">
/// Extra condition keys (case-insensitive), e.g. <c>secretsmanager:SecretId</c>, <c>aws:ResourceTag/team</c>,
/// <c>secretsmanager:VersionStage</c>. <c>aws:PrincipalArn</c>, <c>aws:PrincipalAccount</c>, <c>aws:PrincipalType</c>
/// and <c>aws:username</c> are derived from the principal unless given here.
/// </param>
public sealed record AuthorizationRequest(
    string PrincipalArn,
    string AccountId,
    string Action,
    string Resource,
    IReadOnlyDictionary<string, string>? Context = null);
