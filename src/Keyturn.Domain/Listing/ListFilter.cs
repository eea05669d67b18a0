namespace Keyturn.Domain.Listing;

/// <summary>One ListSecrets <c>Filters</c> entry. A value starting with <c>!</c> is a negation.</summary>
public sealed record ListFilter(string Key, IReadOnlyList<string> Values);
