using System.Text.RegularExpressions;

namespace Keyturn.Domain.Policies;

/// <summary>
/// IAM's rules for a user name, which a Keyturn access key carries in its principal ARN
/// (<c>arn:aws:iam::ACCOUNT:user/NAME</c>): 1 to 64 of letters, digits and <c>+=,.@_-</c>, and unique
/// ignoring case ("you cannot create users named both TESTUSER and testuser"). Policies name principals by
/// that ARN, so two live keys under one name would share every grant made to either.
/// </summary>
public static partial class IamUserName
{
    public const int MaxLength = 64;

    // IAM's model pattern, [\w+=,.@-]+, with \w meaning ASCII letters, digits and '_'.
    public const string Pattern = @"[\w+=,.@-]+";

    /// <summary>IAM's ValidationError for a malformed name, or null when the name is well formed.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length greater than or equal to 1";
        }

        if (name.Length > MaxLength)
        {
            return $"1 validation error detected: Value '{name}' at 'userName' failed to satisfy constraint: Member must have length less than or equal to {MaxLength}";
        }

        return NameRegex().IsMatch(name)
            ? null
            : $"1 validation error detected: Value '{name}' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: {Pattern}";
    }

    /// <summary>Whether two user names are the same IAM user (names are compared ignoring case).</summary>
    public static bool SameUser(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>IAM's EntityAlreadyExists message.</summary>
    public static string AlreadyExists(string name) => $"User with name {name} already exists.";

    // \z, not $: $ also matches before a final newline.
    [GeneratedRegex(@"^[A-Za-z0-9_+=,.@-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
