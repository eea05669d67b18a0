using System.Text.RegularExpressions;
using Keyturn.Application.Operations;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Logs;

/// <summary>CloudWatch Logs' model constraints. Logs reports a broken one as InvalidParameterException, not ValidationException.</summary>
internal static partial class LogMembers
{
    public const int MaxPageBytes = 1024 * 1024;

    public static MemberValidator GroupName(this MemberValidator v, string? name, string member = "logGroupName") =>
        v.Length(name, member, 1, 512).Pattern(name, member, GroupNamePattern(), @"[\.\-_/#A-Za-z0-9]+");

    public static MemberValidator GroupIdentifier(this MemberValidator v, string? identifier) =>
        v.Length(identifier, "logGroupIdentifier", 1, 2048).Pattern(identifier, "logGroupIdentifier", GroupIdentifierPattern(), @"[\w#+=/:,.@-]*");

    public static MemberValidator StreamName(this MemberValidator v, string? name, string member) =>
        v.Length(name, member, 1, 512).Pattern(name, member, StreamNamePattern(), "[^:*]*");

    public static MemberValidator Times(this MemberValidator v, long? startTime, long? endTime) =>
        v.Range(startTime, "startTime", 0, long.MaxValue).Range(endTime, "endTime", 0, long.MaxValue);

    public static MemberValidator NextToken(this MemberValidator v, string? nextToken) =>
        v.Length(nextToken, "nextToken", 1, 4096);

    public static void ThrowIfInvalidParameter(this MemberValidator v)
    {
        try
        {
            v.ThrowIfInvalid();
        }
        catch (ServiceException e) when (e.Kind == ErrorKind.Validation)
        {
            throw new ServiceException(ErrorKind.InvalidParameter, e.Message);
        }
    }

    [GeneratedRegex(@"^[\.\-_/#A-Za-z0-9]+$")]
    private static partial Regex GroupNamePattern();

    // Java's \w, which AWS's pattern means, is ASCII only.
    [GeneratedRegex(@"^[A-Za-z0-9_#+=/:,.@-]*$")]
    private static partial Regex GroupIdentifierPattern();

    [GeneratedRegex(@"^[^:*]*$")]
    private static partial Regex StreamNamePattern();
}
