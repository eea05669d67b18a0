using Keyturn.Domain.Rotation;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// Everything the doctor decides from, gathered beforehand (labels, probes, configuration, network and
/// log findings). Deciding reads no state and has no clock: <see cref="Now"/> is part of the input.
/// </summary>
public sealed record RotationSnapshot
{
    public required string SecretArn { get; init; }

    public required string Name { get; init; }

    public required DateTimeOffset Now { get; init; }

    /// <summary>Every version, deprecated ones included (they matter for the orphan scan).</summary>
    public required IReadOnlyList<VersionSnapshot> Versions { get; init; }

    /// <summary>Login probe per version id; versions not probed are absent.</summary>
    public IReadOnlyDictionary<string, ProbeSummary> Probes { get; init; } = new Dictionary<string, ProbeSummary>();

    public bool? RotationEnabled { get; init; }

    public string? RotationFunction { get; init; }

    /// <summary>False when the named function can't be found or invoked.</summary>
    public bool? FunctionAvailable { get; init; }

    /// <summary>DescribeSecret's RotationRules, if any.</summary>
    public RotationRules? Rules { get; init; }

    public DateTimeOffset? LastRotatedDate { get; init; }

    public DateTimeOffset? NextRotationDate { get; init; }

    /// <summary>"single-user" or "alternating-users" when known from the function name.</summary>
    public string? Strategy { get; init; }

    /// <summary>The master secret's login probe (alternating users, break-glass), if there is a master.</summary>
    public ProbeSummary? MasterProbe { get; init; }

    /// <summary>For alternating users with both users logging in: whether their privileges are equal (null: not compared).</summary>
    public bool? PrivilegesEqual { get; init; }

    /// <summary>The <c>engine</c> values the doctor has a rotator (and so a login probe) for, to name in an unsupported-engine finding.</summary>
    public IReadOnlyList<string> SupportedEngines { get; init; } = [];

    /// <summary>Findings already made by the gatherers (network path analysis, log analysis, JSON checks).</summary>
    public IReadOnlyList<Finding> ExternalFindings { get; init; } = [];

    /// <summary>Where the rotation runs: Keyturn's rotators, or a Lambda function on AWS (whose network is not the doctor's).</summary>
    public RotationPlatform Platform { get; init; }

    /// <summary>Whether the doctor reached the database (DNS, then TCP) from where it runs; null when not checked.</summary>
    public DatabaseReachability? Reachability { get; init; }

    /// <summary>The rotation function's placement as Lambda describes it (AWS), for saying where the doctor can run instead.</summary>
    public FunctionNetwork? FunctionPlacement { get; init; }

    /// <summary>Why <see cref="FunctionAvailable"/> is false, as the platform said it (Lambda's error or the function's state).</summary>
    public string? FunctionUnavailableReason { get; init; }

    /// <summary>The AWS reads that failed, by cause (<see cref="AwsReadFailures"/> turns them into findings).</summary>
    public IReadOnlyList<ReadFailure> ReadFailures { get; init; } = [];
}

public enum RotationPlatform
{
    /// <summary>Keyturn's own rotators (and external functions it runs): the doctor usually shares their network.</summary>
    Keyturn,

    /// <summary>AWS Secrets Manager with a Lambda rotation function: the doctor's network and the function's differ.</summary>
    Aws,
}

/// <summary>
/// One version as listed by ListSecretVersionIds (with IncludeDeprecated) plus what its value says.
/// <paramref name="UnsupportedEngine"/> is the value's <c>engine</c> when no rotator serves it: such a version is never probed.
/// </summary>
public sealed record VersionSnapshot(
    string VersionId,
    IReadOnlyList<string> Stages,
    DateTimeOffset CreatedDate,
    bool HasValue,
    string? Username = null,
    string? InvalidJsonReason = null,
    string? UnsupportedEngine = null)
{
    public bool Has(string label) => Stages.Contains(label, StringComparer.Ordinal);
}

public enum ProbeOutcome
{
    Ok,
    AuthFail,
    Unknown,
}

/// <summary>A login probe's result: only <see cref="ProbeOutcome.AuthFail"/> says anything about a password.</summary>
public sealed record ProbeSummary(ProbeOutcome Outcome, string Reason, string? DriverCode, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"{Outcome switch { ProbeOutcome.Ok => "ok", ProbeOutcome.AuthFail => "auth-fail", _ => "unknown" }} ({Reason}{(DriverCode is null ? "" : " " + DriverCode)}, {Elapsed.TotalMilliseconds:F0} ms)";
}
