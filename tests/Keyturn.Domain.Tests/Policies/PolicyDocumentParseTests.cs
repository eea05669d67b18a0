using Keyturn.Domain.Policies;

namespace Keyturn.Domain.Tests.Policies;

public sealed class PolicyDocumentParseTests
{
    [Fact]
    public void Parse_StatementArray_ReadsEveryElement()
    {
        var policy = PolicyDocument.Parse("""
            {
              "Version": "2012-10-17",
              "Id": "doc",
              "Statement": [
                {
                  "Sid": "Read",
                  "Effect": "Allow",
                  "Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:user/app"], "Service": "lambda.amazonaws.com"},
                  "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                  "Resource": "*",
                  "Condition": {"StringEquals": {"secretsmanager:VersionStage": ["AWSCURRENT", "AWSPREVIOUS"]}, "Bool": {"aws:SecureTransport": true}}
                },
                {"Effect": "Deny", "NotPrincipal": "*", "NotAction": "secretsmanager:Get*", "NotResource": "arn:aws:secretsmanager:*:*:secret:x"}
              ]
            }
            """);

        Assert.Equal("2012-10-17", policy.Version);
        Assert.Equal("doc", policy.Id);
        Assert.Equal(2, policy.Statements.Count);

        var read = policy.Statements[0];
        Assert.Equal("Read", read.Sid);
        Assert.Equal(PolicyEffect.Allow, read.Effect);
        Assert.False(read.IsNotAction);
        Assert.Equal(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], read.Actions);
        Assert.Equal(["*"], read.Resources!);
        Assert.Equal(["123456789012", "arn:aws:iam::123456789012:user/app"], read.Principal!.Aws);
        Assert.Equal(["lambda.amazonaws.com"], read.Principal.Service);
        Assert.Equal(2, read.Conditions.Count);
        Assert.Equal(["AWSCURRENT", "AWSPREVIOUS"], read.Conditions[0].Values);
        Assert.Equal(["true"], read.Conditions[1].Values);

        var deny = policy.Statements[1];
        Assert.Equal(1, deny.Index);
        Assert.True(deny.IsNotAction);
        Assert.True(deny.IsNotResource);
        Assert.True(deny.IsNotPrincipal);
        Assert.True(deny.Principal!.IsWildcard);
    }

    [Theory]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}""", null)]
    [InlineData("""{"Version": "2008-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}""", "2008-10-17")]
    public void Parse_SingleStatementObjectOrOptionalVersion_Succeeds(string json, string? version)
    {
        var policy = PolicyDocument.Parse(json);

        Assert.Equal(version, policy.Version);
        Assert.Single(policy.Statements);
        Assert.Equal(json.Length, policy.SourceLength);
    }

    [Fact]
    public void Parse_ResourcePolicyWithoutResource_LeavesResourcesNull()
    {
        var policy = PolicyDocument.Parse(
            """{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue"}}""",
            PolicyKind.Resource);

        Assert.Null(policy.Statements[0].Resources);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""{"Statement": [}""", "not valid JSON")]
    [InlineData("", "empty")]
    [InlineData("[]", "must be a JSON object, not an array")]
    [InlineData("""{"Version": "2012-10-17"}""", "has no Statement element")]
    [InlineData("""{"Statement": []}""", "Statement array is empty")]
    [InlineData("""{"Statement": "Allow"}""", "must be an object or an array of objects")]
    [InlineData("""{"Statement": ["x"]}""", "Statement 0 must be a JSON object")]
    [InlineData("""{"Version": "2020-01-01", "Statement": {"Effect": "Allow", "Action": "*"}}""", "Version must be \"2012-10-17\" or \"2008-10-17\", not \"2020-01-01\"")]
    [InlineData("""{"Statement": {"Action": "*", "Resource": "*"}}""", "Statement 0 has no Effect element")]
    [InlineData("""{"Statement": {"Sid": "S1", "Effect": "Permit", "Action": "*"}}""", "Statement 0 (Sid \"S1\"): Effect must be \"Allow\" or \"Deny\" (case-sensitive), not \"Permit\"")]
    [InlineData("""{"Statement": {"Effect": "allow", "Action": "*"}}""", "not \"allow\"")]
    [InlineData("""{"Statement": {"Effect": true, "Action": "*"}}""", "Effect must be a string, not a boolean")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "s3:*"}}""", "has both Action and NotAction")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Resource": "*"}}""", "has neither Action nor NotAction")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"}}""", "has both Resource and NotResource")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Principal": "*", "NotPrincipal": "*"}}""", "has both Principal and NotPrincipal")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "GetSecretValue"}}""", "Action \"GetSecretValue\" must be \"*\" or a service prefix and action")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": []}}""", "Action is an empty array")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": [1]}}""", "Action must contain only strings, not a number")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "my-secret"}}""", "Resource \"my-secret\" must be \"*\" or an ARN")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Principal": "123456789012"}}""", "Principal must be \"*\" or an object")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Principal": {}}}""", "Principal is an empty object")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Principal": {"User": "x"}}}""", "unknown element \"User\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Principal": {"AWS": "arn:aws:iam::123456789012:user/*"}}}""", "only \"*\" on its own is allowed")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"StringEqualz": {"aws:PrincipalArn": "x"}}}}""", "unknown condition operator \"StringEqualz\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"ForEveryValue:StringLike": {"k": "x"}}}}""", "unknown condition set qualifier \"ForEveryValue\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"5": {"k": "x"}}}}""", "unknown condition operator \"5\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"StringEquals,Bool": {"k": "x"}}}}""", "unknown condition operator \"StringEquals,Bool\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"IfExists": {"k": "x"}}}}""", "unknown condition operator \"IfExists\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": "x", "K": "y"}}}}""", "repeats the key \"K\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"NullIfExists": {"k": "true"}}}}""", "Null condition operator cannot take the IfExists suffix")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"NumericLessThan": {"k": "ten"}}}}""", "has the value \"ten\", which is not valid for that operator")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/99"}}}}""", "not valid for that operator")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": "x"}}}""", "must map condition keys to values")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": {"a": 1}}}}}""", "values must be strings, numbers or booleans, not an object")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Condition": []}}""", "Condition must be an object of operators")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Extra": 1}}""", "unknown element \"Extra\"")]
    [InlineData("""{"Statement": {"effect": "Allow", "Action": "*"}}""", "element names are case-sensitive (did you mean \"Effect\"?)")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*"}}""", "repeats the element \"Effect\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*"}, "Statement": {"Effect": "Deny", "Action": "*"}}""", "repeats the element \"Statement\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*"}, "Comment": "x"}""", "The policy document has an unknown element \"Comment\"")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*",}}""", "not valid JSON")]
    public void Parse_MalformedDocument_ThrowsWithClearMessage(string json, string expectedFragment)
    {
        var ex = Assert.Throws<PolicyParseException>(() => PolicyDocument.Parse(json));

        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SecondStatementMalformed_MessageNamesItsIndexAndSid()
    {
        var ex = Assert.Throws<PolicyParseException>(() => PolicyDocument.Parse("""
            {"Statement": [
              {"Effect": "Allow", "Action": "*", "Resource": "*"},
              {"Effect": "Allow", "Action": "*", "NotAction": "s3:*", "Sid": "Second"}
            ]}
            """));

        Assert.StartsWith("Statement 1 (Sid \"Second\") has both Action and NotAction", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Statement": {"Effect": "Allow", "Action": "*"}}""", "has neither Resource nor NotResource")]
    [InlineData("""{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}""", "identity policies cannot have a Principal element")]
    [InlineData("""{"Statement": {"Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"}, "Action": "*", "Resource": "*"}}""", "identity policies cannot have a NotPrincipal element")]
    public void Parse_IdentityKindRules_Throws(string json, string expectedFragment)
    {
        var ex = Assert.Throws<PolicyParseException>(() => PolicyDocument.Parse(json, PolicyKind.Identity));

        Assert.Contains(expectedFragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ResourceKindWithoutPrincipal_Throws()
    {
        var ex = Assert.Throws<PolicyParseException>(() =>
            PolicyDocument.Parse("""{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}""", PolicyKind.Resource));

        Assert.Contains("has no Principal or NotPrincipal element", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Malformed_ReturnsFalseAndMessage()
    {
        var ok = PolicyDocument.TryParse("""{"Statement": {"Action": "*"}}""", out var document, out var error);

        Assert.False(ok);
        Assert.Null(document);
        Assert.Contains("has no Effect element", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Valid_ReturnsDocument()
    {
        var ok = PolicyDocument.TryParse("""{"Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}""", PolicyKind.Identity, out var document, out var error);

        Assert.True(ok);
        Assert.Null(error);
        Assert.Equal(PolicyEffect.Deny, document!.Statements[0].Effect);
    }

    [Fact]
    public void Parse_StatementsList_CannotBeMutatedThroughCast()
    {
        var policy = PolicyDocument.Parse("""{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}""");

        Assert.False(policy.Statements is PolicyStatement[]);
    }

    [Theory]
    [InlineData("stringequals")]
    [InlineData("ForAnyValue:StringEquals")]
    [InlineData("forallvalues:StringEqualsIfExists")]
    [InlineData("StringEqualsIfExists")]
    public void Parse_ConditionOperatorSpellings_Accepted(string op)
    {
        var json = """{"Statement": {"Effect": "Allow", "Action": "*", "Condition": {"OP": {"aws:username": "app"}}}}""".Replace("OP", op, StringComparison.Ordinal);
        var policy = PolicyDocument.Parse(json);

        var condition = Assert.Single(policy.Statements[0].Conditions);
        Assert.Equal(op, condition.Operator);
        Assert.Equal("aws:username", condition.Key);
    }
}
