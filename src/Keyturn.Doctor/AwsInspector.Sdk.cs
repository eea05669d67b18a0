using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Keyturn.Domain.Doctor;
using Keyturn.Protocol.Client;
using Ec2 = Amazon.EC2.Model;

namespace Keyturn.Doctor;

/// <summary>Which EC2 resources a Describe* read asks for: these ids, those of one VPC, or any few (a probe of the permission alone).</summary>
internal sealed record Ec2Selection(IReadOnlyList<string>? Ids = null, string? VpcId = null)
{
    public static Ec2Selection Probe { get; } = new();

    public static Ec2Selection InVpc(string vpcId) => new(VpcId: vpcId);

    public static Ec2Selection Of(IEnumerable<string> ids) => new(Ids: [.. ids]);

    internal List<string>? IdList => Ids is { Count: > 0 } ? [.. Ids] : null;

    internal List<Ec2.Filter>? Filters => VpcId is null ? null : [new Ec2.Filter("vpc-id", [VpcId])];

    // EC2's smallest page, enough to learn whether the call is allowed; a listing by ids can't carry MaxResults.
    internal int? MaxResults => Ids is null && VpcId is null ? 5 : null;
}

/// <summary>The reads through the AWS SDKs, on the target's endpoints and credentials, under the same page and time bounds as the hand-written clients.</summary>
internal sealed partial class AwsInspector
{
    private readonly Dictionary<string, IDisposable> _sdkClients = [];

    public Task<IReadOnlyList<Subnet>> SubnetsAsync(Ec2Selection selection, int maxPages, CancellationToken cancellationToken) =>
        Ec2PagesAsync("DescribeSubnets", maxPages, async (next, ct) =>
        {
            var answer = await Ec2Client().DescribeSubnetsAsync(new Ec2.DescribeSubnetsRequest
            {
                SubnetIds = selection.IdList,
                Filters = selection.Filters,
                MaxResults = selection.MaxResults,
                NextToken = next,
            }, ct).ConfigureAwait(false);
            return Page(answer.Subnets, Ec2Documents.Subnet, answer.NextToken);
        }, cancellationToken);

    public Task<IReadOnlyList<SecurityGroup>> SecurityGroupsAsync(Ec2Selection selection, int maxPages, CancellationToken cancellationToken) =>
        Ec2PagesAsync("DescribeSecurityGroups", maxPages, async (next, ct) =>
        {
            var answer = await Ec2Client().DescribeSecurityGroupsAsync(new Ec2.DescribeSecurityGroupsRequest
            {
                GroupIds = selection.IdList,
                Filters = selection.Filters,
                MaxResults = selection.MaxResults,
                NextToken = next,
            }, ct).ConfigureAwait(false);
            return Page(answer.SecurityGroups, Ec2Documents.SecurityGroup, answer.NextToken);
        }, cancellationToken);

    public Task<IReadOnlyList<RouteTable>> RouteTablesAsync(Ec2Selection selection, int maxPages, CancellationToken cancellationToken) =>
        Ec2PagesAsync("DescribeRouteTables", maxPages, async (next, ct) =>
        {
            var answer = await Ec2Client().DescribeRouteTablesAsync(new Ec2.DescribeRouteTablesRequest
            {
                RouteTableIds = selection.IdList,
                Filters = selection.Filters,
                MaxResults = selection.MaxResults,
                NextToken = next,
            }, ct).ConfigureAwait(false);
            return Page(answer.RouteTables, Ec2Documents.RouteTable, answer.NextToken);
        }, cancellationToken);

    public Task<IReadOnlyList<VpcEndpoint>> VpcEndpointsAsync(Ec2Selection selection, int maxPages, CancellationToken cancellationToken) =>
        Ec2PagesAsync("DescribeVpcEndpoints", maxPages, async (next, ct) =>
        {
            var answer = await Ec2Client().DescribeVpcEndpointsAsync(new Ec2.DescribeVpcEndpointsRequest
            {
                VpcEndpointIds = selection.IdList,
                Filters = selection.Filters,
                MaxResults = selection.MaxResults,
                NextToken = next,
            }, ct).ConfigureAwait(false);
            return Page(answer.VpcEndpoints, Ec2Documents.VpcEndpoint, answer.NextToken);
        }, cancellationToken);

    public Task<IReadOnlyList<NatGateway>> NatGatewaysAsync(Ec2Selection selection, int maxPages, CancellationToken cancellationToken) =>
        Ec2PagesAsync("DescribeNatGateways", maxPages, async (next, ct) =>
        {
            var answer = await Ec2Client().DescribeNatGatewaysAsync(new Ec2.DescribeNatGatewaysRequest
            {
                NatGatewayIds = selection.IdList,
                Filter = selection.Filters,
                MaxResults = selection.MaxResults,
                NextToken = next,
            }, ct).ConfigureAwait(false);
            return Page(answer.NatGateways, Ec2Documents.NatGateway, answer.NextToken);
        }, cancellationToken);

    /// <summary>sts:GetCallerIdentity's account.</summary>
    public async Task<string?> CallerAccountAsync(CancellationToken cancellationToken)
    {
        var client = SdkClient("sts", () => new AmazonSecurityTokenServiceClient(SdkCredentials(), Configure(new AmazonSecurityTokenServiceConfig(), "sts", "STS")));
        using var timer = new CancellationTokenSource(QueryPages.CallTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return (await client.GetCallerIdentityAsync(new GetCallerIdentityRequest(), linked.Token).ConfigureAwait(false)).Account;
        }
        catch (Exception e) when (Translated(e, "sts:GetCallerIdentity") is { } translated)
        {
            throw translated;
        }
    }

    private static Paginator.Page<IReadOnlyList<TItem>> Page<TSdk, TItem>(List<TSdk>? items, Func<TSdk, TItem> map, string? next) =>
        new(items?.Select(map).ToList() ?? [], next);

    private async Task<IReadOnlyList<T>> Ec2PagesAsync<T>(
        string action, int maxPages, Func<string?, CancellationToken, Task<Paginator.Page<IReadOnlyList<T>>>> fetch, CancellationToken cancellationToken)
    {
        var operation = "ec2:" + action;
        try
        {
            return await Paginator.AllAsync<T>(operation, async (next, ct) =>
            {
                try
                {
                    return await fetch(next, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (Translated(e, operation) is { } translated)
                {
                    throw translated;
                }
            }, QueryPages with { MaxPages = maxPages }, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PaginationException or TimeoutException)
        {
            throw ReadFailed(e);
        }
    }

    /// <summary>
    /// The SDK's failures as the ones every check already tells apart (<see cref="AwsReads"/>): AWS's error code for
    /// an answer, the transport's error for no answer, a <see cref="FormatException"/> for an answer that can't be read.
    /// Null for anything else (a cancellation goes through unchanged).
    /// </summary>
    private static Exception? Translated(Exception e, string what) => e switch
    {
        AmazonServiceException { InnerException: HttpRequestException http } => http,
        AmazonServiceException { ErrorCode: { Length: > 0 } code } service => new AwsServiceException(code, $"{what}: {service.Message}", (int)service.StatusCode),
        AmazonServiceException { InnerException: System.Xml.XmlException or FormatException } service => new FormatException(service.Message, service),
        AmazonServiceException service => new HttpRequestException($"{what}: HTTP {(int)service.StatusCode}: {service.Message}", service),
        AmazonClientException { InnerException: HttpRequestException http } => http,
        AmazonClientException client => new FormatException($"{what}: {client.Message}", client),
        _ => null,
    };

    private AmazonEC2Client Ec2Client() =>
        SdkClient("ec2", () => new AmazonEC2Client(SdkCredentials(), Configure(new AmazonEC2Config(), "ec2", "EC2")));

    private T SdkClient<T>(string service, Func<T> create)
        where T : IDisposable
    {
        lock (_sdkClients)
        {
            if (!_sdkClients.TryGetValue(service, out var client))
            {
                client = create();
                _sdkClients[service] = client;
            }

            return (T)client;
        }
    }

    private AWSCredentials SdkCredentials() => credentials.SessionToken is { } token
        ? new SessionAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey, token)
        : new BasicAWSCredentials(credentials.AccessKeyId, credentials.SecretAccessKey);

    /// <summary>The target's endpoint for the service (never the SDK's own resolution, which would ignore the doctor's target), signed for the target's region.</summary>
    private TConfig Configure<TConfig>(TConfig config, string service, string environmentSuffix)
        where TConfig : ClientConfig
    {
        config.ServiceURL = Endpoint(service, environmentSuffix).ToString();
        config.AuthenticationRegion = region;
        config.Timeout = QueryPages.CallTimeout;
        if (!string.IsNullOrEmpty(caBundle))
        {
            config.HttpClientFactory = new CaBundleHttpClientFactory(caBundle);
        }

        return config;
    }

    /// <summary>The SDK's HTTP clients trusting the CA bundle the target named, as the hand-written clients do.</summary>
    private sealed class CaBundleHttpClientFactory(string caBundle) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(CaBundleTrust.CreateHandler(caBundle));

        public override string GetConfigUniqueString(IClientConfig clientConfig) => "keyturn-ca-bundle:" + caBundle;
    }
}
