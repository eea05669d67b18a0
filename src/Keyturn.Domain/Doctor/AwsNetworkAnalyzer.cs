using System.Net;
using System.Net.Sockets;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// The AWS-mode network checks of a rotation function (recovery guide §3, §4 rows 1–2; the field report's
/// checklist): its security groups' egress to the database and to Secrets Manager on 443, the database's
/// ingress from it, and a way from each of its subnets to Secrets Manager — a NAT gateway route or a
/// <c>secretsmanager</c> interface endpoint with private DNS whose security groups admit it. Pure: it reads
/// only the recorded documents in <see cref="AwsNetworkInputs"/>.
/// </summary>
public static class AwsNetworkAnalyzer
{
    public const int HttpsPort = 443;

    /// <summary>The reads whose absence (<see cref="AwsNetworkInputs.Unread"/>) changes a verdict from "missing" to "unverified".</summary>
    public const string DescribeVpcEndpoints = "ec2:DescribeVpcEndpoints";

    public const string DescribeSecurityGroups = "ec2:DescribeSecurityGroups";

    private static readonly IPNetwork[] PrivateBlocks =
        [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("fc00::/7")];

    private enum Verdict
    {
        Allowed,
        Denied,
        Unknown,
    }

    public static IReadOnlyList<Finding> Analyze(AwsNetworkInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var function = inputs.Function;
        var database = inputs.Database;
        var findings = new List<Finding>();
        var addresses = database.Addresses.Select(a => IPAddress.TryParse(a, out var ip) ? ip : null).OfType<IPAddress>().ToList();
        if (!function.InVpc)
        {
            var privateAddresses = addresses.Where(IsPrivate).ToList();
            if (privateAddresses.Count > 0 || database.PubliclyAccessible == false)
            {
                // RDS's own word counts even when the name didn't resolve here: a private instance is private from anywhere.
                var why = privateAddresses.Count > 0
                    ? $"{database.Host} is {string.Join(", ", privateAddresses)}, which only its VPC can reach"
                    : $"RDS says {database.Host} is not publicly accessible (PubliclyAccessible false{(database.VpcId is null ? "" : $", in {database.VpcId}")}): only its VPC can reach it";
                findings.Add(new Finding("NET011", Severity.Error, "The rotation function is not in a VPC, but the database is private",
                    $"{function.FunctionName} has no VPC configuration; {why}.",
                    "Attach the function to the database's VPC (subnets with a NAT gateway route or a secretsmanager interface endpoint, and a security group the database admits)."));
            }
            else
            {
                findings.Add(new Finding("NET010", Severity.Info, "The rotation function is not in a VPC",
                    $"{function.FunctionName} has no VPC configuration: it reaches Secrets Manager over the internet, and only a publicly accessible database"
                    + (database.PubliclyAccessible == true ? $" ({database.Host} is one: PubliclyAccessible true)." : "."),
                    "Nothing to check in a VPC. If the database is private, attach the function to its VPC."));
            }

            return findings;
        }

        var verified = new List<string>();
        var functionGroups = Groups(inputs, function.SecurityGroupIds, "the function's", findings);
        var functionEgress = functionGroups.SelectMany(g => g.Egress.Select(r => (g, r))).ToList();
        var functionBlocks = SubnetBlocks(inputs, function.SubnetIds);
        var functionPeer = new Peer($"{function.FunctionName} ({string.Join(", ", function.SecurityGroupIds)}; {string.Join(", ", function.SubnetIds)})",
            function.SecurityGroupIds, functionBlocks.Blocks, functionBlocks.Complete, Internet: false);

        var functionGroupsKnown = functionGroups.Count == function.SecurityGroupIds.Count;
        CheckDatabase(inputs, addresses, functionEgress, functionGroupsKnown, functionPeer, findings, verified);
        CheckSecretsManager(inputs, functionEgress, functionGroupsKnown, functionPeer, findings, verified);

        if (findings.All(f => f.Severity <= Severity.Info))
        {
            findings.Add(new Finding("NET021", Severity.Info, "The rotation function's network paths look open",
                string.Join("; ", verified) + ".", "Nothing to do. If rotations still time out, check NACLs and the endpoint policy, which these checks don't read."));
        }

        return findings;
    }

    private static void CheckDatabase(AwsNetworkInputs inputs, List<IPAddress> addresses, List<(SecurityGroup, SecurityGroupRule)> functionEgress, bool functionGroupsKnown, Peer functionPeer,
        List<Finding> findings, List<string> verified)
    {
        var function = inputs.Function;
        var database = inputs.Database;
        var target = $"{database.Host}:{database.Port}";
        if (database.VpcId is { Length: > 0 } databaseVpc && databaseVpc != function.VpcId)
        {
            findings.Add(new Finding("NET020", Severity.Warning, "The database is in another VPC than the rotation function",
                $"{target} is in {databaseVpc}; {function.FunctionName} is in {function.VpcId}.",
                "Run the function in the database's VPC, or make sure a peering or transit gateway route and CIDR-based security group rules connect the two."));
        }

        // Outside the VPC a publicly accessible RDS name resolves to a public address; the function, inside, gets the private
        // one. So a public address says nothing about the function's path to an in-VPC database: its subnets do.
        var elsewhere = database.InVpc ? addresses.Where(a => !IsPrivate(a)).ToList() : [];
        var seen = addresses.Except(elsewhere).ToList();
        var databaseSubnets = SubnetBlocks(inputs, database.SubnetIds);
        var inSubnets = seen.Count == 0 && database.SubnetIds.Count > 0 && databaseSubnets.Complete;
        if (seen.Count == 0 && !inSubnets && database.SecurityGroupIds.Count == 0)
        {
            findings.Add(Unverified($"the path to the database {target}", elsewhere.Count > 0
                    ? $"{database.Host} resolved here to {string.Join(", ", elsewhere)}, a public address the function in the VPC doesn't use, and neither its subnets nor its security groups were given"
                    : "neither the database's addresses nor its security groups were given",
                "Pass the host's address as resolved in the VPC, or its security groups (RDS DescribeDBInstances VpcSecurityGroups)."));
            return;
        }

        var databasePeer = seen.Count > 0
            ? new Peer(target, database.SecurityGroupIds, seen.Select(a => new IPNetwork(a, a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)).ToList(), Complete: true, Internet: false)
            : inSubnets
                ? new Peer($"{target} (in {string.Join(" or ", database.SubnetIds)})", database.SecurityGroupIds, databaseSubnets.Blocks, Complete: true, Internet: false, AnyOf: true)
                : new Peer(target, database.SecurityGroupIds, [], Complete: false, Internet: false);
        var egress = Allows(functionEgress, database.Port, databasePeer, functionGroupsKnown);
        var publicNote = elsewhere.Count > 0
            ? $" ({database.Host} resolved here to {string.Join(", ", elsewhere)}; inside the VPC it resolves to its private address, so that one was not checked)"
            : "";
        Record(egress, verified, findings, $"egress to {target}", detail => new Finding("NET012", Severity.Error, "The function's security groups don't allow egress to the database",
                    $"No egress rule of {string.Join(", ", function.SecurityGroupIds)} admits tcp/{database.Port} to {Describe(databasePeer)}; {detail}{publicNote}.",
                    $"Add an outbound rule to the function's security group: TCP {database.Port} to the database's security group ({Or(database.SecurityGroupIds, "its group")}) or its address."),
            $"egress to {target}", "Check the rule by hand, or pass the documents it depends on.");

        if (database.SecurityGroupIds.Count == 0)
        {
            findings.Add(Unverified($"the database's ingress from the function", "the database's security groups were not given",
                "Pass them (RDS DescribeDBInstances VpcSecurityGroups) to check the database side."));
            return;
        }

        var databaseGroups = Groups(inputs, database.SecurityGroupIds, "the database's", findings);
        if (databaseGroups.Count == 0)
        {
            return;
        }

        var ingress = Allows(databaseGroups.SelectMany(g => g.Ingress.Select(r => (g, r))), database.Port, functionPeer, databaseGroups.Count == database.SecurityGroupIds.Count);
        Record(ingress, verified, findings, "database ingress", detail => new Finding("NET013", Severity.Error, "The database's security groups don't admit the rotation function",
                    $"No ingress rule of {string.Join(", ", database.SecurityGroupIds)} admits tcp/{database.Port} from {Describe(functionPeer)}; {detail}.",
                    $"Add an inbound rule to the database's security group: TCP {database.Port} from the function's security group ({Or(inputs.Function.SecurityGroupIds, "its group")})."),
            "the database's ingress from the function", "Check the rule by hand, or pass the function's subnets (DescribeSubnets).");
    }

    private static void CheckSecretsManager(AwsNetworkInputs inputs, List<(SecurityGroup, SecurityGroupRule)> functionEgress, bool functionGroupsKnown, Peer functionPeer,
        List<Finding> findings, List<string> verified)
    {
        var function = inputs.Function;
        var endpoints = inputs.VpcEndpoints
            .Where(e => IsSecretsManager(e.ServiceName) && e.VpcId == function.VpcId && e.Type.Equals("Interface", StringComparison.OrdinalIgnoreCase))
            .ToList();
        var available = endpoints.Where(e => e.State.Equals("available", StringComparison.OrdinalIgnoreCase)).ToList();
        var usable = available.Where(e => e.PrivateDnsEnabled || NamedByOverride(function, e)).ToList();
        var region = function.Region ?? "<region>";
        var serviceName = endpoints.FirstOrDefault()?.ServiceName ?? $"com.amazonaws.{region}.secretsmanager";

        // With private DNS the default hostname resolves to the endpoint, so routes don't matter for Secrets Manager.
        if (usable.FirstOrDefault() is { } endpoint)
        {
            CheckEndpoint(inputs, endpoint, functionEgress, functionGroupsKnown, functionPeer, findings, verified);
            return;
        }

        var routes = function.SubnetIds.Select(s => (Subnet: s, Path: InternetPath(inputs, s))).ToList();
        var withoutDns = available.Where(e => !e.PrivateDnsEnabled).ToList();
        if (withoutDns.Count > 0)
        {
            var natEverywhere = routes.All(r => r.Path.Kind == PathKind.Nat);
            findings.Add(new Finding("NET016", natEverywhere ? Severity.Warning : Severity.Error, "The Secrets Manager VPC endpoint has private DNS turned off",
                $"{string.Join(", ", withoutDns.Select(e => e.VpcEndpointId))} ({withoutDns[0].ServiceName}) has privateDnsEnabled false, so secretsmanager.{region}.amazonaws.com "
                + $"still resolves to public addresses and the function's calls {(natEverywhere ? "go out through the NAT gateway instead" : "have nowhere to go")}; "
                + $"SECRETS_MANAGER_ENDPOINT is {(function.SecretsManagerEndpoint is null ? "not set" : $"'{function.SecretsManagerEndpoint}', not the endpoint's name")}.",
                $"Enable private DNS on the endpoint (aws ec2 modify-vpc-endpoint --vpc-endpoint-id {withoutDns[0].VpcEndpointId} --private-dns-enabled), "
                + "or set the function's SECRETS_MANAGER_ENDPOINT to https://<the endpoint's DNS name>."));
        }

        var unusable = endpoints.Except(usable).Except(withoutDns).ToList();
        if (inputs.Unread.Contains(DescribeVpcEndpoints))
        {
            // Without the endpoints, a subnet with no NAT route may still reach Secrets Manager through one.
            foreach (var unknown in routes.Where(r => r.Path.Kind is PathKind.None or PathKind.Broken))
            {
                findings.Add(Unverified($"the way from {unknown.Subnet} to Secrets Manager", $"{unknown.Path.Detail}, and the VPC endpoints couldn't be read ({DescribeVpcEndpoints})",
                    "Let the doctor read the VPC endpoints, or check for a secretsmanager interface endpoint with private DNS by hand."));
            }

            routes = routes.Where(r => r.Path.Kind is not (PathKind.None or PathKind.Broken)).ToList();
        }

        var endpointNote = unusable.Count > 0
            ? $"; the endpoint {string.Join(", ", unusable.Select(e => $"{e.VpcEndpointId} is {e.State}"))}"
            : withoutDns.Count > 0 ? "; the endpoint doesn't count (private DNS off)" : $"; no {serviceName} interface endpoint in {function.VpcId}";
        var missing = routes.Where(r => r.Path.Kind is PathKind.None).ToList();
        if (missing.Count > 0)
        {
            var title = endpoints.Count == 0
                ? "No way from the function's subnets to Secrets Manager (no NAT gateway route, no VPC endpoint)"
                : withoutDns.Count > 0
                    ? "No way from the function's subnets to Secrets Manager (no NAT gateway route; the VPC endpoint has private DNS off)"
                    : $"No way from the function's subnets to Secrets Manager (no NAT gateway route; the VPC endpoint isn't available: {unusable[0].State})";
            findings.Add(new Finding("NET015", Severity.Error, title,
                $"{BySubnet(missing)}{endpointNote}. The function hangs at its first Secrets Manager call until it times out.",
                $"Create a {serviceName} interface endpoint in {function.VpcId} with private DNS enabled and a security group admitting 443 from the function, "
                + "or add a 0.0.0.0/0 route to a NAT gateway (in a public subnet) to these subnets' route tables."));
        }

        var broken = routes.Where(r => r.Path.Kind is PathKind.Broken).ToList();
        if (broken.Count > 0)
        {
            findings.Add(new Finding("NET018", Severity.Error, "The function's default route can't reach the internet",
                $"{BySubnet(broken)}{endpointNote}.",
                "Lambda's network interfaces never get public addresses: route 0.0.0.0/0 to an available public NAT gateway instead, "
                + $"or create a {serviceName} interface endpoint with private DNS."));
        }

        foreach (var unknown in routes.Where(r => r.Path.Kind is PathKind.Unknown))
        {
            findings.Add(Unverified($"the route from {unknown.Subnet} to Secrets Manager", unknown.Path.Detail, "Check that this path reaches the internet on 443."));
        }

        var outbound = routes.Where(r => r.Path.Kind is PathKind.Nat or PathKind.Unknown).ToList();
        if (outbound.Count == 0)
        {
            return;
        }

        verified.AddRange(routes.Where(r => r.Path.Kind == PathKind.Nat).Select(r => $"{r.Subnet} reaches Secrets Manager by {r.Path.Detail}"));
        var https = Allows(functionEgress, HttpsPort, new Peer("Secrets Manager's public addresses", [], [], Complete: false, Internet: true), functionGroupsKnown);
        Record(https, verified, findings, "egress on 443", detail => EgressHttpsDenied(function, "0.0.0.0/0 (Secrets Manager's public addresses, through the NAT gateway)", detail),
            "egress on 443 to Secrets Manager", "Make sure the rule covers Secrets Manager's public addresses.");
    }

    private static void CheckEndpoint(AwsNetworkInputs inputs, VpcEndpoint endpoint, List<(SecurityGroup, SecurityGroupRule)> functionEgress, bool functionGroupsKnown, Peer functionPeer,
        List<Finding> findings, List<string> verified)
    {
        var function = inputs.Function;
        var endpointBlocks = SubnetBlocks(inputs, endpoint.SubnetIds);
        var endpointPeer = new Peer($"{endpoint.VpcEndpointId} ({string.Join(", ", endpoint.SecurityGroupIds)})", endpoint.SecurityGroupIds, endpointBlocks.Blocks,
            endpointBlocks.Complete && endpoint.SubnetIds.Count > 0, Internet: false);
        verified.Add($"Secrets Manager through {endpoint.VpcEndpointId} ({(endpoint.PrivateDnsEnabled ? "private DNS" : "SECRETS_MANAGER_ENDPOINT")})");

        var egress = Allows(functionEgress, HttpsPort, endpointPeer, functionGroupsKnown);
        Record(egress, verified, findings, "egress on 443", detail => EgressHttpsDenied(function, Describe(endpointPeer), detail),
            $"egress on 443 to {endpoint.VpcEndpointId}", "Pass the endpoint's subnets (DescribeSubnets) or check the rule by hand.");

        var endpointGroups = Groups(inputs, endpoint.SecurityGroupIds, $"the endpoint {endpoint.VpcEndpointId}'s", findings);
        if (endpointGroups.Count == 0)
        {
            return;
        }

        var ingress = Allows(endpointGroups.SelectMany(g => g.Ingress.Select(r => (g, r))), HttpsPort, functionPeer, endpointGroups.Count == endpoint.SecurityGroupIds.Count);
        Record(ingress, verified, findings, "endpoint ingress", detail => new Finding("NET017", Severity.Error, "The Secrets Manager endpoint's security groups don't admit the rotation function",
                    $"No ingress rule of {string.Join(", ", endpoint.SecurityGroupIds)} (on {endpoint.VpcEndpointId}) admits tcp/443 from {Describe(functionPeer)}; {detail}.",
                    $"Add an inbound rule to the endpoint's security group: TCP 443 from the function's security group ({Or(function.SecurityGroupIds, "its group")}) or the VPC's CIDR."),
            $"{endpoint.VpcEndpointId}'s ingress from the function", "Pass the function's subnets (DescribeSubnets) or check the rule by hand.");
    }

    /// <summary>"subnet-a, subnet-b: what their route table says", once per distinct situation.</summary>
    private static string BySubnet(IEnumerable<(string Subnet, (PathKind Kind, string Detail) Path)> routes) =>
        string.Join("; ", routes.GroupBy(r => r.Path.Detail, StringComparer.Ordinal).Select(g => $"{string.Join(", ", g.Select(r => r.Subnet))}: {g.Key}"));

    private static Finding EgressHttpsDenied(FunctionNetwork function, string destination, string detail) =>
        new("NET014", Severity.Error, "The function's security groups don't allow egress on 443 to Secrets Manager",
            $"No egress rule of {string.Join(", ", function.SecurityGroupIds)} admits tcp/443 to {destination}; {detail}.",
            "Add an outbound rule to the function's security group: TCP 443 to the endpoint's security group (or to 0.0.0.0/0 when it goes through a NAT gateway).");

    /// <summary>Files a rule check: allowed goes to what was verified, denied to <paramref name="denied"/>'s finding, undecided to NET019.</summary>
    private static void Record((Verdict Verdict, string Detail) check, List<string> verified, List<Finding> findings,
        string verifiedAs, Func<string, Finding> denied, string unverifiedWhat, string howToCheck)
    {
        switch (check.Verdict)
        {
            case Verdict.Allowed:
                verified.Add($"{verifiedAs} by {check.Detail}");
                break;
            case Verdict.Denied:
                findings.Add(denied(check.Detail));
                break;
            case Verdict.Unknown:
                findings.Add(Unverified(unverifiedWhat, check.Detail, howToCheck));
                break;
        }
    }

    private static Finding Unverified(string what, string why, string fix) =>
        new("NET019", Severity.Warning, $"Couldn't verify {what}", why + ".", fix);

    /// <summary>Whether any rule admits TCP <paramref name="port"/> to or from <paramref name="peer"/>, with the rule (or the reason) as detail.</summary>
    private static (Verdict Verdict, string Detail) Allows(IEnumerable<(SecurityGroup Group, SecurityGroupRule Rule)> rules, int port, Peer peer, bool allGroupsKnown)
    {
        var (verdict, detail) = Evaluate(rules, port, peer);
        return verdict == Verdict.Denied && !allGroupsKnown
            ? (Verdict.Unknown, $"the described groups don't allow it ({detail}), and not every group was described")
            : (verdict, detail);
    }

    private static (Verdict Verdict, string Detail) Evaluate(IEnumerable<(SecurityGroup Group, SecurityGroupRule Rule)> rules, int port, Peer peer)
    {
        var all = rules.ToList();
        var matching = all.Where(r => r.Rule.AllowsTcpPort(port)).ToList();
        if (matching.FirstOrDefault(r => r.Rule.GroupIds.Intersect(peer.GroupIds, StringComparer.Ordinal).Any()) is { Rule: not null } byGroup)
        {
            return (Verdict.Allowed, $"{byGroup.Group.GroupId} rule {byGroup.Rule}");
        }

        // 0.0.0.0/0 admits every IPv4 peer; ::/0 only IPv6 ones, which the per-block check below handles.
        if (matching.FirstOrDefault(r => r.Rule.Ipv4Ranges.Any(c => Block(c) is { PrefixLength: 0 })) is { Rule: not null } world)
        {
            return (Verdict.Allowed, $"{world.Group.GroupId} rule {world.Rule}");
        }

        if (!peer.Internet && peer.Blocks.Count > 0)
        {
            var uncovered = peer.Blocks.Where(b => !matching.Any(r => Covers(r.Rule, b))).ToList();
            if (uncovered.Count == 0 && peer.Complete)
            {
                var used = matching.Where(r => peer.Blocks.Any(b => Covers(r.Rule, b))).Select(r => $"{r.Group.GroupId} rule {r.Rule}").Distinct();
                return (Verdict.Allowed, string.Join(" and ", used));
            }

            if (peer.AnyOf && uncovered.Count > 0 && uncovered.Count < peer.Blocks.Count)
            {
                return (Verdict.Unknown, $"{peer.Name} is in one of {string.Join(", ", peer.Blocks)}; the rules cover some, not {string.Join(", ", uncovered)} (where a failover may move it): {Rules(matching)}");
            }

            if (uncovered.Count > 0 && !matching.Any(r => r.Rule.PrefixListIds.Count > 0))
            {
                return (Verdict.Denied, $"{string.Join(", ", uncovered)} {(uncovered.Count == 1 ? "is" : "are")} not covered; the rules are: {Rules(all)}");
            }
        }

        if (matching.FirstOrDefault(r => r.Rule.PrefixListIds.Count > 0) is { Rule: not null } prefixed)
        {
            return (Verdict.Unknown, $"{prefixed.Group.GroupId} rule {prefixed.Rule} names a prefix list whose addresses aren't in the documents");
        }

        if (!peer.Complete && matching.Any(r => r.Rule.Ipv4Ranges.Count + r.Rule.Ipv6Ranges.Count > 0))
        {
            return (Verdict.Unknown, $"the addresses of {peer.Name} aren't all known, and rules by address exist: {Rules(matching)}");
        }

        return (Verdict.Denied, $"the rules are: {Rules(all)}");
    }

    private static string Rules(IEnumerable<(SecurityGroup Group, SecurityGroupRule Rule)> rules)
    {
        var text = string.Join("; ", rules.Select(r => $"{r.Group.GroupId} {r.Rule}"));
        return text.Length == 0 ? "none" : text;
    }

    private static bool Covers(SecurityGroupRule rule, IPNetwork block) =>
        rule.Ipv4Ranges.Concat(rule.Ipv6Ranges).Select(Block).OfType<IPNetwork>().Any(range => Covers(range, block));

    private static bool Covers(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily && outer.PrefixLength <= inner.PrefixLength && outer.Contains(inner.BaseAddress);

    /// <summary>A CIDR block, host bits cleared (a lenient reading: <c>10.0.1.5/16</c> is 10.0.0.0/16); null when it isn't one.</summary>
    private static IPNetwork? Block(string? cidr)
    {
        if (cidr is null)
        {
            return null;
        }

        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? cidr : cidr[..slash], out var address))
        {
            return null;
        }

        var bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (slash >= 0 && (!int.TryParse(cidr[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out bits) || bits > (address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)))
        {
            return null;
        }

        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPNetwork(new IPAddress(bytes), bits);
    }

    private static bool IsPrivate(IPAddress address) => PrivateBlocks.Any(b => b.BaseAddress.AddressFamily == address.AddressFamily && b.Contains(address));

    private static bool IsSecretsManager(string serviceName) =>
        serviceName.StartsWith("com.amazonaws.", StringComparison.Ordinal)
        && (serviceName.EndsWith(".secretsmanager", StringComparison.Ordinal) || serviceName.EndsWith(".secretsmanager-fips", StringComparison.Ordinal));

    /// <summary>The templates call SECRETS_MANAGER_ENDPOINT instead of the default name; an endpoint-specific name works without private DNS.</summary>
    private static bool NamedByOverride(FunctionNetwork function, VpcEndpoint endpoint) =>
        function.SecretsManagerEndpoint is { } overridden
        && (endpoint.DnsNames.Any(n => overridden.Contains(n.TrimStart('*', '.'), StringComparison.OrdinalIgnoreCase))
            || overridden.Contains(endpoint.VpcEndpointId + "-", StringComparison.OrdinalIgnoreCase));

    /// <summary>The described groups among <paramref name="ids"/>; a finding for each one missing from the documents.</summary>
    private static List<SecurityGroup> Groups(AwsNetworkInputs inputs, IReadOnlyList<string> ids, string whose, List<Finding> findings)
    {
        var found = ids.Select(id => inputs.SecurityGroups.FirstOrDefault(g => g.GroupId == id)).OfType<SecurityGroup>().ToList();
        var missing = ids.Where(id => found.All(g => g.GroupId != id)).ToList();
        if (missing.Count > 0)
        {
            findings.Add(Unverified($"{whose} security group{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing)}",
                inputs.Unread.Contains(DescribeSecurityGroups) ? $"the security groups couldn't be read ({DescribeSecurityGroups})" : "DescribeSecurityGroups didn't describe them",
                "Describe every security group involved (the function's, the database's and the endpoint's)."));
        }

        return found;
    }

    private static (List<IPNetwork> Blocks, bool Complete) SubnetBlocks(AwsNetworkInputs inputs, IReadOnlyList<string> subnetIds)
    {
        var blocks = subnetIds.Select(id => Block(inputs.Subnets.FirstOrDefault(s => s.SubnetId == id)?.CidrBlock)).ToList();
        return (blocks.OfType<IPNetwork>().ToList(), blocks.All(b => b is not null));
    }

    /// <summary>How a subnet's traffic to public addresses leaves: its explicit route table, else the VPC's main one.</summary>
    private static (PathKind Kind, string Detail) InternetPath(AwsNetworkInputs inputs, string subnetId)
    {
        var vpc = inputs.Function.VpcId;
        var table = inputs.RouteTables.FirstOrDefault(t => t.SubnetIds.Contains(subnetId, StringComparer.Ordinal));
        var how = "explicitly associated";
        if (table is null)
        {
            table = inputs.RouteTables.FirstOrDefault(t => t.Main && (t.VpcId is null || t.VpcId == vpc));
            how = "the VPC's main table";
        }

        if (table is null)
        {
            return (PathKind.Unknown, $"no route table for {subnetId} (nor a main one for {vpc}) is in the documents");
        }

        var route = table.Routes.FirstOrDefault(r => r.DestinationCidr == "0.0.0.0/0");
        var where = $"{table.RouteTableId} ({how})";
        if (route?.Target is not { } target)
        {
            return (PathKind.None, $"{where} has no 0.0.0.0/0 route");
        }

        if (route.IsBlackhole)
        {
            return (PathKind.Broken, $"{where} routes 0.0.0.0/0 to {target}, which is a blackhole (the target is gone)");
        }

        if (target.StartsWith("igw-", StringComparison.Ordinal))
        {
            return (PathKind.Broken, $"{where} routes 0.0.0.0/0 to the internet gateway {target}, which a Lambda function (no public address) can't use");
        }

        if (target.StartsWith("nat-", StringComparison.Ordinal))
        {
            var nat = inputs.NatGateways.FirstOrDefault(n => n.NatGatewayId == target);
            if (nat is null)
            {
                return (PathKind.Unknown, $"{where} routes 0.0.0.0/0 to {target}, which DescribeNatGateways didn't describe");
            }

            if (!nat.State.Equals("available", StringComparison.OrdinalIgnoreCase))
            {
                return (PathKind.Broken, $"{where} routes 0.0.0.0/0 to {target}, which is {nat.State}");
            }

            return string.Equals(nat.ConnectivityType, "private", StringComparison.OrdinalIgnoreCase)
                ? (PathKind.Broken, $"{where} routes 0.0.0.0/0 to {target}, a private NAT gateway, which can't reach the internet")
                : (PathKind.Nat, $"{where} → {target} (available)");
        }

        return (PathKind.Unknown, $"{where} routes 0.0.0.0/0 to {target} (a transit gateway, peering, appliance or instance these checks can't follow)");
    }

    private static string Describe(Peer peer) =>
        peer.Blocks.Count == 0 ? peer.Name : $"{peer.Name}, {string.Join(", ", peer.Blocks)}";

    private static string Or(IReadOnlyList<string> ids, string fallback) => ids.Count == 0 ? fallback : string.Join(" or ", ids);

    private enum PathKind
    {
        Nat,
        None,
        Broken,
        Unknown,
    }

    /// <summary>The other side of a rule: its security groups, its address blocks (<paramref name="Complete"/> when all are known), or "the internet".</summary>
    /// <remarks><paramref name="AnyOf"/>: the peer is at one address inside one of the blocks (a database in its subnet group), not in all of them.</remarks>
    private sealed record Peer(string Name, IReadOnlyList<string> GroupIds, IReadOnlyList<IPNetwork> Blocks, bool Complete, bool Internet, bool AnyOf = false);
}
