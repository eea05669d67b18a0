using Keyturn.Domain.Doctor;
using Ec2 = Amazon.EC2.Model;

namespace Keyturn.Doctor;

/// <summary>
/// AWSSDK.EC2's answers as the VPC analysis' inputs. The SDK leaves absent lists and flags null, as AWS omits them;
/// they read as empty and false, the same as <see cref="AwsNetworkDocuments"/> reads recorded documents.
/// </summary>
internal static class Ec2Documents
{
    public static SecurityGroup SecurityGroup(Ec2.SecurityGroup group) =>
        new(group.GroupId, group.VpcId, Rules(group.IpPermissions), Rules(group.IpPermissionsEgress));

    public static RouteTable RouteTable(Ec2.RouteTable table) => new(
        table.RouteTableId,
        table.VpcId,
        table.Associations?.Any(a => a.Main == true) ?? false,
        table.Associations?.Select(a => a.SubnetId).OfType<string>().ToList() ?? [],
        table.Routes?.Select(r => new Route(
            r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock,
            r.DestinationPrefixListId,
            r.NatGatewayId ?? r.GatewayId ?? r.TransitGatewayId ?? r.VpcPeeringConnectionId ?? r.InstanceId ?? r.NetworkInterfaceId
                ?? r.EgressOnlyInternetGatewayId ?? r.LocalGatewayId ?? r.CarrierGatewayId ?? r.CoreNetworkArn,
            r.State?.Value)).ToList() ?? []);

    public static VpcEndpoint VpcEndpoint(Ec2.VpcEndpoint endpoint) => new(
        endpoint.VpcEndpointId,
        endpoint.VpcId,
        endpoint.ServiceName ?? "",
        endpoint.VpcEndpointType?.Value ?? "",
        endpoint.State?.Value ?? "",
        endpoint.PrivateDnsEnabled == true,
        endpoint.SubnetIds ?? [],
        endpoint.Groups?.Select(g => g.GroupId).OfType<string>().ToList() ?? [],
        endpoint.DnsEntries?.Select(d => d.DnsName).OfType<string>().ToList() ?? []);

    public static NatGateway NatGateway(Ec2.NatGateway nat) =>
        new(nat.NatGatewayId, nat.VpcId, nat.SubnetId, nat.State?.Value ?? "", nat.ConnectivityType?.Value);

    public static Subnet Subnet(Ec2.Subnet subnet) => new(subnet.SubnetId, subnet.VpcId, subnet.CidrBlock, subnet.AvailabilityZone);

    private static List<SecurityGroupRule> Rules(List<Ec2.IpPermission>? permissions) =>
        permissions?.Select(p => new SecurityGroupRule(
            p.IpProtocol ?? "-1",
            p.FromPort,
            p.ToPort,
            p.Ipv4Ranges?.Select(r => r.CidrIp).OfType<string>().ToList() ?? [],
            p.Ipv6Ranges?.Select(r => r.CidrIpv6).OfType<string>().ToList() ?? [],
            p.UserIdGroupPairs?.Select(g => g.GroupId).OfType<string>().ToList() ?? [],
            p.PrefixListIds?.Select(l => l.Id).OfType<string>().ToList() ?? [])).ToList() ?? [];
}
