namespace Keyturn.Domain.Doctor;

/// <summary>
/// How the AWS CLI asks EC2 instance metadata (IMDS) for the region when none is configured: where
/// (<c>AWS_EC2_METADATA_SERVICE_ENDPOINT</c> / <c>ec2_metadata_service_endpoint</c>, else the IPv4 or IPv6 address by
/// <c>AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE</c> / <c>ec2_metadata_service_endpoint_mode</c> / <c>imds_use_ipv6</c>),
/// how long each request may take (<c>AWS_METADATA_SERVICE_TIMEOUT</c> / <c>metadata_service_timeout</c>, 1 s), how
/// many times each request is tried (<c>AWS_METADATA_SERVICE_NUM_ATTEMPTS</c> / <c>metadata_service_num_attempts</c>, 1),
/// and whether it is asked at all (<c>AWS_EC2_METADATA_DISABLED=true</c>, read from the environment only, as botocore does).
/// </summary>
/// <param name="Disabled">Why instance metadata is not asked, or null when it is.</param>
/// <param name="Problem">A setting the AWS CLI refuses (an unknown endpoint mode, a malformed endpoint), or null.</param>
public sealed record InstanceMetadataSettings(string? Disabled, Uri Endpoint, string EndpointSource, TimeSpan Timeout, int Attempts, bool V1Disabled, string? Problem = null)
{
    public const string Ipv4Endpoint = "http://169.254.169.254/";
    public const string Ipv6Endpoint = "http://[fd00:ec2::254]/";

    /// <summary>The path the AWS CLI reads; the region is the availability zone without its last letter.</summary>
    public const string AvailabilityZonePath = "latest/meta-data/placement/availability-zone";

    public const string TokenPath = "latest/api/token";

    /// <summary>The settings as the AWS CLI reads them from the environment and the profile's section of the config file.</summary>
    public static InstanceMetadataSettings Of(Func<string, string?> environment, Func<string, string?> profileSetting)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(profileSetting);
        string? Either(string variable, string key) => environment(variable) ?? profileSetting(key);
        string? problem = null;

        var disabled = string.Equals(environment("AWS_EC2_METADATA_DISABLED"), "true", StringComparison.OrdinalIgnoreCase)
            ? "AWS_EC2_METADATA_DISABLED=true"
            : null;

        var mode = Either("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode")?.ToLowerInvariant();
        if (mode is not (null or "ipv4" or "ipv6"))
        {
            problem = $"Invalid EC2 instance metadata endpoint mode '{mode}': it must be ipv4 or ipv6.";
        }

        var ipv6 = mode == "ipv6" || (mode is null && IsTrue(Either("AWS_IMDS_USE_IPV6", "imds_use_ipv6")));
        var (endpointText, endpointSource) =
            environment("AWS_EC2_METADATA_SERVICE_ENDPOINT") is { } fromEnvironment ? (fromEnvironment, "AWS_EC2_METADATA_SERVICE_ENDPOINT")
            : profileSetting("ec2_metadata_service_endpoint") is { } fromProfile ? (fromProfile, "ec2_metadata_service_endpoint")
            : ipv6 ? (Ipv6Endpoint, "the IPv6 endpoint") : (Ipv4Endpoint, "the default endpoint");
        if (!Uri.TryCreate(endpointText.Trim(), UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            problem ??= $"Invalid EC2 instance metadata endpoint '{endpointText}' ({endpointSource}).";
            endpoint = new Uri(Ipv4Endpoint);
        }

        return new(
            disabled,
            endpoint,
            endpointSource,
            TimeSpan.FromSeconds(PositiveInteger(Either("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout"), 1)),
            PositiveInteger(Either("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts"), 1),
            IsTrue(Either("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled")),
            problem);
    }

    /// <summary>The URL of a path under the endpoint, with one slash between them whatever the endpoint ends with.</summary>
    public Uri UrlOf(string path) => new(Endpoint.ToString().TrimEnd('/') + "/" + path);

    /// <summary>
    /// The region an availability zone's name gives as the AWS CLI derives it (the zone without its last letter), or null
    /// when the answer isn't a zone's name (an HTML page, a proxy's error): such an answer names no region.
    /// </summary>
    public static string? RegionOf(string availabilityZone)
    {
        var zone = availabilityZone.Trim();
        return zone.Length >= 3 && char.IsAsciiLetterLower(zone[^1]) && char.IsAsciiDigit(zone[^2])
            && zone.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            ? zone[..^1]
            : null;
    }

    private static bool IsTrue(string? value) => string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    private static int PositiveInteger(string? value, int fallback) =>
        int.TryParse(value?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fallback;
}

/// <summary>What instance metadata said when asked for the region: the region, or what happened instead (for the report).</summary>
public sealed record InstanceMetadataAnswer(string? Region, string Outcome);
