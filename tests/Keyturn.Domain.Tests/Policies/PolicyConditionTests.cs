using Keyturn.Domain.Policies;
using static Keyturn.Domain.Tests.Policies.PolicyTestData;

namespace Keyturn.Domain.Tests.Policies;

public sealed class PolicyConditionTests
{
    private static readonly Dictionary<string, string> BaseContext = new()
    {
        ["secretsmanager:SecretId"] = "app/db",
        ["secretsmanager:VersionStage"] = "AWSCURRENT",
        ["aws:ResourceTag/team"] = "payments",
        ["aws:SecureTransport"] = "true",
        ["aws:SourceIp"] = "10.1.2.3",
        ["aws:CurrentTime"] = "2025-06-01T12:00:00Z",
        ["secretsmanager:RecoveryWindowInDays"] = "5",
    };

    [Theory]
    // String operators; condition keys are case-insensitive, values case-sensitive unless IgnoreCase.
    [InlineData("StringEquals", "secretsmanager:SecretId", "\"app/db\"", true)]
    [InlineData("StringEquals", "SECRETSMANAGER:SECRETID", "\"app/db\"", true)]
    [InlineData("StringEquals", "secretsmanager:SecretId", "\"APP/DB\"", false)]
    [InlineData("StringEquals", "secretsmanager:SecretId", "[\"x\", \"app/db\"]", true)]
    [InlineData("StringEqualsIgnoreCase", "secretsmanager:SecretId", "\"APP/DB\"", true)]
    [InlineData("StringNotEquals", "secretsmanager:SecretId", "\"app/db\"", false)]
    [InlineData("StringNotEquals", "secretsmanager:SecretId", "[\"x\", \"y\"]", true)]
    [InlineData("StringNotEqualsIgnoreCase", "secretsmanager:SecretId", "\"APP/DB\"", false)]
    [InlineData("StringLike", "secretsmanager:SecretId", "\"app/*\"", true)]
    [InlineData("StringLike", "secretsmanager:SecretId", "\"app/d?\"", true)]
    [InlineData("StringLike", "secretsmanager:SecretId", "\"ops/*\"", false)]
    [InlineData("StringNotLike", "secretsmanager:SecretId", "\"ops/*\"", true)]
    [InlineData("StringNotLike", "secretsmanager:SecretId", "\"app/*\"", false)]
    [InlineData("StringEquals", "secretsmanager:VersionStage", "\"AWSCURRENT\"", true)]
    [InlineData("StringEquals", "secretsmanager:ResourceTag/team", "\"payments\"", true)]
    [InlineData("StringEquals", "aws:ResourceTag/team", "\"payments\"", true)]
    // Derived keys.
    [InlineData("StringEquals", "aws:PrincipalAccount", "\"000000000000\"", true)]
    [InlineData("StringEquals", "aws:PrincipalType", "\"User\"", true)]
    [InlineData("StringEquals", "aws:username", "\"app\"", true)]
    [InlineData("ArnLike", "aws:PrincipalArn", "\"arn:aws:iam::000000000000:user/*\"", true)]
    [InlineData("ArnLike", "aws:PrincipalArn", "\"arn:aws:iam::*:user/ap?\"", true)]
    [InlineData("ArnLike", "aws:PrincipalArn", "\"arn:aws:iam::111122223333:user/*\"", false)]
    [InlineData("ArnLike", "aws:PrincipalArn", "\"arn:aws:iam::*\"", true)]
    [InlineData("ArnEquals", "aws:PrincipalArn", "\"arn:aws:iam::000000000000:user/app\"", true)]
    [InlineData("ArnEquals", "aws:PrincipalArn", "\"arn:aws:iam::000000000000:user/APP\"", false)]
    [InlineData("ArnNotLike", "aws:PrincipalArn", "\"arn:aws:iam::000000000000:user/ops*\"", true)]
    [InlineData("ArnNotEquals", "aws:PrincipalArn", "\"arn:aws:iam::000000000000:user/app\"", false)]
    // Other families.
    [InlineData("Bool", "aws:SecureTransport", "\"true\"", true)]
    [InlineData("Bool", "aws:SecureTransport", "true", true)]
    [InlineData("Bool", "aws:SecureTransport", "false", false)]
    [InlineData("NumericLessThan", "secretsmanager:RecoveryWindowInDays", "10", true)]
    [InlineData("NumericLessThan", "secretsmanager:RecoveryWindowInDays", "\"5\"", false)]
    [InlineData("NumericLessThanEquals", "secretsmanager:RecoveryWindowInDays", "5", true)]
    [InlineData("NumericGreaterThan", "secretsmanager:RecoveryWindowInDays", "4.5", true)]
    [InlineData("NumericEquals", "secretsmanager:RecoveryWindowInDays", "5.0", true)]
    [InlineData("NumericNotEquals", "secretsmanager:RecoveryWindowInDays", "5", false)]
    [InlineData("DateLessThan", "aws:CurrentTime", "\"2026-01-01T00:00:00Z\"", true)]
    [InlineData("DateGreaterThan", "aws:CurrentTime", "\"2026-01-01T00:00:00Z\"", false)]
    [InlineData("DateGreaterThanEquals", "aws:CurrentTime", "1735689600", true)]
    [InlineData("IpAddress", "aws:SourceIp", "\"10.0.0.0/8\"", true)]
    [InlineData("IpAddress", "aws:SourceIp", "\"192.168.0.0/16\"", false)]
    [InlineData("IpAddress", "aws:SourceIp", "\"10.1.2.3\"", true)]
    [InlineData("NotIpAddress", "aws:SourceIp", "\"192.168.0.0/16\"", true)]
    [InlineData("BinaryEquals", "secretsmanager:RecoveryWindowInDays", "\"5\"", true)]
    // Variables in condition values.
    [InlineData("StringLike", "secretsmanager:SecretId", "\"${aws:username}/*\"", true)]
    [InlineData("StringEquals", "secretsmanager:SecretId", "\"${aws:PrincipalTag/missing}\"", false)]
    [InlineData("StringEquals", "secretsmanager:SecretId", "\"${aws:PrincipalTag/missing, 'app/db'}\"", true)]
    public void Evaluate_ConditionOperators_FollowIamSemantics(string op, string key, string values, bool expectedToApply)
    {
        var decision = EvaluateWithCondition($$$"""{"{{{op}}}": {"{{{key}}}": {{{values}}}}}""");

        Assert.Equal(expectedToApply ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny, decision);
    }

    [Theory]
    // Absent key: positive operators fail, negated ones hold, IfExists holds, Null tests presence.
    [InlineData("StringEquals", "false")]
    [InlineData("StringLike", "false")]
    [InlineData("ArnLike", "false")]
    [InlineData("Bool", "false")]
    [InlineData("NumericEquals", "false")]
    [InlineData("IpAddress", "false")]
    [InlineData("StringNotEquals", "true")]
    [InlineData("StringNotLike", "true")]
    [InlineData("ArnNotLike", "true")]
    [InlineData("NotIpAddress", "true")]
    [InlineData("StringEqualsIfExists", "true")]
    [InlineData("StringLikeIfExists", "true")]
    [InlineData("ArnLikeIfExists", "true")]
    [InlineData("BoolIfExists", "true")]
    [InlineData("ForAllValues:StringEquals", "true")]
    [InlineData("ForAnyValue:StringEquals", "false")]
    [InlineData("ForAnyValue:StringNotEquals", "false")]
    [InlineData("ForAnyValue:StringEqualsIfExists", "true")]
    public void Evaluate_KeyMissingFromRequest_MatchesOnlyNegatedAndIfExists(string op, string expectedToApply)
    {
        var value = op.Contains("Ip", StringComparison.Ordinal) ? "\"10.0.0.0/8\"" : op.Contains("Numeric", StringComparison.Ordinal) ? "1" : "\"arn:aws:iam::000000000000:user/*\"";
        var decision = EvaluateWithCondition($$$"""{"{{{op}}}": {"aws:RequestTag/absent": {{{value}}}}}""");

        Assert.Equal(bool.Parse(expectedToApply) ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny, decision);
    }

    [Theory]
    [InlineData("secretsmanager:VersionStage", "AWSCURRENT", true)]
    [InlineData("secretsmanager:VersionStage", "AWSPENDING", false)]
    public void Evaluate_IfExistsWithKeyPresent_ChecksTheValue(string key, string value, bool expectedToApply)
    {
        var decision = EvaluateWithCondition(
            $$$"""{"StringEqualsIfExists": {"{{{key}}}": "AWSCURRENT"}}""",
            new Dictionary<string, string> { [key] = value });

        Assert.Equal(expectedToApply ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny, decision);
    }

    [Theory]
    [InlineData("true", false, true)]
    [InlineData("true", true, false)]
    [InlineData("false", true, true)]
    [InlineData("false", false, false)]
    public void Evaluate_NullOperator_TestsKeyPresence(string nullValue, bool keyPresent, bool expectedToApply)
    {
        var context = keyPresent ? new Dictionary<string, string> { ["aws:ResourceTag/team"] = "x" } : new Dictionary<string, string>();
        var decision = EvaluateWithCondition($$$"""{"Null": {"aws:ResourceTag/team": "{{{nullValue}}}"}}""", context);

        Assert.Equal(expectedToApply ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny, decision);
    }

    [Fact]
    public void Evaluate_SeveralOperatorsAndKeys_AllMustHold()
    {
        const string Conditions = """
            {"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT", "aws:ResourceTag/team": "payments"},
             "Bool": {"aws:SecureTransport": "true"}}
            """;

        Assert.Equal(PolicyDecision.Allow, EvaluateWithCondition(Conditions));

        var otherTeam = new Dictionary<string, string>(BaseContext) { ["aws:ResourceTag/team"] = "platform" };
        Assert.Equal(PolicyDecision.ImplicitDeny, EvaluateWithCondition(Conditions, otherTeam));
    }

    [Fact]
    public void Evaluate_ContextKeysGivenInAnyCase_AreFound()
    {
        var context = new Dictionary<string, string> { ["SecretsManager:VERSIONSTAGE"] = "AWSCURRENT" };

        Assert.Equal(PolicyDecision.Allow, EvaluateWithCondition("""{"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}""", context));
    }

    [Fact]
    public void Evaluate_ExplicitContextOverridesDerivedKey()
    {
        var context = new Dictionary<string, string> { ["aws:PrincipalAccount"] = "999999999999" };

        Assert.Equal(PolicyDecision.ImplicitDeny, EvaluateWithCondition("""{"StringEquals": {"aws:PrincipalAccount": "000000000000"}}""", context));
    }

    [Fact]
    public void Evaluate_WrongTypedRequestValue_MatchesNeitherPositiveNorNegated()
    {
        var context = new Dictionary<string, string> { ["secretsmanager:RecoveryWindowInDays"] = "many" };

        Assert.Equal(PolicyDecision.ImplicitDeny, EvaluateWithCondition("""{"NumericLessThan": {"secretsmanager:RecoveryWindowInDays": 10}}""", context));
        Assert.Equal(PolicyDecision.ImplicitDeny, EvaluateWithCondition("""{"NumericNotEquals": {"secretsmanager:RecoveryWindowInDays": 10}}""", context));
    }

    [Fact]
    public void Evaluate_DenyWithNegatedConditionAndMissingKey_Denies()
    {
        // The classic guard: deny unless the tag says otherwise. A secret without the tag is denied too.
        var policy = Policy("""
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:ResourceTag/team": "payments"}}}
            """);

        var tagged = Request("secretsmanager:GetSecretValue", context: new Dictionary<string, string> { ["aws:ResourceTag/team"] = "payments" });
        var untagged = Request("secretsmanager:GetSecretValue");

        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(policy, tagged, false));
        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Evaluate(policy, untagged, false));
    }

    private static PolicyDecision EvaluateWithCondition(string condition, IReadOnlyDictionary<string, string>? context = null)
    {
        var policy = Policy($$$"""{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {{{condition}}}}""");
        return PolicyEvaluator.Evaluate(policy, Request("secretsmanager:GetSecretValue", context: context ?? BaseContext), isResourcePolicy: false);
    }
}
