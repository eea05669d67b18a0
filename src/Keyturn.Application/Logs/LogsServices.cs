using Keyturn.Application.Security;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Logs;

/// <summary>What the CloudWatch Logs operations share: the store, IAM checks with <c>logs:</c> actions, ARNs and AWS's errors.</summary>
public sealed class LogsServices(ILogStore store, Authorizer authorizer, KeyturnOptions options)
{
    public const string ArnMarker = ":log-group:";

    public ILogStore Store => store;

    /// <summary>IAM's resource for a request about a group and (maybe) a stream: <c>arn:…:log-group:NAME:log-stream:STREAM</c>.</summary>
    public string RequestResource(RequestContext context, string groupName, string streamName = "") =>
        GroupArn(context, groupName) + ":log-stream:" + streamName;

    /// <summary>The group's ARN without the trailing <c>:*</c> (DescribeLogGroups' <c>logGroupArn</c>).</summary>
    public string GroupArn(RequestContext context, string groupName) =>
        $"arn:{context.Partition}:logs:{context.Region}:{options.AccountId}{ArnMarker}{groupName}";

    public string StreamArn(RequestContext context, string groupName, string streamName) =>
        GroupArn(context, groupName) + ":log-stream:" + streamName;

    public static ServiceException GroupNotFound() => new(ErrorKind.ResourceNotFound, "The specified log group does not exist.");

    public static ServiceException StreamNotFound() => new(ErrorKind.ResourceNotFound, "The specified log stream does not exist.");

    public static ServiceException InvalidParameter(string message) => new(ErrorKind.InvalidParameter, message);

    internal void Authorize(RequestContext context, string operation, string resource) =>
        authorizer.AuthorizeAction(context, "logs:" + operation, resource);

    /// <summary>The group named by <c>logGroupName</c> or <c>logGroupIdentifier</c> (a name or an ARN, with or without <c>:*</c>).</summary>
    internal static string GroupNameOf(string? logGroupName, string? logGroupIdentifier)
    {
        if (logGroupName is not null && logGroupIdentifier is not null)
        {
            throw InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
        }

        if (logGroupIdentifier is null)
        {
            return logGroupName ?? throw InvalidParameter("Either logGroupName or logGroupIdentifier must be specified.");
        }

        if (!logGroupIdentifier.StartsWith("arn:", StringComparison.Ordinal))
        {
            return logGroupIdentifier;
        }

        var marker = logGroupIdentifier.IndexOf(ArnMarker, StringComparison.Ordinal);
        var name = marker < 0 ? "" : logGroupIdentifier[(marker + ArnMarker.Length)..];
        name = name.EndsWith(":*", StringComparison.Ordinal) ? name[..^2] : name;
        return name.Length == 0 || name.Contains(':', StringComparison.Ordinal)
            ? throw InvalidParameter("The logGroupIdentifier is not a log group name or log group ARN.")
            : name;
    }

    internal async Task<LogGroupRecord> RequireGroupAsync(string groupName, CancellationToken cancellationToken) =>
        await store.FindGroupAsync(groupName, cancellationToken).ConfigureAwait(false) ?? throw GroupNotFound();
}
