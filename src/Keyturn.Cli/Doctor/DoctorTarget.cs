using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Amazon.Runtime.Credentials;
using Keyturn.Application.Security;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Cli.Doctor;

/// <summary>
/// Which Secrets Manager the doctor talks to: Keyturn (the default: local endpoint and root
/// credentials from the data directory) or real AWS through the standard credential chain
/// (environment, shared config and credentials files with profiles, SSO, container and instance
/// metadata, assume-role) and region resolution, as the AWS CLI does.
/// </summary>
internal sealed record DoctorTarget(Uri Endpoint, SigV4Credentials Credentials, string Region, bool IsKeyturn, string? CaBundle = null)
{
    public const string DefaultEndpoint = "http://127.0.0.1:4566";

    public static DoctorTarget Resolve(string? endpointUrl, string? profile, string? region, string dataDirectory, string? caBundle = null)
    {
        var useAws = profile is not null || (endpointUrl is null && Environment.GetEnvironmentVariable("KEYTURN_ENDPOINT") is null && region is not null && Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") is not null);
        if (!useAws && endpointUrl is null)
        {
            endpointUrl = Environment.GetEnvironmentVariable("KEYTURN_ENDPOINT") ?? DefaultEndpoint;
        }

        var isKeyturn = endpointUrl is not null && !endpointUrl.Contains(".amazonaws.com", StringComparison.OrdinalIgnoreCase);
        var resolvedRegion = region ?? RegionFromChain(profile) ?? "us-east-1";
        var credentials = isKeyturn && profile is null ? KeyturnCredentials(dataDirectory) ?? AwsCredentials(profile) : AwsCredentials(profile);
        // On AWS, the SDKs' endpoint overrides apply as they do for the AWS CLI (VPC endpoints, FIPS, test doubles).
        var configured = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_SECRETS_MANAGER") ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        var endpoint = new Uri(endpointUrl ?? (string.IsNullOrWhiteSpace(configured) ? $"https://secretsmanager.{resolvedRegion}.amazonaws.com/" : configured));
        return new DoctorTarget(endpoint, credentials, resolvedRegion, isKeyturn, caBundle ?? Environment.GetEnvironmentVariable(CaBundleTrust.EnvironmentVariable));
    }

    public SecretsManagerClient CreateClient() => new(Endpoint, Credentials, Region, TimeProvider.System, CaBundle);

    /// <summary>The reads beyond Secrets Manager: Keyturn serves the Logs API on its own endpoint; AWS's services answer on theirs.</summary>
    public AwsInspector CreateInspector() => new(Credentials, Region, IsKeyturn ? Endpoint : null, CaBundle);

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

    private static SigV4Credentials AwsCredentials(string? profile)
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

    private static string? RegionFromChain(string? profile)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION");
        if (fromEnvironment is not null)
        {
            return fromEnvironment;
        }

        try
        {
            return new ProfileAWSRegion(new CredentialProfileStoreChain(), profile ?? Environment.GetEnvironmentVariable("AWS_PROFILE") ?? "default").Region?.SystemName;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        catch (AmazonClientException)
        {
            return null;
        }
    }
}
