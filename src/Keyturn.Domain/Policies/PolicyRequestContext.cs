using System.Diagnostics.CodeAnalysis;

namespace Keyturn.Domain.Policies;

/// <summary>The condition keys of one request, each with one or more values, looked up case-insensitively as IAM does.</summary>
internal sealed class PolicyRequestContext
{
    private readonly Dictionary<string, IReadOnlyList<string>> _values;
    private readonly HashSet<string> _unknown;

    private PolicyRequestContext(AuthorizationRequest request, Dictionary<string, IReadOnlyList<string>> values, HashSet<string> unknown)
    {
        Request = request;
        _values = values;
        _unknown = unknown;
    }

    public AuthorizationRequest Request { get; }

    public static PolicyRequestContext From(AuthorizationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.PrincipalArn);
        ArgumentNullException.ThrowIfNull(request.AccountId);
        ArgumentNullException.ThrowIfNull(request.Action);
        ArgumentNullException.ThrowIfNull(request.Resource);

        // Keys IAM always derives from the authenticated caller; explicit Context entries override them.
        var values = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            [ConditionKeys.PrincipalArn] = [request.PrincipalArn],
            [ConditionKeys.PrincipalAccount] = [request.AccountId],
        };
        if (Arns.PrincipalTypeOf(request.PrincipalArn) is { } type)
        {
            values[ConditionKeys.PrincipalType] = [type];
        }

        if (Arns.UserNameOf(request.PrincipalArn) is { } userName)
        {
            values[ConditionKeys.UserName] = [userName];
        }

        foreach (var (key, value) in request.Context ?? new Dictionary<string, string>())
        {
            if (key is not null && value is not null)
            {
                values[key] = [value];
            }
        }

        foreach (var (key, set) in request.MultiValuedContext ?? new Dictionary<string, IReadOnlyList<string>>())
        {
            if (key is null)
            {
                continue;
            }

            var present = (set ?? []).Where(v => v is not null).ToArray();
            if (present.Length == 0)
            {
                // IAM treats an empty set like a missing key (ForAllValues holds, ForAnyValue does not).
                values.Remove(key);
            }
            else
            {
                values[key] = present;
            }
        }

        var unknown = new HashSet<string>(request.UnknownKeys ?? [], StringComparer.OrdinalIgnoreCase);
        return new PolicyRequestContext(request, values, unknown);
    }

    /// <summary>True when Keyturn can decide conditions on the key for this request (see <see cref="ConditionKeys.IsEvaluable"/>).</summary>
    public bool IsEvaluable(string key) => !_unknown.Contains(key) && ConditionKeys.IsEvaluable(key);

    public bool TryGetValues(string key, [NotNullWhen(true)] out IReadOnlyList<string>? values)
    {
        if (_values.TryGetValue(key, out values))
        {
            return true;
        }

        // Secrets Manager documents both spellings for a secret's tags; accept whichever the caller supplied.
        var alias = key.StartsWith(ConditionKeys.SecretsManagerResourceTagPrefix, StringComparison.OrdinalIgnoreCase)
            ? string.Concat(ConditionKeys.ResourceTagPrefix, key.AsSpan(ConditionKeys.SecretsManagerResourceTagPrefix.Length))
            : key.StartsWith(ConditionKeys.ResourceTagPrefix, StringComparison.OrdinalIgnoreCase)
                ? string.Concat(ConditionKeys.SecretsManagerResourceTagPrefix, key.AsSpan(ConditionKeys.ResourceTagPrefix.Length))
                : null;
        return alias is not null && _values.TryGetValue(alias, out values);
    }

    /// <summary>A single-valued key's value, for policy variables (IAM does not expand multivalued keys).</summary>
    public bool TryGetValue(string key, [NotNullWhen(true)] out string? value)
    {
        value = TryGetValues(key, out var values) && values.Count == 1 ? values[0] : null;
        return value is not null;
    }
}
