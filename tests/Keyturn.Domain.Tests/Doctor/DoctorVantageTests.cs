using Keyturn.Domain.Doctor;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>
/// The doctor's own vantage point: on AWS its failed DNS/TCP check speaks of its host (VNT00x), the function's path is the
/// VPC analysis' to judge, and a secret whose labels are at rest comes out healthy; on Keyturn the rotators share its network.
/// </summary>
public sealed class DoctorVantageTests
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prd-db-AbCdEf";
    private const string FunctionArn = "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerprd-db-rotation";

    // Versions are "id:LABEL,LABEL"; probes "id=ok|fail|unknown"; the last column is the reachability finding's code.
    public static TheoryData<string, RotationPlatform, ReachOutcome, string[], string[], LabelState, bool, string> Cases => new()
    {
        { "on AWS, labels at rest and a database out of the doctor's reach come out healthy by the labels", RotationPlatform.Aws, ReachOutcome.NameNotResolved,
            ["p:AWSPREVIOUS", "c:AWSCURRENT"], ["c=unknown"], LabelState.Healthy, true, "VNT001" },
        { "on AWS, a database that doesn't answer the doctor is an info about its host, not NET002", RotationPlatform.Aws, ReachOutcome.TimedOut,
            ["p:AWSPREVIOUS", "c:AWSCURRENT"], ["c=unknown"], LabelState.Healthy, true, "VNT002" },
        { "on AWS, AWSPENDING on the current version is still at rest", RotationPlatform.Aws, ReachOutcome.Refused,
            ["c:AWSCURRENT,AWSPENDING"], ["c=unknown"], LabelState.Healthy, true, "VNT002" },
        { "on AWS, an unfinished rotation out of the doctor's reach stays undecided", RotationPlatform.Aws, ReachOutcome.TimedOut,
            ["c:AWSCURRENT", "n:AWSPENDING"], ["c=unknown", "n=unknown"], LabelState.Undecidable, false, "VNT002" },
        { "on AWS, a database reachable from here but an undecided probe is no vantage matter", RotationPlatform.Aws, ReachOutcome.Reachable,
            ["c:AWSCURRENT"], ["c=unknown"], LabelState.Undecidable, false, "NET000" },
        { "on AWS, a working login is healthy as always", RotationPlatform.Aws, ReachOutcome.Reachable,
            ["c:AWSCURRENT"], ["c=ok"], LabelState.Healthy, true, "NET000" },
        { "on Keyturn, a name that doesn't resolve is the rotation's problem too", RotationPlatform.Keyturn, ReachOutcome.NameNotResolved,
            ["c:AWSCURRENT"], ["c=unknown"], LabelState.Undecidable, false, "NET001" },
        { "on Keyturn, a database that doesn't answer is NET002", RotationPlatform.Keyturn, ReachOutcome.TimedOut,
            ["c:AWSCURRENT"], ["c=unknown"], LabelState.Undecidable, false, "NET002" },
        { "on Keyturn, a refused connection is NET003", RotationPlatform.Keyturn, ReachOutcome.Refused,
            ["c:AWSCURRENT"], ["c=unknown"], LabelState.Undecidable, false, "NET003" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Diagnose_ReachabilityFromTheDoctorsHost(string name, RotationPlatform platform, ReachOutcome reach, string[] versions, string[] probes, LabelState state, bool healthy, string code)
    {
        var diagnosis = RotationDoctor.Diagnose(Snapshot(platform, reach, versions, probes));

        Assert.True(state == diagnosis.State && healthy == diagnosis.Healthy, $"{name}: got {diagnosis.State}, healthy {diagnosis.Healthy} ({diagnosis.Verdict})");
        var finding = Assert.Single(diagnosis.Findings, f => f.Code.StartsWith("VNT", StringComparison.Ordinal) || f.Code.StartsWith("NET00", StringComparison.Ordinal));
        Assert.True(code == finding.Code, $"{name}: got {finding.Code}");
        Assert.Equal(platform == RotationPlatform.Aws || reach == ReachOutcome.Reachable ? Severity.Info : Severity.Error, finding.Severity);
        Assert.DoesNotContain(diagnosis.Findings, f => platform == RotationPlatform.Aws && f.Fix.Contains("security group", StringComparison.Ordinal) && f.Code.StartsWith("NET00", StringComparison.Ordinal));
    }

    [Fact]
    public void Finding_OnAwsInAVpc_NamesTheFunctionsNetworkAndTheExactWaysToLookFromIt()
    {
        var snapshot = Snapshot(RotationPlatform.Aws, ReachOutcome.TimedOut, ["c:AWSCURRENT", "n:AWSPENDING"], ["c=unknown", "n=unknown"]) with
        {
            RotationFunction = FunctionArn,
            FunctionPlacement = new FunctionNetwork("SecretsManagerprd-db-rotation", "vpc-0a1b", ["subnet-0aaa", "subnet-0bbb"], ["sg-0f00"]),
        };

        var finding = DoctorVantage.Finding(snapshot)!;

        Assert.Equal("VNT002", finding.Code);
        Assert.Contains("SecretsManagerprd-db-rotation runs in vpc-0a1b (subnet-0aaa, subnet-0bbb)", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("a CloudShell VPC environment (VPC vpc-0a1b, subnet subnet-0aaa, security group sg-0f00", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("aws ssm start-session --target <instance-id> --region us-east-1", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("keyturn doctor prd-db --region us-east-1", finding.Fix, StringComparison.Ordinal);
        Assert.Contains(
            $"aws lambda invoke --function-name {FunctionArn} --cli-binary-format raw-in-base64-out "
            + $"--payload '{{\"SecretId\":\"{Arn}\",\"ClientRequestToken\":\"n\",\"Step\":\"testSecret\"}}' --region us-east-1 /dev/stdout",
            finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Finding_WithoutAnUnfinishedRotation_DoesntOfferTestSecret()
    {
        var snapshot = Snapshot(RotationPlatform.Aws, ReachOutcome.NameNotResolved, ["c:AWSCURRENT"], ["c=unknown"]) with { RotationFunction = FunctionArn };

        var finding = DoctorVantage.Finding(snapshot)!;

        // The AWS templates return before any step for an AWSCURRENT token: testSecret can't check it.
        Assert.DoesNotContain("lambda invoke", finding.Fix, StringComparison.Ordinal);
        Assert.Contains("on a host that reaches db.example:5432", finding.Fix, StringComparison.Ordinal);
    }

    public static TheoryData<string, RotationPlatform, string, string> FunctionMissing => new()
    {
        { "on AWS, a missing function is spoken of in Lambda's terms", RotationPlatform.Aws, "aws lambda get-function-configuration --function-name " + FunctionArn, "keyturn functions register" },
        { "on Keyturn, a missing function is registered with keyturn", RotationPlatform.Keyturn, "keyturn functions register", "aws lambda" },
    };

    [Theory]
    [MemberData(nameof(FunctionMissing))]
    public void Diagnose_MissingRotationFunction_FixInThePlatformsTerms(string name, RotationPlatform platform, string says, string doesNotSay)
    {
        var snapshot = Snapshot(platform, ReachOutcome.Reachable, ["c:AWSCURRENT"], ["c=ok"]) with
        {
            RotationFunction = FunctionArn,
            FunctionAvailable = false,
            FunctionUnavailableReason = "ResourceNotFoundException: Function not found",
        };

        var finding = Assert.Single(RotationDoctor.Diagnose(snapshot).Findings, f => f.Code == "CFG002");

        Assert.True(finding.Fix.Contains(says, StringComparison.Ordinal) && !finding.Fix.Contains(doesNotSay, StringComparison.Ordinal), $"{name}: {finding.Fix}");
    }

    private static RotationSnapshot Snapshot(RotationPlatform platform, ReachOutcome reach, string[] versions, string[] probes)
    {
        var now = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        return new RotationSnapshot
        {
            SecretArn = Arn,
            Name = "prd-db",
            Now = now,
            Versions = versions.Select((spec, i) =>
            {
                var parts = spec.Split(':', 2);
                return new VersionSnapshot(parts[0], parts[1].Split(','), now.AddDays(-versions.Length + i), HasValue: true);
            }).ToList(),
            Probes = probes.Select(p => p.Split('=')).ToDictionary(p => p[0], p => new ProbeSummary(
                p[1] switch { "ok" => ProbeOutcome.Ok, "fail" => ProbeOutcome.AuthFail, _ => ProbeOutcome.Unknown }, p[1] == "unknown" ? "network" : p[1], null, TimeSpan.FromMilliseconds(5))),
            RotationEnabled = true,
            Rules = new Keyturn.Domain.Rotation.RotationRules(30, null, null),
            Platform = platform,
            Reachability = new DatabaseReachability("db.example", 5432, reach, reach == ReachOutcome.Reachable ? "TCP connect to 10.0.3.15:5432 in 1.0 ms" : "DNS lookup of db.example failed after 3 ms: HostNotFound"),
        };
    }
}
