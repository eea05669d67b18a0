using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Security;

/// <summary>
/// Decides every call as IAM does for a same-account request: an explicit Deny in the caller's
/// policy or the secret's resource policy wins; otherwise either one may allow. Root credentials
/// are allowed unless a resource policy explicitly denies them.
/// </summary>
public sealed class Authorizer(KeyturnOptions options)
{
    public const string ServicePrefix = "secretsmanager:";

    /// <summary>Throws AccessDeniedException unless the caller may perform the action on the resource.</summary>
    public void Authorize(RequestContext context, string action, string resource, Secret? secret = null) =>
        AuthorizeAction(context, ServicePrefix + action, resource, secret);

    /// <summary>As <see cref="Authorize"/>, for an action named with its service (e.g. <c>logs:GetLogEvents</c>).</summary>
    public void AuthorizeAction(RequestContext context, string fullAction, string resource, Secret? secret = null)
    {
        var request = new AuthorizationRequest(
            context.Caller.PrincipalArn,
            options.AccountId,
            fullAction,
            resource,
            BuildConditionContext(context, secret));

        PolicyDocument? resourcePolicy = null;
        if (secret?.ResourcePolicy is { } policyText && PolicyDocument.TryParse(policyText, out var parsed, out _))
        {
            resourcePolicy = parsed;
        }

        if (context.Caller.IsRoot)
        {
            if (resourcePolicy is null
                || PolicyEvaluator.Evaluate(resourcePolicy, request, isResourcePolicy: true) != PolicyDecision.ExplicitDeny)
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

    private Dictionary<string, string> BuildConditionContext(RequestContext context, Secret? secret)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["aws:PrincipalArn"] = context.Caller.PrincipalArn,
            ["aws:PrincipalAccount"] = options.AccountId,
            ["aws:RequestedRegion"] = context.Region,
        };
        if (secret is not null)
        {
            values["secretsmanager:SecretId"] = secret.Arn;
            foreach (var tag in secret.Tags ?? [])
            {
                values["secretsmanager:ResourceTag/" + tag.Key] = tag.Value;
                values["aws:ResourceTag/" + tag.Key] = tag.Value;
            }
        }

        return values;
    }
}
