using Keyturn.Domain.Policies;
using static Keyturn.Domain.Tests.Policies.PolicyTestData;

namespace Keyturn.Domain.Tests.Policies;

public sealed class PolicyAuthorizeTests
{
    private static readonly PolicyDocument AllowAll = Policy("""{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}""");
    private static readonly PolicyDocument DenyDelete = Policy("""{"Effect": "Deny", "Action": "secretsmanager:DeleteSecret", "Resource": "*"}""");

    // The application key may only read secrets under app/; the operator key manages everything.
    private static readonly PolicyDocument AppKeyPolicy = PolicyDocument.Parse("""
        {
          "Version": "2012-10-17",
          "Statement": [{
            "Sid": "ReadOwnSecrets",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": "arn:aws:secretsmanager:*:*:secret:app/*"
          }]
        }
        """, PolicyKind.Identity);

    private static readonly PolicyDocument OperatorKeyPolicy = PolicyDocument.Parse("""
        {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}}
        """, PolicyKind.Identity);

    [Theory]
    [InlineData(AppUser, "secretsmanager:GetSecretValue", AppSecret, PolicyDecision.Allow)]
    [InlineData(AppUser, "secretsmanager:DescribeSecret", AppSecret, PolicyDecision.Allow)]
    [InlineData(AppUser, "secretsmanager:GetSecretValue", OpsSecret, PolicyDecision.ImplicitDeny)]
    [InlineData(AppUser, "secretsmanager:PutSecretValue", AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData(AppUser, "secretsmanager:RotateSecret", AppSecret, PolicyDecision.ImplicitDeny)]
    [InlineData(AppUser, "secretsmanager:ListSecrets", "*", PolicyDecision.ImplicitDeny)]
    [InlineData(OperatorUser, "secretsmanager:RotateSecret", AppSecret, PolicyDecision.Allow)]
    [InlineData(OperatorUser, "secretsmanager:RotateSecret", OpsSecret, PolicyDecision.Allow)]
    [InlineData(OperatorUser, "secretsmanager:PutResourcePolicy", AppSecret, PolicyDecision.Allow)]
    [InlineData(OperatorUser, "secretsmanager:ListSecrets", "*", PolicyDecision.Allow)]
    [InlineData(OperatorUser, "secretsmanager:GetRandomPassword", "*", PolicyDecision.Allow)]
    public void Authorize_AppAndOperatorKeys_GetTheirOwnScopes(string principal, string action, string resource, PolicyDecision expected)
    {
        var policies = principal == AppUser ? AppKeyPolicy : OperatorKeyPolicy;

        Assert.Equal(expected, PolicyEvaluator.Authorize([policies], null, Request(action, resource, principal)));
    }

    [Fact]
    public void Authorize_ResourcePolicyDeniesOperator_DenyBeatsIdentityAllow()
    {
        var resourcePolicy = Policy("""
            {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:user/operator"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
            """);

        var decision = PolicyEvaluator.Authorize([OperatorKeyPolicy], resourcePolicy, Request("secretsmanager:GetSecretValue", AppSecret, OperatorUser));

        Assert.Equal(PolicyDecision.ExplicitDeny, decision);
    }

    [Theory]
    // identity policies, resource policy → decision
    [InlineData(new[] { "allowAll" }, null, PolicyDecision.Allow)]
    [InlineData(new[] { "allowAll", "denyDelete" }, null, PolicyDecision.ExplicitDeny)]
    [InlineData(new[] { "denyDelete", "allowAll" }, null, PolicyDecision.ExplicitDeny)]
    [InlineData(new[] { "allowAll" }, "denyAll", PolicyDecision.ExplicitDeny)]
    [InlineData(new string[0], "allowUser", PolicyDecision.Allow)]
    [InlineData(new string[0], "allowStar", PolicyDecision.Allow)]
    [InlineData(new[] { "denyDelete" }, "allowUser", PolicyDecision.ExplicitDeny)]
    [InlineData(new string[0], "denyAll", PolicyDecision.ExplicitDeny)]
    [InlineData(new string[0], null, PolicyDecision.ImplicitDeny)]
    [InlineData(new string[0], "allowOther", PolicyDecision.ImplicitDeny)]
    public void Authorize_CombinesIdentityAndResourcePolicies_ExplicitDenyWins(string[] identityNames, string? resourceName, PolicyDecision expected)
    {
        var identity = identityNames.Select(Named).ToList();
        var resource = resourceName is null ? null : Named(resourceName);

        Assert.Equal(expected, PolicyEvaluator.Authorize(identity, resource, Request("secretsmanager:DeleteSecret")));
    }

    [Theory]
    [InlineData("""{"AWS": "000000000000"}""")]
    [InlineData("""{"AWS": "arn:aws:iam::000000000000:root"}""")]
    public void Authorize_ResourcePolicyNamingOnlyTheAccount_DelegatesToIdentityPolicies(string principal)
    {
        var resourcePolicy = Policy($$"""{"Effect": "Allow", "Principal": {{principal}}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}""");
        var request = Request("secretsmanager:GetSecretValue");

        // The statement applies to the caller, yet grants nothing without an identity allow, as in IAM.
        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(resourcePolicy, request, isResourcePolicy: true));
        Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Authorize([], resourcePolicy, request));
        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Authorize([AppKeyPolicy], resourcePolicy, request));
    }

    [Fact]
    public void Authorize_AccountPrincipalDeny_StillDeniesEveryUserInAccount()
    {
        var resourcePolicy = Policy("""{"Effect": "Deny", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:*", "Resource": "*"}""");

        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Authorize([OperatorKeyPolicy], resourcePolicy, Request("secretsmanager:GetSecretValue", principal: OperatorUser)));
    }

    [Theory]
    [InlineData(null, PolicyDecision.Allow)]
    [InlineData("denyAll", PolicyDecision.ExplicitDeny)]
    [InlineData("allowOther", PolicyDecision.Allow)]
    public void Authorize_RootUser_AllowedUnlessExplicitlyDenied(string? resourceName, PolicyDecision expected)
    {
        var resource = resourceName is null ? null : Named(resourceName);

        Assert.Equal(expected, PolicyEvaluator.Authorize([], resource, Request("secretsmanager:DeleteSecret", principal: Root)));
    }

    [Fact]
    public void Authorize_RootOfAnotherAccount_GetsNoDefaultAllow()
    {
        var request = Request("secretsmanager:GetSecretValue", AppSecret, "arn:aws:iam::111122223333:root", OtherAccount);

        Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Authorize([], null, request));
    }

    [Theory]
    // Cross-account: the caller's identity policy and the secret's resource policy must both allow.
    [InlineData(true, true, PolicyDecision.Allow)]
    [InlineData(true, false, PolicyDecision.ImplicitDeny)]
    [InlineData(false, true, PolicyDecision.ImplicitDeny)]
    public void Authorize_CrossAccount_NeedsBothSides(bool identityAllows, bool resourceAllows, PolicyDecision expected)
    {
        var caller = "arn:aws:iam::111122223333:user/partner";
        var identity = identityAllows ? new[] { AllowAll } : [];
        var resource = resourceAllows
            ? Policy("""{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}""")
            : null;

        Assert.Equal(expected, PolicyEvaluator.Authorize(identity, resource, Request("secretsmanager:GetSecretValue", AppSecret, caller, OtherAccount)));
    }

    [Fact]
    public void Authorize_ConditionOnTag_ScopesOperatorToTeam()
    {
        var identity = Policy("""
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEquals": {"secretsmanager:ResourceTag/team": "payments"}}}
            """);
        var tagged = Request("secretsmanager:RotateSecret", principal: OperatorUser, context: new Dictionary<string, string> { ["aws:ResourceTag/team"] = "payments" });
        var untagged = Request("secretsmanager:RotateSecret", principal: OperatorUser);

        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Authorize([identity], null, tagged));
        Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Authorize([identity], null, untagged));
    }

    private static PolicyDocument Named(string name) => name switch
    {
        "allowAll" => AllowAll,
        "denyDelete" => DenyDelete,
        "denyAll" => Policy("""{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}"""),
        "allowUser" => Policy("""{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/app"}, "Action": "secretsmanager:*", "Resource": "*"}"""),
        "allowStar" => Policy("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}"""),
        "allowOther" => Policy("""{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/other"}, "Action": "secretsmanager:*", "Resource": "*"}"""),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
