using System.Text.Json;
using Keyturn.Application.Security;
using Keyturn.Domain.Policies;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The principal a rotation function acts as, like a Lambda's execution role: never root, and allowed only
/// what a rotation of one secret needs. Its ARN is
/// <c>arn:aws:sts::ACCOUNT:assumed-role/keyturn-rotation-FUNCTION/FUNCTION</c> (the role session a Lambda
/// called FUNCTION would run as), so resource policies and <c>aws:PrincipalArn</c> conditions can name it.
/// </summary>
public static class RotationIdentity
{
    /// <summary>The Secrets Manager actions of AWS's rotation templates, on the secret being rotated only.</summary>
    public static readonly IReadOnlyList<string> SecretActions =
    [
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ];

    public const string InvokeAction = "lambda:InvokeFunction";

    public const string GetConfigurationAction = "lambda:GetFunctionConfiguration";

    public static string RoleName(string functionName) => "keyturn-rotation-" + functionName;

    public static string PrincipalArn(string accountId, string functionName) =>
        $"arn:aws:sts::{accountId}:assumed-role/{RoleName(functionName)}/{functionName}";

    /// <summary>The user name an access key of this principal is stored under (its ARN is then <see cref="PrincipalArn"/>).</summary>
    public static string KeyUserName(string functionName) => $"assumed-role/{RoleName(functionName)}/{functionName}";

    public static string FunctionArn(string partition, string region, string accountId, string functionName) =>
        $"arn:{partition}:lambda:{region}:{accountId}:function:{functionName}";

    /// <summary>
    /// The identity policy: the four template actions on <paramref name="secretArn"/>, GetSecretValue on each master
    /// resource (ARNs or ARN patterns an administrator allowed), and GetRandomPassword.
    /// </summary>
    public static string PolicyJson(string? secretArn, IReadOnlyCollection<string> masterResources)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("Version", "2012-10-17");
            json.WriteStartArray("Statement");
            if (secretArn is not null)
            {
                Statement(json, "RotateThisSecret", SecretActions, [secretArn]);
            }

            if (masterResources.Count > 0)
            {
                Statement(json, "ReadAllowedMasters", ["secretsmanager:GetSecretValue"], masterResources);
            }

            // AWS's rotation templates generate passwords with GetRandomPassword, which has no resource and reads nothing.
            Statement(json, "GeneratePasswords", ["secretsmanager:GetRandomPassword"], ["*"]);

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The caller the built-in functions call the operation handlers as.</summary>
    public static CallerIdentity Caller(string accountId, string functionName, string secretArn, FunctionPolicy policy)
    {
        var document = PolicyDocument.Parse(PolicyJson(secretArn, MasterResources(policy, accountId)), PolicyKind.Identity);
        return new CallerIdentity("rotation-" + functionName, PrincipalArn(accountId, functionName), IsRoot: false, document);
    }

    /// <summary>
    /// An administrator's <c>--allow-master</c> value as a Resource: an ARN pattern as given, or a secret name
    /// (pattern) turned into the ARNs of that name in any region of the account (with the six-character suffix).
    /// </summary>
    public static string MasterResource(string value, string accountId) =>
        value.StartsWith("arn:", StringComparison.Ordinal)
            ? value
            : $"arn:*:secretsmanager:*:{accountId}:secret:{value}{(value.EndsWith('*') ? "" : "-??????")}";

    /// <summary>A function's policy checks an <c>--allow-master</c> value; returns why it is refused, or null.</summary>
    public static string? ValidateMasterPattern(string value, string accountId)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Any(char.IsControl) || value.Length > 2048)
        {
            return $"'{value}' is not a secret ARN (pattern) or name.";
        }

        var resource = MasterResource(value, accountId);
        var parts = resource.Split(':', 7);
        return parts.Length == 7 && parts[0] == "arn" && parts[2] is "secretsmanager" or "*" && parts[5] is "secret" or "*"
            ? null
            : $"'{value}' is not a Secrets Manager secret ARN (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME, wildcards allowed).";
    }

    /// <summary>True when the function's policy lets it read the master secret with this ARN (the same IAM evaluation as a request).</summary>
    public static bool AllowsMaster(FunctionPolicy policy, string accountId, string masterArn)
    {
        if (policy.AllowedMasters.Count == 0)
        {
            return false;
        }

        var masters = PolicyDocument.Parse(PolicyJson(null, MasterResources(policy, accountId)), PolicyKind.Identity);
        var request = new AuthorizationRequest(PrincipalArn(accountId, policy.FunctionName), accountId, "secretsmanager:GetSecretValue", masterArn,
            new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));
        return PolicyEvaluator.Evaluate(masters, request, isResourcePolicy: false) == PolicyDecision.Allow;
    }

    private static List<string> MasterResources(FunctionPolicy policy, string accountId) =>
        policy.AllowedMasters.Select(m => MasterResource(m, accountId)).ToList();

    private static void Statement(Utf8JsonWriter json, string sid, IEnumerable<string> actions, IEnumerable<string> resources)
    {
        json.WriteStartObject();
        json.WriteString("Sid", sid);
        json.WriteString("Effect", "Allow");
        json.WriteStartArray("Action");
        foreach (var action in actions)
        {
            json.WriteStringValue(action);
        }

        json.WriteEndArray();
        json.WriteStartArray("Resource");
        foreach (var resource in resources)
        {
            json.WriteStringValue(resource);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }
}
