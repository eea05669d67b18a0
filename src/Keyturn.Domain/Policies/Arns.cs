namespace Keyturn.Domain.Policies;

/// <summary>Small ARN helpers shared by principal matching, the context and the validator.</summary>
internal static class Arns
{
    /// <summary>True for a bare 12-digit account ID, the short form of an account principal.</summary>
    public static bool IsAccountId(ReadOnlySpan<char> value) => value.Length == 12 && !value.ContainsAnyExceptInRange('0', '9');

    /// <summary>The account of "arn:PARTITION:iam::ACCOUNT:root", or null for anything else.</summary>
    public static string? RootAccountOf(string arn) => TryRootAccountOf(arn, out var account) ? account.ToString() : null;

    /// <summary>As <see cref="RootAccountOf"/>, without allocating: the account's characters within <paramref name="arn"/>.</summary>
    public static bool TryRootAccountOf(string arn, out ReadOnlySpan<char> account)
    {
        // Exactly six parts: a seventh slot catches any further colon.
        Span<Range> parts = stackalloc Range[7];
        var value = arn.AsSpan();
        account = default;
        if (value.Split(parts, ':') != 6
            || !value[parts[0]].SequenceEqual("arn")
            || value[parts[1]].IsEmpty
            || !value[parts[2]].SequenceEqual("iam")
            || !value[parts[3]].IsEmpty
            || !IsAccountId(value[parts[4]])
            || !value[parts[5]].SequenceEqual("root"))
        {
            return false;
        }

        account = value[parts[4]];
        return true;
    }

    /// <summary>The account segment of an ARN, or null when the value is not an ARN or has none.</summary>
    public static string? AccountOf(string arn) => TryAccountOf(arn, out var account) ? account.ToString() : null;

    /// <summary>As <see cref="AccountOf"/>, without allocating.</summary>
    public static bool TryAccountOf(string arn, out ReadOnlySpan<char> account)
    {
        Span<Range> parts = stackalloc Range[6];
        var value = arn.AsSpan();
        account = default;
        if (value.Split(parts, ':') != 6 || !value[parts[0]].SequenceEqual("arn") || value[parts[4]].IsEmpty)
        {
            return false;
        }

        account = value[parts[4]];
        return true;
    }

    /// <summary>True for values an "AWS" principal may hold: an account ID or an IAM/STS ARN with an account.</summary>
    public static bool IsValidAwsPrincipal(string value)
    {
        if (value == "*" || IsAccountId(value))
        {
            return true;
        }

        var parts = value.Split(':', 6);
        return parts.Length == 6
            && parts[0] == "arn"
            && parts[1].Length > 0
            && parts[2] is "iam" or "sts"
            && parts[3].Length == 0
            && IsAccountId(parts[4])
            && parts[5].Length > 0;
    }

    /// <summary>aws:PrincipalType for a caller ARN, following the values IAM documents.</summary>
    public static string? PrincipalTypeOf(string principalArn)
    {
        var parts = principalArn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn")
        {
            return null;
        }

        var resource = parts[5];
        return resource switch
        {
            "root" => "Account",
            _ when resource.StartsWith("user/", StringComparison.Ordinal) => "User",
            _ when resource.StartsWith("assumed-role/", StringComparison.Ordinal) => "AssumedRole",
            _ when resource.StartsWith("federated-user/", StringComparison.Ordinal) => "FederatedUser",
            _ => null,
        };
    }

    /// <summary>aws:username: the friendly name of an IAM user (last path segment); null for other principals.</summary>
    public static string? UserNameOf(string principalArn)
    {
        var parts = principalArn.Split(':', 6);
        if (parts.Length != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[5].StartsWith("user/", StringComparison.Ordinal))
        {
            return null;
        }

        var resource = parts[5];
        return resource[(resource.LastIndexOf('/') + 1)..];
    }
}
