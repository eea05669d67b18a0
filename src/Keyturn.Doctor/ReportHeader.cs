using System.Text.Json.Serialization;

namespace Keyturn.Doctor;

/// <summary>
/// The first lines of every doctor report, and its <c>target</c> field in --json: which Secrets Manager was
/// diagnosed (AWS, an AWS-compatible service, or Keyturn), where, as whom, and whether anything may change.
/// </summary>
/// <param name="Target"><c>aws</c> or <c>keyturn</c>.</param>
/// <param name="EndpointKind"><c>aws</c> (AWS's own endpoint), <c>aws-compatible</c> (moto, LocalStack, a proxy: AWS's rules) or <c>keyturn</c>.</param>
/// <param name="Account">sts:GetCallerIdentity's account on AWS (or why it is unknown); on Keyturn, the account its ARNs name.</param>
/// <param name="Mode"><c>diagnose</c> (--all), <c>dry-run</c> (a plan is shown, nothing changes) or <c>apply</c>.</param>
/// <param name="Skipped">Checks left out because of the target, each with its reason.</param>
internal sealed record ReportHeader(
    [property: JsonPropertyName("target")] string Target,
    [property: JsonPropertyName("endpointKind")] string EndpointKind,
    [property: JsonPropertyName("endpoint")] string Endpoint,
    [property: JsonPropertyName("endpointSource")] string EndpointSource,
    [property: JsonPropertyName("account")] string? Account,
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("regionSource")] string RegionSource,
    [property: JsonPropertyName("profile")] string? Profile,
    [property: JsonPropertyName("credentials")] string Credentials,
    [property: JsonPropertyName("mode")] string Mode,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("skipped")] IReadOnlyList<string> Skipped)
{
    public static ReportHeader For(DoctorTarget target, string? account, string mode, IReadOnlyList<string> skipped)
    {
        var resolution = target.Resolution;
        return new(
            target.IsKeyturn ? "keyturn" : "aws",
            target.IsKeyturn ? "keyturn" : target.IsAwsCompatible ? "aws-compatible" : "aws",
            target.Endpoint.ToString(),
            resolution.SecretsManager.Source,
            account,
            target.Region,
            target.IsKeyturn && resolution.Region is null ? "Keyturn's default" : resolution.RegionSource,
            resolution.ProfileNamed ? resolution.Profile : null,
            target.IsKeyturn && !resolution.ProfileNamed ? "Keyturn's root key (KEYTURN_ROOT_*, AWS_ACCESS_KEY_ID or the data directory)" : resolution.Credentials,
            mode,
            target.Reason,
            skipped);
    }

    /// <summary>The account a Keyturn ARN names (arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:…), for a header that has none yet.</summary>
    public ReportHeader WithAccountFrom(string? arn) =>
        Account is null && arn?.Split(':') is { Length: > 5 } parts && parts[4].Length > 0 ? this with { Account = parts[4] } : this;

    public void Write(TextWriter output)
    {
        var where = EndpointKind switch
        {
            "aws" => $"AWS, {Endpoint}",
            "aws-compatible" => $"AWS (an AWS-compatible service that is not Keyturn), endpoint {Endpoint}",
            _ => $"Keyturn, endpoint {Endpoint}",
        };
        output.WriteLine($"Target:  {where} (from {EndpointSource}); account {Account ?? "unknown"}");
        output.WriteLine($"Region:  {Region} (from {RegionSource}); profile {Profile ?? "default"}; credentials: {Credentials}");
        output.WriteLine($"Mode:    {Mode switch { "apply" => "apply (changes are made)", "dry-run" => "dry run (nothing is changed; add --apply)", _ => "diagnose (nothing is changed)" }}");
        output.WriteLine($"Why:     {Reason}");
        foreach (var skipped in Skipped)
        {
            output.WriteLine($"Skipped: {skipped}");
        }

        output.WriteLine();
    }
}
