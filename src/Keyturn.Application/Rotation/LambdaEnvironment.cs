using System.Globalization;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The environment an external function runs in, as Lambda sets it for a function: its name, memory, log group and
/// region, the SDKs pointed at this server (and its CA), then the function's own variables (<c>functions register
/// --env</c>). Variables of the server's own AWS and Keyturn settings never leak into it. The access key is not set
/// here: it belongs to one invocation.
/// </summary>
public static class LambdaEnvironment
{
    public static void Apply(IDictionary<string, string?> environment, FunctionRecord record, string region, string? endpoint, string? caBundle,
        IReadOnlyDictionary<string, string> functionVariables)
    {
        foreach (var name in environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("KEYTURN_", StringComparison.Ordinal)).ToList())
        {
            environment.Remove(name);
        }

        environment["AWS_LAMBDA_FUNCTION_NAME"] = record.Name;
        environment["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST";
        environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = record.MemorySize.ToString(CultureInfo.InvariantCulture);
        environment["AWS_LAMBDA_LOG_GROUP_NAME"] = RotationLogGroup(record.Name);
        environment["AWS_REGION"] = region;
        environment["AWS_DEFAULT_REGION"] = region;
        environment["AWS_EC2_METADATA_DISABLED"] = "true";

        // Python buffers a piped stdout: without this, what a step printed before it was stopped would be lost.
        environment["PYTHONUNBUFFERED"] = "1";
        if (endpoint is not null)
        {
            // Both the SDK-wide variable and the one AWS's rotation templates read.
            environment["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = endpoint;
            environment["SECRETS_MANAGER_ENDPOINT"] = endpoint;
        }

        if (caBundle is not null)
        {
            // The SDKs' and the AWS CLI's trust setting, for a server on HTTPS with its own CA or self-signed certificate.
            environment["AWS_CA_BUNDLE"] = caBundle;
        }

        // Registration refused the reserved names, so these add to Lambda's variables or override what a sample reads.
        foreach (var (name, value) in functionVariables)
        {
            environment[name] = value;
        }
    }

    /// <summary>Lambda's log group of a function, where Keyturn writes its invocation logs.</summary>
    public static string RotationLogGroup(string functionName) => "/aws/lambda/" + functionName;

    /// <summary>The function's ARN in the partition, region and account of the secret it rotates (a Lambda function is regional).</summary>
    public static string FunctionArnFor(string secretArn, string functionName)
    {
        var parts = secretArn.Split(':');
        return parts.Length > 4
            ? RotationIdentity.FunctionArn(parts[1], parts[3], parts[4], functionName)
            : RotationIdentity.FunctionArn("aws", InProcessSecrets.RegionOf(secretArn), "000000000000", functionName);
    }
}
