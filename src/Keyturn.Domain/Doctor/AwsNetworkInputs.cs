namespace Keyturn.Domain.Doctor;

/// <summary>
/// What the AWS network checks read: the rotation function's VPC placement, the database's address and
/// security groups, and the EC2 documents describing the groups, route tables, NAT gateways, VPC
/// endpoints and subnets involved (see <see cref="AwsNetworkDocuments"/> for parsing the recorded answers).
/// </summary>
public sealed record AwsNetworkInputs(
    FunctionNetwork Function,
    DatabaseNetwork Database,
    IReadOnlyList<SecurityGroup> SecurityGroups,
    IReadOnlyList<RouteTable> RouteTables,
    IReadOnlyList<VpcEndpoint> VpcEndpoints,
    IReadOnlyList<NatGateway> NatGateways)
{
    /// <summary>The function's (and the endpoints') subnets, for their CIDR blocks; without them only group references and /0 rules prove a path.</summary>
    public IReadOnlyList<Subnet> Subnets { get; init; } = [];

    /// <summary>
    /// The reads that failed (<c>ec2:DescribeVpcEndpoints</c>, …): their documents are empty because they are unknown, not because
    /// nothing exists, so what they would have shown is reported as unverified rather than missing.
    /// </summary>
    public IReadOnlySet<string> Unread { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}

/// <summary>A Lambda function's network placement (GetFunctionConfiguration's <c>VpcConfig</c>).</summary>
/// <param name="SecretsManagerEndpoint">The <c>SECRETS_MANAGER_ENDPOINT</c> environment variable the AWS templates honour, if set.</param>
/// <param name="Region">The function's region (from its ARN), for naming the endpoint service.</param>
public sealed record FunctionNetwork(
    string FunctionName,
    string? VpcId,
    IReadOnlyList<string> SubnetIds,
    IReadOnlyList<string> SecurityGroupIds,
    int? TimeoutSeconds = null,
    string? SecretsManagerEndpoint = null,
    string? Region = null)
{
    public bool InVpc => !string.IsNullOrEmpty(VpcId) && SubnetIds.Count > 0;

    /// <summary>Lambda's <c>State</c> (Pending, Active, Inactive, Failed) and <c>StateReason</c>; a Failed function can't be invoked.</summary>
    public string? State { get; init; }

    public string? StateReason { get; init; }
}

/// <summary>
/// The database as the function sees it. <paramref name="Addresses"/> are the host's IPs as the doctor resolved them:
/// inside the VPC an RDS name resolves to its private address, outside it a publicly accessible one resolves to a public
/// address the function never uses. <paramref name="SecurityGroupIds"/> come from RDS DescribeDBInstances' <c>VpcSecurityGroups</c>.
/// Either may be empty, not both, for the checks to say much.
/// </summary>
public sealed record DatabaseNetwork(string Host, int Port, IReadOnlyList<string> Addresses, IReadOnlyList<string> SecurityGroupIds, string? VpcId = null)
{
    /// <summary>The DB subnet group's subnets (RDS <c>DBSubnetGroup.Subnets</c>): the instance's private address lies in one of them.</summary>
    public IReadOnlyList<string> SubnetIds { get; init; } = [];

    /// <summary>RDS <c>PubliclyAccessible</c>; null when not an RDS database or not read.</summary>
    public bool? PubliclyAccessible { get; init; }

    /// <summary>An RDS instance or cluster in a VPC: from inside it, its name resolves to a private address whatever it resolves to elsewhere.</summary>
    public bool InVpc => !string.IsNullOrEmpty(VpcId) || SubnetIds.Count > 0 || Host.EndsWith(".rds.amazonaws.com", StringComparison.OrdinalIgnoreCase)
        || Host.EndsWith(".rds.amazonaws.com.cn", StringComparison.OrdinalIgnoreCase);
}

public sealed record SecurityGroup(string GroupId, string? VpcId, IReadOnlyList<SecurityGroupRule> Ingress, IReadOnlyList<SecurityGroupRule> Egress);

/// <summary>One IpPermission: a protocol (<c>-1</c> for all, <c>tcp</c>/<c>6</c>, …), a port range, and the peers it admits.</summary>
public sealed record SecurityGroupRule(
    string Protocol,
    int? FromPort,
    int? ToPort,
    IReadOnlyList<string> Ipv4Ranges,
    IReadOnlyList<string> Ipv6Ranges,
    IReadOnlyList<string> GroupIds,
    IReadOnlyList<string> PrefixListIds)
{
    public bool AllowsTcpPort(int port) => Protocol.ToLowerInvariant() switch
    {
        "-1" or "all" => true,
        "tcp" or "6" => FromPort is not { } from || ToPort is not { } to || (from <= port && port <= to),
        _ => false,
    };

    public override string ToString()
    {
        var what = Protocol == "-1" ? "all traffic" : FromPort == ToPort ? $"{Protocol} {FromPort}" : $"{Protocol} {FromPort}-{ToPort}";
        return $"{what} ({string.Join(", ", Ipv4Ranges.Concat(Ipv6Ranges).Concat(GroupIds).Concat(PrefixListIds))})";
    }
}

/// <summary>A route table with the subnets explicitly associated with it; <paramref name="Main"/> when it is its VPC's main table.</summary>
public sealed record RouteTable(string RouteTableId, string? VpcId, bool Main, IReadOnlyList<string> SubnetIds, IReadOnlyList<Route> Routes);

/// <summary>One route; <paramref name="Target"/> is the id it points at (<c>local</c>, <c>nat-…</c>, <c>igw-…</c>, <c>tgw-…</c>, <c>eni-…</c>, …).</summary>
public sealed record Route(string? DestinationCidr, string? DestinationPrefixListId, string? Target, string? State)
{
    public bool IsDefaultRoute => DestinationCidr is "0.0.0.0/0" or "::/0";

    public bool IsBlackhole => string.Equals(State, "blackhole", StringComparison.OrdinalIgnoreCase);
}

public sealed record VpcEndpoint(
    string VpcEndpointId,
    string? VpcId,
    string ServiceName,
    string Type,
    string State,
    bool PrivateDnsEnabled,
    IReadOnlyList<string> SubnetIds,
    IReadOnlyList<string> SecurityGroupIds,
    IReadOnlyList<string> DnsNames);

/// <summary>A NAT gateway; <paramref name="ConnectivityType"/> <c>private</c> ones can't reach the internet.</summary>
public sealed record NatGateway(string NatGatewayId, string? VpcId, string? SubnetId, string State, string? ConnectivityType);

public sealed record Subnet(string SubnetId, string? VpcId, string? CidrBlock, string? AvailabilityZone);
