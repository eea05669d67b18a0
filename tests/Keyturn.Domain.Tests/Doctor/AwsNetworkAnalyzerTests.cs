using Keyturn.Domain.Doctor;
using static Keyturn.Domain.Tests.Doctor.AwsRecordedDocuments;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>The AWS network checks on recorded documents: the field report's checklist, one broken piece at a time.</summary>
public sealed class AwsNetworkAnalyzerTests
{
    private static readonly string FunctionEgressAll = Group(FunctionGroup, [], [Rule("-1", null, null, "0.0.0.0/0")]);
    private static readonly string DatabaseFromFunction = Group(DatabaseGroup, [Rule("tcp", 5432, 5432, FunctionGroup)], [Rule("-1", null, null, "0.0.0.0/0")]);
    private static readonly string EndpointFromVpc = Group(EndpointGroup, [Rule("tcp", 443, 443, "10.0.0.0/16")], []);
    private static readonly string MainTableWithNat = RouteTables(Table("rtb-0main", main: true, [], $"0.0.0.0/0→{NatId}"));

    [Fact]
    public void Analyze_HealthyThroughTheEndpoint_OnlyTheAllClear()
    {
        var finding = Assert.Single(Analyze(Healthy()));

        Assert.Equal("NET021", finding.Code);
        Assert.Equal(Severity.Info, finding.Severity);
        Assert.Contains(EndpointId, finding.Evidence, StringComparison.Ordinal);
        Assert.Contains($"{FunctionGroup} rule all traffic (0.0.0.0/0)", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains($"{DatabaseGroup} rule tcp 5432 ({FunctionGroup})", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_HealthyThroughANatGateway_OnlyTheAllClear()
    {
        var scenario = Healthy() with { Endpoints = VpcEndpoints(), RouteTables = MainTableWithNat, Nats = NatGatewayAvailable };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET021", finding.Code);
        Assert.Contains($"{SubnetA} reaches Secrets Manager by rtb-0main (the VPC's main table) → {NatId} (available)", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_FunctionEgressOnlyTo443_MissingDatabaseEgress()
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 443, 443, "0.0.0.0/0")]), DatabaseFromFunction, EndpointFromVpc),
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET012", finding.Code);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains("tcp/5432", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains($"{FunctionGroup} tcp 443 (0.0.0.0/0)", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains(DatabaseGroup, finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_DatabaseAdmitsAnotherGroup_MissingIngress()
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(FunctionEgressAll, Group(DatabaseGroup, [Rule("tcp", 5432, 5432, OtherGroup)], []), EndpointFromVpc),
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET013", finding.Code);
        Assert.Contains($"{DatabaseGroup} tcp 5432 ({OtherGroup})", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains($"TCP 5432 from the function's security group ({FunctionGroup})", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_NoNatAndNoEndpoint_NoWayToSecretsManager()
    {
        var scenario = Healthy() with { Endpoints = VpcEndpoints() };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET015", finding.Code);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains($"{SubnetA}, {SubnetB}: rtb-0d1e2f3a4b5c6d7e8 (the VPC's main table) has no 0.0.0.0/0 route", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains($"no com.amazonaws.us-east-1.secretsmanager interface endpoint in {Vpc}", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("Create a com.amazonaws.us-east-1.secretsmanager interface endpoint", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_EndpointWithoutPrivateDnsAndNoNat_ExplainsThePublicName()
    {
        var scenario = Healthy() with { Endpoints = VpcEndpoints(Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager", privateDns: false)) };

        var findings = Analyze(scenario);

        Assert.Equal(["NET015", "NET016"], findings.Select(f => f.Code).Order(StringComparer.Ordinal));
        var dns = findings.Single(f => f.Code == "NET016");
        Assert.Equal(Severity.Error, dns.Severity);
        Assert.Contains("still resolves to public addresses", dns.Evidence, StringComparison.Ordinal);
        Assert.Contains($"--vpc-endpoint-id {EndpointId} --private-dns-enabled", dns.Fix, StringComparison.Ordinal);
        Assert.Contains("private DNS off", findings.Single(f => f.Code == "NET015").Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_EndpointWithoutPrivateDnsButANat_WarnsTheEndpointIsBypassed()
    {
        var scenario = Healthy() with
        {
            Endpoints = VpcEndpoints(Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager", privateDns: false)),
            RouteTables = MainTableWithNat,
            Nats = NatGatewayAvailable,
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET016", finding.Code);
        Assert.Equal(Severity.Warning, finding.Severity);
        Assert.Contains("go out through the NAT gateway instead", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_EndpointNamedBySecretsManagerEndpointVariable_WorksWithoutPrivateDns()
    {
        var function = FunctionInVpc.Replace("https://secretsmanager.us-east-1.amazonaws.com",
            $"https://{EndpointId}-4x5y6z7w.secretsmanager.us-east-1.vpce.amazonaws.com", StringComparison.Ordinal);
        var scenario = Healthy() with
        {
            Function = function,
            Endpoints = VpcEndpoints(Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager", privateDns: false)),
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET021", finding.Code);
        Assert.Contains("SECRETS_MANAGER_ENDPOINT", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_EndpointGroupAdmitsOnlyAnotherGroup_EndpointIngressMissing()
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(FunctionEgressAll, DatabaseFromFunction, Group(EndpointGroup, [Rule("tcp", 443, 443, OtherGroup)], [])),
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET017", finding.Code);
        Assert.Contains($"from SecretsManagerprd-db-rotation ({FunctionGroup}; {SubnetA}, {SubnetB}), 10.0.1.0/24, 10.0.2.0/24", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_FunctionEgressOnlyToTheDatabase_No443()
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 5432, 5432, DatabaseGroup)]), DatabaseFromFunction, EndpointFromVpc),
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET014", finding.Code);
        Assert.Contains($"to {EndpointId} ({EndpointGroup}), 10.0.1.0/24, 10.0.2.0/24", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_NatPathWithEgressOnlyToTheVpc_No443ToTheInternet()
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 0, 65535, "10.0.0.0/16")]), DatabaseFromFunction),
            Endpoints = VpcEndpoints(),
            RouteTables = MainTableWithNat,
            Nats = NatGatewayAvailable,
        };

        var finding = Assert.Single(Analyze(scenario));

        // A rule for some addresses can't be shown to cover Secrets Manager's public ones.
        Assert.Equal("NET019", finding.Code);
        Assert.Contains("egress on 443 to Secrets Manager", finding.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_NatPathWithNoEgressAt443_Denied()
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 5432, 5432, DatabaseGroup)]), DatabaseFromFunction),
            Endpoints = VpcEndpoints(),
            RouteTables = MainTableWithNat,
            Nats = NatGatewayAvailable,
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET014", finding.Code);
        Assert.Contains("0.0.0.0/0 (Secrets Manager's public addresses, through the NAT gateway)", finding.Evidence, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, string> BrokenDefaultRoutes => new()
    {
        { "internet gateway", "0.0.0.0/0→igw-0a1b2c3d", NatGatewayAvailable, "internet gateway igw-0a1b2c3d" },
        { "deleted NAT", $"0.0.0.0/0→{NatId}", NatGateways(Nat(NatId, "deleted")), "which is deleted" },
        { "failed NAT", $"0.0.0.0/0→{NatId}", NatGateways(Nat(NatId, "failed")), "which is failed" },
        { "private NAT", $"0.0.0.0/0→{NatId}", NatGateways(Nat(NatId, "available", "private")), "a private NAT gateway" },
        { "blackhole", $"0.0.0.0/0→{NatId}!", NatGateways(), "blackhole" },
    };

    [Theory]
    [MemberData(nameof(BrokenDefaultRoutes))]
    public void Analyze_DefaultRouteThatCantReachTheInternet_Broken(string name, string route, string nats, string evidence)
    {
        var scenario = Healthy() with { Endpoints = VpcEndpoints(), RouteTables = RouteTables(Table("rtb-0main", main: true, [], route)), Nats = nats };

        var finding = Assert.Single(Analyze(scenario));

        Assert.True(finding.Code == "NET018", $"{name}: got {finding.Code}");
        Assert.Contains(evidence, finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_OneSubnetExplicitlyWithoutNat_OnlyThatSubnetReported()
    {
        var scenario = Healthy() with
        {
            Endpoints = VpcEndpoints(),
            RouteTables = RouteTables(Table("rtb-0main", main: true, [], $"0.0.0.0/0→{NatId}"), Table("rtb-0isolated", main: false, [SubnetA])),
            Nats = NatGatewayAvailable,
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET015", finding.Code);
        Assert.Contains($"{SubnetA}: rtb-0isolated (explicitly associated) has no 0.0.0.0/0 route", finding.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(SubnetB, finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_TransitGatewayDefaultRoute_CantBeVerified()
    {
        var scenario = Healthy() with { Endpoints = VpcEndpoints(), RouteTables = RouteTables(Table("rtb-0main", main: true, [], "0.0.0.0/0→tgw-0123abcd")), Nats = NatGateways() };

        var findings = Analyze(scenario);

        Assert.All(findings, f => Assert.Equal("NET019", f.Code));
        Assert.Contains(findings, f => f.Evidence.Contains("tgw-0123abcd", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, string> EndpointsThatDontCount => new()
    {
        { "pending", Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager", privateDns: true, state: "pending"), "is pending" },
        { "another VPC", Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager", privateDns: true, vpc: "vpc-0ffffffffffffffff"), $"no com.amazonaws.us-east-1.secretsmanager interface endpoint in {Vpc}" },
        { "another service", Endpoint(EndpointId, "com.amazonaws.us-east-1.kms", privateDns: true), $"no com.amazonaws.us-east-1.secretsmanager interface endpoint in {Vpc}" },
        { "gateway type", Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager", privateDns: true, type: "Gateway"), $"no com.amazonaws.us-east-1.secretsmanager interface endpoint in {Vpc}" },
    };

    [Theory]
    [MemberData(nameof(EndpointsThatDontCount))]
    public void Analyze_EndpointThatCantCarryTheCalls_NoWayToSecretsManager(string name, string endpoint, string evidence)
    {
        var finding = Assert.Single(Analyze(Healthy() with { Endpoints = VpcEndpoints(endpoint) }));

        Assert.True(finding.Code == "NET015", $"{name}: got {finding.Code}");
        Assert.Contains(evidence, finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("Create a com.amazonaws.us-east-1.secretsmanager interface endpoint", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_FipsEndpoint_Counts()
    {
        var scenario = Healthy() with { Endpoints = VpcEndpoints(Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager-fips", privateDns: true)) };

        Assert.Equal("NET021", Assert.Single(Analyze(scenario)).Code);
    }

    // Egress to the database by address: protocol, port range and CIDR all have to fit.
    public static TheoryData<string, string, string> DatabaseEgressRules => new()
    {
        { "exact host", Rule("tcp", 5432, 5432, "10.0.3.15/32"), "NET021" },
        { "database subnet", Rule("tcp", 5432, 5432, "10.0.3.0/24"), "NET021" },
        { "port range", Rule("tcp", 5000, 6000, "10.0.0.0/16"), "NET021" },
        { "protocol number", Rule("6", 5432, 5432, "10.0.0.0/8"), "NET021" },
        { "all protocols", Rule("-1", null, null, "10.0.3.0/24"), "NET021" },
        { "group reference", Rule("tcp", 5432, 5432, DatabaseGroup), "NET021" },
        { "other subnet", Rule("tcp", 5432, 5432, "10.0.4.0/24"), "NET012" },
        { "other port", Rule("tcp", 3306, 3306, "10.0.0.0/16"), "NET012" },
        { "udp", Rule("udp", 5432, 5432, "10.0.0.0/16"), "NET012" },
        { "other group", Rule("tcp", 5432, 5432, OtherGroup), "NET012" },
        { "prefix list", Rule("tcp", 5432, 5432, "pl-0a1b2c3d"), "NET019" },
    };

    [Theory]
    [MemberData(nameof(DatabaseEgressRules))]
    public void Analyze_DatabaseEgressRule_MatchedByProtocolPortAndAddress(string name, string rule, string code)
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [rule, Rule("tcp", 443, 443, EndpointGroup)]), DatabaseFromFunction, EndpointFromVpc),
        };

        var findings = Analyze(scenario);

        Assert.True(findings.Count == 1 && findings[0].Code == code, $"{name}: got {string.Join(", ", findings.Select(f => f.Code))}");
    }

    // Ingress to the database by the function's subnets: every subnet the function runs in must be covered.
    public static TheoryData<string, string, string> DatabaseIngressRules => new()
    {
        { "VPC CIDR", Rule("tcp", 5432, 5432, "10.0.0.0/16"), "NET021" },
        { "both subnets", Rule("tcp", 5432, 5432, "10.0.1.0/24", "10.0.2.0/24"), "NET021" },
        { "one subnet of two", Rule("tcp", 5432, 5432, "10.0.1.0/24"), "NET013" },
        { "anywhere", Rule("tcp", 5432, 5432, "0.0.0.0/0"), "NET021" },
        { "ipv6 only", Rule("tcp", 5432, 5432, "::/0"), "NET013" },
    };

    [Theory]
    [MemberData(nameof(DatabaseIngressRules))]
    public void Analyze_DatabaseIngressByAddress_EverySubnetCovered(string name, string rule, string code)
    {
        var scenario = Healthy() with { SecurityGroups = SecurityGroups(FunctionEgressAll, Group(DatabaseGroup, [rule], []), EndpointFromVpc) };

        var findings = Analyze(scenario);

        Assert.True(findings.Count == 1 && findings[0].Code == code, $"{name}: got {string.Join(", ", findings.Select(f => $"{f.Code} {f.Evidence}"))}");
        if (name == "one subnet of two")
        {
            Assert.Contains("10.0.2.0/24 is not covered", findings[0].Evidence, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Analyze_IngressByAddressWithoutTheSubnetDocument_CantBeVerified()
    {
        var scenario = Healthy() with { SecurityGroups = SecurityGroups(FunctionEgressAll, Group(DatabaseGroup, [Rule("tcp", 5432, 5432, "10.0.0.0/16")], []), EndpointFromVpc), Subnets = null };

        var findings = Analyze(scenario);

        Assert.All(findings, f => Assert.Equal("NET019", f.Code));
        Assert.Contains(findings, f => f.Title.Contains("the database's ingress", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyze_DatabaseGroupNotDescribed_CantBeVerified()
    {
        var scenario = Healthy() with { SecurityGroups = SecurityGroups(FunctionEgressAll, EndpointFromVpc) };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET019", finding.Code);
        Assert.Contains(DatabaseGroup, finding.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_FunctionGroupNotDescribed_NothingClaimedDenied()
    {
        var scenario = Healthy() with { SecurityGroups = SecurityGroups(DatabaseFromFunction, EndpointFromVpc) };

        var findings = Analyze(scenario);

        Assert.All(findings, f => Assert.Equal("NET019", f.Code));
        Assert.Contains(findings, f => f.Title.Contains($"the function's security group {FunctionGroup}", StringComparison.Ordinal));
    }

    [Fact]
    public void Analyze_DatabaseWithoutAddressOrGroups_SaysWhatIsMissing()
    {
        var scenario = Healthy() with { Addresses = [], DatabaseGroups = false };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET019", finding.Code);
        Assert.Contains("neither the database's addresses nor its security groups", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_DatabaseAddressOnly_EgressCheckedIngressNot()
    {
        var scenario = Healthy() with { DatabaseGroups = false };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET019", finding.Code);
        Assert.Contains("the database's security groups were not given", finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_DatabaseInAnotherVpc_Warns()
    {
        var scenario = Healthy() with { Rds = DatabaseInstance.Replace($"<VpcId>{Vpc}</VpcId>", "<VpcId>vpc-0999999999999999a</VpcId>", StringComparison.Ordinal) };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET020", finding.Code);
        Assert.Equal(Severity.Warning, finding.Severity);
    }

    [Fact]
    public void Analyze_FunctionOutsideAnyVpc_OnlyInternetReachabilityMatters()
    {
        var scenario = Healthy() with { Function = FunctionWithoutVpc, Addresses = ["52.4.100.17"], Rds = PublicDatabaseInstance };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Equal("NET010", finding.Code);
        Assert.Equal(Severity.Info, finding.Severity);
    }

    [Fact]
    public void Analyze_FunctionOutsideAnyVpcWithAPrivateDatabase_CantReachIt()
    {
        var finding = Assert.Single(Analyze(Healthy() with { Function = FunctionWithoutVpc }));

        Assert.Equal("NET011", finding.Code);
        Assert.Equal(Severity.Error, finding.Severity);
        Assert.Contains(DatabaseAddress, finding.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_SeveralThingsBroken_EachReported()
    {
        var scenario = Healthy() with
        {
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 443, 443, "0.0.0.0/0")]), Group(DatabaseGroup, [], [])),
            Endpoints = VpcEndpoints(),
        };

        var codes = Analyze(scenario).Select(f => f.Code).Order(StringComparer.Ordinal);

        Assert.Equal(["NET012", "NET013", "NET015"], codes);
    }

    [Fact]
    public void Analyze_FindingsFitTheDoctorsSnapshot()
    {
        var findings = Analyze(Healthy() with { Endpoints = VpcEndpoints() });
        var snapshot = new RotationSnapshot
        {
            SecretArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prd-db-AbCdEf",
            Name = "prd-db",
            Now = DateTimeOffset.UnixEpoch,
            Versions = [new VersionSnapshot("c", ["AWSCURRENT"], DateTimeOffset.UnixEpoch, true)],
            Probes = new Dictionary<string, ProbeSummary> { ["c"] = new(ProbeOutcome.Ok, "ok", null, TimeSpan.FromMilliseconds(3)) },
            RotationEnabled = true,
            ExternalFindings = findings,
        };

        var diagnosis = RotationDoctor.Diagnose(snapshot);

        Assert.Equal("NET015", diagnosis.Findings[0].Code);
        Assert.False(diagnosis.Healthy);
    }

    private static readonly string PublicDatabaseInstance = DatabaseInstance.Replace("<PubliclyAccessible>false</PubliclyAccessible>", "<PubliclyAccessible>true</PubliclyAccessible>", StringComparison.Ordinal);

    // Issue 11's false alarms, each as the analyzer now reads it (every one of these came out as the error or info shown in the name's "not").
    private static readonly Dictionary<string, (Func<Scenario> Scenario, string Codes)> FalseAlarmCases = new()
    {
        ["a CIDR egress rule to the database's subnet holds although its name resolved here to a public address, not NET012"] = (() => Healthy() with
        {
            Addresses = ["52.4.100.17"],
            Rds = PublicDatabaseInstance,
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 5432, 5432, "10.0.3.0/24"), Rule("tcp", 443, 443, EndpointGroup)]), DatabaseFromFunction, EndpointFromVpc),
        }, "NET021"),
        ["a CIDR egress rule to another subnet is still missing when the name resolved here to a public address"] = (() => Healthy() with
        {
            Addresses = ["52.4.100.17"],
            Rds = PublicDatabaseInstance,
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 5432, 5432, "10.0.4.0/24"), Rule("tcp", 443, 443, EndpointGroup)]), DatabaseFromFunction, EndpointFromVpc),
        }, "NET012"),
        ["a function outside any VPC is an error when RDS says the database is private, even when its name didn't resolve here, not NET010 info"] = (() => Healthy() with
        {
            Function = FunctionWithoutVpc,
            Addresses = [],
        }, "NET011"),
        ["a function outside any VPC is only info for a publicly accessible database"] = (() => Healthy() with
        {
            Function = FunctionWithoutVpc,
            Addresses = [],
            Rds = PublicDatabaseInstance,
        }, "NET010"),
        ["unread VPC endpoints leave a subnet without a NAT route unverified, not without a way to Secrets Manager"] = (() => Healthy() with
        {
            Endpoints = VpcEndpoints(),
            Unread = [AwsNetworkAnalyzer.DescribeVpcEndpoints],
        }, "NET019, NET019"),
        ["unread security groups leave every rule unverified, none denied"] = (() => Healthy() with
        {
            SecurityGroups = SecurityGroups(),
            Unread = [AwsNetworkAnalyzer.DescribeSecurityGroups],
        }, "NET019, NET019, NET019, NET019, NET019"),
    };

    public static TheoryData<string> FalseAlarms => new(FalseAlarmCases.Keys);

    [Theory]
    [MemberData(nameof(FalseAlarms))]
    public void Analyze_WhatWasAFalseAlarm(string name)
    {
        var (scenario, codes) = FalseAlarmCases[name];

        var findings = Analyze(scenario());

        var got = string.Join(", ", findings.Select(f => f.Code).Order(StringComparer.Ordinal));
        Assert.True(codes == got, $"{name}: got {string.Join(" | ", findings.Select(f => $"{f.Code} {f.Title}: {f.Evidence}"))}");
    }

    [Fact]
    public void Analyze_EndpointWithPrivateDnsOffAndNoNat_TitleNamesTheEndpointNotItsAbsence()
    {
        var scenario = Healthy() with { Endpoints = VpcEndpoints(Endpoint(EndpointId, "com.amazonaws.us-east-1.secretsmanager", privateDns: false)) };

        var noWay = Analyze(scenario).Single(f => f.Code == "NET015");

        Assert.DoesNotContain("no VPC endpoint", noWay.Title, StringComparison.Ordinal);
        Assert.Contains("the VPC endpoint has private DNS off", noWay.Title, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_PublicAddressResolvedHere_IsNotCheckedAgainstTheRulesAndSaysWhy()
    {
        var scenario = Healthy() with
        {
            Addresses = ["52.4.100.17"],
            Rds = PublicDatabaseInstance,
            SecurityGroups = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 5432, 5432, "10.0.4.0/24"), Rule("tcp", 443, 443, EndpointGroup)]), DatabaseFromFunction, EndpointFromVpc),
        };

        var finding = Assert.Single(Analyze(scenario));

        Assert.Contains($"in {DatabaseSubnet}", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("10.0.3.0/24 is not covered", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("resolved here to 52.4.100.17", finding.Evidence, StringComparison.Ordinal);
    }

    /// <summary>The healthy setting: egress to all, the database admits the function's group, a secretsmanager endpoint with private DNS, no NAT.</summary>
    private static Scenario Healthy() =>
        new(FunctionInVpc, SecurityGroupsHealthy, RouteTablesLocalOnly, SecretsManagerEndpoint, NatGateways(), Subnets, DatabaseInstance, [DatabaseAddress], DatabaseGroups: true);

    private static IReadOnlyList<Finding> Analyze(Scenario s)
    {
        var database = Assert.Single(AwsNetworkDocuments.ParseDbInstances(s.Rds)) with { Addresses = s.Addresses };
        if (!s.DatabaseGroups)
        {
            // RDS not read: neither its groups nor its subnets are known.
            database = database with { SecurityGroupIds = [], SubnetIds = [] };
        }

        var inputs = new AwsNetworkInputs(
            AwsNetworkDocuments.ParseFunctionConfiguration(s.Function),
            database,
            AwsNetworkDocuments.ParseSecurityGroups(s.SecurityGroups),
            AwsNetworkDocuments.ParseRouteTables(s.RouteTables),
            AwsNetworkDocuments.ParseVpcEndpoints(s.Endpoints),
            AwsNetworkDocuments.ParseNatGateways(s.Nats))
        {
            Subnets = s.Subnets is null ? [] : AwsNetworkDocuments.ParseSubnets(s.Subnets),
            Unread = (s.Unread ?? []).ToHashSet(StringComparer.Ordinal),
        };
        return AwsNetworkAnalyzer.Analyze(inputs);
    }

    private sealed record Scenario(
        string Function,
        string SecurityGroups,
        string RouteTables,
        string Endpoints,
        string Nats,
        string? Subnets,
        string Rds,
        string[] Addresses,
        bool DatabaseGroups,
        string[]? Unread = null);
}
