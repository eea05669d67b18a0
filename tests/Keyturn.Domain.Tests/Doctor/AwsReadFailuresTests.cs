using System.Text.Json;
using Keyturn.Domain.Doctor;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>Failed AWS reads by cause: only refusals are missing permissions, and all of a run's refusals make one IAM policy.</summary>
public sealed class AwsReadFailuresTests
{
    public static TheoryData<string, string, ReadFailureCause> Codes => new()
    {
        { "EC2's refusal is a missing permission", "UnauthorizedOperation", ReadFailureCause.MissingPermission },
        { "RDS's refusal is a missing permission", "AccessDenied", ReadFailureCause.MissingPermission },
        { "Lambda's and Logs' refusal is a missing permission", "AccessDeniedException", ReadFailureCause.MissingPermission },
        { "a wrong secret key is the credentials, not a permission", "SignatureDoesNotMatch", ReadFailureCause.Credentials },
        { "an unknown access key is the credentials", "InvalidClientTokenId", ReadFailureCause.Credentials },
        { "an expired session is the credentials", "ExpiredToken", ReadFailureCause.Credentials },
        { "EC2's unknown key is the credentials", "AuthFailure", ReadFailureCause.Credentials },
        { "the JSON services' unknown key is the credentials", "UnrecognizedClientException", ReadFailureCause.Credentials },
        { "throttling is neither", "ThrottlingException", ReadFailureCause.Other },
        { "a server error is neither", "InternalError", ReadFailureCause.Other },
    };

    [Theory]
    [MemberData(nameof(Codes))]
    public void Classify_ByAwsErrorCode(string name, string code, ReadFailureCause cause) =>
        Assert.True(cause == AwsReadFailures.Classify(code), $"{name}: got {AwsReadFailures.Classify(code)}");

    [Fact]
    public void Findings_RefusalsAcrossServices_OneFindingWithOnePolicyGrantingExactlyTheMissingActions()
    {
        const string Function = "arn:aws:lambda:us-east-1:123456789012:function:rotate";
        const string Group = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/rotate:*";
        ReadFailure[] failures =
        [
            new("ec2:DescribeRouteTables", null, ReadFailureCause.MissingPermission, "UnauthorizedOperation: no", "the routes"),
            new("ec2:DescribeVpcEndpoints", null, ReadFailureCause.MissingPermission, "UnauthorizedOperation: no", "the endpoints"),
            new("rds:DescribeDBInstances", null, ReadFailureCause.MissingPermission, "AccessDenied: no", "the database"),
            new("lambda:GetFunctionConfiguration", Function, ReadFailureCause.MissingPermission, "AccessDeniedException: no", "the placement"),
            new("logs:FilterLogEvents", Group, ReadFailureCause.MissingPermission, "AccessDeniedException: no", "the log"),
            new("ec2:DescribeNatGateways", null, ReadFailureCause.Network, "the endpoint's name doesn't resolve", "the NAT gateways"),
            new("ec2:DescribeSubnets", null, ReadFailureCause.Credentials, "SignatureDoesNotMatch: no", "the subnets"),
        ];

        var findings = AwsReadFailures.Findings(failures);

        Assert.Equal(["AWS001", "AWS002", "AWS003"], findings.Select(f => f.Code));
        var permissions = findings[0];
        Assert.Contains("5 reads", permissions.Title, StringComparison.Ordinal);
        using var policy = JsonDocument.Parse(permissions.Fix[permissions.Fix.IndexOf('{', StringComparison.Ordinal)..]);
        Assert.Equal("2012-10-17", policy.RootElement.GetProperty("Version").GetString());
        var granted = policy.RootElement.GetProperty("Statement").EnumerateArray()
            .SelectMany(s => s.GetProperty("Action").EnumerateArray().Select(a => (Action: a.GetString()!, Resource: s.GetProperty("Resource").ToString())))
            .OrderBy(g => g.Action, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(
        [
            ("ec2:DescribeRouteTables", "*"), ("ec2:DescribeVpcEndpoints", "*"), ("lambda:GetFunctionConfiguration", Function),
            ("logs:FilterLogEvents", Group), ("rds:DescribeDBInstances", "*"),
        ], granted);
        Assert.All(policy.RootElement.GetProperty("Statement").EnumerateArray(), s => Assert.Equal("Allow", s.GetProperty("Effect").GetString()));
        Assert.DoesNotContain("DescribeNatGateways", permissions.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain("DescribeSubnets", permissions.Fix, StringComparison.Ordinal);
        Assert.Contains("not a permission problem", findings[1].Title, StringComparison.Ordinal);
        Assert.Contains("not a permission problem", findings[2].Title, StringComparison.Ordinal);
        Assert.DoesNotContain("Grant", findings[1].Fix + findings[2].Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Findings_NoFailures_NoFindings() => Assert.Empty(AwsReadFailures.Findings([]));
}
