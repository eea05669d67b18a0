using Keyturn.Domain.Doctor;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>Which invocations of a shared rotation function's log count for one secret's diagnosis.</summary>
public sealed class LogScopeTests
{
    private const string Name = "prd-db-cluster/AdminLoginInfo";
    private const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prd-db-cluster/AdminLoginInfo-vXO5yx";

    private const string OtherSecretFailure = """
        START RequestId: 0b6f7a52-1111-4c3e-9d8e-000000000001 Version: $LATEST
        [ERROR]	2022-03-28T06:00:01.000Z	0b6f7a52-1111-4c3e-9d8e-000000000001	setSecret: Unable to log into database with previous, current, or pending secret of secret arn arn:aws:secretsmanager:us-east-1:123456789012:secret:stg-db/App-Ab12Cd
        END RequestId: 0b6f7a52-1111-4c3e-9d8e-000000000001
        REPORT RequestId: 0b6f7a52-1111-4c3e-9d8e-000000000001	Duration: 120.00 ms	Billed Duration: 120 ms	Memory Size: 128 MB	Max Memory Used: 70 MB
        """;

    [Fact]
    public void ForSecret_KeepsInvocationsNamingTheSecretOrNoSecret_DropsOtherSecrets()
    {
        var invocations = LogAnalyzer.Parse([SeedLogs.FailureExample1, OtherSecretFailure, SeedLogs.FailureExample2]);

        var kept = LogScope.ForSecret(invocations, Arn, Name);

        // The seed's ARNs have the account blanked out: the name inside the ARN still ties them to the secret.
        Assert.Equal(
            ["24ce3d1b-e194-482c-b33a-5d879e5d15d5", "f312a4c3-3d5f-45f2-aa67-a95e1985f993", "74fc027b-8dc0-4da4-b618-239b54b95247"],
            kept.Select(i => i.RequestId));
    }

    [Fact]
    public void Analyze_AnAlternatingUsersFailureNamingOnlyTheMasterSecret_StaysWithTheSecret()
    {
        // AWS's multi-user sample names only the master secret when the master's login fails.
        const string masterRefused = """
            START RequestId: 0b6f7a52-2222-4c3e-9d8e-000000000002 Version: $LATEST
            [ERROR]	2022-03-28T06:00:01.000Z	0b6f7a52-2222-4c3e-9d8e-000000000002	setSecret: Unable to log into database using credentials in master secret arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-master-Zz9
            END RequestId: 0b6f7a52-2222-4c3e-9d8e-000000000002
            REPORT RequestId: 0b6f7a52-2222-4c3e-9d8e-000000000002	Duration: 120.00 ms	Billed Duration: 120 ms	Memory Size: 128 MB	Max Memory Used: 70 MB
            """;

        Assert.Single(LogScope.ForSecret(LogAnalyzer.Parse(masterRefused), Arn, Name));
        Assert.Equal("LOG018", Assert.Single(LogScope.Analyze([masterRefused], Arn, Name)).Code);
    }

    [Fact]
    public void ForSecret_ANamePrefixOfAnotherSecret_DoesNotMatchIt()
    {
        var invocations = LogAnalyzer.Parse(OtherSecretFailure.Replace("stg-db/App-Ab12Cd", "prd-db-cluster/AdminLoginInfoCopy-Ab12Cd", StringComparison.Ordinal));

        Assert.Empty(LogScope.ForSecret(invocations, Arn, Name));
    }

    [Fact]
    public void Analyze_FailuresSettledByALaterRotation_OnlySayWhatWasRead()
    {
        var findings = LogScope.Analyze([SeedLogs.FailureExample1, SeedLogs.FailureExample2, SeedLogs.SuccessfulRotation], Arn, Name);

        var read = Assert.Single(findings);
        Assert.Equal(("LOG097", Severity.Info), (read.Code, read.Severity));
        Assert.StartsWith("Read 37 lines, 7 invocations; 7 up to the last successful finishSecret (settled)", read.Evidence, StringComparison.Ordinal);
        Assert.Contains("from 2022-03-28 02:38:08Z to 2022-03-28 10:44:39Z", read.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_OtherSecretsOnly_SaysSoInsteadOfNothing()
    {
        var read = Assert.Single(LogScope.Analyze([OtherSecretFailure], Arn, Name));

        Assert.Equal("LOG097", read.Code);
        Assert.Contains("1 about other secrets", read.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_AFailureAfterTheLastSuccess_IsReported()
    {
        var findings = LogScope.Analyze([SeedLogs.SuccessfulRotation, SeedLogs.FailureExample1], Arn, Name);

        Assert.Contains(findings, f => f.Severity >= Severity.Error);
    }

    [Fact]
    public void Analyze_TheSeedsTwoFailures_StayTwoDifferentCauses()
    {
        var findings = LogScope.Analyze([SeedLogs.FailureExample1, SeedLogs.FailureExample2], Arn, Name);

        Assert.Equal(2, findings.Select(f => f.Code).Distinct().Count());
    }

    [Fact]
    public void SinceLastSuccess_NoSuccessfulFinish_KeepsEverything()
    {
        var invocations = LogAnalyzer.Parse(SeedLogs.FailureExample1);

        Assert.Equal(invocations, LogScope.SinceLastSuccess(invocations));
    }
}
