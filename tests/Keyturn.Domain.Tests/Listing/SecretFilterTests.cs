using Keyturn.Domain.Listing;

namespace Keyturn.Domain.Tests.Listing;

public sealed class SecretFilterTests
{
    private static readonly DateTimeOffset Created = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // The four secrets of LocalStack's AWS-validated test_list_secrets_filtering (compatibility case 56).
    private static readonly SecretListingView[] LocalStackSecrets =
    [
        Secret("testing1/one-12345", "a secret"),
        Secret("/testing2/two-12345", "an secret"),
        Secret("testing3/three-12345", "asecret"),
        Secret("/testing4/four-12345", "thesecret"),
    ];

    public static TheoryData<string, ListFilter[], string[]> LocalStackCases => new()
    {
        { "name prefix", [Filter("name", "/")], ["/testing2/two-12345", "/testing4/four-12345"] },
        { "negated name prefix", [Filter("name", "!/")], ["testing1/one-12345", "testing3/three-12345"] },
        { "name is not word-split", [Filter("name", "testing1 one")], [] },
        { "description word prefix", [Filter("description", "a")], ["testing1/one-12345", "/testing2/two-12345", "testing3/three-12345"] },
        { "negated description", [Filter("description", "!a")], ["/testing4/four-12345"] },
        { "description two words", [Filter("description", "a secret")], ["testing1/one-12345", "/testing2/two-12345"] },
        { "negated description nobody has", [Filter("description", "!c")], ["testing1/one-12345", "/testing2/two-12345", "testing3/three-12345", "/testing4/four-12345"] },
        { "filters AND (name secret)", [Filter("description", "a"), Filter("name", "secret")], [] },
        { "filters AND (name an)", [Filter("description", "a"), Filter("name", "an")], [] },
    };

    [Theory]
    [MemberData(nameof(LocalStackCases))]
    public void Matches_LocalStackValidatedFilters_SelectsAwsResult(string scenario, ListFilter[] filters, string[] expected)
    {
        Assert.Null(SecretFilter.Validate(filters));

        var names = LocalStackSecrets.Where(s => SecretFilter.Matches(s, filters)).Select(s => s.Name).ToArray();

        Assert.True(expected.SequenceEqual(names), $"{scenario}: got [{string.Join(", ", names)}]");
    }

    [Theory]
    [InlineData("DatabaseSecret", true)]
    [InlineData("Data", true)]
    [InlineData("databaseSecret", false)]
    [InlineData("MyData", false)]
    public void Matches_NameFilter_IsCaseSensitivePrefix(string name, bool expected)
    {
        // User guide example: Name: Data.
        Assert.Equal(expected, SecretFilter.Matches(Secret(name), [Filter("name", "Data")]));
    }

    [Theory]
    [InlineData("My Description", true)]
    [InlineData("my description", true)]
    [InlineData("My basic description", true)]
    [InlineData("Description of my secret", true)]
    [InlineData("My secret", false)]
    [InlineData(null, false)]
    public void Matches_DescriptionFilter_MatchesWordsInAnyOrderIgnoringCase(string? description, bool expected)
    {
        // User guide example: Description: My Description.
        Assert.Equal(expected, SecretFilter.Matches(Secret("s", description), [Filter("description", "My Description")]));
    }

    [Theory]
    [InlineData("Production", true)]
    [InlineData("Prod1", true)]
    [InlineData("prod", false)]
    [InlineData("1 Prod", false)]
    public void Matches_TagFilters_AreCaseSensitivePrefixesOfAnyTag(string tag, bool expected)
    {
        // User guide examples: Tag key: Prod / Tag value: Prod.
        var byKey = Secret("s", tags: [new("other", "x"), new(tag, "v")]);
        var byValue = Secret("s", tags: [new("k", "x"), new("k2", tag)]);

        Assert.Equal(expected, SecretFilter.Matches(byKey, [Filter("tag-key", "Prod")]));
        Assert.Equal(expected, SecretFilter.Matches(byValue, [Filter("tag-value", "Prod")]));
        Assert.False(SecretFilter.Matches(byKey, [Filter("tag-value", "Prod")]));
    }

    [Theory]
    [InlineData("primary-region", "us-", true)]
    [InlineData("primary-region", "US-", false)]
    [InlineData("primary-region", "eu-", false)]
    [InlineData("owning-service", "rds", true)]
    [InlineData("owning-service", "RDS", false)]
    [InlineData("owning-service", "!rds", false)]
    [InlineData("owning-service", "!app", true)]
    public void Matches_RegionAndOwningService_AreCaseSensitivePrefixes(string key, string value, bool expected)
    {
        var secret = Secret("s") with { PrimaryRegion = "us-west-2", OwningService = "rds" };

        Assert.Equal(expected, SecretFilter.Matches(secret, [Filter(key, value)]));
    }

    [Fact]
    public void Matches_AttributeAbsent_OnlyNegationMatches()
    {
        var bare = Secret("s");

        Assert.False(SecretFilter.Matches(bare, [Filter("owning-service", "rds")]));
        Assert.False(SecretFilter.Matches(bare, [Filter("primary-region", "us")]));
        Assert.False(SecretFilter.Matches(bare, [Filter("tag-key", "env")]));
        Assert.True(SecretFilter.Matches(bare, [Filter("owning-service", "!rds")]));
        Assert.True(SecretFilter.Matches(bare, [Filter("tag-key", "!env")]));
        Assert.True(SecretFilter.Matches(bare, [Filter("description", "!a")]));
    }

    [Fact]
    public void Matches_AllFilter_SearchesNameDescriptionTagKeysAndValues()
    {
        SecretListingView[] secrets =
        [
            Secret("foo"),
            Secret("bar", "foo"),
            Secret("baz", tags: [new("foo", "1")]),
            Secret("qux", tags: [new("1", "foo")]),
            Secret("multi", tags: [new("foo", "foo")]),
            Secret("none"),
        ];

        var names = secrets.Where(s => SecretFilter.Matches(s, [Filter("all", "FOO")])).Select(s => s.Name);

        Assert.Equal(["foo", "bar", "baz", "qux", "multi"], names);
    }

    [Theory]
    [InlineData("secrets for", "secrets for the app", true)]
    [InlineData("secrets for", "for secrets", true)]
    [InlineData("creds 892", "credsDatabase892", true)]
    [InlineData("database", "credsDatabase892", true)]
    [InlineData("base", "credsDatabase892", false)]
    [InlineData("tag", "SecretFTag", true)]
    [InlineData("f", "SecretFTag", true)]
    [InlineData("ftag", "SecretFTag", false)]
    [InlineData("ythings", "COMPANYthings", true)]
    [InlineData("things", "COMPANYthings", false)]
    [InlineData("company", "COMPANYthings", false)]
    [InlineData("compan", "COMPANYthings", true)]
    public void Matches_AllFilter_NeedsEveryWordInOneField(string query, string name, bool expected)
    {
        Assert.Equal(expected, SecretFilter.Matches(Secret(name), [Filter("all", query)]));
    }

    [Fact]
    public void Matches_AllFilter_WordsSpreadOverFieldsDoNotMatch()
    {
        // The launch blog: "secrets for" finds secrets with both words in the same field.
        var secret = Secret("secrets", "for the app");

        Assert.False(SecretFilter.Matches(secret, [Filter("all", "secrets for")]));
    }

    [Fact]
    public void Matches_ValuesWithinFilter_Or()
    {
        SecretListingView[] secrets = [Secret("foo"), Secret("bar"), Secret("baz")];

        var names = secrets.Where(s => SecretFilter.Matches(s, [Filter("name", "foo", "bar")])).Select(s => s.Name);

        Assert.Equal(["foo", "bar"], names);
    }

    [Fact]
    public void Matches_SameKeyTwice_And()
    {
        SecretListingView[] secrets =
        [
            Secret("foo", "one two"), Secret("bar", "one"), Secret("baz", "two"), Secret("qux", "unrelated"),
        ];

        var names = secrets
            .Where(s => SecretFilter.Matches(s, [Filter("description", "one"), Filter("description", "two")]))
            .Select(s => s.Name);

        Assert.Equal(["foo"], names);
    }

    public static TheoryData<string[], string[]> NegationMixes => new()
    {
        // Negated values are exclusions: every one must miss; plain values still need one hit.
        { ["!one", "!two"], ["none"] },
        { ["one", "!two"], ["baz"] },
        { ["one", "two", "!and"], ["foo", "baz", "qux"] },
        { ["!o"], ["qux", "none"] },
    };

    [Theory]
    [MemberData(nameof(NegationMixes))]
    public void Matches_NegatedValues_ExcludeAndCombineWithPlainValues(string[] values, string[] expected)
    {
        SecretListingView[] secrets =
        [
            Secret("foo", "one two"), Secret("bar", "one and two"), Secret("baz", "one"), Secret("qux", "two"), Secret("none", "unrelated"),
        ];

        var names = secrets.Where(s => SecretFilter.Matches(s, [Filter("description", values)])).Select(s => s.Name);

        Assert.Equal(expected, names);
    }

    [Theory]
    [InlineData("description", "/", false)]
    [InlineData("description", "!/", true)]
    [InlineData("name", "", true)]
    [InlineData("name", "!", false)]
    public void Matches_EdgeValues_FollowPrefixAndWordRules(string key, string value, bool expected)
    {
        // A value with no words matches nothing for word filters; an empty prefix matches every name.
        Assert.Equal(expected, SecretFilter.Matches(Secret("s", "a secret"), [Filter(key, value)]));
    }

    [Fact]
    public void Matches_NoFilters_MatchesEverything()
    {
        Assert.True(SecretFilter.Matches(Secret("s"), []));
        Assert.True(SecretFilter.Matches(Secret("s"), null));
    }

    [Theory]
    [InlineData("credsDatabase#892", new[] { "creds", "Database", "892" })]
    [InlineData("my/secret+value", new[] { "my", "secret", "value" })]
    [InlineData("a secret", new[] { "a", "secret" })]
    [InlineData("HTTPServer v2", new[] { "HTTP", "Server", "v", "2" })]
    [InlineData("SecretFTag", new[] { "Secret", "F", "Tag" })]
    [InlineData("COMPANYthings", new[] { "COMPAN", "Ythings" })]
    [InlineData("ABc", new[] { "A", "Bc" })]
    [InlineData("Secret", new[] { "Secret" })]
    [InlineData("SECRET", new[] { "SECRET" })]
    [InlineData("a1B2cD", new[] { "a", "1", "B", "2", "c", "D" })]
    [InlineData(" -/ ", new string[0])]
    public void Words_SplitsOnSeparatorsCaseChangesAndDigits(string text, string[] expected)
    {
        Assert.Equal(expected, SecretFilter.Words(text));
    }

    [Fact]
    public void Validate_AcceptableFilters_ReturnsNull()
    {
        Assert.Null(SecretFilter.Validate(null));
        Assert.Null(SecretFilter.Validate([]));
        Assert.Null(SecretFilter.Validate(
            [.. SecretFilter.Keys.Select(k => Filter(k, "!prod", "a b:c_d@e/f+g=h.i-j", "!!x", "", new string('a', 512)))]));
    }

    public static TheoryData<string, ListFilter[], string> ValidationFailures => new()
    {
        {
            "unknown key", [Filter("invalid", "foo")],
            "1 validation error detected: Value 'invalid' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]"
        },
        {
            "key is case-sensitive", [Filter("name", "a"), Filter("Name", "a")],
            "1 validation error detected: Value 'Name' at 'filters.2.member.key' failed to satisfy constraint: Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]"
        },
        {
            "no values", [new ListFilter("name", [])],
            "1 validation error detected: Value '[]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1"
        },
        {
            "eleven values", [Filter("name", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11")],
            "1 validation error detected: Value '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length less than or equal to 10"
        },
        {
            "bad character", [Filter("name", "a*b")],
            @"1 validation error detected: Value '[a*b]' at 'filters.1.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$]"
        },
        {
            "two violations", [Filter("nope", "x"), Filter("name", "#")],
            "2 validation errors detected: Value 'nope' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]; "
                + @"Value '[#]' at 'filters.2.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: ^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$]"
        },
    };

    [Theory]
    [MemberData(nameof(ValidationFailures))]
    public void Validate_ModelViolation_ReturnsValidationException(string scenario, ListFilter[] filters, string message)
    {
        var error = SecretFilter.Validate(filters);

        Assert.NotNull(error);
        Assert.True(error.Code == FilterError.Validation, scenario);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Validate_ValueTooLong_ReportsLengthConstraint()
    {
        var error = SecretFilter.Validate([Filter("name", new string('a', 513))]);

        Assert.NotNull(error);
        Assert.Equal(FilterError.Validation, error.Code);
        Assert.EndsWith("failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 512]", error.Message);
    }

    [Fact]
    public void Validate_ElevenFilters_ReportsFilterCount()
    {
        var error = SecretFilter.Validate([.. Enumerable.Repeat(Filter("name", "a"), 11)]);

        Assert.NotNull(error);
        Assert.Equal(FilterError.Validation, error.Code);
        Assert.StartsWith("1 validation error detected: Value '[Filter(Key=name, Values=[a]), ", error.Message);
        Assert.EndsWith("' at 'filters' failed to satisfy constraint: Member must have length less than or equal to 10", error.Message);
    }

    [Fact]
    public void Validate_MissingKey_ReturnsInvalidParameter()
    {
        var error = SecretFilter.Validate([new ListFilter(null!, ["foo"])]);

        Assert.Equal(new FilterError(FilterError.InvalidParameter, "Invalid filter key"), error);
    }

    [Fact]
    public void Validate_MissingValues_ReturnsInvalidParameter()
    {
        var error = SecretFilter.Validate([new ListFilter("description", null!)]);

        Assert.Equal(new FilterError(FilterError.InvalidParameter, "Invalid filter values for key: description"), error);
    }

    [Fact]
    public void Validate_ModelViolationAndMissingKey_ReportsValidationFirst()
    {
        var error = SecretFilter.Validate([new ListFilter(null!, ["foo"]), Filter("bogus", "x")]);

        Assert.NotNull(error);
        Assert.Equal(FilterError.Validation, error.Code);
    }

    private static ListFilter Filter(string key, params string[] values) => new(key, values);

    private static SecretListingView Secret(string name, string? description = null, KeyValuePair<string, string>[]? tags = null) =>
        new(name, description, tags ?? [], null, null, Created, Created, null);
}
