using Keyturn.Domain.Policies;
using static Keyturn.Domain.Tests.Policies.PolicyTestData;

namespace Keyturn.Domain.Tests.Policies;

public sealed class PolicyEvaluatorTests
{
    [Theory]
    [InlineData("*", "secretsmanager:GetSecretValue", PolicyDecision.Allow)]
    [InlineData("secretsmanager:*", "secretsmanager:GetSecretValue", PolicyDecision.Allow)]
    [InlineData("secretsmanager:Get*", "secretsmanager:GetSecretValue", PolicyDecision.Allow)]
    [InlineData("secretsmanager:Get*", "secretsmanager:PutSecretValue", PolicyDecision.ImplicitDeny)]
    [InlineData("SecretsManager:getsecretvalue", "secretsmanager:GetSecretValue", PolicyDecision.Allow)]
    [InlineData("secretsmanager:GetSecretValue", "SECRETSMANAGER:GETSECRETVALUE", PolicyDecision.Allow)]
    [InlineData("secretsmanager:?etSecretValue", "secretsmanager:GetSecretValue", PolicyDecision.Allow)]
    [InlineData("secretsmanager:Get?", "secretsmanager:GetSecretValue", PolicyDecision.ImplicitDeny)]
    [InlineData("s3:*", "secretsmanager:GetSecretValue", PolicyDecision.ImplicitDeny)]
    public void Evaluate_ActionPatterns_MatchCaseInsensitively(string pattern, string action, PolicyDecision expected)
    {
        var policy = Policy($$"""{"Effect": "Allow", "Action": "{{pattern}}", "Resource": "*"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request(action), isResourcePolicy: false));
    }

    [Theory]
    [InlineData("*", AppSecret, PolicyDecision.Allow)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:app/*", AppSecret, PolicyDecision.Allow)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:app/*", OpsSecret, PolicyDecision.ImplicitDeny)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:App/*", AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData("arn:aws:SecretsManager:*:*:secret:app/*", AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData("arn:aws:secretsmanager:us-east-?:000000000000:secret:app/db-??????", AppSecret, PolicyDecision.Allow)]
    [InlineData("arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-?????", AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData("arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf", AppSecret, PolicyDecision.Allow)]
    [InlineData("arn:aws:secretsmanager:us-west-2:*:secret:app/*", AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData("arn:aws:secretsmanager:*:111122223333:secret:*", AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:*", "*", PolicyDecision.ImplicitDeny)]
    [InlineData("*", "*", PolicyDecision.Allow)]
    public void Evaluate_ResourcePatterns_MatchCaseSensitively(string pattern, string resource, PolicyDecision expected)
    {
        var policy = Policy($$"""{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "{{pattern}}"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", resource), isResourcePolicy: false));
    }

    [Theory]
    [InlineData("secretsmanager:GetSecretValue", PolicyDecision.ImplicitDeny)]
    [InlineData("secretsmanager:DeleteSecret", PolicyDecision.Allow)]
    [InlineData("s3:GetObject", PolicyDecision.Allow)]
    public void Evaluate_NotAction_AppliesToEverythingElse(string action, PolicyDecision expected)
    {
        var policy = Policy("""{"Effect": "Allow", "NotAction": "secretsmanager:Get*", "Resource": "*"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request(action), isResourcePolicy: false));
    }

    [Theory]
    [InlineData(AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData(OpsSecret, PolicyDecision.Allow)]
    [InlineData("*", PolicyDecision.Allow)]
    public void Evaluate_NotResource_AppliesToEverythingElse(string resource, PolicyDecision expected)
    {
        var policy = Policy("""{"Effect": "Allow", "Action": "secretsmanager:*", "NotResource": "arn:aws:secretsmanager:*:*:secret:app/*"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", resource), isResourcePolicy: false));
    }

    [Fact]
    public void Evaluate_DenyAndAllowBothApply_DenyWinsWhateverTheOrder()
    {
        var allowFirst = Policy("""
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:DeleteSecret", "Resource": "*"}
            """);
        var denyFirst = Policy("""
            {"Effect": "Deny", "Action": "secretsmanager:DeleteSecret", "Resource": "*"},
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}
            """);

        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Evaluate(allowFirst, Request("secretsmanager:DeleteSecret"), false));
        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Evaluate(denyFirst, Request("secretsmanager:DeleteSecret"), false));
        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(denyFirst, Request("secretsmanager:GetSecretValue"), false));
    }

    [Fact]
    public void Evaluate_NoStatementApplies_ImplicitDeny()
    {
        var policy = Policy("""{"Effect": "Deny", "Action": "secretsmanager:DeleteSecret", "Resource": "*"}""");

        Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue"), false));
    }

    [Theory]
    [InlineData("secretsmanager:ListSecrets", "*", PolicyDecision.ImplicitDeny)]
    [InlineData("secretsmanager:GetSecretValue", AppSecret, PolicyDecision.Allow)]
    public void Evaluate_ResourcelessActionAgainstArnScopedPolicy_NeedsStarResource(string action, string resource, PolicyDecision expected)
    {
        // IAM only grants actions without resource-level permissions through "Resource": "*".
        var policy = Policy("""{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "arn:aws:secretsmanager:*:*:secret:app/*"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request(action, resource), false));
    }

    [Theory]
    [InlineData(AppUser, "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/x", PolicyDecision.Allow)]
    [InlineData(AppUser, "arn:aws:secretsmanager:us-east-1:000000000000:secret:operator/x", PolicyDecision.ImplicitDeny)]
    [InlineData(OperatorUser, "arn:aws:secretsmanager:us-east-1:000000000000:secret:operator/x", PolicyDecision.Allow)]
    // The root user has no aws:username, so the variable cannot resolve and the statement matches nothing.
    [InlineData(Root, "arn:aws:secretsmanager:us-east-1:000000000000:secret:root/x", PolicyDecision.ImplicitDeny)]
    public void Evaluate_UserNameVariableInResource_ScopesEachUserToOwnPrefix(string principal, string resource, PolicyDecision expected)
    {
        var policy = Policy("""{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", resource, principal), false));
    }

    [Theory]
    [InlineData("arn:aws:secretsmanager:*:*:secret:${aws:username, 'shared'}/*", Root, "arn:aws:secretsmanager:us-east-1:000000000000:secret:shared/x", PolicyDecision.Allow)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:lit${*}", AppUser, "arn:aws:secretsmanager:us-east-1:000000000000:secret:lit*", PolicyDecision.Allow)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:lit${*}", AppUser, "arn:aws:secretsmanager:us-east-1:000000000000:secret:literal", PolicyDecision.ImplicitDeny)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:${aws:PrincipalTag/missing, 'it''s'}", AppUser, "arn:aws:secretsmanager:us-east-1:000000000000:secret:it's", PolicyDecision.Allow)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:${aws:username", AppUser, "arn:aws:secretsmanager:us-east-1:000000000000:secret:${aws:username", PolicyDecision.Allow)]
    public void Evaluate_VariableDefaultsAndEscapes_Expand(string pattern, string principal, string resource, PolicyDecision expected)
    {
        var policy = Policy($$"""{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "{{pattern}}"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", resource, principal), false));
    }

    [Fact]
    public void Evaluate_VariableUnderLegacyVersion_StaysLiteral()
    {
        var policy = PolicyDocument.Parse("""
            {"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:secretsmanager:*:*:secret:${aws:username}/*"}}
            """);

        Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/x"), false));
        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:000000000000:secret:${aws:username}/x"), false));
    }

    [Fact]
    public void Evaluate_IdentityPolicyStatementWithoutResource_TreatedAsAllResources()
    {
        // Only reachable through PolicyKind.Any; PolicyKind.Identity rejects it at parse time.
        var policy = Policy("""{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue"}""");

        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue"), false));
    }

    [Fact]
    public void Evaluate_NullArguments_Throw()
    {
        var policy = Policy("""{"Effect": "Allow", "Action": "*", "Resource": "*"}""");

        Assert.Throws<ArgumentNullException>(() => PolicyEvaluator.Evaluate(null!, Request("secretsmanager:GetSecretValue"), false));
        Assert.Throws<ArgumentNullException>(() => PolicyEvaluator.Evaluate(policy, null!, false));
    }
}
