namespace Keyturn.Domain.Tests.Doctor;

/// <summary>
/// Recorded AWS answers for the network checks, written from the API reference shapes (botocore's
/// ec2 2016-11-15, lambda 2015-03-31 and rds 2014-10-31 models): Lambda GetFunctionConfiguration in
/// JSON, EC2 Describe* in the query protocol's XML, RDS DescribeDBInstances in XML. The setting: a
/// rotation function in two private subnets of vpc-0a1b2c3d4e5f60718, a PostgreSQL instance in a third.
/// </summary>
internal static class AwsRecordedDocuments
{
    public const string Vpc = "vpc-0a1b2c3d4e5f60718";
    public const string SubnetA = "subnet-0aaa1111aaaa1111a";
    public const string SubnetB = "subnet-0bbb2222bbbb2222b";
    public const string DatabaseSubnet = "subnet-0ccc3333cccc3333c";
    public const string FunctionGroup = "sg-0f00f00f00f00f00f";
    public const string DatabaseGroup = "sg-0db0db0db0db0db0d";
    public const string EndpointGroup = "sg-0e0e0e0e0e0e0e0e0";
    public const string OtherGroup = "sg-0123456789abcdef0";
    public const string EndpointId = "vpce-0e1e1e1e1e1e1e1e1";
    public const string NatId = "nat-0a0b0c0d0e0f01234";
    public const string DatabaseAddress = "10.0.3.15";

    private const string Ec2Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

    /// <summary>GetFunctionConfiguration of the rotation function, attached to the VPC.</summary>
    public const string FunctionInVpc = """
        {
          "FunctionName": "SecretsManagerprd-db-rotation",
          "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerprd-db-rotation",
          "Runtime": "python3.12",
          "Role": "arn:aws:iam::123456789012:role/SecretsManagerRDSPostgreSQLRotationSingleUserRole",
          "Handler": "lambda_function.lambda_handler",
          "CodeSize": 1571296,
          "Description": "Conducts an AWS SecretsManager secret rotation for RDS PostgreSQL using single user rotation scheme",
          "Timeout": 30,
          "MemorySize": 128,
          "LastModified": "2022-03-28T02:30:11.000+0000",
          "CodeSha256": "q8HrC0Qk2mW5x7g9bRr1S0dJx8vYQYy4xv3m2k8l2mA=",
          "Version": "$LATEST",
          "VpcConfig": {
            "SubnetIds": ["subnet-0aaa1111aaaa1111a", "subnet-0bbb2222bbbb2222b"],
            "SecurityGroupIds": ["sg-0f00f00f00f00f00f"],
            "VpcId": "vpc-0a1b2c3d4e5f60718",
            "Ipv6AllowedForDualStack": false
          },
          "Environment": {
            "Variables": {
              "SECRETS_MANAGER_ENDPOINT": "https://secretsmanager.us-east-1.amazonaws.com",
              "EXCLUDE_CHARACTERS": "/@\"'\\"
            }
          },
          "TracingConfig": { "Mode": "PassThrough" },
          "RevisionId": "0f3a8a7e-3c1a-4b8e-9a37-0d0b9c6e2f51",
          "State": "Active",
          "LastUpdateStatus": "Successful",
          "PackageType": "Zip",
          "Architectures": ["x86_64"],
          "EphemeralStorage": { "Size": 512 },
          "SnapStart": { "ApplyOn": "None", "OptimizationStatus": "Off" },
          "LoggingConfig": { "LogFormat": "Text", "LogGroup": "/aws/lambda/SecretsManagerprd-db-rotation" }
        }
        """;

    /// <summary>The same function outside any VPC: Lambda answers with empty lists and an empty VpcId.</summary>
    public const string FunctionWithoutVpc = """
        {
          "FunctionName": "SecretsManagerprd-db-rotation",
          "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:SecretsManagerprd-db-rotation",
          "Runtime": "python3.12",
          "Timeout": 30,
          "VpcConfig": { "SubnetIds": [], "SecurityGroupIds": [], "VpcId": "" },
          "State": "Active"
        }
        """;

    /// <summary>DescribeSecurityGroups as EC2 answers it, with the three groups of the healthy setting.</summary>
    public const string SecurityGroupsHealthy = """
        <?xml version="1.0" encoding="UTF-8"?>
        <DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
            <requestId>3be1508e-c444-4fef-89cc-0b1223c4f02fEXAMPLE</requestId>
            <securityGroupInfo>
                <item>
                    <ownerId>123456789012</ownerId>
                    <groupId>sg-0f00f00f00f00f00f</groupId>
                    <groupName>rotation-lambda</groupName>
                    <groupDescription>Secrets Manager rotation function</groupDescription>
                    <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
                    <ipPermissions/>
                    <ipPermissionsEgress>
                        <item>
                            <ipProtocol>-1</ipProtocol>
                            <groups/>
                            <ipRanges>
                                <item>
                                    <cidrIp>0.0.0.0/0</cidrIp>
                                </item>
                            </ipRanges>
                            <ipv6Ranges/>
                            <prefixListIds/>
                        </item>
                    </ipPermissionsEgress>
                    <securityGroupArn>arn:aws:ec2:us-east-1:123456789012:security-group/sg-0f00f00f00f00f00f</securityGroupArn>
                </item>
                <item>
                    <ownerId>123456789012</ownerId>
                    <groupId>sg-0db0db0db0db0db0d</groupId>
                    <groupName>prd-db</groupName>
                    <groupDescription>PostgreSQL</groupDescription>
                    <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
                    <ipPermissions>
                        <item>
                            <ipProtocol>tcp</ipProtocol>
                            <fromPort>5432</fromPort>
                            <toPort>5432</toPort>
                            <groups>
                                <item>
                                    <userId>123456789012</userId>
                                    <groupId>sg-0f00f00f00f00f00f</groupId>
                                    <description>rotation function</description>
                                </item>
                            </groups>
                            <ipRanges/>
                            <ipv6Ranges/>
                            <prefixListIds/>
                        </item>
                    </ipPermissions>
                    <ipPermissionsEgress>
                        <item>
                            <ipProtocol>-1</ipProtocol>
                            <groups/>
                            <ipRanges>
                                <item>
                                    <cidrIp>0.0.0.0/0</cidrIp>
                                </item>
                            </ipRanges>
                            <ipv6Ranges/>
                            <prefixListIds/>
                        </item>
                    </ipPermissionsEgress>
                    <tagSet>
                        <item>
                            <key>Name</key>
                            <value>prd-db</value>
                        </item>
                    </tagSet>
                </item>
                <item>
                    <ownerId>123456789012</ownerId>
                    <groupId>sg-0e0e0e0e0e0e0e0e0</groupId>
                    <groupName>secretsmanager-endpoint</groupName>
                    <groupDescription>Interface endpoint</groupDescription>
                    <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
                    <ipPermissions>
                        <item>
                            <ipProtocol>tcp</ipProtocol>
                            <fromPort>443</fromPort>
                            <toPort>443</toPort>
                            <groups/>
                            <ipRanges>
                                <item>
                                    <cidrIp>10.0.0.0/16</cidrIp>
                                    <description>VPC</description>
                                </item>
                            </ipRanges>
                            <ipv6Ranges/>
                            <prefixListIds/>
                        </item>
                    </ipPermissions>
                    <ipPermissionsEgress/>
                </item>
            </securityGroupInfo>
        </DescribeSecurityGroupsResponse>
        """;

    /// <summary>DescribeRouteTables: the VPC's main table, local route only (private subnets, no NAT).</summary>
    public const string RouteTablesLocalOnly = """
        <DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
           <requestId>6f570b0b-9c18-4b07-bdec-73740dcf861aEXAMPLE</requestId>
           <routeTableSet>
              <item>
                 <routeTableId>rtb-0d1e2f3a4b5c6d7e8</routeTableId>
                 <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
                 <ownerId>123456789012</ownerId>
                 <routeSet>
                    <item>
                       <destinationCidrBlock>10.0.0.0/16</destinationCidrBlock>
                       <gatewayId>local</gatewayId>
                       <state>active</state>
                       <origin>CreateRouteTable</origin>
                    </item>
                 </routeSet>
                 <associationSet>
                     <item>
                        <routeTableAssociationId>rtbassoc-0fedcba9876543210</routeTableAssociationId>
                        <routeTableId>rtb-0d1e2f3a4b5c6d7e8</routeTableId>
                        <main>true</main>
                        <associationState>
                           <state>associated</state>
                        </associationState>
                     </item>
                 </associationSet>
                 <propagatingVgwSet/>
                 <tagSet/>
              </item>
           </routeTableSet>
        </DescribeRouteTablesResponse>
        """;

    /// <summary>DescribeVpcEndpoints: the secretsmanager interface endpoint, private DNS on.</summary>
    public const string SecretsManagerEndpoint = """
        <DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
            <requestId>19a9ff46-7df6-49b8-9726-3df27527089dEXAMPLE</requestId>
            <vpcEndpointSet>
                <item>
                    <vpcEndpointId>vpce-0e1e1e1e1e1e1e1e1</vpcEndpointId>
                    <vpcEndpointType>Interface</vpcEndpointType>
                    <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
                    <serviceName>com.amazonaws.us-east-1.secretsmanager</serviceName>
                    <state>available</state>
                    <policyDocument>{"Statement":[{"Action":"*","Effect":"Allow","Principal":"*","Resource":"*"}]}</policyDocument>
                    <routeTableIdSet/>
                    <subnetIdSet>
                        <item>subnet-0aaa1111aaaa1111a</item>
                        <item>subnet-0bbb2222bbbb2222b</item>
                    </subnetIdSet>
                    <groupSet>
                        <item>
                            <groupId>sg-0e0e0e0e0e0e0e0e0</groupId>
                            <groupName>secretsmanager-endpoint</groupName>
                        </item>
                    </groupSet>
                    <ipAddressType>ipv4</ipAddressType>
                    <dnsOptions>
                        <dnsRecordIpType>ipv4</dnsRecordIpType>
                    </dnsOptions>
                    <privateDnsEnabled>true</privateDnsEnabled>
                    <requesterManaged>false</requesterManaged>
                    <networkInterfaceIdSet>
                        <item>eni-0a1a1a1a1a1a1a1a1</item>
                        <item>eni-0b2b2b2b2b2b2b2b2</item>
                    </networkInterfaceIdSet>
                    <dnsEntrySet>
                        <item>
                            <dnsName>vpce-0e1e1e1e1e1e1e1e1-4x5y6z7w.secretsmanager.us-east-1.vpce.amazonaws.com</dnsName>
                            <hostedZoneId>Z7HUB22UULQXV</hostedZoneId>
                        </item>
                        <item>
                            <dnsName>secretsmanager.us-east-1.amazonaws.com</dnsName>
                            <hostedZoneId>ZONEIDPRIVATE1</hostedZoneId>
                        </item>
                    </dnsEntrySet>
                    <creationTimestamp>2022-03-28T03:01:12.000Z</creationTimestamp>
                    <ownerId>123456789012</ownerId>
                </item>
            </vpcEndpointSet>
        </DescribeVpcEndpointsResponse>
        """;

    /// <summary>DescribeNatGateways: one available public NAT gateway in a public subnet.</summary>
    public const string NatGatewayAvailable = """
        <DescribeNatGatewaysResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
            <requestId>bfed02c6-dae9-47c0-86a2-example</requestId>
            <natGatewaySet>
                <item>
                    <createTime>2022-03-28T02:10:35.000Z</createTime>
                    <natGatewayAddressSet>
                        <item>
                            <allocationId>eipalloc-0a1b2c3d4e5f60718</allocationId>
                            <networkInterfaceId>eni-0c3c3c3c3c3c3c3c3</networkInterfaceId>
                            <privateIp>10.0.0.12</privateIp>
                            <publicIp>203.0.113.25</publicIp>
                            <isPrimary>true</isPrimary>
                            <status>succeeded</status>
                        </item>
                    </natGatewayAddressSet>
                    <natGatewayId>nat-0a0b0c0d0e0f01234</natGatewayId>
                    <state>available</state>
                    <subnetId>subnet-0ddd4444dddd4444d</subnetId>
                    <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
                    <connectivityType>public</connectivityType>
                </item>
            </natGatewaySet>
        </DescribeNatGatewaysResponse>
        """;

    /// <summary>DescribeSubnets for the function's and the database's subnets.</summary>
    public const string Subnets = """
        <DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
          <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
          <subnetSet>
            <item>
              <subnetId>subnet-0aaa1111aaaa1111a</subnetId>
              <subnetArn>arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0aaa1111aaaa1111a</subnetArn>
              <state>available</state>
              <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
              <cidrBlock>10.0.1.0/24</cidrBlock>
              <availableIpAddressCount>250</availableIpAddressCount>
              <availabilityZone>us-east-1a</availabilityZone>
              <availabilityZoneId>use1-az1</availabilityZoneId>
              <defaultForAz>false</defaultForAz>
              <mapPublicIpOnLaunch>false</mapPublicIpOnLaunch>
            </item>
            <item>
              <subnetId>subnet-0bbb2222bbbb2222b</subnetId>
              <state>available</state>
              <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
              <cidrBlock>10.0.2.0/24</cidrBlock>
              <availabilityZone>us-east-1b</availabilityZone>
              <defaultForAz>false</defaultForAz>
              <mapPublicIpOnLaunch>false</mapPublicIpOnLaunch>
            </item>
            <item>
              <subnetId>subnet-0ccc3333cccc3333c</subnetId>
              <state>available</state>
              <vpcId>vpc-0a1b2c3d4e5f60718</vpcId>
              <cidrBlock>10.0.3.0/24</cidrBlock>
              <availabilityZone>us-east-1a</availabilityZone>
            </item>
          </subnetSet>
        </DescribeSubnetsResponse>
        """;

    /// <summary>RDS DescribeDBInstances for the PostgreSQL instance.</summary>
    public const string DatabaseInstance = """
        <DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">
          <DescribeDBInstancesResult>
            <DBInstances>
              <DBInstance>
                <DBInstanceIdentifier>prd-db</DBInstanceIdentifier>
                <DBInstanceClass>db.t4g.medium</DBInstanceClass>
                <Engine>postgres</Engine>
                <DBInstanceStatus>available</DBInstanceStatus>
                <MasterUsername>postgresAdmin</MasterUsername>
                <Endpoint>
                  <Address>prd-db.c9akciq32.us-east-1.rds.amazonaws.com</Address>
                  <Port>5432</Port>
                  <HostedZoneId>Z2R2ITUGPM61AM</HostedZoneId>
                </Endpoint>
                <VpcSecurityGroups>
                  <VpcSecurityGroupMembership>
                    <VpcSecurityGroupId>sg-0db0db0db0db0db0d</VpcSecurityGroupId>
                    <Status>active</Status>
                  </VpcSecurityGroupMembership>
                </VpcSecurityGroups>
                <DBSubnetGroup>
                  <DBSubnetGroupName>prd-db-subnets</DBSubnetGroupName>
                  <VpcId>vpc-0a1b2c3d4e5f60718</VpcId>
                  <SubnetGroupStatus>Complete</SubnetGroupStatus>
                  <Subnets>
                    <Subnet>
                      <SubnetIdentifier>subnet-0ccc3333cccc3333c</SubnetIdentifier>
                      <SubnetAvailabilityZone><Name>us-east-1a</Name></SubnetAvailabilityZone>
                      <SubnetStatus>Active</SubnetStatus>
                    </Subnet>
                  </Subnets>
                </DBSubnetGroup>
                <PubliclyAccessible>false</PubliclyAccessible>
                <DbInstancePort>0</DbInstancePort>
              </DBInstance>
            </DBInstances>
          </DescribeDBInstancesResult>
          <ResponseMetadata>
            <RequestId>b4fcf1d6-d2b7-4f5d-8f7e-EXAMPLE</RequestId>
          </ResponseMetadata>
        </DescribeDBInstancesResponse>
        """;

    /// <summary>An EC2 error answer (query protocol).</summary>
    public const string Ec2Error = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>ab7ed5e8-EXAMPLE</RequestID></Response>
        """;

    // Builders for the variants: the same shapes as the documents above, assembled from parts.
    public static string SecurityGroups(params string[] groups) =>
        $"""<DescribeSecurityGroupsResponse xmlns="{Ec2Namespace}"><requestId>r-1</requestId><securityGroupInfo>{string.Concat(groups)}</securityGroupInfo></DescribeSecurityGroupsResponse>""";

    public static string Group(string id, string[] ingress, string[] egress) =>
        $"<item><ownerId>123456789012</ownerId><groupId>{id}</groupId><groupName>{id}</groupName><vpcId>{Vpc}</vpcId>"
        + $"<ipPermissions>{string.Concat(ingress)}</ipPermissions><ipPermissionsEgress>{string.Concat(egress)}</ipPermissionsEgress></item>";

    /// <summary>An IpPermission; <paramref name="peers"/> are CIDRs (with a '/'), group ids (sg-) or prefix lists (pl-).</summary>
    public static string Rule(string protocol, int? from, int? to, params string[] peers)
    {
        var ports = from is null ? "" : $"<fromPort>{from}</fromPort><toPort>{to}</toPort>";
        var groups = string.Concat(peers.Where(p => p.StartsWith("sg-", StringComparison.Ordinal)).Select(p => $"<item><userId>123456789012</userId><groupId>{p}</groupId></item>"));
        var v4 = string.Concat(peers.Where(p => p.Contains('/', StringComparison.Ordinal) && !p.Contains(':', StringComparison.Ordinal)).Select(p => $"<item><cidrIp>{p}</cidrIp></item>"));
        var v6 = string.Concat(peers.Where(p => p.Contains(':', StringComparison.Ordinal)).Select(p => $"<item><cidrIpv6>{p}</cidrIpv6></item>"));
        var lists = string.Concat(peers.Where(p => p.StartsWith("pl-", StringComparison.Ordinal)).Select(p => $"<item><prefixListId>{p}</prefixListId></item>"));
        return $"<item><ipProtocol>{protocol}</ipProtocol>{ports}<groups>{groups}</groups><ipRanges>{v4}</ipRanges><ipv6Ranges>{v6}</ipv6Ranges><prefixListIds>{lists}</prefixListIds></item>";
    }

    public static string RouteTables(params string[] tables) =>
        $"""<DescribeRouteTablesResponse xmlns="{Ec2Namespace}"><requestId>r-2</requestId><routeTableSet>{string.Concat(tables)}</routeTableSet></DescribeRouteTablesResponse>""";

    /// <summary>A route table; <paramref name="subnets"/> are explicit associations; routes are "destination→target" ("0.0.0.0/0→nat-…").</summary>
    public static string Table(string id, bool main, string[] subnets, params string[] routes)
    {
        var associations = (main ? [$"<item><routeTableAssociationId>rtbassoc-m{id}</routeTableAssociationId><routeTableId>{id}</routeTableId><main>true</main></item>"] : Array.Empty<string>())
            .Concat(subnets.Select(s => $"<item><routeTableAssociationId>rtbassoc-{s}</routeTableAssociationId><routeTableId>{id}</routeTableId><subnetId>{s}</subnetId><main>false</main></item>"));
        var routeItems = new[] { "10.0.0.0/16→local" }.Concat(routes).Select(r =>
        {
            var (destination, target) = (r.Split('→')[0], r.Split('→')[1]);
            var state = target.EndsWith("!", StringComparison.Ordinal) ? "blackhole" : "active";
            target = target.TrimEnd('!');
            var element = target.StartsWith("nat-", StringComparison.Ordinal) ? "natGatewayId"
                : target.StartsWith("tgw-", StringComparison.Ordinal) ? "transitGatewayId"
                : "gatewayId";
            return $"<item><destinationCidrBlock>{destination}</destinationCidrBlock><{element}>{target}</{element}><state>{state}</state><origin>CreateRoute</origin></item>";
        });
        return $"<item><routeTableId>{id}</routeTableId><vpcId>{Vpc}</vpcId><ownerId>123456789012</ownerId><routeSet>{string.Concat(routeItems)}</routeSet>"
            + $"<associationSet>{string.Concat(associations)}</associationSet><propagatingVgwSet/><tagSet/></item>";
    }

    public static string VpcEndpoints(params string[] endpoints) =>
        $"""<DescribeVpcEndpointsResponse xmlns="{Ec2Namespace}"><requestId>r-3</requestId><vpcEndpointSet>{string.Concat(endpoints)}</vpcEndpointSet></DescribeVpcEndpointsResponse>""";

    public static string Endpoint(string id, string service, bool privateDns, string state = "available", string type = "Interface", string vpc = Vpc) =>
        $"<item><vpcEndpointId>{id}</vpcEndpointId><vpcEndpointType>{type}</vpcEndpointType><vpcId>{vpc}</vpcId><serviceName>{service}</serviceName><state>{state}</state>"
        + $"<routeTableIdSet/><subnetIdSet><item>{SubnetA}</item><item>{SubnetB}</item></subnetIdSet>"
        + $"<groupSet><item><groupId>{EndpointGroup}</groupId><groupName>secretsmanager-endpoint</groupName></item></groupSet>"
        + $"<privateDnsEnabled>{(privateDns ? "true" : "false")}</privateDnsEnabled><requesterManaged>false</requesterManaged>"
        + $"<dnsEntrySet><item><dnsName>{id}-4x5y6z7w.secretsmanager.us-east-1.vpce.amazonaws.com</dnsName><hostedZoneId>Z7HUB22UULQXV</hostedZoneId></item></dnsEntrySet>"
        + "<ownerId>123456789012</ownerId></item>";

    public static string NatGateways(params string[] gateways) =>
        $"""<DescribeNatGatewaysResponse xmlns="{Ec2Namespace}"><requestId>r-4</requestId><natGatewaySet>{string.Concat(gateways)}</natGatewaySet></DescribeNatGatewaysResponse>""";

    public static string Nat(string id, string state, string connectivity = "public") =>
        $"<item><createTime>2022-03-28T02:10:35.000Z</createTime><natGatewayId>{id}</natGatewayId><state>{state}</state>"
        + $"<subnetId>subnet-0ddd4444dddd4444d</subnetId><vpcId>{Vpc}</vpcId><connectivityType>{connectivity}</connectivityType></item>";
}
