using Keyturn.Domain.Listing;

namespace Keyturn.Domain.Tests.Listing;

public sealed class SecretSorterTests
{
    private static readonly DateTimeOffset Day = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly SecretListingView[] Secrets =
    [
        View("b", created: 2, changed: 5, accessed: null),
        View("a", created: 3, changed: 4, accessed: 1),
        View("C", created: 1, changed: 6, accessed: 3),
        View("d", created: 4, changed: 4, accessed: 2),
    ];

    [Theory]
    [InlineData(SecretSortBy.CreatedDate, false, new[] { "C", "b", "a", "d" })]
    [InlineData(SecretSortBy.CreatedDate, true, new[] { "d", "a", "b", "C" })]
    [InlineData(SecretSortBy.LastChangedDate, false, new[] { "a", "d", "b", "C" })]
    [InlineData(SecretSortBy.LastChangedDate, true, new[] { "C", "b", "a", "d" })]
    [InlineData(SecretSortBy.LastAccessedDate, false, new[] { "b", "a", "d", "C" })]
    [InlineData(SecretSortBy.LastAccessedDate, true, new[] { "C", "d", "a", "b" })]
    [InlineData(SecretSortBy.Name, false, new[] { "C", "a", "b", "d" })]
    [InlineData(SecretSortBy.Name, true, new[] { "d", "b", "a", "C" })]
    public void Comparer_SortKeyAndOrder_OrdersSecrets(SecretSortBy by, bool descending, string[] expected)
    {
        // Ties on the key (a and d were changed on day 4) fall back to name, ascending either way.
        var names = Secrets.Order(SecretSorter.Comparer(by, descending)).Select(s => s.Name);

        Assert.Equal(expected, names);
    }

    [Fact]
    public void Comparer_UnknownSortKey_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SecretSorter.Comparer((SecretSortBy)42, false));
    }

    [Fact]
    public void Defaults_AreCreatedDateAscending()
    {
        Assert.Equal(SecretSortBy.CreatedDate, SecretSorter.DefaultSortBy);
        Assert.False(SecretSorter.DefaultDescending);
    }

    [Theory]
    [InlineData(null, SecretSortBy.CreatedDate)]
    [InlineData("created-date", SecretSortBy.CreatedDate)]
    [InlineData("last-accessed-date", SecretSortBy.LastAccessedDate)]
    [InlineData("last-changed-date", SecretSortBy.LastChangedDate)]
    [InlineData("name", SecretSortBy.Name)]
    public void ParseSortBy_KnownValue_ReturnsKey(string? value, SecretSortBy expected)
    {
        Assert.Null(SecretSorter.ParseSortBy(value, out var sortBy));
        Assert.Equal(expected, sortBy);
        if (value is not null)
        {
            Assert.Equal(value, SecretSorter.ToWireValue(sortBy));
        }
    }

    [Theory]
    [InlineData("Name")]
    [InlineData("createdDate")]
    [InlineData("")]
    public void ParseSortBy_UnknownValue_ReturnsValidationException(string value)
    {
        var error = SecretSorter.ParseSortBy(value, out _);

        Assert.Equal(
            new FilterError(
                FilterError.Validation,
                $"1 validation error detected: Value '{value}' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]"),
            error);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("asc", false)]
    [InlineData("desc", true)]
    public void ParseSortOrder_KnownValue_ReturnsDirection(string? value, bool expected)
    {
        Assert.Null(SecretSorter.ParseSortOrder(value, out var descending));
        Assert.Equal(expected, descending);
    }

    [Theory]
    [InlineData("DESC")]
    [InlineData("descending")]
    public void ParseSortOrder_UnknownValue_ReturnsValidationException(string value)
    {
        var error = SecretSorter.ParseSortOrder(value, out _);

        Assert.Equal(
            new FilterError(
                FilterError.Validation,
                $"1 validation error detected: Value '{value}' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [asc, desc]"),
            error);
    }

    private static SecretListingView View(string name, int created, int changed, int? accessed) =>
        new(name, null, [], null, null, Day.AddDays(created), Day.AddDays(changed), accessed is { } a ? Day.AddDays(a) : null);
}
