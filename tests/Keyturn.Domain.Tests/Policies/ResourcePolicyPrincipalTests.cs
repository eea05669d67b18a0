using Keyturn.Domain.Policies;
using static Keyturn.Domain.Tests.Policies.PolicyTestData;

namespace Keyturn.Domain.Tests.Policies;

public sealed class ResourcePolicyPrincipalTests
{
    [Theory]
    [InlineData("\"*\"", AppUser, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "*"}""", AppUser, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "000000000000"}""", AppUser, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "000000000000"}""", Root, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:root"}""", AppUser, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:root"}""", Root, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:user/app"}""", AppUser, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:user/app"}""", OperatorUser, PolicyDecision.ImplicitDeny)]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:user/app"}""", Root, PolicyDecision.ImplicitDeny)]
    [InlineData("""{"AWS": ["arn:aws:iam::000000000000:user/ci", "arn:aws:iam::000000000000:user/app"]}""", AppUser, PolicyDecision.Allow)]
    [InlineData("""{"AWS": "111122223333"}""", AppUser, PolicyDecision.ImplicitDeny)]
    [InlineData("""{"AWS": "arn:aws:iam::111122223333:root"}""", AppUser, PolicyDecision.ImplicitDeny)]
    [InlineData("""{"Service": "lambda.amazonaws.com"}""", AppUser, PolicyDecision.ImplicitDeny)]
    [InlineData("""{"Service": "lambda.amazonaws.com", "AWS": "000000000000"}""", AppUser, PolicyDecision.Allow)]
    public void Evaluate_PrincipalForms_MatchTheCaller(string principal, string caller, PolicyDecision expected)
    {
        var policy = Policy($$"""{"Effect": "Allow", "Principal": {{principal}}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", principal: caller), isResourcePolicy: true));
    }

    [Theory]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:user/operator"}""", AppUser, PolicyDecision.ExplicitDeny)]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:user/operator"}""", OperatorUser, PolicyDecision.ImplicitDeny)]
    [InlineData("""{"AWS": "000000000000"}""", AppUser, PolicyDecision.ImplicitDeny)]
    [InlineData("""{"AWS": "111122223333"}""", AppUser, PolicyDecision.ExplicitDeny)]
    [InlineData("\"*\"", AppUser, PolicyDecision.ImplicitDeny)]
    public void Evaluate_DenyWithNotPrincipal_DeniesEveryoneNotNamed(string notPrincipal, string caller, PolicyDecision expected)
    {
        var policy = Policy($$"""{"Effect": "Deny", "NotPrincipal": {{notPrincipal}}, "Action": "secretsmanager:*", "Resource": "*"}""");

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", principal: caller), isResourcePolicy: true));
    }

    [Fact]
    public void Evaluate_ResourcePolicyStatementWithoutPrincipal_NeverApplies()
    {
        var policy = Policy("""{"Effect": "Deny", "Action": "*", "Resource": "*"}""");

        Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue"), isResourcePolicy: true));
    }

    [Fact]
    public void Evaluate_ResourcePolicyWithoutResource_CoversTheSecret()
    {
        var policy = Policy("""{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/app"}, "Action": "secretsmanager:GetSecretValue"}""");

        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue"), isResourcePolicy: true));
    }

    [Fact]
    public void Evaluate_IdentityPolicy_IgnoresPrincipalElement()
    {
        // Parsed with PolicyKind.Any; identity evaluation has no principal to compare, the key is the caller.
        var policy = Policy("""{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/someone-else"}, "Action": "*", "Resource": "*"}""");

        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue"), isResourcePolicy: false));
    }
}
