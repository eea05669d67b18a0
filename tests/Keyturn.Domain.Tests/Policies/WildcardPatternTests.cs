using Keyturn.Domain.Policies;

namespace Keyturn.Domain.Tests.Policies;

public sealed class WildcardPatternTests
{
    [Theory]
    [InlineData("*", "anything:at:all", false, true, true)]
    [InlineData("secretsmanager:*", "secretsmanager:GetSecretValue", true, false, true)]
    [InlineData("secretsmanager:Get*", "secretsmanager:GetSecretValue", true, false, true)]
    [InlineData("secretsmanager:get*", "SecretsManager:GetSecretValue", true, false, true)]
    [InlineData("secretsmanager:get*", "SecretsManager:GetSecretValue", false, false, false)]
    [InlineData("secretsmanager:Get*", "secretsmanager:PutSecretValue", true, false, false)]
    [InlineData("secretsmanager:?etSecretValue", "secretsmanager:GetSecretValue", true, false, true)]
    [InlineData("secretsmanager:?etSecretValue", "secretsmanager:etSecretValue", true, false, false)]
    [InlineData("a*b*c", "aXXbYYc", false, false, true)]
    [InlineData("a*b*c", "aXXbYY", false, false, false)]
    [InlineData("", "", false, false, true)]
    [InlineData("abc", "ABC", false, false, false)]
    public void IsMatch_PlainGlob_MatchesWholeValue(string pattern, string value, bool ignoreCase, bool arnSegments, bool expected)
    {
        Assert.Equal(expected, new WildcardPattern(pattern).IsMatch(value, ignoreCase, arnSegments));
    }

    [Theory]
    // A star that ends a segment may run across colons.
    [InlineData("arn:aws:secretsmanager:*:*:secret:app/*", "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf", true)]
    [InlineData("arn:aws:secretsmanager:*", "arn:aws:secretsmanager:us-east-1:000000000000:secret:x", true)]
    // A star inside a segment stays in it, and so does '?'.
    [InlineData("arn:aws:secretsmanager:us-*-1:000000000000:secret:x", "arn:aws:secretsmanager:us-east-1:000000000000:secret:x", true)]
    [InlineData("arn:aws:secretsmanager:us-*1:000000000000:secret:x", "arn:aws:secretsmanager:us-east:1:000000000000:secret:x", false)]
    [InlineData("arn:aws:secretsmanager:us-east-?:*:secret:x", "arn:aws:secretsmanager:us-east-1:000000000000:secret:x", true)]
    [InlineData("arn:aws:secretsmanager:us-east?1:*:secret:x", "arn:aws:secretsmanager:us-east:1:000000000000:secret:x", false)]
    public void IsMatch_ArnSegments_FollowsResourceRules(string pattern, string value, bool expected)
    {
        Assert.Equal(expected, new WildcardPattern(pattern).IsMatch(value, ignoreCase: false, arnSegments: true));
    }

    [Fact]
    public void IsMatch_LiteralFlaggedStar_MatchesOnlyAStar()
    {
        var pattern = new WildcardPattern("a*", [false, true]);

        Assert.True(pattern.IsMatch("a*", ignoreCase: false, arnSegments: false));
        Assert.False(pattern.IsMatch("ab", ignoreCase: false, arnSegments: false));
    }
}
