using System.Globalization;
using System.Text.Json;
using System.Xml;
using System.Xml.Linq;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// Reads recorded AWS answers into <see cref="AwsNetworkInputs"/> parts, without an SDK: Lambda
/// GetFunctionConfiguration (JSON), EC2 Describe* (the query protocol's XML, or the same answers as the
/// AWS CLI prints them in JSON) and RDS DescribeDBInstances/DescribeDBClusters (XML or CLI JSON).
/// Each takes one page; concatenate the results of several. An AWS error document is a <see cref="FormatException"/>.
/// </summary>
public static class AwsNetworkDocuments
{
    public static FunctionNetwork ParseFunctionConfiguration(string json)
    {
        var root = Parse(json);
        var name = root.Text("FunctionName", "FunctionName") ?? throw new FormatException("The document is not a GetFunctionConfiguration answer (no FunctionName).");
        var vpc = root.Child("VpcConfig", "VpcConfig");
        var endpoint = root.Child("Environment", "Environment")?.Child("Variables", "Variables")?.Text("SECRETS_MANAGER_ENDPOINT", "SECRETS_MANAGER_ENDPOINT");
        return new FunctionNetwork(
            name,
            vpc?.Text("VpcId", "VpcId") is { Length: > 0 } vpcId ? vpcId : null,
            vpc?.Strings("SubnetIds", "SubnetIds") ?? [],
            vpc?.Strings("SecurityGroupIds", "SecurityGroupIds") ?? [],
            root.Int("Timeout", "Timeout"),
            string.IsNullOrWhiteSpace(endpoint) ? null : endpoint,
            root.Text("FunctionArn", "FunctionArn")?.Split(':') is [_, _, "lambda", { Length: > 0 } region, ..] ? region : null)
        {
            State = root.Text("State", "State"),
            StateReason = root.Text("StateReason", "StateReason"),
        };
    }

    public static IReadOnlyList<SecurityGroup> ParseSecurityGroups(string document) =>
        Parse(document).Items("SecurityGroups", "securityGroupInfo")
            .Select(g => new SecurityGroup(
                Required(g, "GroupId", "groupId"),
                g.Text("VpcId", "vpcId"),
                Rules(g.Items("IpPermissions", "ipPermissions")),
                Rules(g.Items("IpPermissionsEgress", "ipPermissionsEgress"))))
            .ToList();

    public static IReadOnlyList<RouteTable> ParseRouteTables(string document) =>
        Parse(document).Items("RouteTables", "routeTableSet")
            .Select(t =>
            {
                var associations = t.Items("Associations", "associationSet");
                return new RouteTable(
                    Required(t, "RouteTableId", "routeTableId"),
                    t.Text("VpcId", "vpcId"),
                    associations.Any(a => a.Flag("Main", "main")),
                    associations.Select(a => a.Text("SubnetId", "subnetId")).OfType<string>().ToList(),
                    t.Items("Routes", "routeSet").Select(r => new Route(
                        r.Text("DestinationCidrBlock", "destinationCidrBlock") ?? r.Text("DestinationIpv6CidrBlock", "destinationIpv6CidrBlock"),
                        r.Text("DestinationPrefixListId", "destinationPrefixListId"),
                        RouteTarget(r),
                        r.Text("State", "state"))).ToList());
            })
            .ToList();

    public static IReadOnlyList<VpcEndpoint> ParseVpcEndpoints(string document) =>
        Parse(document).Items("VpcEndpoints", "vpcEndpointSet")
            .Select(e => new VpcEndpoint(
                Required(e, "VpcEndpointId", "vpcEndpointId"),
                e.Text("VpcId", "vpcId"),
                e.Text("ServiceName", "serviceName") ?? "",
                e.Text("VpcEndpointType", "vpcEndpointType") ?? "",
                e.Text("State", "state") ?? "",
                e.Flag("PrivateDnsEnabled", "privateDnsEnabled"),
                e.Strings("SubnetIds", "subnetIdSet"),
                e.Items("Groups", "groupSet").Select(g => g.Text("GroupId", "groupId")).OfType<string>().ToList(),
                e.Items("DnsEntries", "dnsEntrySet").Select(d => d.Text("DnsName", "dnsName")).OfType<string>().ToList()))
            .ToList();

    public static IReadOnlyList<NatGateway> ParseNatGateways(string document) =>
        Parse(document).Items("NatGateways", "natGatewaySet")
            .Select(n => new NatGateway(
                Required(n, "NatGatewayId", "natGatewayId"),
                n.Text("VpcId", "vpcId"),
                n.Text("SubnetId", "subnetId"),
                n.Text("State", "state") ?? "",
                n.Text("ConnectivityType", "connectivityType")))
            .ToList();

    public static IReadOnlyList<Subnet> ParseSubnets(string document) =>
        Parse(document).Items("Subnets", "subnetSet")
            .Select(s => new Subnet(Required(s, "SubnetId", "subnetId"), s.Text("VpcId", "vpcId"), s.Text("CidrBlock", "cidrBlock"), s.Text("AvailabilityZone", "availabilityZone")))
            .ToList();

    /// <summary>RDS DescribeDBInstances: each instance's endpoint, port, VPC security groups and VPC (addresses left empty: resolve them in the VPC).</summary>
    public static IReadOnlyList<DatabaseNetwork> ParseDbInstances(string document) =>
        Parse(document).Items("DBInstances", "DBInstances", "DBInstance")
            .Select(i =>
            {
                var endpoint = i.Child("Endpoint", "Endpoint");
                var subnetGroup = i.Child("DBSubnetGroup", "DBSubnetGroup");
                return new DatabaseNetwork(
                    endpoint?.Text("Address", "Address") ?? Required(i, "DBInstanceIdentifier", "DBInstanceIdentifier"),
                    endpoint?.Int("Port", "Port") ?? i.Int("DbInstancePort", "DbInstancePort") ?? 0,
                    [],
                    VpcSecurityGroups(i),
                    subnetGroup?.Text("VpcId", "VpcId"))
                {
                    SubnetIds = subnetGroup?.Items("Subnets", "Subnets", "Subnet").Select(s => s.Text("SubnetIdentifier", "SubnetIdentifier")).OfType<string>().ToList() ?? [],
                    PubliclyAccessible = i.Text("PubliclyAccessible", "PubliclyAccessible") is { } open && bool.TryParse(open, out var value) ? value : null,
                };
            })
            .ToList();

    /// <summary>RDS DescribeDBClusters: the writer endpoint, port and VPC security groups (the VPC is not in this answer).</summary>
    public static IReadOnlyList<DatabaseNetwork> ParseDbClusters(string document) =>
        Parse(document).Items("DBClusters", "DBClusters", "DBCluster")
            .Select(c => new DatabaseNetwork(
                c.Text("Endpoint", "Endpoint") ?? Required(c, "DBClusterIdentifier", "DBClusterIdentifier"),
                c.Int("Port", "Port") ?? 0,
                [],
                VpcSecurityGroups(c))
            {
                // Only Multi-AZ DB clusters carry it; an Aurora cluster's instances do.
                PubliclyAccessible = c.Text("PubliclyAccessible", "PubliclyAccessible") is { } open && bool.TryParse(open, out var value) ? value : null,
            })
            .ToList();

    private static List<string> VpcSecurityGroups(DocumentNode node) =>
        node.Items("VpcSecurityGroups", "VpcSecurityGroups", "VpcSecurityGroupMembership")
            .Select(g => g.Text("VpcSecurityGroupId", "VpcSecurityGroupId")).OfType<string>().ToList();

    private static List<SecurityGroupRule> Rules(IReadOnlyList<DocumentNode> permissions) =>
        permissions.Select(p => new SecurityGroupRule(
            p.Text("IpProtocol", "ipProtocol") ?? "-1",
            p.Int("FromPort", "fromPort"),
            p.Int("ToPort", "toPort"),
            p.Items("IpRanges", "ipRanges").Select(r => r.Text("CidrIp", "cidrIp")).OfType<string>().ToList(),
            p.Items("Ipv6Ranges", "ipv6Ranges").Select(r => r.Text("CidrIpv6", "cidrIpv6")).OfType<string>().ToList(),
            p.Items("UserIdGroupPairs", "groups").Select(r => r.Text("GroupId", "groupId")).OfType<string>().ToList(),
            p.Items("PrefixListIds", "prefixListIds").Select(r => r.Text("PrefixListId", "prefixListId")).OfType<string>().ToList()))
        .ToList();

    private static string? RouteTarget(DocumentNode route) =>
        route.Text("NatGatewayId", "natGatewayId")
        ?? route.Text("GatewayId", "gatewayId")
        ?? route.Text("TransitGatewayId", "transitGatewayId")
        ?? route.Text("VpcPeeringConnectionId", "vpcPeeringConnectionId")
        ?? route.Text("InstanceId", "instanceId")
        ?? route.Text("NetworkInterfaceId", "networkInterfaceId")
        ?? route.Text("EgressOnlyInternetGatewayId", "egressOnlyInternetGatewayId")
        ?? route.Text("LocalGatewayId", "localGatewayId")
        ?? route.Text("CarrierGatewayId", "carrierGatewayId")
        ?? route.Text("CoreNetworkArn", "coreNetworkArn");

    private static string Required(DocumentNode node, string json, string xml) =>
        node.Text(json, xml) ?? throw new FormatException($"An entry has no {json}.");

    private static DocumentNode Parse(string document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var text = document.Trim();
        if (text.StartsWith('<'))
        {
            XElement root;
            try
            {
                root = XDocument.Parse(text).Root ?? throw new FormatException("The XML document is empty.");
            }
            catch (XmlException e)
            {
                throw new FormatException($"The document is not valid XML: {e.Message}", e);
            }

            // EC2: <Response><Errors><Error><Code>…; RDS: <ErrorResponse><Error><Code>….
            if (root.Descendants().FirstOrDefault(e => e.Name.LocalName == "Error") is { } error && root.Name.LocalName is "Response" or "ErrorResponse")
            {
                throw new FormatException($"The document is an AWS error: {Local(error, "Code")}: {Local(error, "Message")}");
            }

            // Query-protocol answers other than EC2's wrap the result: <DescribeDBInstancesResponse><DescribeDBInstancesResult>….
            var result = root.Elements().FirstOrDefault(e => e.Name.LocalName.EndsWith("Result", StringComparison.Ordinal));
            return new XmlDocumentNode(result ?? root);
        }

        JsonElement json;
        try
        {
            using var parsed = JsonDocument.Parse(text);
            json = parsed.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FormatException($"The document is neither XML nor valid JSON: {e.Message}", e);
        }

        if (json.ValueKind == JsonValueKind.Object && (json.TryGetProperty("__type", out _) || json.TryGetProperty("Type", out _)) && TryMessage(json) is { } message)
        {
            throw new FormatException($"The document is an AWS error: {message}");
        }

        return new JsonDocumentNode(json);
    }

    private static string? TryMessage(JsonElement json) =>
        json.TryGetProperty("message", out var m) || json.TryGetProperty("Message", out m) ? m.GetString() : null;

    private static string Local(XElement element, string name) =>
        element.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

    /// <summary>One view over both spellings of an answer: the CLI's JSON member names and the XML location names.</summary>
    private abstract class DocumentNode
    {
        public abstract string? Text(string json, string xml);

        public abstract DocumentNode? Child(string json, string xml);

        public abstract IReadOnlyList<DocumentNode> Items(string json, string xml, string member = "item");

        public abstract IReadOnlyList<string> Strings(string json, string xml, string member = "item");

        public bool Flag(string json, string xml) => bool.TryParse(Text(json, xml), out var value) && value;

        public int? Int(string json, string xml) =>
            int.TryParse(Text(json, xml), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    private sealed class XmlDocumentNode(XElement element) : DocumentNode
    {
        public override string? Text(string json, string xml) => Element(xml)?.Value.Trim();

        public override DocumentNode? Child(string json, string xml) => Element(xml) is { } child ? new XmlDocumentNode(child) : null;

        public override IReadOnlyList<DocumentNode> Items(string json, string xml, string member = "item") =>
            Members(xml, member).Select(e => (DocumentNode)new XmlDocumentNode(e)).ToList();

        public override IReadOnlyList<string> Strings(string json, string xml, string member = "item") =>
            Members(xml, member).Select(e => e.Value.Trim()).ToList();

        private IEnumerable<XElement> Members(string xml, string member) =>
            Element(xml)?.Elements().Where(e => e.Name.LocalName == member) ?? [];

        private XElement? Element(string name) => element.Elements().FirstOrDefault(e => e.Name.LocalName == name);
    }

    private sealed class JsonDocumentNode(JsonElement element) : DocumentNode
    {
        public override string? Text(string json, string xml) =>
            Property(json) is { } value
                ? value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Number => value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => null,
                }
                : null;

        public override DocumentNode? Child(string json, string xml) =>
            Property(json) is { ValueKind: JsonValueKind.Object } value ? new JsonDocumentNode(value) : null;

        public override IReadOnlyList<DocumentNode> Items(string json, string xml, string member = "item") =>
            Property(json) is { ValueKind: JsonValueKind.Array } array
                ? array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).Select(e => (DocumentNode)new JsonDocumentNode(e)).ToList()
                : [];

        public override IReadOnlyList<string> Strings(string json, string xml, string member = "item") =>
            Property(json) is { ValueKind: JsonValueKind.Array } array
                ? array.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
                : [];

        private JsonElement? Property(string name) =>
            element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : null;
    }
}
