namespace Keyturn.Domain.Doctor;

/// <summary>What the doctor is told on the command line about where to look.</summary>
public sealed record TargetOptions(string? Target = null, string? EndpointUrl = null, string? Profile = null, string? Region = null);

/// <summary>How the target is settled before anything is asked over the network.</summary>
public enum TargetDecision
{
    /// <summary>AWS: an AWS endpoint, or <c>--target aws</c>.</summary>
    Aws,

    /// <summary><c>--target keyturn</c>.</summary>
    Keyturn,

    /// <summary>An endpoint that isn't AWS's: Keyturn if it says so, otherwise an AWS-compatible service (moto, LocalStack, a proxy).</summary>
    AskEndpoint,

    /// <summary>Nothing AWS-like is configured: a Keyturn on the local default endpoint, if one answers there.</summary>
    LocalKeyturnIfItAnswers,
}

/// <summary>The target as a report names it.</summary>
public enum TargetKind
{
    Aws,
    Keyturn,
}

/// <summary>A service's endpoint and the setting it came from.</summary>
public sealed record ServiceEndpoint(Uri Url, string Source)
{
    /// <summary>Whether the host is one of AWS's own (any partition, VPC endpoint DNS names included).</summary>
    public bool IsAws => DoctorTargetResolver.IsAwsHost(Url.Host);
}

/// <summary>The resolved target: the decision and everything the report's header names.</summary>
public sealed record TargetResolution(
    TargetDecision Decision,
    string Reason,
    string? Region,
    string RegionSource,
    string Profile,
    string ProfileSource,
    bool ProfileNamed,
    string Partition,
    IReadOnlyDictionary<string, ServiceEndpoint> Endpoints,
    string Credentials,
    string? Problem,
    InstanceMetadataSettings InstanceMetadata,
    InstanceMetadataAnswer? InstanceMetadataAnswer)
{
    /// <summary>
    /// No region is configured and instance metadata may name one: the AWS CLI asks it last, so the doctor asks it
    /// before settling on AWS without a region, then resolves again with the answer.
    /// </summary>
    public bool AsksInstanceMetadata => Region is null && InstanceMetadataAnswer is null && InstanceMetadata.Disabled is null && InstanceMetadata.Problem is null;

    /// <summary>The AWS CLI's refusal when no region is found, with what instance metadata said or why it wasn't asked.</summary>
    public string NoRegion =>
        "You must specify a region: --region, AWS_REGION, AWS_DEFAULT_REGION, region in the profile" + (ProfileNamed ? $" ({Profile})" : "") +
        ", or run where EC2 instance metadata names it (" +
        (InstanceMetadataAnswer?.Outcome ?? InstanceMetadata.Problem ?? (InstanceMetadata.Disabled is { } disabled ? $"not asked: {disabled}" : "not asked")) + ").";

    public ServiceEndpoint SecretsManager => Endpoints[DoctorTargetResolver.SecretsManager];

    /// <summary>The endpoints set by a user's setting rather than AWS's defaults, other than Secrets Manager's.</summary>
    public IEnumerable<KeyValuePair<string, ServiceEndpoint>> ConfiguredOthers =>
        Endpoints.Where(e => e.Key != DoctorTargetResolver.SecretsManager && !e.Value.Source.StartsWith("AWS default", StringComparison.Ordinal));
}

/// <summary>
/// Resolves which Secrets Manager the doctor talks to the way the AWS CLI does: the profile (<c>--profile</c>, then
/// <c>AWS_PROFILE</c>, then <c>default</c>), the region (<c>--region</c>, <c>AWS_REGION</c>, <c>AWS_DEFAULT_REGION</c>,
/// the profile's <c>region</c>, then EC2 instance metadata: see <see cref="InstanceMetadataSettings"/>), each service's endpoint (<c>--endpoint-url</c>, <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>,
/// <c>AWS_ENDPOINT_URL</c>, the profile's <c>services</c> section, the profile's <c>endpoint_url</c>, the partition's
/// default; all configured ones ignored under <c>AWS_IGNORE_CONFIGURED_ENDPOINT_URLS</c>) and the credential source.
/// Pure: the environment and the files' text come in, so every rule is a table test.
/// </summary>
public static class DoctorTargetResolver
{
    public const string SecretsManager = "secretsmanager";

    /// <summary>Keyturn's default listen address, tried only when nothing AWS-like is configured.</summary>
    public const string LocalKeyturnEndpoint = "http://127.0.0.1:4566";

    /// <summary>Each service the doctor reads: its endpoint variable suffix, its key in a <c>services</c> section, its host prefix.</summary>
    public static IReadOnlyDictionary<string, (string EnvironmentSuffix, string ConfigKey, string HostPrefix)> Services { get; } =
        new Dictionary<string, (string, string, string)>(StringComparer.Ordinal)
        {
            [SecretsManager] = ("SECRETS_MANAGER", "secrets_manager", "secretsmanager"),
            ["sts"] = ("STS", "sts", "sts"),
            ["ec2"] = ("EC2", "ec2", "ec2"),
            ["lambda"] = ("LAMBDA", "lambda", "lambda"),
            ["rds"] = ("RDS", "rds", "rds"),
            ["logs"] = ("CLOUDWATCH_LOGS", "cloudwatch_logs", "logs"),
        };

    // Region prefix → partition and DNS suffix; the first match wins, so the longer prefixes come first.
    private static readonly (string Prefix, string Partition, string Suffix)[] Partitions =
    [
        ("cn-", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-", "aws-us-gov", "amazonaws.com"),
        ("us-isob-", "aws-iso-b", "sc2s.sgov.gov"),
        ("us-isof-", "aws-iso-f", "csp.hci.ic.gov"),
        ("us-iso-", "aws-iso", "c2s.ic.gov"),
        ("eu-isoe-", "aws-iso-e", "cloud.adc-e.uk"),
    ];

    private static readonly string[] AwsSuffixes =
        ["amazonaws.com", "amazonaws.com.cn", "api.aws", "api.amazonwebservices.com.cn", "c2s.ic.gov", "sc2s.sgov.gov", "csp.hci.ic.gov", "cloud.adc-e.uk"];

    private static readonly string[] AwsEnvironment =
    [
        "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ];

    /// <param name="instanceMetadata">What instance metadata answered when asked for the region (null: not asked yet).</param>
    public static TargetResolution Resolve(
        TargetOptions options, IReadOnlyDictionary<string, string> environment, AwsSharedConfig config, AwsSharedConfig credentials, InstanceMetadataAnswer? instanceMetadata = null)
    {
        string? Env(string name) => environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

        var (profile, profileSource) = options.Profile is { Length: > 0 } p ? (p, "--profile")
            : Env("AWS_PROFILE") is { } fromEnv ? (fromEnv, "AWS_PROFILE")
            : ("default", "default");
        var profileNamed = profileSource != "default";
        var settings = config.Section(profile == "default" && !config.Has("default") ? "profile default" : profile == "default" ? "default" : $"profile {profile}");
        var keys = credentials.Section(profile);
        string? problem = null;
        if (profileNamed && settings is null && keys is null)
        {
            problem = $"The config profile ({profile}) could not be found in the shared config or credentials file.";
        }

        string? Setting(string key) => settings is not null && settings.TryGetValue(key, out var value) && value.Length > 0 ? value : null;
        var imds = InstanceMetadataSettings.Of(Env, Setting);

        var (region, regionSource) = options.Region is { Length: > 0 } r ? (r, "--region")
            : Env("AWS_REGION") is { } awsRegion ? (awsRegion, "AWS_REGION")
            : Env("AWS_DEFAULT_REGION") is { } defaultRegion ? (defaultRegion, "AWS_DEFAULT_REGION")
            : Setting("region") is { } profileRegion ? (profileRegion, $"profile {profile}")
            : instanceMetadata?.Region is { } instanceRegion ? (instanceRegion, $"EC2 instance metadata at {imds.Endpoint}")
            : ((string?)null, "none configured");
        var (partition, suffix) = PartitionOf(region);

        var ignoreConfigured = IsTrue(Env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") ?? Setting("ignore_configured_endpoint_urls"));
        var fips = IsTrue(Env("AWS_USE_FIPS_ENDPOINT") ?? Setting("use_fips_endpoint"));
        var dualStack = IsTrue(Env("AWS_USE_DUALSTACK_ENDPOINT") ?? Setting("use_dualstack_endpoint"));
        var dualStackSuffix = DualStackSuffix(partition);
        if (dualStack && dualStackSuffix is null)
        {
            problem ??= $"Dual-stack endpoints (AWS_USE_DUALSTACK_ENDPOINT, use_dualstack_endpoint) don't exist in the {partition} partition.";
        }

        var servicesSection = Setting("services") is { } servicesName ? config.Section($"services {servicesName}") : null;
        var endpoints = new Dictionary<string, ServiceEndpoint>(StringComparer.Ordinal);
        foreach (var (service, (envSuffix, configKey, hostPrefix)) in Services)
        {
            endpoints[service] = EndpointOf(service, envSuffix, configKey, hostPrefix);
        }

        ServiceEndpoint EndpointOf(string service, string envSuffix, string configKey, string hostPrefix)
        {
            if (service == SecretsManager && options.EndpointUrl is { Length: > 0 } explicitUrl)
            {
                return new(Url(explicitUrl), "--endpoint-url");
            }

            if (!ignoreConfigured)
            {
                if (Env("AWS_ENDPOINT_URL_" + envSuffix) is { } serviceUrl)
                {
                    return new(Url(serviceUrl), "AWS_ENDPOINT_URL_" + envSuffix);
                }

                if (Env("AWS_ENDPOINT_URL") is { } globalUrl)
                {
                    return new(Url(globalUrl), "AWS_ENDPOINT_URL");
                }

                if (servicesSection is not null && servicesSection.TryGetValue($"{configKey}.endpoint_url", out var sectionUrl) && sectionUrl.Length > 0)
                {
                    return new(Url(sectionUrl), $"services {Setting("services")} ({configKey})");
                }

                if (Setting("endpoint_url") is { } profileUrl)
                {
                    return new(Url(profileUrl), $"profile {profile} endpoint_url");
                }
            }

            var host = fips ? $"{hostPrefix}-fips" : hostPrefix;
            var domain = dualStack && dualStackSuffix is not null ? dualStackSuffix : suffix;
            return new(Url($"https://{host}.{region ?? "us-east-1"}.{domain}"),
                (region is null ? "AWS default (no region)" : $"AWS default for {region}") + (dualStack ? ", dual-stack" : ""));
        }

        var credentialSource = CredentialSource(options, Env, profile, profileNamed, settings, keys, config);
        var secretsManager = endpoints[SecretsManager];
        var awsConfigured = options.Profile is { Length: > 0 } || options.Region is { Length: > 0 }
            || AwsEnvironment.Any(v => Env(v) is not null)
            || environment.Keys.Any(k => k.StartsWith("AWS_ENDPOINT_URL_", StringComparison.Ordinal) && Env(k) is not null)
            || config.Has("default") || config.Has("profile default") || credentials.Has("default");
        // On an EC2 instance with nothing configured the AWS CLI still works (region and credentials from instance
        // metadata); the doctor asks instance metadata only after no local Keyturn answered.
        var onEc2Only = !awsConfigured && options.EndpointUrl is not { Length: > 0 } && regionSource.StartsWith("EC2 instance metadata", StringComparison.Ordinal);

        TargetDecision decision;
        string reason;
        switch (options.Target?.ToLowerInvariant())
        {
            case "aws":
                (decision, reason) = (TargetDecision.Aws, "--target aws");
                break;
            case "keyturn":
                (decision, reason) = (TargetDecision.Keyturn, "--target keyturn");
                // KEYTURN_ENDPOINT names Keyturn outright; a configured endpoint that isn't AWS's may be it; AWS's own never is.
                if (options.EndpointUrl is not { Length: > 0 } && Env("KEYTURN_ENDPOINT") is { } named)
                {
                    endpoints[SecretsManager] = new(Url(named), "KEYTURN_ENDPOINT");
                }
                else if (secretsManager.IsAws)
                {
                    endpoints[SecretsManager] = new(Url(LocalKeyturnEndpoint), "Keyturn's default");
                }

                break;
            case null or "":
                if (onEc2Only)
                {
                    (decision, reason) = (TargetDecision.Aws, $"nothing is configured, no Keyturn answers at {Env("KEYTURN_ENDPOINT") ?? LocalKeyturnEndpoint}, and this host's EC2 instance metadata names region {region}, as the AWS CLI would use");
                }
                else if (options.EndpointUrl is { Length: > 0 } || awsConfigured)
                {
                    (decision, reason) = secretsManager.IsAws
                        ? (TargetDecision.Aws, $"the Secrets Manager endpoint ({secretsManager.Source}) is AWS's")
                        : (TargetDecision.AskEndpoint, $"the Secrets Manager endpoint ({secretsManager.Source}) is not AWS's");
                }
                else
                {
                    (decision, reason) = (TargetDecision.LocalKeyturnIfItAnswers, "no AWS profile, region, credentials or endpoint is configured");
                    endpoints[SecretsManager] = Env("KEYTURN_ENDPOINT") is { } keyturnUrl
                        ? new(Url(keyturnUrl), "KEYTURN_ENDPOINT")
                        : new(Url(LocalKeyturnEndpoint), "Keyturn's default");
                }

                break;
            default:
                (decision, reason) = (TargetDecision.Aws, "");
                problem ??= $"--target must be aws or keyturn, not '{options.Target}'.";
                break;
        }

        var resolution = new TargetResolution(
            decision, reason, region, regionSource, profile, profileSource, profileNamed, partition, endpoints, credentialSource, problem, imds, instanceMetadata);
        return problem is null && decision == TargetDecision.Aws && region is null && !resolution.AsksInstanceMetadata
            ? resolution with { Problem = resolution.NoRegion }
            : resolution;
    }

    /// <summary>The target once an endpoint that isn't AWS's has been asked whether it is Keyturn.</summary>
    public static (TargetKind Kind, string Reason) Conclude(TargetResolution resolution, bool? saysKeyturn) => resolution.Decision switch
    {
        TargetDecision.Aws => (TargetKind.Aws, resolution.Reason),
        TargetDecision.Keyturn => (TargetKind.Keyturn, resolution.Reason),
        TargetDecision.AskEndpoint when saysKeyturn == true => (TargetKind.Keyturn, $"{resolution.SecretsManager.Url} says it is Keyturn"),
        TargetDecision.AskEndpoint => (TargetKind.Aws, $"{resolution.SecretsManager.Url} is not AWS's and does not say it is Keyturn: treated as an AWS-compatible service"),
        _ when saysKeyturn == true => (TargetKind.Keyturn, $"{resolution.Reason}; a Keyturn answers at {resolution.SecretsManager.Url}"),
        _ => throw new InvalidOperationException(
            $"Nothing to diagnose: {resolution.Reason}, and no Keyturn answers at {resolution.SecretsManager.Url}" +
            (resolution.InstanceMetadataAnswer is { } imds ? $"; EC2 instance metadata names no region ({imds.Outcome}). " : ". ") +
            "Name the target with --region or --profile (AWS), --endpoint-url, or --target aws|keyturn."),
    };

    public static bool IsAwsHost(string host) =>
        AwsSuffixes.Any(s => host.Equals(s, StringComparison.OrdinalIgnoreCase) || host.EndsWith("." + s, StringComparison.OrdinalIgnoreCase));

    /// <summary>The partition and DNS suffix of a region (aws and amazonaws.com when unknown).</summary>
    public static (string Partition, string DnsSuffix) PartitionOf(string? region)
    {
        foreach (var (prefix, partition, suffix) in Partitions)
        {
            if (region is not null && region.StartsWith(prefix, StringComparison.Ordinal))
            {
                return (partition, suffix);
            }
        }

        return ("aws", "amazonaws.com");
    }

    /// <summary>The DNS suffix of a partition's dual-stack (IPv4 and IPv6) endpoints; null where it has none.</summary>
    private static string? DualStackSuffix(string partition) => partition switch
    {
        "aws" or "aws-us-gov" => "api.aws",
        "aws-cn" => "api.amazonwebservices.com.cn",
        _ => null,
    };

    private static string CredentialSource(
        TargetOptions options, Func<string, string?> env, string profile, bool profileNamed,
        IReadOnlyDictionary<string, string>? settings, IReadOnlyDictionary<string, string>? keys, AwsSharedConfig config)
    {
        // As the AWS CLI: an explicit --profile wins over keys in the environment; AWS_PROFILE does not.
        if (options.Profile is not { Length: > 0 } && env("AWS_ACCESS_KEY_ID") is not null && env("AWS_SECRET_ACCESS_KEY") is not null)
        {
            return env("AWS_SESSION_TOKEN") is null ? "environment (AWS_ACCESS_KEY_ID)" : "environment (AWS_ACCESS_KEY_ID with AWS_SESSION_TOKEN)";
        }

        string? Get(IReadOnlyDictionary<string, string>? section, string key) => section is not null && section.TryGetValue(key, out var v) && v.Length > 0 ? v : null;
        if (Get(keys, "aws_access_key_id") is not null)
        {
            return $"static keys of profile {profile} (credentials file)";
        }

        if (Get(settings, "role_arn") is { } role)
        {
            var from = Get(settings, "source_profile") is { } source ? $"profile {source}"
                : Get(settings, "credential_source") is { } credentialSource ? credentialSource
                : Get(settings, "web_identity_token_file") is not null ? "a web identity token" : "?";
            return $"assume role {role} from {from} (profile {profile})";
        }

        if (Get(settings, "sso_session") is { } session)
        {
            return config.Has($"sso-session {session}")
                ? $"IAM Identity Center session {session} (profile {profile})"
                : $"IAM Identity Center session {session} (profile {profile}), but no [sso-session {session}] section exists";
        }

        if (Get(settings, "sso_start_url") is not null)
        {
            return $"IAM Identity Center (legacy sso_start_url, profile {profile})";
        }

        if (Get(settings, "credential_process") is not null)
        {
            return $"credential_process of profile {profile}";
        }

        if (Get(settings, "aws_access_key_id") is not null)
        {
            return $"static keys of profile {profile} (config file)";
        }

        if (profileNamed)
        {
            return $"profile {profile} names no credentials";
        }

        if (env("AWS_WEB_IDENTITY_TOKEN_FILE") is not null && env("AWS_ROLE_ARN") is { } webRole)
        {
            return $"web identity (AWS_WEB_IDENTITY_TOKEN_FILE) for {webRole}";
        }

        if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") is not null || env("AWS_CONTAINER_CREDENTIALS_FULL_URI") is not null)
        {
            return "container credentials (AWS_CONTAINER_CREDENTIALS_*)";
        }

        return IsTrue(env("AWS_EC2_METADATA_DISABLED")) ? "none found (instance metadata disabled)" : "instance metadata, if this runs on EC2";
    }

    private static bool IsTrue(string? value) => string.Equals(value?.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    private static Uri Url(string text) => Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
        ? uri
        : throw new FormatException($"'{text}' is not an http(s) URL.");
}
