namespace Keyturn.Domain.Listing;

/// <summary>ListSecrets <c>SortBy</c>; wire values are <c>created-date</c>, <c>last-accessed-date</c>, <c>last-changed-date</c>, <c>name</c>.</summary>
public enum SecretSortBy
{
    CreatedDate,
    LastAccessedDate,
    LastChangedDate,
    Name,
}
