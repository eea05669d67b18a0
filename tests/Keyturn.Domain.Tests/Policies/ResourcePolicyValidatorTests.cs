using Keyturn.Domain.Policies;
using static Keyturn.Domain.Tests.Policies.PolicyTestData;

namespace Keyturn.Domain.Tests.Policies;

public sealed class ResourcePolicyValidatorTests
{
    [Fact]
    public void Validate_WellFormedPolicy_ReturnsNoErrors()
    {
        // The example from the AWS CLI reference, which AWS reports as PolicyValidationPassed: true.
        var policy = PolicyDocument.Parse("""
            {
              "Version": "2012-10-17",
              "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/MyRole"},
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*"
              }]
            }
            """);

        Assert.Empty(ResourcePolicyValidator.Validate(policy, AppSecret));
    }

    [Theory]
    [InlineData("""{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue"}""", "SYNTAX_CHECK", "Statement 0 has no Principal or NotPrincipal element")]
    [InlineData("""{"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:GetSecretValue"}, {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:DescribeSecret"}""", "SYNTAX_CHECK", "Statement 1 (Sid \"A\") reuses the Sid of statement 0")]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "bob"}, "Action": "secretsmanager:GetSecretValue"}""", "SYNTAX_CHECK", "names the principal \"bob\"")]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "s3:GetObject"}""", "UNSUPPORTED_ACTION", "uses the action \"s3:GetObject\", which does not apply to secrets")]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"]}""", "UNSUPPORTED_ACTION", "\"kms:Decrypt\"")]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:GetSecretValu"}""", "UNSUPPORTED_ACTION", "matches no Secrets Manager action")]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue"}""", "PUBLIC_POLICY", "Statement 0 allows every principal")]
    [InlineData("""{"Effect": "Allow", "NotPrincipal": {"AWS": "000000000000"}, "Action": "secretsmanager:GetSecretValue"}""", "PUBLIC_POLICY", "grants public access")]
    [InlineData("""{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}""", "LOCKOUT_CHECK", "denies secretsmanager:PutResourcePolicy and secretsmanager:DeleteResourcePolicy to every principal")]
    [InlineData("""{"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"]}""", "LOCKOUT_CHECK", "no one could change or remove this policy")]
    public void Validate_ProblemPolicy_ReportsCheckAndMessage(string statements, string checkName, string messageFragment)
    {
        var errors = ResourcePolicyValidator.Validate(Policy(statements), AppSecret);

        var error = Assert.Single(errors);
        Assert.Equal(checkName, error.CheckName);
        Assert.Contains(messageFragment, error.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Effect": "Allow", "NotAction": "s3:*", "Principal": {"AWS": "000000000000"}, "Resource": "*"}""")]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:Get*"}""")]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "*"}""")]
    [InlineData("""{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}""")]
    [InlineData("""{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:PutResourcePolicy"}""")]
    [InlineData("""{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::000000000000:user/operator"}, "Action": "secretsmanager:*"}""")]
    [InlineData("""{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "arn:aws:secretsmanager:*:*:secret:ops/*"}""")]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "arn:aws:secretsmanager:*:*:secret:ops/*"}""")]
    public void Validate_AcceptablePolicy_ReturnsNoErrors(string statements)
    {
        Assert.Empty(ResourcePolicyValidator.Validate(Policy(statements), AppSecret));
    }

    [Fact]
    public void Validate_OversizedPolicy_ReportsSyntaxCheck()
    {
        var padding = new string(' ', ResourcePolicyValidator.MaxPolicyLength);
        var policy = PolicyDocument.Parse(
            $$$"""{"Statement": {"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:GetSecretValue"}}{{{padding}}}""");

        var error = Assert.Single(ResourcePolicyValidator.Validate(policy, null));
        Assert.Equal(PolicyCheckNames.SyntaxCheck, error.CheckName);
        Assert.Contains($"the maximum is {ResourcePolicyValidator.MaxPolicyLength}", error.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PolicyOfExactlyMaxLength_Passes()
    {
        const string Json = """{"Statement": {"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:GetSecretValue"}}""";
        var policy = PolicyDocument.Parse(Json + new string(' ', ResourcePolicyValidator.MaxPolicyLength - Json.Length));

        Assert.Equal(ResourcePolicyValidator.MaxPolicyLength, policy.SourceLength);
        Assert.Empty(ResourcePolicyValidator.Validate(policy, null));
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEachInCheckOrder()
    {
        var policy = Policy("""
            {"Effect": "Allow", "Principal": "*", "Action": ["secretsmanager:GetSecretValue", "s3:GetObject"]},
            {"Effect": "Allow", "Action": "secretsmanager:DescribeSecret"}
            """);

        var checks = ResourcePolicyValidator.Validate(policy, AppSecret).Select(e => e.CheckName);

        Assert.Equal(["SYNTAX_CHECK", "UNSUPPORTED_ACTION", "PUBLIC_POLICY"], checks);
    }

    [Theory]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": ["000000000000", "*"]}, "Action": "secretsmanager:*", "Resource": "*"}""", true)]
    [InlineData("""{"Effect": "Allow", "NotPrincipal": {"AWS": "000000000000"}, "Action": "secretsmanager:*", "Resource": "*"}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "NotAction": "secretsmanager:DeleteSecret", "Resource": "*"}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:*", "Resource": "*"}""", false)]
    [InlineData("""{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/app"}, "Action": "secretsmanager:*", "Resource": "*"}""", false)]
    [InlineData("""{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "secretsmanager:*", "Resource": "*"}""", false)]
    [InlineData("""{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"}""", false)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}""", false)]
    // Conditions that pin the caller down make "*" safe; weak ones do not.
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "000000000000"}}}""", false)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}""", false)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/*"}}}""", false)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}""", false)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/app"}}}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringLike": {"aws:PrincipalAccount": "*"}}}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEqualsIfExists": {"aws:PrincipalAccount": "000000000000"}}}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}}""", true)]
    [InlineData("""{"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}}""", true)]
    public void IsPublic_PrincipalsAndConditions_DetectsBroadAccess(string statements, bool expected)
    {
        Assert.Equal(expected, ResourcePolicyValidator.IsPublic(Policy(statements)));
    }

    [Fact]
    public void IsPublic_AnyStatementPublic_PolicyIsPublic()
    {
        var policy = Policy("""
            {"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:DescribeSecret", "Resource": "*"}
            """);

        Assert.True(ResourcePolicyValidator.IsPublic(policy));
    }
}
