using Keyturn.Rotators.PostgreSql;

namespace Keyturn.Rotators.Tests;

public sealed class PostgresSyntaxTests
{
    [Theory]
    [InlineData("app", "\"app\"")]
    [InlineData("App", "\"App\"")]
    [InlineData("a\"b", "\"a\"\"b\"")]
    [InlineData("x\"; DROP ROLE y; --", "\"x\"\"; DROP ROLE y; --\"")]
    public void QuoteIdentifier_AlwaysQuotedWithQuotesDoubled(string name, string expected)
    {
        Assert.Equal(expected, PostgresSyntax.QuoteIdentifier(name));
    }

    [Theory]
    [InlineData("plain", "E'plain'")]
    [InlineData("it's", "E'it''s'")]
    [InlineData("back\\slash", "E'back\\\\slash'")]
    [InlineData("\\'; DROP ROLE x; --", "E'\\\\''; DROP ROLE x; --'")]
    public void QuoteLiteral_EscapeStringWithQuotesAndBackslashesDoubled(string value, string expected)
    {
        Assert.Equal(expected, PostgresSyntax.QuoteLiteral(value));
    }

    [Fact]
    public void Quoting_Nul_Refused()
    {
        Assert.Throws<ArgumentException>(() => PostgresSyntax.QuoteLiteral("a\0b"));
        Assert.Throws<ArgumentException>(() => PostgresSyntax.QuoteIdentifier("a\0b"));
    }

    [Theory]
    [InlineData("\"$user\", public", new[] { "$user", "public" })]
    [InlineData("a, \"odd, \"\"schema\"", new[] { "a", "odd, \"schema" })]
    [InlineData("\"\"", new[] { "" })]
    [InlineData("single", new[] { "single" })]
    public void SplitQuotedList_StoredSearchPath_Elements(string value, string[] expected)
    {
        Assert.Equal(expected, PostgresSyntax.SplitQuotedList(value));
    }

    [Theory]
    [InlineData("search_path", "\"search_path\"")]
    [InlineData("App.Tenant", "\"app\".\"tenant\"")]
    public void QuoteSettingName_EachPartQuoted(string name, string expected)
    {
        Assert.Equal(expected, PostgresSyntax.QuoteSettingName(name));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("a", true)]
    [InlineData("a\0", false)]
    public void IsValidRoleName_EmptyAndNul_Invalid(string name, bool valid)
    {
        Assert.Equal(valid, PostgresSyntax.IsValidRoleName(name));
    }

    [Fact]
    public void IsValidRoleName_63BytesOk64Not_CountsUtf8Bytes()
    {
        Assert.True(PostgresSyntax.IsValidRoleName(new string('a', 63)));
        Assert.False(PostgresSyntax.IsValidRoleName(new string('a', 64)));
        Assert.False(PostgresSyntax.IsValidRoleName(new string('é', 32)));
    }

    [Fact]
    public void Scram_KnownSaltAndIterations_MatchesIndependentComputation()
    {
        // Computed with Python's hashlib (PBKDF2-HMAC-SHA256, HMAC "Client Key"/"Server Key", SHA-256).
        var salt = Enumerable.Range(0, 16).Select(i => (byte)i).ToArray();

        Assert.Equal(
            "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
            PostgresPasswordVerifier.Scram("pencil", salt, 4096));
    }

    [Fact]
    public void Md5_PasswordThenRoleName()
    {
        Assert.Equal("md56a422f785c9e20873908ce25d1736ae2", PostgresPasswordVerifier.Md5("secret", "app"));
    }

    [Theory]
    [InlineData("scram-sha-256", "SCRAM-SHA-256$")]
    [InlineData("md5", "md5")]
    [InlineData("on", "md5")]
    public void For_ServerSetting_PicksTheFormat(string setting, string prefix)
    {
        Assert.StartsWith(prefix, PostgresPasswordVerifier.For(setting, "pw", "app", 4096), StringComparison.Ordinal);
        Assert.Null(PostgresPasswordVerifier.For("something-new", "pw", "app", 4096));
    }

    [Theory]
    [InlineData("Aa1!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ", true)]
    [InlineData("pässword", false)]
    [InlineData("tab\there", false)]
    public void CanHashOnClient_PrintableAsciiOnly(string password, bool expected)
    {
        Assert.Equal(expected, PostgresPasswordVerifier.CanHashOnClient(password));
    }
}
