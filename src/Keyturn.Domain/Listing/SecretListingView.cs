namespace Keyturn.Domain.Listing;

/// <summary>The attributes of a secret that ListSecrets filters and sorts on.</summary>
public sealed record SecretListingView(
    string Name,
    string? Description,
    IReadOnlyList<KeyValuePair<string, string>> Tags,
    string? PrimaryRegion,
    string? OwningService,
    DateTimeOffset CreatedDate,
    DateTimeOffset LastChangedDate,
    DateTimeOffset? LastAccessedDate);
