namespace Keyturn.Domain.Policies;

/// <summary>Small ARN helpers shared by principal matching, the context and the validator.</summary>
internal static class Arns
{
    /// <summary>True for a bare 12-digit account ID, the short form of an account principal.</summary>
    public static bool IsAccountId(string value) => value.Length == 12 && value.All(char.IsAsciiDigit);

    /// <summary>The account of "arn:PARTITION:iam::ACCOUNT:root", or null for anything else.</summary>
    public static string? RootAccountOf(string arn)
    {
        var parts = arn.Split(':');
        return parts.Length == 6
            && parts[0] == "arn"
            && parts[1].Length > 0
            && parts[2] == "iam"
            && parts[3].Length == 0
            && IsAccountId(parts[4])
            && parts[5] == "root"
            ? parts[4]
            : null;
    }

    /// <summary>The account segment of an ARN, or null when the value is not an ARN or has none.</summary>
    public static string? AccountOf(string arn)
    {
        var parts = arn.Split(':', 6);
        return parts.Length == 6 && parts[0] == "arn" && parts[4].Length > 0 ? parts[4] : null;
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
