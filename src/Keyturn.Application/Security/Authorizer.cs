using System.Collections.Concurrent;
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
        AuthorizeAction(context, FullActions.GetOrAdd(action, static a => ServicePrefix + a), resource, secret, conditions);

    // The handlers name their actions with constants, so this holds one entry per Secrets Manager operation.
    private static readonly ConcurrentDictionary<string, string> FullActions = new(StringComparer.Ordinal);

    // A request whose source address is unknown (a call made inside the server) cannot decide aws:SourceIp.
    private static readonly HashSet<string> SourceIpUnknown = new(StringComparer.OrdinalIgnoreCase) { ConditionKeys.SourceIp };

    /// <summary>As <see cref="Authorize"/>, for an action named with its service (e.g. <c>logs:GetLogEvents</c>).</summary>
    public void AuthorizeAction(RequestContext context, string fullAction, string resource, Secret? secret = null, RequestConditions? conditions = null)
    {
        PolicyDocument? resourcePolicy = secret?.ResourcePolicy is { } policyText ? ParsedResourcePolicy(policyText) : null;

        // Only a resource policy's explicit deny stops the root user: with none there is nothing to evaluate, so
        // the condition context (a dictionary and a dozen strings) is not built.
        if (context.Caller.IsRoot && resourcePolicy is null)
        {
            return;
        }

        var values = BuildConditionContext(context, fullAction, resource, secret, conditions, context.Caller.IdentityPolicy, resourcePolicy);
        try
        {
            Decide(context, fullAction, resource, resourcePolicy, values);
        }
        finally
        {
            ReturnToThread(values);
        }
    }

    private void Decide(RequestContext context, string fullAction, string resource, PolicyDocument? resourcePolicy, Dictionary<string, IReadOnlyList<string>> values)
    {
        var request = new AuthorizationRequest(
            context.Caller.PrincipalArn,
            options.AccountId,
            fullAction,
            resource,
            Context: null,
            values,
            context.SourceIp is null ? SourceIpUnknown : null);

        if (context.Caller.IsRoot)
        {
            if (PolicyEvaluator.Evaluate(resourcePolicy!, request, isResourcePolicy: true) != PolicyDecision.ExplicitDeny)
            {
                return;
            }

            throw Denied(context, fullAction, resource, "with an explicit deny in a resource-based policy");
        }

        var decision = PolicyEvaluator.Authorize(context.Caller.IdentityPolicy, resourcePolicy, request);
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

    /// <summary>
    /// The global keys of every request, plus the Secrets Manager keys AWS documents for the action; only those the
    /// policies in play reference, since evaluation looks up no other (most policies test one key, or none).
    /// </summary>
    private Dictionary<string, IReadOnlyList<string>> BuildConditionContext(
        RequestContext context, string fullAction, string resource, Secret? secret, RequestConditions? conditions,
        PolicyDocument? identityPolicy, PolicyDocument? resourcePolicy)
    {
        var values = References(identityPolicy, resourcePolicy, IsRequestOrResourceKey)
            ? RequestConditions.ContextFor(fullAction, resource, secret, conditions)
            : RentFromThread();
        if (Wanted(ConditionKeys.PrincipalArn, identityPolicy, resourcePolicy))
        {
            values[ConditionKeys.PrincipalArn] = [context.Caller.PrincipalArn];
        }

        if (Wanted(ConditionKeys.PrincipalAccount, identityPolicy, resourcePolicy))
        {
            values[ConditionKeys.PrincipalAccount] = [options.AccountId];
        }

        if (Wanted(ConditionKeys.RequestedRegion, identityPolicy, resourcePolicy))
        {
            values[ConditionKeys.RequestedRegion] = [context.Region];
        }

        if (Wanted(ConditionKeys.SecureTransport, identityPolicy, resourcePolicy))
        {
            values[ConditionKeys.SecureTransport] = [context.SecureTransport ? "true" : "false"];
        }

        if (Wanted(ConditionKeys.CurrentTime, identityPolicy, resourcePolicy))
        {
            values[ConditionKeys.CurrentTime] = [timeProvider.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)];
        }

        if (Wanted(ConditionKeys.EpochTime, identityPolicy, resourcePolicy))
        {
            values[ConditionKeys.EpochTime] = [timeProvider.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)];
        }

        if (context.SourceIp is { } sourceIp && Wanted(ConditionKeys.SourceIp, identityPolicy, resourcePolicy))
        {
            values[ConditionKeys.SourceIp] = [sourceIp];
        }

        if (context.Caller.Tags is { Count: > 0 } tags && References(identityPolicy, resourcePolicy, IsPrincipalTagKey))
        {
            foreach (var (key, value) in tags)
            {
                values[ConditionKeys.PrincipalTagPrefix + key] = [value];
            }
        }

        return values;
    }

    // Most policies test one key or none, so a decision's context is a small dictionary that lives only while it is
    // evaluated: each thread keeps one to fill instead of allocating one a request. Evaluation is synchronous and keeps
    // no reference to it.
    [ThreadStatic]
    private static Dictionary<string, IReadOnlyList<string>>? _threadValues;

    private static Dictionary<string, IReadOnlyList<string>> RentFromThread()
    {
        var values = _threadValues ?? new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        _threadValues = null;
        return values;
    }

    private static void ReturnToThread(Dictionary<string, IReadOnlyList<string>> values)
    {
        if (values.Count <= 16 && ReferenceEquals(values.Comparer, StringComparer.OrdinalIgnoreCase))
        {
            values.Clear();
            _threadValues = values;
        }
    }

    private static bool Wanted(string key, PolicyDocument? identityPolicy, PolicyDocument? resourcePolicy) =>
        identityPolicy?.ReferencedKeys.Contains(key) == true || resourcePolicy?.ReferencedKeys.Contains(key) == true;

    private static bool References(PolicyDocument? identityPolicy, PolicyDocument? resourcePolicy, Func<string, bool> match) =>
        identityPolicy?.ReferencesAny(match) == true || resourcePolicy?.ReferencesAny(match) == true;

    private static bool IsPrincipalTagKey(string key) => key.StartsWith(ConditionKeys.PrincipalTagPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>Keys <see cref="RequestConditions.ContextFor"/> supplies: the service's own, and the request's and the secret's tags.</summary>
    private static bool IsRequestOrResourceKey(string key) =>
        !key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith(ConditionKeys.ResourceTagPrefix, StringComparison.OrdinalIgnoreCase)
        || key.StartsWith(ConditionKeys.RequestTagPrefix, StringComparison.OrdinalIgnoreCase)
        || key.Equals(ConditionKeys.TagKeys, StringComparison.OrdinalIgnoreCase);

    // Resource policies are stored as text and read with the secret on every request: parse each distinct text once.
    private static readonly ConcurrentDictionary<string, PolicyDocument?> ParsedPolicies = new(StringComparer.Ordinal);

    private static PolicyDocument? ParsedResourcePolicy(string text)
    {
        if (ParsedPolicies.TryGetValue(text, out var cached))
        {
            return cached;
        }

        var parsed = PolicyDocument.TryParse(text, out var document, out _) ? document : null;
        if (ParsedPolicies.Count >= 1024)
        {
            // Bounded: a store with more distinct policies than this parses again rather than growing without limit.
            ParsedPolicies.Clear();
        }

        ParsedPolicies[text] = parsed;
        return parsed;
    }
}
