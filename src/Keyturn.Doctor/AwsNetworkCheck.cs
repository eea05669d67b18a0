using System.Net;
using System.Net.Sockets;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Rotation;
using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>
/// The AWS-mode network check: reads the rotation function's VPC placement (Lambda), the database's
/// security groups (RDS), and the groups, subnets, route tables, NAT gateways and VPC endpoints involved
/// (EC2, through AWSSDK.EC2), then lets the pure <see cref="AwsNetworkAnalyzer"/> decide. A failed read doesn't stop the
/// check: it is recorded with its cause (<see cref="ReadFailure"/>), its document counts as unread, and
/// the other reads go on, so one run names every missing permission.
/// </summary>
internal sealed class AwsNetworkCheck(AwsInspector inspector)
{
    private const string GetFunctionConfiguration = "lambda:GetFunctionConfiguration";

    private readonly Dictionary<string, Task<VpcDocuments>> _vpcs = new(StringComparer.Ordinal);

    /// <summary>The analysis' findings; whether the function can be invoked (null: unknown) and why not; its placement; the reads that failed.</summary>
    public sealed record Result(IReadOnlyList<Finding> Findings, bool? FunctionAvailable, FunctionNetwork? Placement, string? UnavailableReason, IReadOnlyList<ReadFailure> Failures);

    public async Task<Result> RunAsync(string function, DatabaseSecret database, CancellationToken cancellationToken)
    {
        var failures = new List<ReadFailure>();
        FunctionNetwork? placement = null;
        try
        {
            placement = AwsNetworkDocuments.ParseFunctionConfiguration(await inspector.GetFunctionConfigurationAsync(function, cancellationToken).ConfigureAwait(false));
        }
        catch (AwsServiceException e) when (e.ErrorCode == "ResourceNotFoundException")
        {
            // The decision core reports a missing function (CFG002); there is no network to check.
            return new Result([], false, null, $"{e.ErrorCode}: {e.ErrorMessage}", []);
        }
        catch (Exception e) when (AwsReads.IsReadFailure(e, cancellationToken))
        {
            failures.Add(AwsReads.Failure(GetFunctionConfiguration, function.StartsWith("arn:", StringComparison.Ordinal) ? function : null,
                "the function's VPC placement, hence its whole network path", e));
        }

        var reads = new Reads(inspector, failures);
        var databaseNetwork = await reads.DatabaseAsync(database, cancellationToken).ConfigureAwait(false);
        if (placement is null)
        {
            // Without the placement there is nothing to analyse, but the run still learns whether the VPC reads would be
            // allowed (one small page of each, whatever VPC), so that it names every refusal at once.
            const string Probing = "nothing yet (checked for the VPC analysis)";
            var any = Ec2Selection.Probe;
            await reads.Ec2Async("DescribeRouteTables", () => inspector.RouteTablesAsync(any, 1, cancellationToken), Probing, cancellationToken).ConfigureAwait(false);
            await reads.Ec2Async("DescribeVpcEndpoints", () => inspector.VpcEndpointsAsync(any, 1, cancellationToken), Probing, cancellationToken).ConfigureAwait(false);
            await reads.Ec2Async("DescribeNatGateways", () => inspector.NatGatewaysAsync(any, 1, cancellationToken), Probing, cancellationToken).ConfigureAwait(false);
            await reads.Ec2Async("DescribeSubnets", () => inspector.SubnetsAsync(any, 1, cancellationToken), Probing, cancellationToken).ConfigureAwait(false);
            await reads.Ec2Async("DescribeSecurityGroups", () => inspector.SecurityGroupsAsync(any, 1, cancellationToken), Probing, cancellationToken).ConfigureAwait(false);

            return new Result([], null, null, null, failures);
        }

        var failed = string.Equals(placement.State, "Failed", StringComparison.OrdinalIgnoreCase);
        var inputs = await InputsAsync(placement, databaseNetwork, reads, cancellationToken).ConfigureAwait(false);
        return new Result(AwsNetworkAnalyzer.Analyze(inputs), !failed, inputs.Function, failed ? $"State Failed{(placement.StateReason is { } reason ? $": {reason}" : "")}" : null, failures);
    }

    private async Task<AwsNetworkInputs> InputsAsync(FunctionNetwork function, DatabaseNetwork database, Reads reads, CancellationToken cancellationToken)
    {
        if (!function.InVpc)
        {
            return new AwsNetworkInputs(function, database, [], [], [], []) { Unread = reads.Unread };
        }

        // The function's network interfaces are in its subnets: their VPC is the one to read (Lambda's VpcConfig.VpcId
        // says the same on AWS; an emulator or a proxy may not).
        var own = await reads.Ec2Async("DescribeSubnets", () => inspector.SubnetsAsync(Ec2Selection.Of(function.SubnetIds), 1, cancellationToken),
            "the function's subnets", cancellationToken).ConfigureAwait(false);
        if (own.Select(s => s.VpcId).Distinct(StringComparer.Ordinal).ToList() is [{ Length: > 0 } subnetsVpc] && subnetsVpc != function.VpcId)
        {
            function = function with { VpcId = subnetsVpc };
        }

        var vpc = await VpcAsync(function.VpcId!, cancellationToken).ConfigureAwait(false);
        reads.Failures.AddRange(vpc.Failures);
        var groupIds = function.SecurityGroupIds.Concat(database.SecurityGroupIds).Concat(vpc.Endpoints.SelectMany(e => e.SecurityGroupIds)).Distinct(StringComparer.Ordinal).ToList();
        var groups = groupIds.Count == 0
            ? []
            : await reads.Ec2Async("DescribeSecurityGroups", () => inspector.SecurityGroupsAsync(Ec2Selection.Of(groupIds), AwsInspector.MaxPages, cancellationToken),
                "the security groups' rules (the function's, the database's, the endpoint's)", cancellationToken).ConfigureAwait(false);
        return new AwsNetworkInputs(function, database, groups, vpc.RouteTables, vpc.Endpoints, vpc.Nats) { Subnets = vpc.Subnets, Unread = reads.Unread };
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
        var inVpc = Ec2Selection.InVpc(vpcId);
        const int Pages = AwsInspector.MaxPages;
        var reads = new Reads(inspector, []);
        return new VpcDocuments(
            await reads.Ec2Async("DescribeRouteTables", () => inspector.RouteTablesAsync(inVpc, Pages, cancellationToken), $"the routes of {vpcId}", cancellationToken).ConfigureAwait(false),
            await reads.Ec2Async("DescribeVpcEndpoints", () => inspector.VpcEndpointsAsync(inVpc, Pages, cancellationToken), $"the VPC endpoints of {vpcId}", cancellationToken).ConfigureAwait(false),
            await reads.Ec2Async("DescribeNatGateways", () => inspector.NatGatewaysAsync(inVpc, Pages, cancellationToken), $"the NAT gateways of {vpcId}", cancellationToken).ConfigureAwait(false),
            await reads.Ec2Async("DescribeSubnets", () => inspector.SubnetsAsync(inVpc, Pages, cancellationToken), $"the subnets' address blocks in {vpcId}", cancellationToken).ConfigureAwait(false),
            reads.Failures);
    }

    private sealed record VpcDocuments(
        IReadOnlyList<RouteTable> RouteTables, IReadOnlyList<VpcEndpoint> Endpoints, IReadOnlyList<NatGateway> Nats, IReadOnlyList<Subnet> Subnets, IReadOnlyList<ReadFailure> Failures);

    /// <summary>Reads that record their failure and return nothing instead of throwing: the check goes on without that document.</summary>
    private sealed class Reads(AwsInspector inspector, List<ReadFailure> failures)
    {
        public List<ReadFailure> Failures => failures;

        public IReadOnlySet<string> Unread => failures.Select(f => f.Action).ToHashSet(StringComparer.Ordinal);

        public async Task<DatabaseNetwork> DatabaseAsync(DatabaseSecret secret, CancellationToken cancellationToken)
        {
            var addresses = await AddressesAsync(secret.Host, cancellationToken).ConfigureAwait(false);
            var database = new DatabaseNetwork(secret.Host, secret.Port, addresses, []);
            if (!database.InVpc)
            {
                return database;
            }

            // An instance endpoint, else a cluster endpoint (Aurora): the one whose address is the secret's host.
            var match = (await ReadAsync("rds:DescribeDBInstances", null, "the database's security groups, subnets and VPC",
                    () => RdsAsync("DescribeDBInstances", AwsNetworkDocuments.ParseDbInstances, cancellationToken), cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(d => string.Equals(d.Host, secret.Host, StringComparison.OrdinalIgnoreCase))
                ?? (await ReadAsync("rds:DescribeDBClusters", null, "the cluster's security groups",
                    () => RdsAsync("DescribeDBClusters", AwsNetworkDocuments.ParseDbClusters, cancellationToken), cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(d => string.Equals(d.Host, secret.Host, StringComparison.OrdinalIgnoreCase));
            return match is null ? database : match with { Host = secret.Host, Port = secret.Port, Addresses = addresses };
        }

        public Task<IReadOnlyList<T>> Ec2Async<T>(string action, Func<Task<IReadOnlyList<T>>> read, string skipped, CancellationToken cancellationToken) =>
            ReadAsync("ec2:" + action, null, skipped, read, cancellationToken);

        private async Task<IReadOnlyList<T>> RdsAsync<T>(string action, Func<string, IReadOnlyList<T>> parse, CancellationToken cancellationToken) =>
            (await inspector.RdsAsync(action, [], cancellationToken).ConfigureAwait(false)).SelectMany(parse).ToList();

        private async Task<IReadOnlyList<T>> ReadAsync<T>(string action, string? resource, string skipped, Func<Task<IReadOnlyList<T>>> read, CancellationToken cancellationToken)
        {
            try
            {
                return await read().ConfigureAwait(false);
            }
            catch (Exception e) when (AwsReads.IsReadFailure(e, cancellationToken))
            {
                lock (failures)
                {
                    failures.Add(AwsReads.Failure(action, resource, skipped, e));
                }

                return [];
            }
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
}
