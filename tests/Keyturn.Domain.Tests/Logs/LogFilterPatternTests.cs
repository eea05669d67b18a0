using Keyturn.Domain.Logs;

namespace Keyturn.Domain.Tests.Logs;

public sealed class LogFilterPatternTests
{
    private const string SetFailed = "[ERROR]\t2026-03-28T09:50:06.006Z\t6f1c\tsetSecret: Unable to log into database with previous, current, or pending secret of secret arn arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf";
    private const string Created = "[INFO]\t2026-03-28T09:50:06.006Z\t6f1c\tcreateSecret: Successfully put secret for ARN arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf and version 0b1d.";
    private const string Start = "START RequestId: 6f1c Version: $LATEST";

    public static TheoryData<string?, string, bool> Cases => new()
    {
        // Empty and match-everything patterns.
        { null, Start, true },
        { "", Start, true },
        { "   ", Start, true },
        { "\"\"", Start, true },
        { "\" \"", Start, true },
        // One term: a case-sensitive substring.
        { "ERROR", SetFailed, true },
        { "ERROR", Created, false },
        { "error", SetFailed, false },
        { "Unabl", SetFailed, true },
        // Several terms: all required, in any order.
        { "setSecret: Unable", SetFailed, true },
        { "Unable setSecret:", SetFailed, true },
        { "ERROR createSecret:", SetFailed, false },
        // A quoted phrase is one term, spaces and punctuation included.
        { "\"setSecret: Unable\"", SetFailed, true },
        { "\"Unable setSecret:\"", SetFailed, false },
        { "\"RequestId: 6f1c\"", Start, true },
        { "\"[INFO]\"", Created, true },
        { "\"say \\\"hi\\\"\"", "they say \"hi\" back", true },
        // ?terms: at least one of them.
        { "?ERROR ?WARN", SetFailed, true },
        { "?ERROR ?WARN", Created, false },
        { "?\"setSecret: Unable\" ?\"testSecret: Unable\"", SetFailed, true },
        { "?START ?END ?REPORT", Start, true },
        // -terms: none of them.
        { "ERROR -createSecret", SetFailed, true },
        { "ERROR -setSecret", SetFailed, false },
        { "-\"Version: $LATEST\"", Start, false },
        { "-INFO", SetFailed, true },
        // Mixed: required, one alternative, no exclusion.
        { "secret ?ERROR ?WARN -START", SetFailed, true },
        { "secret ?ERROR ?WARN -arn", SetFailed, false },
        { "AbCdEf ?WARN ?FATAL", SetFailed, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void IsMatch_TermsAndPhrases_FollowCloudWatch(string? pattern, string message, bool expected)
    {
        Assert.Equal(expected, LogFilterPattern.Parse(pattern).IsMatch(message));
    }

    [Theory]
    [InlineData("{ $.level = \"ERROR\" }", "JSON filter patterns")]
    [InlineData("{$.x=1}", "JSON filter patterns")]
    [InlineData("[ip, user, ...]", "Space-delimited filter patterns")]
    [InlineData("%ERR(OR)?%", "Regular-expression filter patterns")]
    [InlineData("\"unterminated", "not closed")]
    [InlineData("\"a\"b", "followed by a space")]
    [InlineData("ab\"c", "quotation mark")]
    [InlineData("ERROR ?", "must be followed by a term")]
    [InlineData("- ERROR", "must be followed by a term")]
    [InlineData("ERR\0OR", "control character U+0000 is not allowed")]
    [InlineData("\"a \u001b[31m\"", "control character U+001B is not allowed")]
    public void TryParse_UnsupportedOrMalformed_ExplainsWhy(string pattern, string reason)
    {
        Assert.False(LogFilterPattern.TryParse(pattern, out var parsed, out var error));
        Assert.Null(parsed);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => LogFilterPattern.Parse(pattern));
    }

    [Theory]
    [InlineData("", new string[0])]
    [InlineData("setSecret: \"Unable to\" ?x -y", new[] { "setSecret:", "Unable to" })]
    [InlineData("?a ?b", new string[0])]
    public void RequiredTerms_AreThePlainTermsAndPhrases(string pattern, string[] expected)
    {
        Assert.Equal(expected, LogFilterPattern.Parse(pattern).RequiredTerms);
    }

    [Fact]
    public void MatchesEverything_OnlyForPatternsWithoutConstraints()
    {
        Assert.True(LogFilterPattern.Parse("\"\"").MatchesEverything);
        Assert.False(LogFilterPattern.Parse("-x").MatchesEverything);
        Assert.False(LogFilterPattern.Parse("?x").MatchesEverything);
    }
}
