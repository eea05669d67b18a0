using System.Net;
using System.Net.Sockets;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Rotation;
using Keyturn.Protocol.Client;

namespace Keyturn.Cli.Doctor;

/// <summary>
/// The AWS-mode network check: reads the rotation function's VPC placement (Lambda), the database's
/// security groups (RDS), and the groups, subnets, route tables, NAT gateways and VPC endpoints involved
/// (EC2), then lets the pure <see cref="AwsNetworkAnalyzer"/> decide. A read the doctor isn't allowed to
/// make becomes a finding naming the permission, not a failure.
/// </summary>
internal sealed class AwsNetworkCheck(AwsInspector inspector)
{
    private readonly Dictionary<string, Task<VpcDocuments>> _vpcs = new(StringComparer.Ordinal);

    public sealed record Result(IReadOnlyList<Finding> Findings, bool? FunctionAvailable);

    public async Task<Result> RunAsync(string function, DatabaseSecret database, CancellationToken cancellationToken)
    {
        FunctionNetwork placement;
        try
        {
            placement = AwsNetworkDocuments.ParseFunctionConfiguration(await inspector.GetFunctionConfigurationAsync(function, cancellationToken).ConfigureAwait(false));
        }
        catch (AwsServiceException e) when (e.ErrorCode == "ResourceNotFoundException")
        {
            // The decision core reports a missing function (CFG002); there is no network to check.
            return new Result([], false);
        }
        catch (Exception e) when (e is AwsServiceException or HttpRequestException or FormatException)
        {
            return new Result([CannotRead("lambda:GetFunctionConfiguration", function, e)], null);
        }

        try
        {
            var inputs = await InputsAsync(placement, database, cancellationToken).ConfigureAwait(false);
            return new Result(AwsNetworkAnalyzer.Analyze(inputs), true);
        }
        catch (ReadFailed failed)
        {
            return new Result([CannotRead(failed.Call, function, failed.InnerException!)], true);
        }
    }

    private async Task<AwsNetworkInputs> InputsAsync(FunctionNetwork function, DatabaseSecret secret, CancellationToken cancellationToken)
    {
        var addresses = await AddressesAsync(secret.Host, cancellationToken).ConfigureAwait(false);
        var databaseGroups = new List<string>();
        string? databaseVpc = null;
        if (secret.Host.EndsWith(".rds.amazonaws.com", StringComparison.OrdinalIgnoreCase))
        {
            // An instance endpoint, else a cluster endpoint (Aurora): the one whose address is the secret's host.
            var match = (await ReadAsync("rds:DescribeDBInstances", () => inspector.RdsAsync("DescribeDBInstances", [], cancellationToken), AwsNetworkDocuments.ParseDbInstances).ConfigureAwait(false))
                .FirstOrDefault(d => string.Equals(d.Host, secret.Host, StringComparison.OrdinalIgnoreCase))
                ?? (await ReadAsync("rds:DescribeDBClusters", () => inspector.RdsAsync("DescribeDBClusters", [], cancellationToken), AwsNetworkDocuments.ParseDbClusters).ConfigureAwait(false))
                .FirstOrDefault(d => string.Equals(d.Host, secret.Host, StringComparison.OrdinalIgnoreCase));
            if (match is not null)
            {
                databaseGroups.AddRange(match.SecurityGroupIds);
                databaseVpc = match.VpcId;
            }
        }

        var database = new DatabaseNetwork(secret.Host, secret.Port, addresses, databaseGroups, databaseVpc);
        if (!function.InVpc)
        {
            return new AwsNetworkInputs(function, database, [], [], [], []);
        }

        var (routeTables, endpoints, nats, subnets) = await VpcAsync(function.VpcId!, cancellationToken).ConfigureAwait(false);
        var groupIds = function.SecurityGroupIds.Concat(databaseGroups).Concat(endpoints.SelectMany(e => e.SecurityGroupIds)).Distinct(StringComparer.Ordinal).ToList();
        var groups = groupIds.Count == 0
            ? []
            : await Ec2Async("DescribeSecurityGroups", groupIds.Select((id, i) => ($"GroupId.{i + 1}", id)), AwsNetworkDocuments.ParseSecurityGroups, cancellationToken).ConfigureAwait(false);
        return new AwsNetworkInputs(function, database, groups, routeTables, endpoints, nats) { Subnets = subnets };
    }

    /// <summary>The VPC's routes, endpoints, NAT gateways and subnets, read once per run: doctor --all asks for the same VPC per secret.</summary>
    private Task<VpcDocuments> VpcAsync(string vpcId, CancellationToken cancellationToken)
    {
        lock (_vpcs)
        {
            if (!_vpcs.TryGetValue(vpcId, out var documents) || documents.IsFaulted || documents.IsCanceled)
            {
                documents = ReadVpcAsync(vpcId, cancellationToken);
                _vpcs[vpcId] = documents;
            }

            return documents;
        }
    }

    private async Task<VpcDocuments> ReadVpcAsync(string vpcId, CancellationToken cancellationToken)
    {
        IEnumerable<(string, string)> InVpc() => [("Filter.1.Name", "vpc-id"), ("Filter.1.Value.1", vpcId)];
        return new VpcDocuments(
            await Ec2Async("DescribeRouteTables", InVpc(), AwsNetworkDocuments.ParseRouteTables, cancellationToken).ConfigureAwait(false),
            await Ec2Async("DescribeVpcEndpoints", InVpc(), AwsNetworkDocuments.ParseVpcEndpoints, cancellationToken).ConfigureAwait(false),
            await Ec2Async("DescribeNatGateways", InVpc(), AwsNetworkDocuments.ParseNatGateways, cancellationToken).ConfigureAwait(false),
            await Ec2Async("DescribeSubnets", InVpc(), AwsNetworkDocuments.ParseSubnets, cancellationToken).ConfigureAwait(false));
    }

    private sealed record VpcDocuments(IReadOnlyList<RouteTable> RouteTables, IReadOnlyList<VpcEndpoint> Endpoints, IReadOnlyList<NatGateway> Nats, IReadOnlyList<Subnet> Subnets);

    private Task<IReadOnlyList<T>> Ec2Async<T>(string action, IEnumerable<(string, string)> parameters, Func<string, IReadOnlyList<T>> parse, CancellationToken cancellationToken) =>
        ReadAsync("ec2:" + action, () => inspector.Ec2Async(action, parameters, cancellationToken), parse);

    private static async Task<IReadOnlyList<T>> ReadAsync<T>(string call, Func<Task<IReadOnlyList<string>>> read, Func<string, IReadOnlyList<T>> parse)
    {
        try
        {
            return (await read().ConfigureAwait(false)).SelectMany(parse).ToList();
        }
        catch (Exception e) when (e is AwsServiceException or HttpRequestException or FormatException or System.Xml.XmlException)
        {
            throw new ReadFailed(call, e);
        }
    }

    /// <summary>The database host's addresses as resolved from here (an RDS name resolves to its private address from anywhere).</summary>
    private static async Task<IReadOnlyList<string>> AddressesAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal.ToString()];
        }

        try
        {
            return (await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false)).Select(a => a.ToString()).ToList();
        }
        catch (SocketException)
        {
            return [];
        }
    }

    private static Finding CannotRead(string call, string function, Exception e) =>
        new("NET009", Severity.Warning, "The doctor can't read the rotation function's network configuration",
            $"{call} for {function} failed: {(e is AwsServiceException aws ? $"{aws.ErrorCode}: {aws.ErrorMessage}" : e.Message)}",
            $"Allow {call} (read-only) to the doctor's credentials to have the VPC path checked.");

    private sealed class ReadFailed(string call, Exception inner) : Exception(call, inner)
    {
        public string Call { get; } = call;
    }
}
