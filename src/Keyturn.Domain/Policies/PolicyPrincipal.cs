namespace Keyturn.Domain.Policies;

/// <summary>A parsed Principal or NotPrincipal element. Immutable.</summary>
public sealed class PolicyPrincipal
{
    internal PolicyPrincipal(
        bool isWildcard,
        IReadOnlyList<string> aws,
        IReadOnlyList<string> service,
        IReadOnlyList<string> federated,
        IReadOnlyList<string> canonicalUser)
    {
        IsWildcard = isWildcard;
        Aws = aws;
        Service = service;
        Federated = federated;
        CanonicalUser = canonicalUser;
    }

    /// <summary>True for the bare form <c>"Principal": "*"</c>.</summary>
    public bool IsWildcard { get; }

    /// <summary>Values under "AWS": "*", account IDs, account root ARNs, or IAM/STS principal ARNs.</summary>
    public IReadOnlyList<string> Aws { get; }

    /// <summary>Values under "Service"; they never match Keyturn's callers, which are all access keys.</summary>
    public IReadOnlyList<string> Service { get; }

    public IReadOnlyList<string> Federated { get; }

    public IReadOnlyList<string> CanonicalUser { get; }

    /// <summary>True when the element names every AWS principal ("*" or {"AWS": "*"}).</summary>
    public bool IncludesEveryone => IsWildcard || Aws.Contains("*");

    /// <summary>
    /// How the caller matches. Account forms ("123456789012", "arn:aws:iam::123456789012:root") match every
    /// principal of that account but only delegate to its identity policies, so they are told apart from a
    /// direct match ("*" or the caller's own ARN).
    /// </summary>
    internal PrincipalMatch Match(string principalArn, string accountId)
    {
        if (IsWildcard)
        {
            return PrincipalMatch.Direct;
        }

        var best = PrincipalMatch.None;
        foreach (var value in Aws)
        {
            if (value == "*" || string.Equals(value, principalArn, StringComparison.Ordinal))
            {
                return PrincipalMatch.Direct;
            }

            var account = Arns.IsAccountId(value) ? value : Arns.RootAccountOf(value);
            if (account is not null && string.Equals(account, accountId, StringComparison.Ordinal))
            {
                best = PrincipalMatch.Account;
            }
        }

        return best;
    }
}

/// <summary>How a Principal element matched the caller.</summary>
internal enum PrincipalMatch
{
    None,

    /// <summary>Matched through the caller's account: grants only what the account's identity policies also grant.</summary>
    Account,

    /// <summary>Matched "*" or the caller's own ARN: grants on its own within the account.</summary>
    Direct,
}
