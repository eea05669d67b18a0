using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>
/// Collects what the decision core needs, with I/O: labels (deprecated versions included), values,
/// login probes (login only, nothing changes), the master's probe, privilege parity, and the
/// network path to the database. Every probe result is classified by the driver's error code. A secret's
/// probes go to the rotator the registry (shared with the rotation functions) has for its <c>engine</c>; a
/// version whose engine no rotator serves is not probed at all.
/// </summary>
internal sealed class DoctorGatherer(SecretsManagerClient client, DatabaseRotators rotators, TimeProvider timeProvider)
{
    /// <summary>
    /// The checks beyond labels and probes: the rotation function's logs, and on AWS its network path
    /// (without it, the database's reachability from here). <see cref="LogsOnlyWhenUnhealthy"/> spares
    /// <c>--all</c> a log read per healthy secret: logs explain a failure, they don't find one labels miss.
    /// </summary>
    public sealed record Checks(RotationLogCheck? Logs, AwsNetworkCheck? AwsNetwork, bool LogsOnlyWhenUnhealthy = false)
    {
        /// <summary>Whether the rotation function exists (Lambda GetFunctionConfiguration; Keyturn answers it for its own functions).</summary>
        public FunctionCheck? Functions { get; init; }
    }

    public Checks Extra { get; init; } = new(null, null);

    /// <summary>Where the rotations run: on AWS the doctor's reachability check speaks of its own host, not of the function's network.</summary>
    public RotationPlatform Platform { get; init; }

    /// <summary>
    /// Read deprecated versions' values only when the orphan scan needs them (<c>--all</c>: one GetSecretValue less per
    /// version a rotation left behind). Their snapshots then say no value; nothing but the orphan scan reads it. A single
    /// secret's report shows every version, so it reads them all.
    /// </summary>
    public bool DeprecatedValuesOnDemand { get; init; }

    /// <summary>
    /// One DNS and TCP check per database endpoint, and one read and login per master secret, for this gatherer's
    /// lifetime (<c>--all</c>: thousands of secrets on the same few databases and masters, checked within a minute).
    /// Off for gatherers that watch one database go down and come back.
    /// </summary>
    public bool SharedChecksOncePerRun { get; init; }

    private readonly ConcurrentDictionary<(string Host, int Port), Lazy<Task<DatabaseReachability>>> _network = new();

    private readonly ConcurrentDictionary<(string MasterArn, string? DbName), Lazy<Task<(DatabaseSecret?, ProbeSummary?, Finding?)>>> _masters = new();

    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public sealed record Gathered(RotationSnapshot Snapshot, IReadOnlyDictionary<string, DatabaseSecret> Secrets, DatabaseSecret? Master);

    public async Task<Gathered> GatherAsync(string secretId, CancellationToken cancellationToken)
    {
        var described = await client.DescribeSecretAsync(secretId, cancellationToken).ConfigureAwait(false);
        var arn = described.GetProperty("ARN").GetString()!;
        var listed = await client.ListVersionsAsync(arn, cancellationToken).ConfigureAwait(false);

        var secrets = new Dictionary<string, DatabaseSecret>(StringComparer.Ordinal);
        var values = new List<string>();
        var versions = new List<VersionSnapshot>();
        var unread = new List<SecretsManagerClient.VersionEntry>();
        foreach (var version in listed.OrderByDescending(v => v.CreatedDate))
        {
            if (DeprecatedValuesOnDemand && version.Stages.Count == 0)
            {
                unread.Add(version);
                continue;
            }

            versions.Add(await ReadVersionAsync(arn, version, secrets, values, cancellationToken).ConfigureAwait(false));
        }

        var probes = new Dictionary<string, ProbeSummary>(StringComparer.Ordinal);
        await ProbeAsync(versions, RotationDoctor.VersionsToProbe(versions, labelledOnly: true), secrets, probes, cancellationToken).ConfigureAwait(false);
        var current = versions.FirstOrDefault(v => v.Has(StagingLabels.Current));
        if (current is null || probes.GetValueOrDefault(current.VersionId)?.Outcome == ProbeOutcome.AuthFail)
        {
            // The orphan scan: only when the labelled credentials are refused. It needs the deprecated versions' values.
            foreach (var version in unread)
            {
                versions.Add(await ReadVersionAsync(arn, version, secrets, values, cancellationToken).ConfigureAwait(false));
            }

            unread.Clear();
            versions.Sort((a, b) => b.CreatedDate.CompareTo(a.CreatedDate));
            await ProbeAsync(versions, RotationDoctor.VersionsToProbe(versions, labelledOnly: false), secrets, probes, cancellationToken).ConfigureAwait(false);
        }

        // Deprecated versions whose values were not needed: listed, value not read (only the orphan scan reads them).
        versions.AddRange(unread.Select(v => new VersionSnapshot(v.VersionId, v.Stages, v.CreatedDate, HasValue: false)));
        versions.Sort((a, b) => b.CreatedDate.CompareTo(a.CreatedDate));
        var (snapshot, master) = await CompleteAsync(described, versions, secrets, probes, cancellationToken).ConfigureAwait(false);
        if (Extra.Logs is not null && (!Extra.LogsOnlyWhenUnhealthy || !RotationDoctor.Diagnose(snapshot).Healthy))
        {
            var failures = new List<ReadFailure>();
            var logs = await Extra.Logs.FindingsAsync(arn, snapshot.Name, snapshot.RotationFunction, snapshot.LastRotatedDate, failures, cancellationToken).ConfigureAwait(false);

            // A function's log (CloudWatch's, or a saved file) may print a value the doctor read: the report quotes it masked.
            var masker = SecretRedaction.MaskerFor([.. values, .. master is null ? [] : new[] { master.ToJson() }]);
            logs = logs.Select(f => f with { Title = masker.Mask(f.Title, SecretRedaction.Mask), Evidence = masker.Mask(f.Evidence, SecretRedaction.Mask) }).ToList();
            snapshot = snapshot with { ExternalFindings = [.. snapshot.ExternalFindings, .. logs], ReadFailures = [.. snapshot.ReadFailures, .. failures] };
        }

        return new Gathered(snapshot, secrets, master);
    }

    /// <summary>
    /// <c>--all</c>'s quick check of a secret whose listed <paramref name="labels"/> pass <see cref="RotationDoctor.QuickCheckVersion"/>
    /// with <paramref name="current"/>'s version: <paramref name="listed"/> is its ListSecrets entry (DescribeSecret's fields),
    /// <paramref name="current"/> its AWSCURRENT value; one login with it. Returns the result when the secret is healthy on that
    /// evidence, or null when it is not: then it needs <see cref="GatherAsync"/>.
    /// </summary>
    public async Task<Gathered?> QuickCheckAsync(JsonElement listed, IReadOnlyDictionary<string, IReadOnlyList<string>> labels, SecretsManagerClient.SecretValue current, CancellationToken cancellationToken)
    {
        var secrets = new Dictionary<string, DatabaseSecret>(StringComparer.Ordinal);
        var versions = new List<VersionSnapshot> { Snapshot(current.VersionId, labels[current.VersionId], current.CreatedDate, current.SecretString, secrets) };
        var probes = new Dictionary<string, ProbeSummary>(StringComparer.Ordinal);
        await ProbeAsync(versions, [current.VersionId], secrets, probes, cancellationToken).ConfigureAwait(false);
        if (probes.GetValueOrDefault(current.VersionId)?.Outcome != ProbeOutcome.Ok)
        {
            return null;
        }

        var (snapshot, master) = await CompleteAsync(listed, versions, secrets, probes, cancellationToken).ConfigureAwait(false);
        return RotationDoctor.Diagnose(snapshot).Healthy ? new Gathered(snapshot, secrets, master) : null;
    }

    /// <summary>ListSecrets' SecretVersionsToStages (DescribeSecret's VersionIdsToStages).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ListedLabels(JsonElement described)
    {
        var labels = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        if ((described.TryGetProperty("SecretVersionsToStages", out var map) || described.TryGetProperty("VersionIdsToStages", out map)) && map.ValueKind == JsonValueKind.Object)
        {
            foreach (var version in map.EnumerateObject())
            {
                labels[version.Name] = version.Value.EnumerateArray().Select(s => s.GetString()!).ToList();
            }
        }

        return labels;
    }

    /// <summary>What every diagnosis adds to the versions and probes: network, function, master, configuration.</summary>
    private async Task<(RotationSnapshot Snapshot, DatabaseSecret? Master)> CompleteAsync(JsonElement described, List<VersionSnapshot> versions, Dictionary<string, DatabaseSecret> secrets, Dictionary<string, ProbeSummary> probes, CancellationToken cancellationToken)
    {
        var findings = new List<Finding>();
        var current = versions.FirstOrDefault(v => v.Has(StagingLabels.Current));
        var reference = (current is not null ? secrets.GetValueOrDefault(current.VersionId) : null) ?? secrets.Values.FirstOrDefault();
        var function = described.TryGetProperty("RotationLambdaARN", out var lambda) ? lambda.GetString() : null;
        bool? functionAvailable = null;
        DatabaseReachability? reachability = null;
        AwsNetworkCheck.Result? network = null;
        if (reference is not null)
        {
            // Probes run from here, so reachability from here always matters (for the probes); on AWS the function's own path too.
            reachability = await ReachabilityAsync(reference, cancellationToken).ConfigureAwait(false);
            if (Extra.AwsNetwork is not null && function is not null)
            {
                network = await Extra.AwsNetwork.RunAsync(function, reference, cancellationToken).ConfigureAwait(false);
                findings.AddRange(network.Findings);
                functionAvailable = network.FunctionAvailable;
            }
        }

        if (functionAvailable is null && function is not null && Extra.Functions is not null)
        {
            functionAvailable = await Extra.Functions.ExistsAsync(function, cancellationToken).ConfigureAwait(false);
        }

        DatabaseSecret? master = null;
        ProbeSummary? masterProbe = null;
        if (reference?.MasterArn is { Length: > 0 } masterArn)
        {
            (master, masterProbe, var masterFinding) = await (SharedChecksOncePerRun
                ? _masters.GetOrAdd((masterArn, reference.DbName), _ => new Lazy<Task<(DatabaseSecret?, ProbeSummary?, Finding?)>>(() => MasterAsync(masterArn, reference, cancellationToken))).Value
                : MasterAsync(masterArn, reference, cancellationToken)).ConfigureAwait(false);
            if (masterFinding is not null)
            {
                findings.Add(masterFinding);
            }
        }

        return (new RotationSnapshot
        {
            SecretArn = described.GetProperty("ARN").GetString()!,
            Name = described.GetProperty("Name").GetString()!,
            Now = timeProvider.GetUtcNow(),
            Versions = versions,
            Probes = probes,
            RotationEnabled = described.TryGetProperty("RotationEnabled", out var enabled) ? enabled.GetBoolean() : null,
            RotationFunction = function,
            FunctionAvailable = functionAvailable,
            Rules = Rules(described),
            LastRotatedDate = Date(described, "LastRotatedDate"),
            NextRotationDate = Date(described, "NextRotationDate"),
            Strategy = function is null ? null : function.Contains("alternating", StringComparison.OrdinalIgnoreCase) || function.Contains("MultiUser", StringComparison.OrdinalIgnoreCase) ? "alternating-users" : "single-user",
            MasterProbe = masterProbe,
            PrivilegesEqual = await PrivilegesEqualAsync(versions, secrets, probes, master, cancellationToken).ConfigureAwait(false),
            SupportedEngines = rotators.Engines,
            ExternalFindings = [.. findings],
            Platform = Platform,
            Reachability = reachability,
            FunctionPlacement = network?.Placement,
            FunctionUnavailableReason = network?.UnavailableReason,
            ReadFailures = network?.Failures ?? [],
        }, master);
    }

    public IDatabaseRotator RotatorFor(DatabaseSecret secret) => rotators.For(secret);

    public async Task<ProbeSummary> ProbeAsync(DatabaseSecret secret, CancellationToken cancellationToken)
    {
        var probe = await RotatorFor(secret).ProbeLoginAsync(DatabaseConnection.FromSecret(secret), ProbeTimeout, loginOnly: true, cancellationToken).ConfigureAwait(false);
        return new ProbeSummary(probe.Outcome switch
        {
            LoginOutcome.Ok => ProbeOutcome.Ok,
            LoginOutcome.AuthFailed => ProbeOutcome.AuthFail,
            _ => ProbeOutcome.Unknown,
        }, probe.Reason, probe.DriverCode, probe.Elapsed);
    }

    private async Task<VersionSnapshot> ReadVersionAsync(
        string arn, SecretsManagerClient.VersionEntry version, Dictionary<string, DatabaseSecret> secrets, List<string> values, CancellationToken cancellationToken)
    {
        var text = await client.GetSecretStringAsync(arn, version.VersionId, null, cancellationToken).ConfigureAwait(false);
        if (text is not null)
        {
            values.Add(text);
        }

        return Snapshot(version.VersionId, version.Stages, version.CreatedDate, text, secrets);
    }

    /// <summary>
    /// A version and what its value says; a complete database secret whose engine has a rotator goes into
    /// <paramref name="secrets"/> (only those are probed).
    /// </summary>
    private VersionSnapshot Snapshot(string versionId, IReadOnlyList<string> stages, DateTimeOffset created, string? text, Dictionary<string, DatabaseSecret> secrets)
    {
        string? invalid = null;
        string? username = null;
        string? unsupported = null;
        if (text is not null)
        {
            try
            {
                var parsed = rotators.Parse(text);
                username = parsed.Username;
                secrets[versionId] = parsed;
            }
            catch (DatabaseSecretException e) when (e.UnsupportedEngine is { } engine)
            {
                unsupported = engine;
            }
            catch (DatabaseSecretException e)
            {
                invalid = e.Message;
            }
        }

        return new VersionSnapshot(versionId, stages, created, text is not null, username, invalid, unsupported);
    }

    private async Task ProbeAsync(List<VersionSnapshot> versions, IReadOnlyList<string> ids, Dictionary<string, DatabaseSecret> secrets, Dictionary<string, ProbeSummary> probes, CancellationToken cancellationToken)
    {
        foreach (var id in ids)
        {
            if (!probes.ContainsKey(id) && secrets.TryGetValue(id, out var secret))
            {
                probes[id] = await ProbeAsync(secret, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<(DatabaseSecret?, ProbeSummary?, Finding?)> MasterAsync(string masterArn, DatabaseSecret child, CancellationToken cancellationToken)
    {
        string? text;
        try
        {
            text = await client.GetSecretStringAsync(masterArn, null, StagingLabels.Current, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e)
        {
            return (null, null, new Finding("CFG005", Severity.Error, "The master secret can't be read",
                $"GetSecretValue on {masterArn} failed: {e.ErrorCode}: {e.ErrorMessage}", "Grant GetSecretValue on the master secret to the rotation and the doctor."));
        }

        try
        {
            var master = rotators.Parse(text ?? "");
            var probe = await RotatorFor(master).ProbeLoginAsync(DatabaseConnection.FromSecret(master) with { DbName = child.DbName }, ProbeTimeout, loginOnly: true, cancellationToken).ConfigureAwait(false);
            return (master, new ProbeSummary(probe.Outcome switch { LoginOutcome.Ok => ProbeOutcome.Ok, LoginOutcome.AuthFailed => ProbeOutcome.AuthFail, _ => ProbeOutcome.Unknown }, probe.Reason, probe.DriverCode, probe.Elapsed), null);
        }
        catch (DatabaseSecretException e)
        {
            return (null, null, new Finding("CFG005", Severity.Error, "The master secret is not a complete database secret", e.Message, "Fix the master secret's JSON."));
        }
    }

    private async Task<bool?> PrivilegesEqualAsync(List<VersionSnapshot> versions, Dictionary<string, DatabaseSecret> secrets, Dictionary<string, ProbeSummary> probes, DatabaseSecret? master, CancellationToken cancellationToken)
    {
        var current = versions.FirstOrDefault(v => v.Has(StagingLabels.Current));
        var pending = versions.FirstOrDefault(v => v.Has(StagingLabels.Pending) && !v.Has(StagingLabels.Current));
        if (master is null || current is null || pending is null
            || !secrets.TryGetValue(current.VersionId, out var c) || !secrets.TryGetValue(pending.VersionId, out var p) || c.Username == p.Username
            || probes.GetValueOrDefault(current.VersionId)?.Outcome != ProbeOutcome.Ok || probes.GetValueOrDefault(pending.VersionId)?.Outcome != ProbeOutcome.Ok)
        {
            return null;
        }

        var connection = DatabaseConnection.FromSecret(master) with { DbName = c.DbName };
        var rotator = RotatorFor(master);
        var left = await rotator.DescribePrivilegesAsync(connection, c.Username, cancellationToken).ConfigureAwait(false);
        var right = await rotator.DescribePrivilegesAsync(connection, p.Username, cancellationToken).ConfigureAwait(false);
        return left.SequenceEqual(right, StringComparer.Ordinal);
    }

    /// <summary>DNS and TCP reachability of the database from here (see <see cref="SharedChecksOncePerRun"/>).</summary>
    private Task<DatabaseReachability> ReachabilityAsync(DatabaseSecret secret, CancellationToken cancellationToken) =>
        SharedChecksOncePerRun
            ? _network.GetOrAdd((secret.Host, secret.Port), _ => new Lazy<Task<DatabaseReachability>>(() => CheckReachabilityAsync(secret, cancellationToken))).Value
            : CheckReachabilityAsync(secret, cancellationToken);

    /// <summary>DNS and TCP reachability of the database from here, with the time to failure; what it means is the core's to say (<see cref="DoctorVantage"/>).</summary>
    private static async Task<DatabaseReachability> CheckReachabilityAsync(DatabaseSecret secret, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(secret.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(secret.Host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            return new DatabaseReachability(secret.Host, secret.Port, ReachOutcome.NameNotResolved, $"DNS lookup of {secret.Host} failed after {watch.Elapsed.TotalMilliseconds:F0} ms: {e.SocketErrorCode}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        using var socket = new Socket(addresses[0].AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        watch.Restart();
        try
        {
            await socket.ConnectAsync(addresses[0], secret.Port, timeout.Token).ConfigureAwait(false);
            return new DatabaseReachability(secret.Host, secret.Port, ReachOutcome.Reachable, $"TCP connect to {addresses[0]}:{secret.Port} in {watch.Elapsed.TotalMilliseconds:F1} ms");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DatabaseReachability(secret.Host, secret.Port, ReachOutcome.TimedOut, $"TCP connect to {addresses[0]}:{secret.Port} timed out after {watch.Elapsed.TotalSeconds:F1} s");
        }
        catch (SocketException e)
        {
            return new DatabaseReachability(secret.Host, secret.Port, ReachOutcome.Refused, $"TCP connect to {addresses[0]}:{secret.Port} failed after {watch.Elapsed.TotalMilliseconds:F0} ms: {e.SocketErrorCode}");
        }
    }

    private static RotationRules? Rules(JsonElement described)
    {
        if (!described.TryGetProperty("RotationRules", out var rules) || rules.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? Text(string name) => rules.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return new RotationRules(
            rules.TryGetProperty("AutomaticallyAfterDays", out var days) && days.TryGetInt64(out var d) ? d : null,
            Text("ScheduleExpression"),
            Text("Duration"));
    }

    // moto and other AWS-compatible services send an unset date as null rather than leaving it out.
    private static DateTimeOffset? Date(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.Number ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(value.GetDecimal() * 1000m)) : DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
            : null;
}
