using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyturn.Domain.Doctor;

/// <summary>Why an AWS read the doctor made failed: only a refusal is a missing permission.</summary>
public enum ReadFailureCause
{
    /// <summary>AccessDenied, AccessDeniedException, UnauthorizedOperation: the identity may not make the call.</summary>
    MissingPermission,

    /// <summary>The endpoint's name didn't resolve, the connection failed or timed out: nothing was asked.</summary>
    Network,

    /// <summary>SignatureDoesNotMatch, InvalidClientTokenId, ExpiredToken, …: AWS didn't accept the credentials at all.</summary>
    Credentials,

    /// <summary>Anything else (throttling, a server error, an answer the doctor couldn't parse).</summary>
    Other,
}

/// <summary>
/// One AWS read that failed: the IAM action (<c>ec2:DescribeVpcEndpoints</c>), the resource it was about when it has an
/// ARN, the cause, the error as AWS (or the network) gave it, and what the doctor couldn't check without it.
/// </summary>
public sealed record ReadFailure(string Action, string? Resource, ReadFailureCause Cause, string Detail, string Skipped);

/// <summary>
/// Turns the failed reads of one diagnosis into findings, one per cause: every missing permission in one finding whose fix
/// is one IAM policy granting exactly the missing actions, so a run names them all instead of one per run.
/// </summary>
public static class AwsReadFailures
{
    private static readonly HashSet<string> Refusals = new(StringComparer.Ordinal)
    {
        "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "Forbidden",
    };

    private static readonly HashSet<string> CredentialErrors = new(StringComparer.Ordinal)
    {
        "SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignature", "IncompleteSignatureException",
        "InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure", "MissingAuthenticationToken", "MissingAuthenticationTokenException",
        "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidAccessKeyId", "InvalidToken",
    };

    /// <summary>The cause behind an AWS error code (EC2's query errors, RDS's, and the JSON services' <c>__type</c>).</summary>
    public static ReadFailureCause Classify(string errorCode) =>
        Refusals.Contains(errorCode) ? ReadFailureCause.MissingPermission
        : CredentialErrors.Contains(errorCode) ? ReadFailureCause.Credentials
        : ReadFailureCause.Other;

    public static IReadOnlyList<Finding> Findings(IReadOnlyList<ReadFailure> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        var findings = new List<Finding>();
        var refused = failures.Where(f => f.Cause == ReadFailureCause.MissingPermission).ToList();
        if (refused.Count > 0)
        {
            findings.Add(new Finding("AWS001", Severity.Warning,
                $"The doctor's credentials may not make {Count(refused.Select(f => f.Action).Distinct().Count(), "read")}; what they would show wasn't checked",
                List(refused),
                "Grant the doctor's identity these read-only actions (one policy covering every refusal of this run), then run it again:\n" + Policy(refused)));
        }

        var unreachable = failures.Where(f => f.Cause == ReadFailureCause.Network).ToList();
        if (unreachable.Count > 0)
        {
            findings.Add(new Finding("AWS002", Severity.Warning, $"The doctor couldn't reach AWS for {Count(unreachable.Count, "read")} (not a permission problem)",
                List(unreachable),
                "Check this host's way to the AWS endpoints (DNS, proxy: HTTPS_PROXY, a VPC endpoint, AWS_ENDPOINT_URL_<SERVICE>) and run the doctor again."));
        }

        var rejected = failures.Where(f => f.Cause == ReadFailureCause.Credentials).ToList();
        if (rejected.Count > 0)
        {
            findings.Add(new Finding("AWS003", Severity.Warning, $"AWS didn't accept the doctor's credentials for {Count(rejected.Count, "read")} (not a permission problem)",
                List(rejected),
                "Refresh the credentials (aws sso login, a new session token, the right secret key for the access key id) and check this host's clock, then run the doctor again."));
        }

        var other = failures.Where(f => f.Cause == ReadFailureCause.Other).ToList();
        if (other.Count > 0)
        {
            findings.Add(new Finding("AWS004", Severity.Warning, $"AWS answered {Count(other.Count, "read")} with an error", List(other),
                "Run the doctor again; if it persists, make the same call with the AWS CLI to see the whole answer."));
        }

        return findings;
    }

    /// <summary>
    /// One identity policy allowing exactly the refused actions: by resource where the failure named one (a function,
    /// a log group), else on <c>*</c> (EC2 and RDS Describe calls don't take resource-level permissions for listings).
    /// </summary>
    public static string Policy(IEnumerable<ReadFailure> refused)
    {
        ArgumentNullException.ThrowIfNull(refused);
        var statements = refused
            .GroupBy(f => f.Resource ?? "*", StringComparer.Ordinal)
            .Select(byResource => (Resource: byResource.Key, Actions: byResource.Select(f => f.Action).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList()))
            .GroupBy(s => string.Join(",", s.Actions), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select((g, i) =>
            {
                var resources = g.Select(s => s.Resource).Order(StringComparer.Ordinal).ToList();
                return new JsonObject
                {
                    ["Sid"] = $"KeyturnDoctorReads{i + 1}",
                    ["Effect"] = "Allow",
                    ["Action"] = new JsonArray([.. g.First().Actions.Select(a => (JsonNode?)JsonValue.Create(a))]),
                    ["Resource"] = resources.Count == 1 ? JsonValue.Create(resources[0]) : new JsonArray([.. resources.Select(r => (JsonNode?)JsonValue.Create(r))]),
                };
            });
        var policy = new JsonObject { ["Version"] = "2012-10-17", ["Statement"] = new JsonArray([.. statements]) };
        return policy.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static string List(IEnumerable<ReadFailure> failures) =>
        string.Join("; ", failures.Select(f => $"{f.Action}{(f.Resource is null ? "" : $" on {f.Resource}")}: {f.Detail} (skipped: {f.Skipped})")) + ".";

    private static string Count(int n, string what) => n == 1 ? $"1 {what}" : $"{n} {what}s";
}
