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
    [InlineData("*a", "bba", false, false, true)]
    [InlineData("a*", "", false, false, false)]
    [InlineData("**", "", false, false, true)]
    [InlineData("a?", "a", false, false, false)]
    [InlineData("*ab*ab", "xabyab", false, false, true)]
    [InlineData("*ab*ab", "xabyabz", false, false, false)]
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
    // A later occurrence of a run is the one that lets a following in-segment star avoid a colon.
    [InlineData("a*:b*c", "a:b:b:bc", true)]
    [InlineData("a*b*c", "ab:bc", false)]
    [InlineData("arn:aws:secretsmanager:*:*:secret:prod/*", "arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-get-1-AbCdEf", false)]
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

    [Fact]
    public void IsMatch_RandomPatterns_AgreesWithTheFullTable()
    {
        // Small alphabets make stars, colons and '?' meet in every arrangement; the table below is the plain
        // per-character dynamic programming the matcher must agree with.
        var random = new Random(20261205);
        for (var trial = 0; trial < 200_000; trial++)
        {
            // Half without '?': those whose stars may run anywhere take the plain-stars path, the rest the position set.
            var pattern = RandomText(random, random.Next(2) == 0 ? "ab:*?A" : "ab:*A", random.Next(0, 8));
            var literal = random.Next(4) == 0 ? Enumerable.Range(0, pattern.Length).Select(_ => random.Next(3) == 0).ToArray() : null;
            var value = RandomText(random, "abB:*?", random.Next(0, 10));
            var ignoreCase = random.Next(2) == 0;
            var arnSegments = random.Next(2) == 0;

            var expected = TableMatch(pattern, literal, value, ignoreCase, arnSegments);
            var actual = new WildcardPattern(pattern, literal).IsMatch(value, ignoreCase, arnSegments);

            Assert.True(expected == actual,
                $"pattern '{pattern}' (literal {string.Join("", literal?.Select(l => l ? '1' : '0') ?? [])}) value '{value}' ignoreCase {ignoreCase} arnSegments {arnSegments}: expected {expected}");
        }
    }

    private static string RandomText(Random random, string alphabet, int length) =>
        new([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);

    private static bool TableMatch(string text, bool[]? literal, string value, bool ignoreCase, bool arnSegments)
    {
        bool Literal(int i) => literal is not null && literal[i];
        bool Same(char a, char b) => a == b || (ignoreCase && char.ToUpperInvariant(a) == char.ToUpperInvariant(b));

        var n = value.Length;
        var next = new bool[n + 1];
        next[n] = true;
        for (var i = text.Length - 1; i >= 0; i--)
        {
            var current = new bool[n + 1];
            if (text[i] == '*' && !Literal(i))
            {
                var crossesColons = !arnSegments || i == text.Length - 1 || text[i + 1] == ':';
                current[n] = next[n];
                for (var j = n - 1; j >= 0; j--)
                {
                    current[j] = next[j] || ((crossesColons || value[j] != ':') && current[j + 1]);
                }
            }
            else
            {
                for (var j = n - 1; j >= 0; j--)
                {
                    var one = text[i] == '?' && !Literal(i) ? !arnSegments || value[j] != ':' : Same(text[i], value[j]);
                    current[j] = one && next[j + 1];
                }
            }

            next = current;
        }

        return next[0];
    }
}
