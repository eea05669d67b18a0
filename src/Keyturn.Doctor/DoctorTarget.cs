using System.Collections;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Keyturn.Application.Security;
using Keyturn.Domain.Doctor;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Doctor;

/// <summary>
/// Which Secrets Manager the doctor talks to, resolved as the AWS CLI would (<see cref="DoctorTargetResolver"/>):
/// AWS, an AWS-compatible service (moto, LocalStack, a proxy: AWS's rules and checks), or Keyturn — a server that
/// says it is Keyturn when asked at <c>/keyturn/info</c>, never a guess from a host name.
/// </summary>
internal sealed record DoctorTarget(
    TargetKind Kind, string Reason, TargetResolution Resolution, Uri Endpoint, SigV4Credentials Credentials, string Region, string? CaBundle = null)
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);

    public bool IsKeyturn => Kind == TargetKind.Keyturn;

    /// <summary>Not Keyturn, and not AWS's own endpoint: moto, LocalStack, a proxy.</summary>
    public bool IsAwsCompatible => Kind == TargetKind.Aws && !Resolution.SecretsManager.IsAws;

    public static async Task<DoctorTarget> ResolveAsync(TargetOptions options, string dataDirectory, string? caBundle, CancellationToken cancellationToken)
    {
        var environment = Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => e.Value as string ?? "", StringComparer.Ordinal);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var config = AwsSharedConfig.Parse(ReadIfExists(environment.GetValueOrDefault("AWS_CONFIG_FILE") is { Length: > 0 } c ? c : Path.Combine(home, ".aws", "config")));
        var credentials = AwsSharedConfig.Parse(ReadIfExists(environment.GetValueOrDefault("AWS_SHARED_CREDENTIALS_FILE") is { Length: > 0 } k ? k : Path.Combine(home, ".aws", "credentials")));
        var resolution = DoctorTargetResolver.Resolve(options, environment, config, credentials);

        // The AWS CLI asks EC2 instance metadata for the region last; the doctor asks it only where the target needs a
        // region: AWS, or an endpoint that turned out not to be Keyturn (or no local Keyturn at all, as on an EC2 instance).
        async Task<TargetResolution> WithInstanceMetadataAsync() => resolution.AsksInstanceMetadata
            ? DoctorTargetResolver.Resolve(options, environment, config, credentials,
                await InstanceMetadataClient.RegionAsync(resolution.InstanceMetadata, cancellationToken).ConfigureAwait(false))
            : resolution;

        if (resolution.Problem is null && resolution.Decision == TargetDecision.Aws)
        {
            resolution = await WithInstanceMetadataAsync().ConfigureAwait(false);
        }

        if (resolution.Problem is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        caBundle ??= Environment.GetEnvironmentVariable(CaBundleTrust.EnvironmentVariable);
        bool? saysKeyturn = resolution.Decision is TargetDecision.AskEndpoint or TargetDecision.LocalKeyturnIfItAnswers
            ? await SaysKeyturnAsync(resolution.SecretsManager.Url, caBundle, cancellationToken).ConfigureAwait(false)
            : null;
        if (saysKeyturn == false)
        {
            resolution = await WithInstanceMetadataAsync().ConfigureAwait(false);
            if (resolution.Problem is { } afterInstanceMetadata)
            {
                throw new InvalidOperationException(afterInstanceMetadata);
            }
        }

        var endpoint = resolution.SecretsManager.Url;
        var (kind, reason) = DoctorTargetResolver.Conclude(resolution, saysKeyturn);
        if (kind == TargetKind.Aws && resolution.Region is null)
        {
            throw new InvalidOperationException($"{resolution.NoRegion} The target is {endpoint}.");
        }

        var profile = resolution.ProfileNamed ? resolution.Profile : null;
        var signing = kind == TargetKind.Keyturn && profile is null
            ? KeyturnCredentials(dataDirectory) ?? AwsCredentials(profile, resolution)
            : AwsCredentials(profile, resolution);
        return new DoctorTarget(kind, reason, resolution, endpoint, signing, resolution.Region ?? "us-east-1", caBundle);
    }

    /// <summary>
    /// A Keyturn the caller started itself (the demo), resolved as <c>--target keyturn --endpoint-url</c> would be, without
    /// reading the environment or the AWS config files: nothing outside the caller decides where it goes.
    /// </summary>
    public static DoctorTarget ForOwnKeyturn(Uri endpoint, SigV4Credentials credentials, string region)
    {
        var none = AwsSharedConfig.Parse(null);
        var resolution = DoctorTargetResolver.Resolve(new TargetOptions("keyturn", endpoint.ToString(), null, region), new Dictionary<string, string>(), none, none);
        var (kind, reason) = DoctorTargetResolver.Conclude(resolution, saysKeyturn: true);
        return new DoctorTarget(kind, reason, resolution, endpoint, credentials, region);
    }

    public SecretsManagerClient CreateClient() => new(Endpoint, Credentials, Region, TimeProvider.System, CaBundle);

    /// <summary>The reads beyond Secrets Manager: Keyturn serves the Logs and Lambda APIs on its own endpoint; AWS's services answer on theirs, overrides included.</summary>
    public AwsInspector CreateInspector() =>
        new(Credentials, Region, IsKeyturn ? Endpoint : null, CaBundle, service => Resolution.Endpoints[service].Url);

    /// <summary>
    /// The services among <paramref name="services"/> that an AWS-compatible service leaves at AWS's own endpoint:
    /// reading them there would describe some other account's resources, so their checks are skipped and say so.
    /// </summary>
    public IReadOnlyList<string> UnconfiguredServices(params string[] services) => IsAwsCompatible
        ? services.Where(s => Resolution.Endpoints[s].IsAws).ToList()
        : [];

    /// <summary>The account: sts:GetCallerIdentity on AWS, or what prevented asking; null on Keyturn, whose ARNs name it.</summary>
    public async Task<string?> AccountAsync(AwsInspector inspector, CancellationToken cancellationToken)
    {
        if (IsKeyturn)
        {
            return null;
        }

        if (UnconfiguredServices("sts").Count > 0)
        {
            return "unknown (no STS endpoint configured for this AWS-compatible service)";
        }

        try
        {
            return await inspector.CallerAccountAsync(cancellationToken).ConfigureAwait(false) ?? "unknown (no Account in the answer)";
        }
        catch (Exception e) when (AwsReads.IsReadFailure(e, cancellationToken))
        {
            return $"unknown (sts:GetCallerIdentity failed: {e.Message})";
        }
    }

    /// <summary>Whether the endpoint answers <c>GET /keyturn/info</c> as Keyturn. Anything else (404, no answer, not JSON) is no.</summary>
    private static async Task<bool> SaysKeyturnAsync(Uri endpoint, string? caBundle, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(CaBundleTrust.CreateHandler(caBundle)) { Timeout = AskTimeout, MaxResponseContentBufferSize = 64 * 1024 };
        try
        {
            using var response = await http.GetAsync(new Uri(endpoint, "/keyturn/info"), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }

            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return body.RootElement.ValueKind == JsonValueKind.Object
                && body.RootElement.TryGetProperty("Product", out var product)
                && string.Equals(product.GetString(), "keyturn", StringComparison.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException or InvalidOperationException)
        {
            return false;
        }
    }

    private static string? ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path) : null;

    private static SigV4Credentials? KeyturnCredentials(string dataDirectory)
    {
        var id = Environment.GetEnvironmentVariable(RootCredentials.AccessKeyVariable) ?? Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
        var secret = Environment.GetEnvironmentVariable(RootCredentials.SecretKeyVariable) ?? Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
        if (id is not null && secret is not null)
        {
            return new SigV4Credentials(id, secret);
        }

        var file = Path.Combine(dataDirectory, RootCredentials.FileName);
        if (!File.Exists(file))
        {
            return null;
        }

        var root = RootCredentials.Load(dataDirectory, null, null);
        return new SigV4Credentials(root.AccessKeyId, root.SecretAccessKey);
    }

    /// <summary>
    /// AWSSDK.Core's credential chain (environment, profiles with static keys, assume-role, SSO, credential_process,
    /// web identity, container and instance metadata). When it can't produce credentials the doctor stops and says
    /// which source it tried, instead of falling back to another target.
    /// </summary>
    private static SigV4Credentials AwsCredentials(string? profile, TargetResolution resolution)
    {
        try
        {
            AWSCredentials credentials;
            if (profile is not null)
            {
                if (!new CredentialProfileStoreChain().TryGetAWSCredentials(profile, out credentials))
                {
                    throw new InvalidOperationException($"The AWS profile '{profile}' was not found in the shared config or credentials files.");
                }
            }
            else
            {
                credentials = DefaultAWSCredentialsIdentityResolver.GetCredentials(null);
            }

            var immutable = credentials.GetCredentials();
            return new SigV4Credentials(immutable.AccessKey, immutable.SecretKey, immutable.UseToken ? immutable.Token : null);
        }
        catch (AmazonClientException e)
        {
            throw new InvalidOperationException($"No AWS credentials from {resolution.Credentials}: {e.Message}", e);
        }
    }
}
