using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Keyturn.Domain.Policies;

/// <summary>
/// The condition keys of one request, each with one or more values, looked up case-insensitively as IAM does.
/// Lookups read the request's own dictionaries in order of precedence (multivalued entries, then single-valued ones,
/// then the keys derived from the caller) instead of merging them into a new one, so a request costs no copy.
/// </summary>
internal sealed class PolicyRequestContext
{
    private readonly IReadOnlyDictionary<string, string>? _single;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>>? _multi;
    private readonly IReadOnlySet<string>? _unknown;
    private string? _addressText;
    private IPAddress? _address;

    private PolicyRequestContext(
        AuthorizationRequest request,
        IReadOnlyDictionary<string, string>? single,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? multi,
        IReadOnlySet<string>? unknown)
    {
        Request = request;
        _single = single;
        _multi = multi;
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

        return new PolicyRequestContext(
            request,
            CaseInsensitive(request.Context, keepNullValues: false),
            CaseInsensitive(request.MultiValuedContext, keepNullValues: true),
            UnknownSet(request.UnknownKeys));
    }

    /// <summary>
    /// The caller's dictionary as is when it already compares keys as IAM does, else a copy that does, later entries
    /// winning. A null single value is no entry at all; a null set stays, as the empty set that hides the key.
    /// </summary>
    private static IReadOnlyDictionary<string, T>? CaseInsensitive<T>(IReadOnlyDictionary<string, T>? given, bool keepNullValues)
        where T : class
    {
        if (given is null || given.Count == 0)
        {
            return null;
        }

        if (given is Dictionary<string, T> dictionary && ReferenceEquals(dictionary.Comparer, StringComparer.OrdinalIgnoreCase))
        {
            return dictionary;
        }

        var copy = new Dictionary<string, T>(given.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in given)
        {
            if (key is not null && (keepNullValues || value is not null))
            {
                copy[key] = value;
            }
        }

        return copy;
    }

    private static IReadOnlySet<string>? UnknownSet(IReadOnlyCollection<string>? keys) => keys switch
    {
        null or { Count: 0 } => null,
        HashSet<string> set when ReferenceEquals(set.Comparer, StringComparer.OrdinalIgnoreCase) => set,
        _ => new HashSet<string>(keys, StringComparer.OrdinalIgnoreCase),
    };

    /// <summary>True when Keyturn can decide conditions on the key for this request (see <see cref="ConditionKeys.IsEvaluable"/>).</summary>
    public bool IsEvaluable(in ConditionKeyRef key) => key.IsEvaluable && _unknown?.Contains(key.Name) != true;

    public bool TryGetValues(string key, out ContextValues values)
    {
        if (TryGetOwn(key, out values))
        {
            return true;
        }

        // Secrets Manager documents both spellings for a secret's tags; accept whichever the caller supplied.
        var alias = key.StartsWith(ConditionKeys.SecretsManagerResourceTagPrefix, StringComparison.OrdinalIgnoreCase)
            ? string.Concat(ConditionKeys.ResourceTagPrefix, key.AsSpan(ConditionKeys.SecretsManagerResourceTagPrefix.Length))
            : key.StartsWith(ConditionKeys.ResourceTagPrefix, StringComparison.OrdinalIgnoreCase)
                ? string.Concat(ConditionKeys.SecretsManagerResourceTagPrefix, key.AsSpan(ConditionKeys.ResourceTagPrefix.Length))
                : null;
        return alias is not null && TryGetOwn(alias, out values);
    }

    /// <summary>A single-valued key's value, for policy variables (IAM does not expand multivalued keys).</summary>
    public bool TryGetValue(string key, [NotNullWhen(true)] out string? value)
    {
        value = TryGetValues(key, out var values) && values.Count == 1 ? values[0] : null;
        return value is not null;
    }

    /// <summary><paramref name="text"/> as an address, parsed once per request however many conditions test it.</summary>
    public bool TryParseAddress(string text, [NotNullWhen(true)] out IPAddress? address)
    {
        if (!ReferenceEquals(text, _addressText))
        {
            _address = IPAddress.TryParse(text, out var parsed) ? parsed : null;
            _addressText = text;
        }

        address = _address;
        return address is not null;
    }

    private bool TryGetOwn(string key, out ContextValues values)
    {
        if (_multi is not null && _multi.TryGetValue(key, out var set))
        {
            // IAM treats an empty set like a missing key (ForAllValues holds, ForAnyValue does not), whatever else
            // supplied the key.
            var present = WithoutNulls(set);
            values = new ContextValues(present);
            return present.Count > 0;
        }

        if (_single is not null && _single.TryGetValue(key, out var one) && one is not null)
        {
            values = new ContextValues(one);
            return true;
        }

        // Keys IAM always derives from the authenticated caller, unless the request supplied them.
        if (Derived(key) is { } derived)
        {
            values = new ContextValues(derived);
            return true;
        }

        values = default;
        return false;
    }

    private string? Derived(string key) =>
        key.Equals(ConditionKeys.PrincipalArn, StringComparison.OrdinalIgnoreCase) ? Request.PrincipalArn
        : key.Equals(ConditionKeys.PrincipalAccount, StringComparison.OrdinalIgnoreCase) ? Request.AccountId
        : key.Equals(ConditionKeys.PrincipalType, StringComparison.OrdinalIgnoreCase) ? Arns.PrincipalTypeOf(Request.PrincipalArn)
        : key.Equals(ConditionKeys.UserName, StringComparison.OrdinalIgnoreCase) ? Arns.UserNameOf(Request.PrincipalArn)
        : null;

    private static IReadOnlyList<string> WithoutNulls(IReadOnlyList<string>? set)
    {
        if (set is null)
        {
            return [];
        }

        for (var i = 0; i < set.Count; i++)
        {
            if (set[i] is null)
            {
                return [.. set.Where(v => v is not null)];
            }
        }

        return set;
    }
}

/// <summary>A key's values in the request: one string, or a set.</summary>
internal readonly struct ContextValues
{
    private readonly string? _single;
    private readonly IReadOnlyList<string>? _set;

    public ContextValues(string single) => _single = single;

    public ContextValues(IReadOnlyList<string> set) => _set = set;

    public int Count => _set?.Count ?? (_single is null ? 0 : 1);

    public string this[int index] => _set is not null ? _set[index] : index == 0 && _single is not null ? _single : throw new ArgumentOutOfRangeException(nameof(index));
}
