namespace Keyturn.Domain.Listing;

/// <summary>
/// ListSecrets <c>SortBy</c>/<c>SortOrder</c>.
/// </summary>
/// <remarks>
/// Defaults: the API model (botocore 1.43.11) documents <c>SortBy</c> as "If not specified, secrets are
/// listed by CreatedDate"; <c>SortOrder</c>'s doc only says "Secrets are listed by CreatedDate" and names no
/// direction, so ascending (oldest first) is an inference — it is also the insertion order moto and
/// LocalStack return, which existing client tests tend to assume.
/// </remarks>
public static class SecretSorter
{
    public const SecretSortBy DefaultSortBy = SecretSortBy.CreatedDate;
    public const bool DefaultDescending = false;

    /// <summary>The <c>SortBy</c> wire values in the API model's order.</summary>
    public static IReadOnlyList<string> SortByValues { get; } =
        ["created-date", "last-accessed-date", "last-changed-date", "name"];

    /// <summary>The <c>SortOrder</c> wire values.</summary>
    public static IReadOnlyList<string> SortOrderValues { get; } = ["asc", "desc"];

    /// <summary>
    /// A total order: the chosen key (ordinal for names; a missing <c>LastAccessedDate</c> sorts as the
    /// oldest), then name, then creation date, so pages are stable.
    /// </summary>
    public static IComparer<SecretListingView> Comparer(SecretSortBy by, bool descending) =>
        Enum.IsDefined(by) ? new ListingComparer(by, descending) : throw new ArgumentOutOfRangeException(nameof(by), by, null);

    /// <summary>Parses <c>SortBy</c>; null means the default. Returns the error AWS would give for other values.</summary>
    public static FilterError? ParseSortBy(string? value, out SecretSortBy sortBy)
    {
        sortBy = value switch
        {
            null => DefaultSortBy,
            "created-date" => SecretSortBy.CreatedDate,
            "last-accessed-date" => SecretSortBy.LastAccessedDate,
            "last-changed-date" => SecretSortBy.LastChangedDate,
            "name" => SecretSortBy.Name,
            _ => DefaultSortBy,
        };
        return value is null || SortByValues.Contains(value, StringComparer.Ordinal)
            ? null
            : EnumError(value, "sortBy", SortByValues);
    }

    /// <summary>Parses <c>SortOrder</c>; null means the default. Returns the error AWS would give for other values.</summary>
    public static FilterError? ParseSortOrder(string? value, out bool descending)
    {
        descending = value switch
        {
            "asc" => false,
            "desc" => true,
            _ => DefaultDescending,
        };
        return value is null || SortOrderValues.Contains(value, StringComparer.Ordinal)
            ? null
            : EnumError(value, "sortOrder", SortOrderValues);
    }

    /// <summary>The wire value for a sort key.</summary>
    public static string ToWireValue(SecretSortBy by) => by switch
    {
        SecretSortBy.CreatedDate => "created-date",
        SecretSortBy.LastAccessedDate => "last-accessed-date",
        SecretSortBy.LastChangedDate => "last-changed-date",
        SecretSortBy.Name => "name",
        _ => throw new ArgumentOutOfRangeException(nameof(by), by, null),
    };

    private static FilterError EnumError(string value, string member, IReadOnlyList<string> allowed) =>
        new(FilterError.Validation,
            $"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", allowed)}]");

    private sealed class ListingComparer(SecretSortBy by, bool descending) : IComparer<SecretListingView>
    {
        public int Compare(SecretListingView? x, SecretListingView? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (x is null)
            {
                return -1;
            }

            if (y is null)
            {
                return 1;
            }

            var primary = by switch
            {
                SecretSortBy.CreatedDate => x.CreatedDate.CompareTo(y.CreatedDate),
                SecretSortBy.LastAccessedDate => Nullable.Compare(x.LastAccessedDate, y.LastAccessedDate),
                SecretSortBy.LastChangedDate => x.LastChangedDate.CompareTo(y.LastChangedDate),
                SecretSortBy.Name => string.CompareOrdinal(x.Name, y.Name),
                _ => throw new InvalidOperationException($"Unknown sort key {by}."),
            };
            if (primary != 0)
            {
                return descending ? -primary : primary;
            }

            var byName = string.CompareOrdinal(x.Name, y.Name);
            return byName != 0 ? byName : x.CreatedDate.CompareTo(y.CreatedDate);
        }
    }
}
