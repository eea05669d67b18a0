using System.Buffers;

namespace Keyturn.Domain.Secrets;

/// <summary>Secret names, ARNs and how a <c>SecretId</c> resolves to them.</summary>
public static class SecretNames
{
    private static readonly SearchValues<char> NameChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+=.@-");

    private static readonly SearchValues<char> SuffixChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");

    public const int SuffixLength = 6;

    /// <summary>Names may only use ASCII letters, digits and <c>/_+=.@-</c> (AWS rejects anything else with ValidationException).</summary>
    public static bool IsValidName(string name) =>
        name.Length is >= 1 and <= 512 && !name.AsSpan().ContainsAnyExcept(NameChars);

    public static string BuildArn(string partition, string region, string accountId, string name, string suffix) =>
        $"arn:{partition}:secretsmanager:{region}:{accountId}:secret:{name}-{suffix}";

    /// <summary>
    /// Splits a <c>SecretId</c> that looks like a secretsmanager ARN into the part after <c>:secret:</c>.
    /// Returns false for anything that is not an ARN, which callers then treat as a name.
    /// </summary>
    public static bool TryGetArnResource(string secretId, out string resource)
    {
        resource = "";
        if (!secretId.StartsWith("arn:", StringComparison.Ordinal))
        {
            return false;
        }

        var index = secretId.IndexOf(":secret:", StringComparison.Ordinal);
        if (index < 0)
        {
            return false;
        }

        resource = secretId[(index + ":secret:".Length)..];
        return resource.Length > 0;
    }

    /// <summary>True when <paramref name="candidate"/> ends in <c>-XXXXXX</c>, the random suffix AWS appends.</summary>
    public static bool HasArnSuffix(string candidate) =>
        candidate.Length > SuffixLength + 1
        && candidate[^(SuffixLength + 1)] == '-'
        && !candidate.AsSpan(candidate.Length - SuffixLength).ContainsAnyExcept(SuffixChars);
}
