using Keyturn.Domain.Doctor;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>The doctor's target, resolved as the AWS CLI resolves profile, region and endpoints.</summary>
public sealed class DoctorTargetResolverTests
{
    private const string OpsConfig = "[profile ops]\nregion = eu-west-1\n";
    private const string DefaultCredentials = "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = secret\n";
    private const string MotoServices = "[profile dev]\nregion = us-east-1\nservices = local\n[services local]\nsecrets_manager =\n  endpoint_url = http://127.0.0.1:5000\nec2 =\n  endpoint_url = http://127.0.0.1:5001\n";

    public static TheoryData<string, TargetOptions, string, string, string, TargetDecision, string?, string> Targets => new()
    {
        // name, options, environment (K=V;…), config file, credentials file, decision, region, Secrets Manager endpoint
        { "AWS_REGION alone means AWS in that region", new(), "AWS_REGION=eu-central-1", "", "", TargetDecision.Aws, "eu-central-1", "https://secretsmanager.eu-central-1.amazonaws.com/" },
        { "AWS_REGION wins over AWS_DEFAULT_REGION", new(), "AWS_REGION=eu-central-1;AWS_DEFAULT_REGION=us-west-2", "", "", TargetDecision.Aws, "eu-central-1", "https://secretsmanager.eu-central-1.amazonaws.com/" },
        { "--region wins over AWS_REGION", new(Region: "ap-south-1"), "AWS_REGION=eu-central-1", "", "", TargetDecision.Aws, "ap-south-1", "https://secretsmanager.ap-south-1.amazonaws.com/" },
        { "AWS_PROFILE with a region in the config file means AWS in the profile's region", new(), "AWS_PROFILE=ops", OpsConfig, "", TargetDecision.Aws, "eu-west-1", "https://secretsmanager.eu-west-1.amazonaws.com/" },
        { "--profile wins over AWS_PROFILE", new(Profile: "ops"), "AWS_PROFILE=other", OpsConfig + "[profile other]\nregion = us-west-1\n", "", TargetDecision.Aws, "eu-west-1", "https://secretsmanager.eu-west-1.amazonaws.com/" },
        { "the default credentials file with a default region means AWS", new(), "", "[default]\nregion = us-east-2\n", DefaultCredentials, TargetDecision.Aws, "us-east-2", "https://secretsmanager.us-east-2.amazonaws.com/" },
        { "AWS_ENDPOINT_URL_SECRETS_MANAGER to moto is asked, and VPC checks may follow", new(), "AWS_REGION=us-east-1;AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:5000", "", "", TargetDecision.AskEndpoint, "us-east-1", "http://127.0.0.1:5000/" },
        { "AWS_ENDPOINT_URL applies to Secrets Manager when no service-specific one is set", new(), "AWS_REGION=us-east-1;AWS_ENDPOINT_URL=http://localhost:4566", "", "", TargetDecision.AskEndpoint, "us-east-1", "http://localhost:4566/" },
        { "the service-specific variable wins over AWS_ENDPOINT_URL", new(), "AWS_REGION=us-east-1;AWS_ENDPOINT_URL=http://localhost:4566;AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:5000", "", "", TargetDecision.AskEndpoint, "us-east-1", "http://127.0.0.1:5000/" },
        { "the profile's services section sets the endpoint", new(), "AWS_PROFILE=dev", MotoServices, "", TargetDecision.AskEndpoint, "us-east-1", "http://127.0.0.1:5000/" },
        { "AWS_ENDPOINT_URL wins over the profile's services section", new(), "AWS_PROFILE=dev;AWS_ENDPOINT_URL=http://127.0.0.1:7000", MotoServices, "", TargetDecision.AskEndpoint, "us-east-1", "http://127.0.0.1:7000/" },
        { "the profile's endpoint_url applies when nothing else does", new(), "AWS_PROFILE=p", "[profile p]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:9000\n", "", TargetDecision.AskEndpoint, "us-east-1", "http://127.0.0.1:9000/" },
        { "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ignores every configured endpoint", new(), "AWS_REGION=us-east-1;AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:5000;AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", "", "", TargetDecision.Aws, "us-east-1", "https://secretsmanager.us-east-1.amazonaws.com/" },
        { "ignore_configured_endpoint_urls in the profile ignores its services section", new(), "AWS_PROFILE=dev", MotoServices.Replace("services = local", "services = local\nignore_configured_endpoint_urls = true", StringComparison.Ordinal), "", TargetDecision.Aws, "us-east-1", "https://secretsmanager.us-east-1.amazonaws.com/" },
        { "--endpoint-url is used even when configured endpoints are ignored", new(EndpointUrl: "http://127.0.0.1:5000"), "AWS_REGION=us-east-1;AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", "", "", TargetDecision.AskEndpoint, "us-east-1", "http://127.0.0.1:5000/" },
        { "--endpoint-url on AWS's domain is AWS", new(EndpointUrl: "https://secretsmanager.eu-west-1.amazonaws.com"), "AWS_REGION=eu-west-1", "", "", TargetDecision.Aws, "eu-west-1", "https://secretsmanager.eu-west-1.amazonaws.com/" },
        { "a VPC endpoint DNS name is AWS's", new(EndpointUrl: "https://vpce-0a1b2c3d-e4f5.secretsmanager.us-east-1.vpce.amazonaws.com"), "AWS_REGION=us-east-1", "", "", TargetDecision.Aws, "us-east-1", "https://vpce-0a1b2c3d-e4f5.secretsmanager.us-east-1.vpce.amazonaws.com/" },
        { "a proxy's own name is asked", new(EndpointUrl: "https://secrets.proxy.internal"), "AWS_REGION=us-east-1", "", "", TargetDecision.AskEndpoint, "us-east-1", "https://secrets.proxy.internal/" },
        { "cn-north-1 goes to amazonaws.com.cn", new(), "AWS_REGION=cn-north-1", "", "", TargetDecision.Aws, "cn-north-1", "https://secretsmanager.cn-north-1.amazonaws.com.cn/" },
        { "us-gov-west-1 goes to GovCloud", new(), "AWS_REGION=us-gov-west-1", "", "", TargetDecision.Aws, "us-gov-west-1", "https://secretsmanager.us-gov-west-1.amazonaws.com/" },
        { "AWS_USE_FIPS_ENDPOINT picks the FIPS endpoint", new(), "AWS_REGION=us-gov-west-1;AWS_USE_FIPS_ENDPOINT=true", "", "", TargetDecision.Aws, "us-gov-west-1", "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/" },
        { "AWS_USE_DUALSTACK_ENDPOINT picks the dual-stack endpoint", new(), "AWS_REGION=eu-west-1;AWS_USE_DUALSTACK_ENDPOINT=true", "", "", TargetDecision.Aws, "eu-west-1", "https://secretsmanager.eu-west-1.api.aws/" },
        { "use_dualstack_endpoint in the profile picks China's dual-stack domain", new(), "AWS_PROFILE=cn", "[profile cn]\nregion = cn-north-1\nuse_dualstack_endpoint = true\n", "", TargetDecision.Aws, "cn-north-1", "https://secretsmanager.cn-north-1.api.amazonwebservices.com.cn/" },
        { "FIPS and dual-stack together in GovCloud", new(), "AWS_REGION=us-gov-east-1;AWS_USE_FIPS_ENDPOINT=true;AWS_USE_DUALSTACK_ENDPOINT=true", "", "", TargetDecision.Aws, "us-gov-east-1", "https://secretsmanager-fips.us-gov-east-1.api.aws/" },
        { "a configured endpoint wins over dual-stack", new(), "AWS_REGION=us-east-1;AWS_USE_DUALSTACK_ENDPOINT=true;AWS_ENDPOINT_URL=http://127.0.0.1:5000", "", "", TargetDecision.AskEndpoint, "us-east-1", "http://127.0.0.1:5000/" },
        { "--target keyturn overrides an AWS region", new(Target: "keyturn"), "AWS_REGION=eu-west-1", "", "", TargetDecision.Keyturn, "eu-west-1", "http://127.0.0.1:4566/" },
        { "--target keyturn uses KEYTURN_ENDPOINT", new(Target: "keyturn"), "AWS_REGION=eu-west-1;KEYTURN_ENDPOINT=http://127.0.0.1:8443", "", "", TargetDecision.Keyturn, "eu-west-1", "http://127.0.0.1:8443/" },
        { "--target keyturn keeps a configured non-AWS endpoint", new(Target: "keyturn"), "AWS_ENDPOINT_URL=http://127.0.0.1:9000", "", "", TargetDecision.Keyturn, null, "http://127.0.0.1:9000/" },
        { "--target keyturn prefers KEYTURN_ENDPOINT to AWS_ENDPOINT_URL", new(Target: "keyturn"), "AWS_ENDPOINT_URL=http://127.0.0.1:9000;KEYTURN_ENDPOINT=http://127.0.0.1:8443", "", "", TargetDecision.Keyturn, null, "http://127.0.0.1:8443/" },
        { "--target keyturn with --endpoint-url uses it", new(Target: "keyturn", EndpointUrl: "http://127.0.0.1:7000"), "KEYTURN_ENDPOINT=http://127.0.0.1:8443", "", "", TargetDecision.Keyturn, null, "http://127.0.0.1:7000/" },
        { "--target aws overrides an endpoint that would be asked", new(Target: "aws", EndpointUrl: "http://127.0.0.1:5000"), "AWS_REGION=us-east-1", "", "", TargetDecision.Aws, "us-east-1", "http://127.0.0.1:5000/" },
        { "nothing AWS-like configured falls back to a local Keyturn", new(), "", "", "", TargetDecision.LocalKeyturnIfItAnswers, null, "http://127.0.0.1:4566/" },
        { "the local fallback honours KEYTURN_ENDPOINT", new(), "KEYTURN_ENDPOINT=http://127.0.0.1:8443", "", "", TargetDecision.LocalKeyturnIfItAnswers, null, "http://127.0.0.1:8443/" },
        { "KEYTURN_ENDPOINT does not win over an AWS region", new(), "KEYTURN_ENDPOINT=http://127.0.0.1:8443;AWS_REGION=us-east-1", "", "", TargetDecision.Aws, "us-east-1", "https://secretsmanager.us-east-1.amazonaws.com/" },
        { "an empty AWS_REGION counts as unset", new(), "AWS_REGION=", "", "", TargetDecision.LocalKeyturnIfItAnswers, null, "http://127.0.0.1:4566/" },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Resolve_Cases_FollowTheAwsCli(string name, TargetOptions options, string environment, string config, string credentials, TargetDecision decision, string? region, string endpoint)
    {
        var resolved = Resolve(options, environment, config, credentials);

        var got = $"{resolved.Decision} {resolved.Region ?? "-"} {resolved.SecretsManager.Url}";
        Assert.True($"{decision} {region ?? "-"} {endpoint}" == got, $"{name}: got {got} ({resolved.Reason}; {resolved.Problem})");
    }

    public static TheoryData<string, TargetOptions, string, string, string, string> CredentialSources => new()
    {
        // name, options, environment, config, credentials, the description contains
        { "keys in the environment", new(), "AWS_REGION=us-east-1;AWS_ACCESS_KEY_ID=AKID;AWS_SECRET_ACCESS_KEY=s", "", "", "environment (AWS_ACCESS_KEY_ID)" },
        { "--profile wins over keys in the environment", new(Profile: "ops"), "AWS_ACCESS_KEY_ID=AKID;AWS_SECRET_ACCESS_KEY=s", OpsConfig, "[ops]\naws_access_key_id = A\naws_secret_access_key = B\n", "static keys of profile ops (credentials file)" },
        { "the default profile's static keys", new(), "AWS_REGION=us-east-1", "", DefaultCredentials, "static keys of profile default" },
        { "an SSO session", new(), "AWS_PROFILE=sso", "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Ops\nregion = us-east-1\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n", "", "IAM Identity Center session corp (profile sso)" },
        { "a role assumed from another profile", new(), "AWS_PROFILE=role", "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/doctor\nsource_profile = base\nregion = us-east-1\n", "", "assume role arn:aws:iam::123456789012:role/doctor from profile base" },
        { "a credential process", new(), "AWS_PROFILE=proc", "[profile proc]\ncredential_process = /usr/local/bin/creds\nregion = us-east-1\n", "", "credential_process of profile proc" },
        { "a container's credentials", new(), "AWS_REGION=us-east-1;AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x", "", "", "container credentials" },
    };

    [Theory]
    [MemberData(nameof(CredentialSources))]
    public void Resolve_DescribesTheCredentialSource(string name, TargetOptions options, string environment, string config, string credentials, string expected)
    {
        var resolved = Resolve(options, environment, config, credentials);

        Assert.True(resolved.Credentials.Contains(expected, StringComparison.Ordinal), $"{name}: got '{resolved.Credentials}'");
    }

    public static TheoryData<string, TargetOptions, string, string, string> Problems => new()
    {
        // name, options, environment, config, the problem contains
        { "a profile that exists nowhere is an error, as in the AWS CLI", new(Profile: "missing"), "", "", "The config profile (missing) could not be found" },
        { "AWS without a region is an error when instance metadata is disabled, as in the AWS CLI", new(Target: "aws"), "AWS_EC2_METADATA_DISABLED=true", "", "You must specify a region" },
        { "an instance metadata endpoint mode other than ipv4 or ipv6 is an error once a region is needed", new(Target: "aws"), "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=ipv5", "", "Invalid EC2 instance metadata endpoint mode 'ipv5'" },
        { "dual-stack in an isolated partition is an error, as in the SDKs", new(), "AWS_REGION=us-iso-east-1;AWS_USE_DUALSTACK_ENDPOINT=true", "", "Dual-stack endpoints (AWS_USE_DUALSTACK_ENDPOINT, use_dualstack_endpoint) don't exist in the aws-iso partition" },
        { "a target other than aws or keyturn is an error", new(Target: "localstack"), "AWS_REGION=us-east-1", "", "--target must be aws or keyturn" },
    };

    [Theory]
    [MemberData(nameof(Problems))]
    public void Resolve_RefusesWhatTheAwsCliRefuses(string name, TargetOptions options, string environment, string config, string expected)
    {
        var resolved = Resolve(options, environment, config, "");

        Assert.True(resolved.Problem?.Contains(expected, StringComparison.Ordinal) == true, $"{name}: got '{resolved.Problem}'");
    }

    private const string AwsKeys = "AWS_ACCESS_KEY_ID=AKID;AWS_SECRET_ACCESS_KEY=s";

    public static TheoryData<string, string, string, InstanceMetadataAnswer?, string> InstanceMetadataRegions => new()
    {
        // name, environment, config, what instance metadata answered (null: not asked yet), expected "decision region (source) asks-instance-metadata"
        { "AWS without a configured region asks instance metadata, as the AWS CLI does last", AwsKeys, "", null, "Aws - (none configured) asks" },
        { "instance metadata's region is used when none is configured", AwsKeys, "", new("us-west-2", "answered us-west-2a"), "Aws us-west-2 (EC2 instance metadata at http://169.254.169.254/) -" },
        { "a custom instance metadata endpoint is named as the region's source", AwsKeys + ";AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338", "", new("eu-west-3", "answered"), "Aws eu-west-3 (EC2 instance metadata at http://127.0.0.1:1338/) -" },
        { "a profile's region wins and instance metadata isn't asked", "AWS_PROFILE=ops", OpsConfig, null, "Aws eu-west-1 (profile ops) -" },
        { "AWS_REGION wins over an instance metadata answer", "AWS_REGION=ap-south-1", "", new("us-west-2", "answered"), "Aws ap-south-1 (AWS_REGION) -" },
        { "AWS_EC2_METADATA_DISABLED=true: never asked", AwsKeys + ";AWS_EC2_METADATA_DISABLED=true", "", null, "Aws - (none configured) -" },
        { "AWS_EC2_METADATA_DISABLED is case-insensitive, as in botocore", AwsKeys + ";AWS_EC2_METADATA_DISABLED=TRUE", "", null, "Aws - (none configured) -" },
        { "on an EC2 instance with nothing configured, AWS in the instance's region", "", "", new("eu-north-1", "answered eu-north-1b"), "Aws eu-north-1 (EC2 instance metadata at http://169.254.169.254/) -" },
        { "nothing configured and no region from instance metadata: still the local Keyturn's fallback", "", "", new(null, "no answer"), "LocalKeyturnIfItAnswers - (none configured) -" },
        { "an endpoint to ask, without a region, may take instance metadata's", "AWS_ENDPOINT_URL=http://127.0.0.1:5000", "", new("us-east-1", "answered"), "AskEndpoint us-east-1 (EC2 instance metadata at http://169.254.169.254/) -" },
    };

    [Theory]
    [MemberData(nameof(InstanceMetadataRegions))]
    public void Resolve_RegionFromInstanceMetadata_LastAsInTheAwsCli(string name, string environment, string config, InstanceMetadataAnswer? answer, string expected)
    {
        var resolved = Resolve(new(), environment, config, "", answer);

        var got = $"{resolved.Decision} {resolved.Region ?? "-"} ({resolved.RegionSource}) {(resolved.AsksInstanceMetadata ? "asks" : "-")}";
        Assert.True(expected == got, $"{name}: got {got} ({resolved.Reason}; {resolved.Problem})");
        if (resolved.Region is { } region && resolved.Decision == TargetDecision.Aws)
        {
            Assert.Equal($"https://secretsmanager.{region}.amazonaws.com/", resolved.SecretsManager.Url.ToString());
        }
    }

    public static TheoryData<string, string, InstanceMetadataAnswer?, string> NoRegionRefusals => new()
    {
        // name, environment, instance metadata's answer, the refusal contains
        { "metadata disabled: the refusal says it wasn't asked and why", AwsKeys + ";AWS_EC2_METADATA_DISABLED=true", null, "(not asked: AWS_EC2_METADATA_DISABLED=true)" },
        { "metadata unreachable: the refusal says what happened", AwsKeys, new(null, "http://169.254.169.254/latest/meta-data/placement/availability-zone: no answer within 1 s (1 attempt, 1 s each)"), "(http://169.254.169.254/latest/meta-data/placement/availability-zone: no answer within 1 s" },
        { "a named profile without a region is named", "AWS_PROFILE=bare;AWS_EC2_METADATA_DISABLED=true", null, "region in the profile (bare)" },
    };

    [Theory]
    [MemberData(nameof(NoRegionRefusals))]
    public void Resolve_NoRegionAnywhere_TheRefusalSaysWhatInstanceMetadataDid(string name, string environment, InstanceMetadataAnswer? answer, string expected)
    {
        var resolved = Resolve(new(Target: "aws"), environment, "[profile bare]\noutput = json\n", "", answer);

        Assert.True(resolved.Problem?.StartsWith("You must specify a region", StringComparison.Ordinal) == true && resolved.Problem.Contains(expected, StringComparison.Ordinal),
            $"{name}: got '{resolved.Problem}'");
    }

    public static TheoryData<string, string, string, string> InstanceMetadataSettingsCases => new()
    {
        // name, environment, profile settings (k=v;…), expected "endpoint (source) timeout attempts disabled v1-disabled"
        { "the defaults: IPv4 address, 1 s, one attempt", "", "", "http://169.254.169.254/ (the default endpoint) 1s 1 - v1" },
        { "AWS_EC2_METADATA_SERVICE_ENDPOINT names the endpoint", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338", "", "http://127.0.0.1:1338/ (AWS_EC2_METADATA_SERVICE_ENDPOINT) 1s 1 - v1" },
        { "the profile's ec2_metadata_service_endpoint names it too", "", "ec2_metadata_service_endpoint=http://10.0.0.9/", "http://10.0.0.9/ (ec2_metadata_service_endpoint) 1s 1 - v1" },
        { "the environment wins over the profile", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338", "ec2_metadata_service_endpoint=http://10.0.0.9/", "http://127.0.0.1:1338/ (AWS_EC2_METADATA_SERVICE_ENDPOINT) 1s 1 - v1" },
        { "endpoint mode ipv6 picks the IPv6 address", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6", "", "http://[fd00:ec2::254]/ (the IPv6 endpoint) 1s 1 - v1" },
        { "imds_use_ipv6 picks it too", "", "imds_use_ipv6=true", "http://[fd00:ec2::254]/ (the IPv6 endpoint) 1s 1 - v1" },
        { "an explicit endpoint wins over the IPv6 mode, as in botocore", "AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338;AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=ipv6", "", "http://127.0.0.1:1338/ (AWS_EC2_METADATA_SERVICE_ENDPOINT) 1s 1 - v1" },
        { "timeout and attempts from the environment", "AWS_METADATA_SERVICE_TIMEOUT=3;AWS_METADATA_SERVICE_NUM_ATTEMPTS=2", "", "http://169.254.169.254/ (the default endpoint) 3s 2 - v1" },
        { "timeout and attempts from the profile", "", "metadata_service_timeout=5;metadata_service_num_attempts=3", "http://169.254.169.254/ (the default endpoint) 5s 3 - v1" },
        { "a timeout that isn't a positive whole number keeps the default", "AWS_METADATA_SERVICE_TIMEOUT=0", "", "http://169.254.169.254/ (the default endpoint) 1s 1 - v1" },
        { "AWS_EC2_METADATA_DISABLED=true disables it", "AWS_EC2_METADATA_DISABLED=true", "", "http://169.254.169.254/ (the default endpoint) 1s 1 disabled v1" },
        { "AWS_EC2_METADATA_DISABLED=false doesn't", "AWS_EC2_METADATA_DISABLED=false", "", "http://169.254.169.254/ (the default endpoint) 1s 1 - v1" },
        { "ec2_metadata_v1_disabled forbids the fallback without a token", "", "ec2_metadata_v1_disabled=true", "http://169.254.169.254/ (the default endpoint) 1s 1 - no-v1" },
    };

    [Theory]
    [MemberData(nameof(InstanceMetadataSettingsCases))]
    public void InstanceMetadataSettings_AsTheAwsCliReadsThem(string name, string environment, string profile, string expected)
    {
        var variables = Pairs(environment);
        var settings = Pairs(profile);

        var got = InstanceMetadataSettings.Of(variables.GetValueOrDefault, settings.GetValueOrDefault);

        var text = $"{got.Endpoint} ({got.EndpointSource}) {got.Timeout.TotalSeconds}s {got.Attempts} {(got.Disabled is null ? "-" : "disabled")} {(got.V1Disabled ? "no-v1" : "v1")}";
        Assert.True(expected == text, $"{name}: got {text} ({got.Problem})");
    }

    [Theory]
    [InlineData("us-east-1a", "us-east-1")]
    [InlineData("eu-central-1c\n", "eu-central-1")]
    [InlineData("cn-north-1a", "cn-north-1")]
    [InlineData("us-west-2-lax-1a", "us-west-2-lax-1")] // a Local Zone: the AWS CLI's derivation, kept so both agree
    [InlineData("<html><body>Proxy error</body></html>", null)]
    [InlineData("us-east-1", null)]
    [InlineData("", null)]
    public void InstanceMetadataSettings_RegionOf_TheZoneWithoutItsLetter(string availabilityZone, string? region) =>
        Assert.Equal(region, InstanceMetadataSettings.RegionOf(availabilityZone));

    [Fact]
    public void Resolve_OtherServicesFollowTheirOwnOverrides()
    {
        var resolved = Resolve(new(), "AWS_PROFILE=dev;AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http://127.0.0.1:5002", MotoServices, "");

        Assert.Equal("http://127.0.0.1:5001/", resolved.Endpoints["ec2"].Url.ToString());
        Assert.Equal("http://127.0.0.1:5002/", resolved.Endpoints["logs"].Url.ToString());
        Assert.Equal("https://lambda.us-east-1.amazonaws.com/", resolved.Endpoints["lambda"].Url.ToString());
        Assert.Equal(["ec2", "logs"], resolved.ConfiguredOthers.Select(e => e.Key).Order(StringComparer.Ordinal));
    }

    public static TheoryData<string, TargetOptions, string, bool?, TargetKind> Conclusions => new()
    {
        // name, options, environment, the endpoint says it is Keyturn, kind
        { "an endpoint that says it is Keyturn is Keyturn", new(EndpointUrl: "http://127.0.0.1:5000"), "AWS_REGION=us-east-1", true, TargetKind.Keyturn },
        { "an endpoint that does not say so is an AWS-compatible service", new(EndpointUrl: "http://127.0.0.1:5000"), "AWS_REGION=us-east-1", false, TargetKind.Aws },
        { "--target aws stays AWS even if the server is Keyturn", new(Target: "aws", EndpointUrl: "http://127.0.0.1:5000"), "AWS_REGION=us-east-1", true, TargetKind.Aws },
        { "the local fallback is Keyturn when one answers", new(), "", true, TargetKind.Keyturn },
    };

    [Theory]
    [MemberData(nameof(Conclusions))]
    public void Conclude_Cases(string name, TargetOptions options, string environment, bool? saysKeyturn, TargetKind kind)
    {
        var (got, reason) = DoctorTargetResolver.Conclude(Resolve(options, environment, "", ""), saysKeyturn);

        Assert.True(kind == got, $"{name}: got {got} ({reason})");
    }

    [Fact]
    public void Conclude_NoTargetAndNoLocalKeyturn_SaysWhatToSet()
    {
        var error = Assert.Throws<InvalidOperationException>(() => DoctorTargetResolver.Conclude(Resolve(new(), "", "", ""), false));

        Assert.Contains("no Keyturn answers at http://127.0.0.1:4566/", error.Message, StringComparison.Ordinal);
        Assert.Contains("--target aws|keyturn", error.Message, StringComparison.Ordinal);
    }

    private static TargetResolution Resolve(TargetOptions options, string environment, string config, string credentials, InstanceMetadataAnswer? instanceMetadata = null) =>
        DoctorTargetResolver.Resolve(options, Pairs(environment), AwsSharedConfig.Parse(config), AwsSharedConfig.Parse(credentials), instanceMetadata);

    private static Dictionary<string, string> Pairs(string text) =>
        text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
}
