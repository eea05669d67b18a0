using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;
using static Keyturn.Domain.Tests.Policies.PolicyTestData;

namespace Keyturn.Domain.Tests.Policies;

/// <summary>
/// Multivalued keys, the condition keys each Secrets Manager action carries, and the fail-closed rule for keys
/// Keyturn cannot evaluate.
/// </summary>
public sealed class ConditionKeyTests
{
    [Theory]
    // ForAnyValue: some request value must match; an absent or empty set has none.
    [InlineData("ForAnyValue:StringEquals", "team", "team", true)]
    [InlineData("ForAnyValue:StringEquals", "env,team", "team", true)]
    [InlineData("ForAnyValue:StringEquals", "env,owner", "team", false)]
    [InlineData("ForAnyValue:StringEquals", "<absent>", "team", false)]
    [InlineData("ForAnyValue:StringEquals", "<empty>", "team", false)]
    [InlineData("ForAnyValue:StringLike", "env,team-lead", "team*", true)]
    [InlineData("ForAnyValue:StringNotEquals", "team", "team", false)]
    [InlineData("ForAnyValue:StringNotEquals", "team,env", "team", true)]
    [InlineData("ForAnyValue:StringEqualsIfExists", "<absent>", "team", true)]
    // ForAllValues: every request value must match; an absent or empty set holds vacuously.
    [InlineData("ForAllValues:StringEquals", "team", "team,env", true)]
    [InlineData("ForAllValues:StringEquals", "team,env", "team,env", true)]
    [InlineData("ForAllValues:StringEquals", "team,owner", "team,env", false)]
    [InlineData("ForAllValues:StringEquals", "<absent>", "team", true)]
    [InlineData("ForAllValues:StringEquals", "<empty>", "team", true)]
    [InlineData("ForAllValues:StringNotEquals", "env,owner", "team", true)]
    [InlineData("ForAllValues:StringNotEquals", "env,team", "team", false)]
    [InlineData("ForAllValues:StringLike", "app-1,app-2", "app-*", true)]
    [InlineData("ForAllValues:StringLike", "app-1,ops-2", "app-*", false)]
    // A bare operator on a present multivalued key matches nothing, negated or not, even with one value;
    // an absent or empty set is an absent key.
    [InlineData("StringEquals", "team", "team", false)]
    [InlineData("StringEquals", "env,team", "team", false)]
    [InlineData("StringNotEquals", "env,owner", "team", false)]
    [InlineData("StringEqualsIfExists", "team", "team", false)]
    [InlineData("StringNotEquals", "<empty>", "team", true)]
    [InlineData("StringEquals", "<absent>", "team", false)]
    public void Evaluate_MultivaluedTagKeys_FollowIamSetSemantics(string op, string requestValues, string policyValues, bool expectedToApply)
    {
        var values = string.Join(", ", policyValues.Split(',').Select(v => $"\"{v}\""));
        var policy = Policy(
            $$"""{"Effect": "Allow", "Action": "secretsmanager:TagResource", "Resource": "*", "Condition": {"{{op}}": {"aws:TagKeys": [{{values}}]""" + "}}}");
        IReadOnlyDictionary<string, IReadOnlyList<string>>? multi = requestValues switch
        {
            "<absent>" => null,
            "<empty>" => new Dictionary<string, IReadOnlyList<string>> { ["aws:TagKeys"] = [] },
            _ => new Dictionary<string, IReadOnlyList<string>> { ["aws:TagKeys"] = requestValues.Split(',') },
        };

        var decision = PolicyEvaluator.Evaluate(policy, new AuthorizationRequest(AppUser, Account, "secretsmanager:TagResource", AppSecret, null, multi), false);

        Assert.Equal(expectedToApply ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny, decision);
    }

    [Theory]
    [InlineData("true", "<empty>", true)]
    [InlineData("true", "team", false)]
    [InlineData("false", "team", true)]
    public void Evaluate_NullOnAMultivaluedKey_TreatsAnEmptySetAsAbsent(string nullValue, string requestValues, bool expectedToApply)
    {
        var policy = Policy($$"""{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Null": {"aws:TagKeys": "{{nullValue}}" """ + "}}}");
        var multi = new Dictionary<string, IReadOnlyList<string>> { ["aws:TagKeys"] = requestValues == "<empty>" ? [] : requestValues.Split(',') };

        var decision = PolicyEvaluator.Evaluate(policy, new AuthorizationRequest(AppUser, Account, "secretsmanager:TagResource", AppSecret, null, multi), false);

        Assert.Equal(expectedToApply ? PolicyDecision.Allow : PolicyDecision.ImplicitDeny, decision);
    }

    /// <summary>The reproduced escalation: the AWS-recommended guard against tagging with "team" must apply.</summary>
    [Fact]
    public void Authorize_TaggerAddingTheGuardedTagKey_IsDeniedByTheTagKeysGuard()
    {
        var tagger = Policy("""
            {"Effect": "Allow", "Action": "secretsmanager:TagResource", "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:TagResource", "Resource": "*",
             "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}}
            """);
        var secret = new Secret(OpsSecret, "ops/token", "us-east-1", DateTimeOffset.UnixEpoch);

        AuthorizationRequest Tagging(params SecretTag[] tags) => new(
            AppUser, Account, "secretsmanager:TagResource", OpsSecret, null,
            RequestConditions.ContextFor("secretsmanager:TagResource", OpsSecret, secret, new RequestConditions { RequestTags = tags }));

        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Authorize([tagger], null, Tagging(new SecretTag("team", "app"))));
        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Authorize([tagger], null, Tagging(new SecretTag("env", "prod"), new SecretTag("team", "app"))));
        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Authorize([tagger], null, Tagging(new SecretTag("env", "prod"))));
    }

    public static TheoryData<string, string, RequestConditions?, string, string?> ActionKeys => new()
    {
        // description, action, request parameters, key, the value the policy sees (null: absent)
        { "GetSecretValue carries the requested stage", "GetSecretValue", new() { VersionStage = "AWSPREVIOUS" }, "secretsmanager:VersionStage", "AWSPREVIOUS" },
        { "GetSecretValue carries the requested version id", "GetSecretValue", new() { VersionId = "v-1" }, "secretsmanager:VersionId", "v-1" },
        { "GetSecretValue without a stage has none", "GetSecretValue", null, "secretsmanager:VersionStage", null },
        { "DescribeSecret never carries a stage", "DescribeSecret", new() { VersionStage = "AWSCURRENT" }, "secretsmanager:VersionStage", null },
        { "every secret action carries the secret's ARN", "DescribeSecret", null, "secretsmanager:SecretId", OpsSecret },
        { "every secret action carries the secret's tags", "PutSecretValue", null, "secretsmanager:ResourceTag/team", "ops" },
        { "the aws: spelling of a secret's tags is carried too", "ListSecretVersionIds", null, "aws:ResourceTag/team", "ops" },
        { "a secret's primary region is its region", "RestoreSecret", null, "secretsmanager:SecretPrimaryRegion", "us-east-1" },
        { "a secret's rotation function is carried", "CancelRotateSecret", null, "secretsmanager:resource/AllowRotationLambdaArn", "arn:aws:lambda:us-east-1:000000000000:function:rot" },
        { "CreateSecret carries the name", "CreateSecret", new() { Name = "ops/token" }, "secretsmanager:Name", "ops/token" },
        { "CreateSecret carries the description", "CreateSecret", new() { Description = "d" }, "secretsmanager:Description", "d" },
        { "CreateSecret carries the KMS key id", "CreateSecret", new() { KmsKeyId = "alias/app" }, "secretsmanager:KmsKeyId", "alias/app" },
        { "CreateSecret carries each request tag", "CreateSecret", new() { RequestTags = [new("team", "app")] }, "aws:RequestTag/team", "app" },
        { "CreateSecret carries the request tag keys", "CreateSecret", new() { RequestTags = [new("team", "app")] }, "aws:TagKeys", "team" },
        { "CreateSecret carries the replica regions", "CreateSecret", new() { AddReplicaRegions = ["eu-west-1"] }, "secretsmanager:AddReplicaRegions", "eu-west-1" },
        { "UpdateSecret carries the description", "UpdateSecret", new() { Description = "d2" }, "secretsmanager:Description", "d2" },
        { "UpdateSecret carries no name", "UpdateSecret", new() { Name = "x" }, "secretsmanager:Name", null },
        { "DeleteSecret carries ForceDeleteWithoutRecovery", "DeleteSecret", new() { ForceDeleteWithoutRecovery = true }, "secretsmanager:ForceDeleteWithoutRecovery", "true" },
        { "DeleteSecret carries the recovery window", "DeleteSecret", new() { RecoveryWindowInDays = 7 }, "secretsmanager:RecoveryWindowInDays", "7" },
        { "PutResourcePolicy carries BlockPublicPolicy", "PutResourcePolicy", new() { BlockPublicPolicy = false }, "secretsmanager:BlockPublicPolicy", "false" },
        { "RotateSecret carries the rotation function", "RotateSecret", new() { RotationLambdaArn = "arn:aws:lambda:us-east-1:000000000000:function:f" }, "secretsmanager:RotationLambdaARN", "arn:aws:lambda:us-east-1:000000000000:function:f" },
        { "RotateSecret carries RotateImmediately", "RotateSecret", new() { RotateImmediately = false }, "secretsmanager:RotateImmediately", "false" },
        { "TagResource carries the request tag keys", "TagResource", new() { RequestTags = [new("team", "app")] }, "aws:TagKeys", "team" },
        { "TagResource carries each request tag", "TagResource", new() { RequestTags = [new("team", "app")] }, "aws:RequestTag/team", "app" },
        { "UntagResource carries the removed tag keys", "UntagResource", new() { TagKeys = ["team"] }, "aws:TagKeys", "team" },
        { "UntagResource carries no request tags", "UntagResource", new() { RequestTags = [new("team", "app")] }, "aws:RequestTag/team", null },
        { "UpdateSecretVersionStage carries the stage", "UpdateSecretVersionStage", new() { VersionStage = "AWSCURRENT" }, "secretsmanager:VersionStage", "AWSCURRENT" },
        { "ReplicateSecretToRegions carries the replica regions", "ReplicateSecretToRegions", new() { AddReplicaRegions = ["eu-west-1"] }, "secretsmanager:AddReplicaRegions", "eu-west-1" },
        { "ListSecrets carries no secret", "ListSecrets", null, "secretsmanager:SecretId", null },
    };

    [Theory]
    [MemberData(nameof(ActionKeys))]
    public void ContextFor_EachAction_CarriesTheKeysAwsDocumentsForIt(string description, string action, RequestConditions? request, string key, string? expected)
    {
        var secret = new Secret(OpsSecret, "ops/token", "us-east-1", DateTimeOffset.UnixEpoch)
        {
            Tags = [new("team", "ops")],
            Rotation = new RotationConfiguration(true, "arn:aws:lambda:us-east-1:000000000000:function:rot", 30, null, null),
        };
        var resource = action == "ListSecrets" ? "*" : OpsSecret;

        var context = RequestConditions.ContextFor("secretsmanager:" + action, resource, action is "CreateSecret" or "ListSecrets" ? null : secret, request);

        if (expected is null)
        {
            Assert.False(context.ContainsKey(key), description);
        }
        else
        {
            Assert.True(context.TryGetValue(key, out var values), description);
            Assert.Contains(expected, values);
        }
    }

    [Fact]
    public void ContextFor_CreateSecret_TheNewSecretCarriesItsRequestTags()
    {
        var context = RequestConditions.ContextFor("secretsmanager:CreateSecret", OpsSecret, null, new RequestConditions { RequestTags = [new("team", "app")] });

        Assert.Equal(["app"], context["secretsmanager:ResourceTag/team"]);
    }

    [Theory]
    // Unevaluable keys: Organizations, network, service-chain, Secrets Manager keys Keyturn cannot fill, unknown keys.
    [InlineData("StringEquals", "aws:PrincipalOrgID")]
    [InlineData("StringNotEquals", "aws:PrincipalOrgID")]
    [InlineData("StringEqualsIfExists", "aws:SourceVpc")]
    [InlineData("StringNotEqualsIfExists", "aws:SourceVpce")]
    [InlineData("ForAnyValue:StringEquals", "aws:CalledVia")]
    [InlineData("ForAllValues:StringEquals", "aws:CalledVia")]
    [InlineData("ForAnyValue:StringNotEquals", "aws:PrincipalOrgPaths")]
    [InlineData("ArnEquals", "secretsmanager:KmsKeyArn")]
    [InlineData("ArnNotEquals", "secretsmanager:KmsKeyArn")]
    [InlineData("StringLike", "madeup:Key")]
    [InlineData("StringNotLike", "aws:userid")]
    [InlineData("Null", "aws:PrincipalOrgID")]
    public void Evaluate_ConditionOnAKeyKeyturnCannotEvaluate_DenyAppliesAndAllowDoesNot(string op, string key)
    {
        foreach (var value in op == "Null" ? new[] { "true", "false" } : ["o-abc"])
        {
            var condition = $$$"""{"{{{op}}}": {"{{{key}}}": "{{{value}}}"}}""";
            var deny = Policy($$"""
                {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {{condition}}}
                """);
            var allow = Policy($$"""{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {{condition}}}""");

            Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Evaluate(deny, Request("secretsmanager:GetSecretValue"), false));
            Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Evaluate(allow, Request("secretsmanager:GetSecretValue"), false));
        }
    }

    [Fact]
    public void Evaluate_DenyOnAnUnevaluableKey_StillNeedsItsOtherConditions()
    {
        // Only the unknown part is assumed to match: a Deny whose known condition fails does not apply.
        var policy = Policy("""
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*",
             "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}, "StringEquals": {"aws:ResourceTag/team": "prod"}}}
            """);

        var prod = Request("secretsmanager:GetSecretValue", context: new Dictionary<string, string> { ["aws:ResourceTag/team"] = "prod" });
        var dev = Request("secretsmanager:GetSecretValue", context: new Dictionary<string, string> { ["aws:ResourceTag/team"] = "dev" });

        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Evaluate(policy, prod, false));
        Assert.Equal(PolicyDecision.Allow, PolicyEvaluator.Evaluate(policy, dev, false));
    }

    [Theory]
    // A policy variable naming an unevaluable key makes its statement depend on that key too.
    [InlineData("""{"StringEquals": {"aws:username": "${aws:PrincipalOrgID}"}}""", "*")]
    [InlineData("""{"StringNotEquals": {"aws:username": "${aws:PrincipalOrgID, 'none'}"}}""", "*")]
    [InlineData(null, "arn:aws:secretsmanager:*:*:secret:${aws:PrincipalOrgID}/*")]
    public void Evaluate_VariableNamingAnUnevaluableKey_FailsClosed(string? condition, string resource)
    {
        var conditionJson = condition is null ? "" : $", \"Condition\": {condition}";
        var deny = Policy($$"""
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "{{resource}}"{{conditionJson}}}
            """);
        var allow = Policy($$"""{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "{{resource}}"{{conditionJson}}}""");

        Assert.Equal(PolicyDecision.ExplicitDeny, PolicyEvaluator.Evaluate(deny, Request("secretsmanager:GetSecretValue"), false));
        Assert.Equal(PolicyDecision.ImplicitDeny, PolicyEvaluator.Evaluate(allow, Request("secretsmanager:GetSecretValue"), false));
    }

    [Theory]
    // aws:SourceIp unknown for this request (a call made inside the server): both directions are restrictive.
    [InlineData("Deny", "IpAddress", PolicyDecision.ExplicitDeny)]
    [InlineData("Deny", "NotIpAddress", PolicyDecision.ExplicitDeny)]
    [InlineData("Allow", "IpAddress", PolicyDecision.ImplicitDeny)]
    [InlineData("Allow", "NotIpAddress", PolicyDecision.ImplicitDeny)]
    public void Evaluate_KeyUnknownForThisRequest_FailsClosed(string effect, string op, PolicyDecision expected)
    {
        var statement = $$"""{"Effect": "{{effect}}", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {"{{op}}": {"aws:SourceIp": "10.0.0.0/8" """ + "}}}";
        var policy = Policy(effect == "Deny" ? """{"Effect": "Allow", "Action": "*", "Resource": "*"}, """ + statement : statement);
        var request = new AuthorizationRequest(AppUser, Account, "secretsmanager:GetSecretValue", AppSecret, UnknownKeys: ["aws:SourceIp"]);

        Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, request, false));
    }

    [Theory]
    [InlineData("aws:SourceIp", true)]
    [InlineData("AWS:SOURCEIP", true)]
    [InlineData("aws:SecureTransport", true)]
    [InlineData("aws:CurrentTime", true)]
    [InlineData("aws:EpochTime", true)]
    [InlineData("aws:PrincipalTag/team", true)]
    [InlineData("aws:RequestTag/team", true)]
    [InlineData("aws:ResourceTag/team", true)]
    [InlineData("secretsmanager:ResourceTag/team", true)]
    [InlineData("aws:TagKeys", true)]
    [InlineData("secretsmanager:VersionStage", true)]
    [InlineData("secretsmanager:AddReplicaRegions", true)]
    [InlineData("secretsmanager:ForceDeleteWithoutRecovery", true)]
    [InlineData("aws:PrincipalTag/", false)]
    [InlineData("aws:PrincipalOrgID", false)]
    [InlineData("aws:SourceVpc", false)]
    [InlineData("aws:CalledVia", false)]
    [InlineData("secretsmanager:KmsKeyArn", false)]
    [InlineData("secretsmanager:NoSuchKey", false)]
    [InlineData("s3:prefix", false)]
    public void IsEvaluable_KeysKeyturnSetsOrKnowsAbsent_AreEvaluable(string key, bool expected)
    {
        Assert.Equal(expected, ConditionKeys.IsEvaluable(key));
    }

    [Fact]
    public void Unevaluable_ListsEachUnknownKeyOnceInOrder()
    {
        var policy = Policy("""
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1", "aws:SourceIp": "10.0.0.1"}}},
            {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "arn:aws:secretsmanager:*:*:secret:${aws:SourceVpc}", "Condition": {"StringEquals": {"AWS:PRINCIPALORGID": "o-2"}}}
            """);

        Assert.Equal(["aws:PrincipalOrgID", "aws:SourceVpc"], ConditionKeys.Unevaluable(policy));
    }

    [Fact]
    public void Validate_ResourcePolicyWithAnUnevaluableKey_ReportsItByName()
    {
        var policy = Policy("""
            {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}
            """);

        var error = Assert.Single(ResourcePolicyValidator.Validate(policy, AppSecret));
        Assert.Equal("UNSUPPORTED_CONDITION_KEY", error.CheckName);
        Assert.Contains("\"aws:PrincipalOrgID\"", error.ErrorMessage, StringComparison.Ordinal);
    }
}
