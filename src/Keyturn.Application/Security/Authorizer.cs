using System.Globalization;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Security;

/// <summary>
/// Decides every call as IAM does for a same-account request: an explicit Deny in the caller's
/// policy or the secret's resource policy wins; otherwise either one may allow. Root credentials
/// are allowed unless a resource policy explicitly denies them.
/// </summary>
public sealed class Authorizer(KeyturnOptions options, TimeProvider timeProvider)
{
    public const string ServicePrefix = "secretsmanager:";

    /// <summary>For callers without a clock of their own; the server injects its <see cref="TimeProvider"/>.</summary>
    public Authorizer(KeyturnOptions options)
        : this(options, TimeProvider.System)
    {
    }

    /// <summary>Throws AccessDeniedException unless the caller may perform the action on the resource.</summary>
    /// <param name="conditions">The request's parameters that Secrets Manager condition keys read (see <see cref="ConditionKeys"/>).</param>
    public void Authorize(RequestContext context, string action, string resource, Secret? secret = null, RequestConditions? conditions = null) =>
        AuthorizeAction(context, ServicePrefix + action, resource, secret, conditions);

    /// <summary>As <see cref="Authorize"/>, for an action named with its service (e.g. <c>logs:GetLogEvents</c>).</summary>
    public void AuthorizeAction(RequestContext context, string fullAction, string resource, Secret? secret = null, RequestConditions? conditions = null)
    {
        PolicyDocument? resourcePolicy = null;
        if (secret?.ResourcePolicy is { } policyText && PolicyDocument.TryParse(policyText, out var parsed, out _))
        {
            resourcePolicy = parsed;
        }

        // Only a resource policy's explicit deny stops the root user: with none there is nothing to evaluate, so
        // the condition context (a dictionary and a dozen strings) is not built.
        if (context.Caller.IsRoot && resourcePolicy is null)
        {
            return;
        }

        var request = new AuthorizationRequest(
            context.Caller.PrincipalArn,
            options.AccountId,
            fullAction,
            resource,
            Context: null,
            BuildConditionContext(context, fullAction, resource, secret, conditions),
            context.SourceIp is null ? [ConditionKeys.SourceIp] : null);

        if (context.Caller.IsRoot)
        {
            if (PolicyEvaluator.Evaluate(resourcePolicy!, request, isResourcePolicy: true) != PolicyDecision.ExplicitDeny)
            {
                return;
            }

            throw Denied(context, fullAction, resource, "with an explicit deny in a resource-based policy");
        }

        IEnumerable<PolicyDocument> identity = context.Caller.IdentityPolicy is { } p ? [p] : [];
        var decision = PolicyEvaluator.Authorize(identity, resourcePolicy, request);
        switch (decision)
        {
            case PolicyDecision.Allow:
                return;
            case PolicyDecision.ExplicitDeny:
                throw Denied(context, fullAction, resource, "with an explicit deny in an identity-based or resource-based policy");
            case PolicyDecision.ImplicitDeny:
                throw Denied(context, fullAction, resource, $"because no identity-based policy allows the {fullAction} action");
        }
    }

    private static ServiceException Denied(RequestContext context, string fullAction, string resource, string reason) =>
        new(ErrorKind.AccessDenied,
            $"User: {context.Caller.PrincipalArn} is not authorized to perform: {fullAction} on resource: {resource} {reason}");

    /// <summary>The global keys of every request, plus the Secrets Manager keys AWS documents for the action.</summary>
    private Dictionary<string, IReadOnlyList<string>> BuildConditionContext(
        RequestContext context, string fullAction, string resource, Secret? secret, RequestConditions? conditions)
    {
        var values = RequestConditions.ContextFor(fullAction, resource, secret, conditions);
        var now = timeProvider.GetUtcNow();
        values[ConditionKeys.PrincipalArn] = [context.Caller.PrincipalArn];
        values[ConditionKeys.PrincipalAccount] = [options.AccountId];
        values[ConditionKeys.RequestedRegion] = [context.Region];
        values[ConditionKeys.SecureTransport] = [context.SecureTransport ? "true" : "false"];
        values[ConditionKeys.CurrentTime] = [now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)];
        values[ConditionKeys.EpochTime] = [now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)];
        if (context.SourceIp is { } sourceIp)
        {
            values[ConditionKeys.SourceIp] = [sourceIp];
        }

        foreach (var (key, value) in context.Caller.Tags ?? new Dictionary<string, string>())
        {
            values[ConditionKeys.PrincipalTagPrefix + key] = [value];
        }

        return values;
    }
}
