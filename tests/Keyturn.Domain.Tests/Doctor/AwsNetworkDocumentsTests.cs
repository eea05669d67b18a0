using Keyturn.Domain.Doctor;
using static Keyturn.Domain.Tests.Doctor.AwsRecordedDocuments;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>Reading recorded AWS answers: EC2's query-protocol XML, the CLI's JSON of the same answers, Lambda's and RDS's shapes.</summary>
public sealed class AwsNetworkDocumentsTests
{
    [Fact]
    public void ParseFunctionConfiguration_InVpc_PlacementTimeoutEndpointAndRegion()
    {
        var function = AwsNetworkDocuments.ParseFunctionConfiguration(FunctionInVpc);

        Assert.Equal("SecretsManagerprd-db-rotation", function.FunctionName);
        Assert.True(function.InVpc);
        Assert.Equal(Vpc, function.VpcId);
        Assert.Equal([SubnetA, SubnetB], function.SubnetIds);
        Assert.Equal([FunctionGroup], function.SecurityGroupIds);
        Assert.Equal(30, function.TimeoutSeconds);
        Assert.Equal("https://secretsmanager.us-east-1.amazonaws.com", function.SecretsManagerEndpoint);
        Assert.Equal("us-east-1", function.Region);
    }

    [Theory]
    [InlineData(FunctionWithoutVpc)]
    [InlineData("""{ "FunctionName": "rotator", "Runtime": "python3.12" }""")]
    [InlineData("""{ "FunctionName": "rotator", "VpcConfig": null }""")]
    public void ParseFunctionConfiguration_NoVpc_NotInVpc(string json)
    {
        var function = AwsNetworkDocuments.ParseFunctionConfiguration(json);

        Assert.False(function.InVpc);
        Assert.Null(function.VpcId);
        Assert.Empty(function.SubnetIds);
        Assert.Null(function.SecretsManagerEndpoint);
    }

    [Theory]
    [InlineData("""{ "Type": "User", "message": "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope" }""", "Function not found")]
    [InlineData("""{ "Runtime": "python3.12" }""", "FunctionName")]
    [InlineData("not json", "neither XML nor valid JSON")]
    public void ParseFunctionConfiguration_NotAnAnswer_FormatException(string json, string message)
    {
        var error = Assert.Throws<FormatException>(() => AwsNetworkDocuments.ParseFunctionConfiguration(json));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseSecurityGroups_Ec2Xml_RulesWithProtocolsPortsAndPeers()
    {
        var groups = AwsNetworkDocuments.ParseSecurityGroups(SecurityGroupsHealthy);

        Assert.Equal([FunctionGroup, DatabaseGroup, EndpointGroup], groups.Select(g => g.GroupId));
        Assert.All(groups, g => Assert.Equal(Vpc, g.VpcId));

        var function = groups[0];
        Assert.Empty(function.Ingress);
        var egress = Assert.Single(function.Egress);
        Assert.Equal("-1", egress.Protocol);
        Assert.Null(egress.FromPort);
        Assert.Equal(["0.0.0.0/0"], egress.Ipv4Ranges);
        Assert.True(egress.AllowsTcpPort(5432));

        var ingress = Assert.Single(groups[1].Ingress);
        Assert.Equal(("tcp", 5432, 5432), (ingress.Protocol, ingress.FromPort, ingress.ToPort));
        Assert.Equal([FunctionGroup], ingress.GroupIds);
        Assert.Empty(ingress.Ipv4Ranges);
        Assert.True(ingress.AllowsTcpPort(5432));
        Assert.False(ingress.AllowsTcpPort(5433));

        Assert.Equal(["10.0.0.0/16"], Assert.Single(groups[2].Ingress).Ipv4Ranges);
        Assert.Empty(groups[2].Egress);
    }

    [Fact]
    public void ParseSecurityGroups_CliJson_SameAsTheXml()
    {
        const string json = """
            {
                "SecurityGroups": [
                    {
                        "Description": "Secrets Manager rotation function",
                        "GroupName": "rotation-lambda",
                        "IpPermissions": [],
                        "OwnerId": "123456789012",
                        "GroupId": "sg-0f00f00f00f00f00f",
                        "IpPermissionsEgress": [
                            { "IpProtocol": "-1", "IpRanges": [{ "CidrIp": "0.0.0.0/0" }], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": [] }
                        ],
                        "VpcId": "vpc-0a1b2c3d4e5f60718"
                    },
                    {
                        "GroupId": "sg-0db0db0db0db0db0d",
                        "IpPermissions": [
                            {
                                "FromPort": 5432,
                                "IpProtocol": "tcp",
                                "IpRanges": [],
                                "Ipv6Ranges": [],
                                "PrefixListIds": [],
                                "ToPort": 5432,
                                "UserIdGroupPairs": [{ "Description": "rotation function", "GroupId": "sg-0f00f00f00f00f00f", "UserId": "123456789012" }]
                            }
                        ],
                        "IpPermissionsEgress": [
                            { "IpProtocol": "-1", "IpRanges": [{ "CidrIp": "0.0.0.0/0" }], "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": [] }
                        ],
                        "VpcId": "vpc-0a1b2c3d4e5f60718"
                    },
                    {
                        "GroupId": "sg-0e0e0e0e0e0e0e0e0",
                        "IpPermissions": [
                            { "FromPort": 443, "IpProtocol": "tcp", "IpRanges": [{ "CidrIp": "10.0.0.0/16", "Description": "VPC" }], "ToPort": 443, "UserIdGroupPairs": [] }
                        ],
                        "IpPermissionsEgress": [],
                        "VpcId": "vpc-0a1b2c3d4e5f60718"
                    }
                ]
            }
            """;

        Assert.Equal(Describe(AwsNetworkDocuments.ParseSecurityGroups(SecurityGroupsHealthy)), Describe(AwsNetworkDocuments.ParseSecurityGroups(json)));
    }

    [Fact]
    public void ParseSecurityGroups_Ipv6AndPrefixListPeers_Kept()
    {
        var xml = SecurityGroups(Group(FunctionGroup, [], [Rule("tcp", 443, 443, "::/0", "pl-0a1b2c3d"), Rule("udp", 53, 53, "10.0.0.2/32")]));

        var egress = Assert.Single(AwsNetworkDocuments.ParseSecurityGroups(xml)).Egress;

        Assert.Equal(["::/0"], egress[0].Ipv6Ranges);
        Assert.Equal(["pl-0a1b2c3d"], egress[0].PrefixListIds);
        Assert.False(egress[1].AllowsTcpPort(53));
    }

    [Fact]
    public void ParseRouteTables_MainTableAndExplicitAssociations()
    {
        var main = Assert.Single(AwsNetworkDocuments.ParseRouteTables(RouteTablesLocalOnly));
        Assert.Equal("rtb-0d1e2f3a4b5c6d7e8", main.RouteTableId);
        Assert.True(main.Main);
        Assert.Empty(main.SubnetIds);
        var local = Assert.Single(main.Routes);
        Assert.Equal(("10.0.0.0/16", "local", "active"), (local.DestinationCidr, local.Target, local.State));

        var tables = AwsNetworkDocuments.ParseRouteTables(RouteTables(Table("rtb-0private", main: false, [SubnetA, SubnetB], $"0.0.0.0/0→{NatId}", "0.0.0.0/0→tgw-0dead!")));
        var table = Assert.Single(tables);
        Assert.False(table.Main);
        Assert.Equal([SubnetA, SubnetB], table.SubnetIds);
        Assert.Equal([NatId, "tgw-0dead"], table.Routes.Where(r => r.IsDefaultRoute).Select(r => r.Target));
        Assert.True(table.Routes[^1].IsBlackhole);
    }

    [Fact]
    public void ParseRouteTables_CliJson_NatRoute()
    {
        const string json = """
            {
                "RouteTables": [
                    {
                        "Associations": [
                            { "Main": false, "RouteTableAssociationId": "rtbassoc-0a", "RouteTableId": "rtb-0private", "SubnetId": "subnet-0aaa1111aaaa1111a", "AssociationState": { "State": "associated" } }
                        ],
                        "PropagatingVgws": [],
                        "RouteTableId": "rtb-0private",
                        "Routes": [
                            { "DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active" },
                            { "DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0a0b0c0d0e0f01234", "Origin": "CreateRoute", "State": "active" }
                        ],
                        "Tags": [],
                        "VpcId": "vpc-0a1b2c3d4e5f60718",
                        "OwnerId": "123456789012"
                    }
                ]
            }
            """;

        var table = Assert.Single(AwsNetworkDocuments.ParseRouteTables(json));

        Assert.Equal([SubnetA], table.SubnetIds);
        Assert.Equal(NatId, table.Routes.Single(r => r.IsDefaultRoute).Target);
    }

    [Fact]
    public void ParseVpcEndpoints_InterfaceEndpointWithPrivateDns()
    {
        var endpoint = Assert.Single(AwsNetworkDocuments.ParseVpcEndpoints(SecretsManagerEndpoint));

        Assert.Equal(EndpointId, endpoint.VpcEndpointId);
        Assert.Equal(Vpc, endpoint.VpcId);
        Assert.Equal("com.amazonaws.us-east-1.secretsmanager", endpoint.ServiceName);
        Assert.Equal("Interface", endpoint.Type);
        Assert.Equal("available", endpoint.State);
        Assert.True(endpoint.PrivateDnsEnabled);
        Assert.Equal([SubnetA, SubnetB], endpoint.SubnetIds);
        Assert.Equal([EndpointGroup], endpoint.SecurityGroupIds);
        Assert.Equal(2, endpoint.DnsNames.Count);
    }

    [Fact]
    public void ParseNatGatewaysAndSubnets_Ec2Xml()
    {
        var nat = Assert.Single(AwsNetworkDocuments.ParseNatGateways(NatGatewayAvailable));
        var subnets = AwsNetworkDocuments.ParseSubnets(Subnets);

        Assert.Equal((NatId, Vpc, "subnet-0ddd4444dddd4444d", "available", "public"), (nat.NatGatewayId, nat.VpcId, nat.SubnetId, nat.State, nat.ConnectivityType));
        Assert.Equal(["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"], subnets.Select(s => s.CidrBlock));
        Assert.Equal("us-east-1b", subnets[1].AvailabilityZone);
        Assert.Empty(AwsNetworkDocuments.ParseNatGateways(NatGateways()));
    }

    [Fact]
    public void ParseDbInstances_RdsXml_EndpointPortGroupsAndVpc()
    {
        var database = Assert.Single(AwsNetworkDocuments.ParseDbInstances(DatabaseInstance));

        Assert.Equal("prd-db.c9akciq32.us-east-1.rds.amazonaws.com", database.Host);
        Assert.Equal(5432, database.Port);
        Assert.Equal([DatabaseGroup], database.SecurityGroupIds);
        Assert.Equal(Vpc, database.VpcId);
        Assert.Empty(database.Addresses);
    }

    [Fact]
    public void ParseDbInstances_CliJson()
    {
        const string json = """
            {
                "DBInstances": [
                    {
                        "DBInstanceIdentifier": "prd-db",
                        "Engine": "mysql",
                        "Endpoint": { "Address": "prd-db.c9akciq32.us-east-1.rds.amazonaws.com", "Port": 3306, "HostedZoneId": "Z2R2ITUGPM61AM" },
                        "VpcSecurityGroups": [{ "VpcSecurityGroupId": "sg-0db0db0db0db0db0d", "Status": "active" }],
                        "DBSubnetGroup": { "DBSubnetGroupName": "prd-db-subnets", "VpcId": "vpc-0a1b2c3d4e5f60718", "SubnetGroupStatus": "Complete" }
                    }
                ]
            }
            """;

        var database = Assert.Single(AwsNetworkDocuments.ParseDbInstances(json));

        Assert.Equal((3306, Vpc), (database.Port, database.VpcId));
        Assert.Equal([DatabaseGroup], database.SecurityGroupIds);
    }

    [Fact]
    public void ParseDbClusters_RdsXml_WriterEndpoint()
    {
        const string xml = """
            <DescribeDBClustersResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
              <DescribeDBClustersResult>
                <DBClusters>
                  <DBCluster>
                    <DBClusterIdentifier>prd-db-cluster</DBClusterIdentifier>
                    <Engine>aurora-postgresql</Engine>
                    <Endpoint>prd-db-cluster.cluster-c9akciq32.us-east-1.rds.amazonaws.com</Endpoint>
                    <ReaderEndpoint>prd-db-cluster.cluster-ro-c9akciq32.us-east-1.rds.amazonaws.com</ReaderEndpoint>
                    <Port>5432</Port>
                    <VpcSecurityGroups>
                      <VpcSecurityGroupMembership>
                        <VpcSecurityGroupId>sg-0db0db0db0db0db0d</VpcSecurityGroupId>
                        <Status>active</Status>
                      </VpcSecurityGroupMembership>
                    </VpcSecurityGroups>
                    <DBSubnetGroup>prd-db-subnets</DBSubnetGroup>
                  </DBCluster>
                </DBClusters>
              </DescribeDBClustersResult>
            </DescribeDBClustersResponse>
            """;

        var cluster = Assert.Single(AwsNetworkDocuments.ParseDbClusters(xml));

        Assert.Equal("prd-db-cluster.cluster-c9akciq32.us-east-1.rds.amazonaws.com", cluster.Host);
        Assert.Equal(5432, cluster.Port);
        Assert.Equal([DatabaseGroup], cluster.SecurityGroupIds);
        Assert.Null(cluster.VpcId);
    }

    public static TheoryData<string, string> Errors => new()
    {
        { Ec2Error, "UnauthorizedOperation: You are not authorized to perform this operation." },
        {
            """<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized</Message></Error></ErrorResponse>""",
            "AccessDenied: User is not authorized"
        },
        { "<DescribeSecurityGroupsResponse><securityGroupInfo>", "not valid XML" },
        { """{"__type":"UnauthorizedOperation","message":"denied"}""", "AWS error: denied" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void ParseSecurityGroups_ErrorOrBrokenDocument_FormatException(string document, string message)
    {
        var error = Assert.Throws<FormatException>(() => AwsNetworkDocuments.ParseSecurityGroups(document));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseSecurityGroups_EmptyAnswer_NoGroups()
    {
        Assert.Empty(AwsNetworkDocuments.ParseSecurityGroups("""<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><securityGroupInfo/></DescribeSecurityGroupsResponse>"""));
        Assert.Empty(AwsNetworkDocuments.ParseSecurityGroups("""{ "SecurityGroups": [] }"""));
    }

    private static string Describe(IReadOnlyList<SecurityGroup> groups) =>
        string.Join("\n", groups.Select(g => $"{g.GroupId} {g.VpcId} in[{string.Join("; ", g.Ingress)}] out[{string.Join("; ", g.Egress)}]"));
}
