using System.Diagnostics.CodeAnalysis;

namespace Keyturn.Domain.Policies;

/// <summary>The condition keys of one request, looked up case-insensitively as IAM does.</summary>
internal sealed class PolicyRequestContext
{
    private const string AwsTagPrefix = "aws:ResourceTag/";
    private const string SecretsManagerTagPrefix = "secretsmanager:ResourceTag/";

    private readonly Dictionary<string, string> _values;

    private PolicyRequestContext(AuthorizationRequest request, Dictionary<string, string> values)
    {
        Request = request;
        _values = values;
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
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["aws:PrincipalArn"] = request.PrincipalArn,
            ["aws:PrincipalAccount"] = request.AccountId,
        };
        if (Arns.PrincipalTypeOf(request.PrincipalArn) is { } type)
        {
            values["aws:PrincipalType"] = type;
        }

        if (Arns.UserNameOf(request.PrincipalArn) is { } userName)
        {
            values["aws:username"] = userName;
        }

        if (request.Context is not null)
        {
            foreach (var (key, value) in request.Context)
            {
                if (key is not null && value is not null)
                {
                    values[key] = value;
                }
            }
        }

        return new PolicyRequestContext(request, values);
    }

    public bool TryGetValue(string key, [NotNullWhen(true)] out string? value)
    {
        if (_values.TryGetValue(key, out value))
        {
            return true;
        }

        // Secrets Manager documents both spellings for a secret's tags; accept whichever the caller supplied.
        var alias = key.StartsWith(SecretsManagerTagPrefix, StringComparison.OrdinalIgnoreCase)
            ? string.Concat(AwsTagPrefix, key.AsSpan(SecretsManagerTagPrefix.Length))
            : key.StartsWith(AwsTagPrefix, StringComparison.OrdinalIgnoreCase)
                ? string.Concat(SecretsManagerTagPrefix, key.AsSpan(AwsTagPrefix.Length))
                : null;
        return alias is not null && _values.TryGetValue(alias, out value);
    }
}
