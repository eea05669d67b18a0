using Keyturn.Domain.Policies;
using static Keyturn.Domain.Tests.Policies.PolicyTestData;

namespace Keyturn.Domain.Tests.Policies;

/// <summary>
/// Which value a condition key has when the request supplies it in several places. The context reads the request's
/// dictionaries in place when they already compare keys case-insensitively (as the Authorizer's do) and copies
/// others, so every case runs both ways and must decide alike.
/// </summary>
public sealed class PolicyRequestContextTests
{
    public static TheoryData<string, Dictionary<string, string?>?, Dictionary<string, string?[]?>?, string, PolicyDecision> Cases => new()
    {
        // name, single-valued context, multivalued context, Condition block, decision of an Allow statement with it
        { "the key derived from the caller holds when the request does not supply it", null, null,
            """{"StringEquals": {"aws:username": "app"}}""", PolicyDecision.Allow },
        { "a value the request supplies replaces the derived one", new() { ["AWS:USERNAME"] = "other" }, null,
            """{"StringEquals": {"aws:username": "other"}}""", PolicyDecision.Allow },
        { "a null value is no value, so the derived one stays", new() { ["aws:username"] = null }, null,
            """{"StringEquals": {"aws:username": "app"}}""", PolicyDecision.Allow },
        { "a set replaces a single value of the same key in another case", new() { ["aws:RequestedRegion"] = "us-east-1" },
            new() { ["AWS:REQUESTEDREGION"] = ["eu-west-1"] },
            """{"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}""", PolicyDecision.Allow },
        { "an empty set hides the key, even one derived from the caller", null, new() { ["aws:username"] = [] },
            """{"Null": {"aws:username": "true"}}""", PolicyDecision.Allow },
        { "a null set hides the key as an empty one does", new() { ["aws:RequestedRegion"] = "us-east-1" }, new() { ["aws:RequestedRegion"] = null },
            """{"Null": {"aws:RequestedRegion": "true"}}""", PolicyDecision.Allow },
        { "nulls inside a set are skipped", null, new() { ["aws:TagKeys"] = [null, "team"] },
            """{"ForAllValues:StringEquals": {"aws:TagKeys": "team"}, "Null": {"aws:TagKeys": "false"}}""", PolicyDecision.Allow },
        { "a set of nulls only is an absent key", null, new() { ["aws:TagKeys"] = [null] },
            """{"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}""", PolicyDecision.ImplicitDeny },
        { "a secret tag supplied under one spelling answers the other", new() { ["secretsmanager:ResourceTag/team"] = "payments" }, null,
            """{"StringEquals": {"aws:ResourceTag/team": "payments"}}""", PolicyDecision.Allow },
        { "an empty value is one ARN part, which a bare wildcard matches", new() { ["aws:PrincipalArn"] = "" }, null,
            """{"ArnLike": {"aws:PrincipalArn": "*"}}""", PolicyDecision.Allow },
        { "an empty value has fewer ARN parts than a pattern with a colon", new() { ["aws:PrincipalArn"] = "" }, null,
            """{"ArnLike": {"aws:PrincipalArn": "arn:*"}}""", PolicyDecision.ImplicitDeny },
        { "a short ARN's last pattern part covers the rest of the value", null, null,
            """{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::000000000000:user/*"}}""", PolicyDecision.Allow },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluate_KeySuppliedInSeveralPlaces_TakesTheValueIamWould(
        string name, Dictionary<string, string?>? single, Dictionary<string, string?[]?>? multi, string condition, PolicyDecision expected)
    {
        var policy = Policy($$"""{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {{condition}}}""");
        foreach (var comparer in new[] { StringComparer.OrdinalIgnoreCase, StringComparer.Ordinal })
        {
            var request = new AuthorizationRequest(AppUser, Account, "secretsmanager:GetSecretValue", AppSecret,
                single?.ToDictionary(e => e.Key, e => e.Value!, comparer),
                multi?.ToDictionary(e => e.Key, e => (IReadOnlyList<string>)e.Value!, comparer));

            Assert.True(expected == PolicyEvaluator.Evaluate(policy, request, isResourcePolicy: false), $"{name} ({(comparer == StringComparer.Ordinal ? "copied" : "read in place")})");
        }
    }

    [Theory]
    [InlineData("Allow", PolicyDecision.ImplicitDeny)]
    [InlineData("Deny", PolicyDecision.ExplicitDeny)]
    public void Evaluate_KeyUnknownInAnyCaseOrCollection_FailsClosed(string effect, PolicyDecision expected)
    {
        var statement = $$"""{"Effect": "{{effect}}", "Action": "secretsmanager:GetSecretValue", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8" """ + "}}}";
        var policy = Policy(effect == "Deny" ? """{"Effect": "Allow", "Action": "*", "Resource": "*"}, """ + statement : statement);
        IReadOnlyCollection<string>[] unknown =
        [
            new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "AWS:SOURCEIP" },
            new HashSet<string>(StringComparer.Ordinal) { "AWS:SOURCEIP" },
            new List<string> { "aws:sourceip" },
        ];
        var context = new Dictionary<string, string> { ["aws:SourceIp"] = "10.1.2.3" };

        foreach (var keys in unknown)
        {
            var request = new AuthorizationRequest(AppUser, Account, "secretsmanager:GetSecretValue", AppSecret, context, UnknownKeys: keys);
            Assert.Equal(expected, PolicyEvaluator.Evaluate(policy, request, isResourcePolicy: false));
        }
    }
}
