using System.Security.Cryptography;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Tests.Operations;

/// <summary>
/// Each handler hands the condition keys of its request to the policy: a Deny conditioned on a key applies to a
/// request that carries the matching value and not to one that doesn't. Global keys come from the connection,
/// the clock and the caller's key.
/// </summary>
public sealed class ConditionKeyAuthorizationTests : IDisposable
{
    private const string Function = "arn:aws:lambda:us-east-1:000000000000:function:";
    private readonly ServiceHarness _h = new();

    public sealed record Case(string Description, string Action, string Condition, Func<ServiceHarness, RequestContext, Task> Denied, Func<ServiceHarness, RequestContext, Task> Allowed)
    {
        public override string ToString() => Description;
    }

    public static TheoryData<Case> Cases =>
    [
        new("GetSecretValue denies reading AWSPREVIOUS", "GetSecretValue", """{"StringEquals": {"secretsmanager:VersionStage": "AWSPREVIOUS"}}""",
            (h, c) => Get(h, c, stage: "AWSPREVIOUS"), (h, c) => Get(h, c, stage: "AWSCURRENT")),
        new("GetSecretValue denies reading by version id", "GetSecretValue", """{"Null": {"secretsmanager:VersionId": "false"}}""",
            async (h, c) => await Get(h, c, versionId: (await h.Get("app/db")).VersionId), (h, c) => Get(h, c)),
        new("GetSecretValue denies by the secret's tag", "GetSecretValue", """{"StringEquals": {"secretsmanager:ResourceTag/team": "app"}}""",
            (h, c) => Get(h, c), (h, c) => Get(h, c, secretId: "ops/db")),
        new("CreateSecret denies a secret without a team tag", "CreateSecret", """{"Null": {"aws:RequestTag/team": "true"}}""",
            (h, c) => Create(h, c, "app/new"), (h, c) => Create(h, c, "app/new", tags: [new("team", "app")])),
        new("CreateSecret denies names outside app/", "CreateSecret", """{"StringNotLike": {"secretsmanager:Name": "app/*"}}""",
            (h, c) => Create(h, c, "ops/new"), (h, c) => Create(h, c, "app/new")),
        new("CreateSecret denies a forbidden KMS key", "CreateSecret", """{"StringEquals": {"secretsmanager:KmsKeyId": "alias/forbidden"}}""",
            (h, c) => Create(h, c, "app/new", kmsKeyId: "alias/forbidden"), (h, c) => Create(h, c, "app/new", kmsKeyId: "alias/app")),
        new("CreateSecret denies a description", "CreateSecret", """{"StringLike": {"secretsmanager:Description": "*secret*"}}""",
            (h, c) => Create(h, c, "app/new", description: "top secret"), (h, c) => Create(h, c, "app/new", description: "plain")),
        new("CreateSecret denies replicating to eu-west-1 before refusing replication", "CreateSecret", """{"ForAnyValue:StringEquals": {"secretsmanager:AddReplicaRegions": "eu-west-1"}}""",
            (h, c) => Create(h, c, "app/new", regions: ["us-west-2", "eu-west-1"]), (h, c) => Create(h, c, "app/new", regions: ["us-west-2"])),
        new("DeleteSecret denies ForceDeleteWithoutRecovery", "DeleteSecret", """{"Bool": {"secretsmanager:ForceDeleteWithoutRecovery": "true"}}""",
            (h, c) => Delete(h, c, null, true), (h, c) => Delete(h, c, 7, null)),
        new("DeleteSecret denies a short recovery window", "DeleteSecret", """{"NumericLessThan": {"secretsmanager:RecoveryWindowInDays": "30"}}""",
            (h, c) => Delete(h, c, 7, null), (h, c) => Delete(h, c, 30, null)),
        new("TagResource denies adding the team tag key", "TagResource", """{"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}""",
            (h, c) => Tag(h, c, new("team", "x")), (h, c) => Tag(h, c, new("env", "x"))),
        new("TagResource denies a tag value", "TagResource", """{"StringEquals": {"aws:RequestTag/env": "prod"}}""",
            (h, c) => Tag(h, c, new("env", "prod")), (h, c) => Tag(h, c, new("env", "dev"))),
        new("UntagResource denies removing the team tag", "UntagResource", """{"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}""",
            (h, c) => Untag(h, c, "team"), (h, c) => Untag(h, c, "env")),
        new("UpdateSecret denies a description", "UpdateSecret", """{"StringLike": {"secretsmanager:Description": "*secret*"}}""",
            (h, c) => Update(h, c, "top secret"), (h, c) => Update(h, c, "plain")),
        new("UpdateSecretVersionStage denies moving AWSCURRENT", "UpdateSecretVersionStage", """{"StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}}""",
            (h, c) => MoveLabel(h, c, "AWSCURRENT"), (h, c) => MoveLabel(h, c, "MINE")),
        new("PutResourcePolicy denies turning BlockPublicPolicy off", "PutResourcePolicy", """{"Bool": {"secretsmanager:BlockPublicPolicy": "false"}}""",
            (h, c) => PutPolicy(h, c, false), (h, c) => PutPolicy(h, c, true)),
        new("RotateSecret denies an unapproved function", "RotateSecret", Condition("ArnNotLike", "secretsmanager:RotationLambdaARN", $"\"{Function}approved\""),
            (h, c) => Rotate(h, c, Function + "evil", null), (h, c) => Rotate(h, c, Function + "approved", null)),
        new("RotateSecret denies deferring the rotation", "RotateSecret", """{"Bool": {"secretsmanager:RotateImmediately": "false"}}""",
            (h, c) => Rotate(h, c, Function + "approved", false), (h, c) => Rotate(h, c, Function + "approved", true)),
        new("ReplicateSecretToRegions denies eu-west-1", "ReplicateSecretToRegions", """{"ForAnyValue:StringEquals": {"secretsmanager:AddReplicaRegions": "eu-west-1"}}""",
            (h, c) => Replicate(h, c, "eu-west-1"), (h, c) => Replicate(h, c, "us-west-2")),
    ];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Handler_SuppliesItsConditionKeys_ADenyOnThemApplies(Case @case)
    {
        await Seed();
        var caller = Caller($$"""
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "secretsmanager:{{@case.Action}}", "Resource": "*", "Condition": {{@case.Condition}}}
            """);

        await AssertDenied(() => @case.Denied(_h, caller), @case.Action);
        await AssertNotDenied(() => @case.Allowed(_h, caller), @case.Action);
    }

    [Fact]
    public async Task SecureTransport_DenyOverPlainHttp_AppliesOnlyWithoutTls()
    {
        await Seed();
        const string Policy = """
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
            """;

        await AssertDenied(() => Get(_h, Caller(Policy, secure: false)), "GetSecretValue");
        await AssertNotDenied(() => Get(_h, Caller(Policy, secure: true)));
    }

    [Fact]
    public async Task SourceIp_DenyOutsideTheNetwork_AppliesToOtherAddressesAndToUnknownOnes()
    {
        await Seed();
        const string Policy = """
            {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
            """;

        await AssertNotDenied(() => Get(_h, Caller(Policy, sourceIp: "10.20.30.40")));
        await AssertDenied(() => Get(_h, Caller(Policy, sourceIp: "192.168.1.5")), "GetSecretValue");
        await AssertDenied(() => Get(_h, Caller(Policy, sourceIp: "::1")), "GetSecretValue");

        // A call made inside the server has no client address: a policy about addresses fails closed for it.
        await AssertDenied(() => Get(_h, Caller(Policy, sourceIp: null)), "GetSecretValue");
    }

    [Fact]
    public async Task CurrentTimeAndEpochTime_ComeFromTheInjectedClock()
    {
        await Seed();
        var cutoff = _h.Clock.GetUtcNow().AddMinutes(10);
        var byDate = Caller(AllowWhen(Condition("DateLessThan", "aws:CurrentTime", $"\"{cutoff:yyyy-MM-ddTHH:mm:ssZ}\"")));
        var byEpoch = Caller(AllowWhen(Condition("NumericLessThan", "aws:EpochTime", cutoff.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture))));

        await AssertNotDenied(() => Get(_h, byDate));
        await AssertNotDenied(() => Get(_h, byEpoch));

        _h.Clock.Advance(TimeSpan.FromMinutes(11));

        await AssertDenied(() => Get(_h, byDate), "GetSecretValue");
        await AssertDenied(() => Get(_h, byEpoch), "GetSecretValue");
    }

    [Fact]
    public async Task PrincipalTag_TagsOfTheAccessKey_ReachThePolicy()
    {
        await Seed();
        var keys = new AccessKeyService(_h.Store, _h.Cipher, new RootCredentials("AKIAROOTROOTROOT0000", "root-secret", false), new KeyturnOptions(), _h.Time);
        const string Abac = """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
              "Condition": {"StringEquals": {"secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}"}}}]}
            """;
        var created = await keys.CreateAsync("app-reader", Abac, new Dictionary<string, string> { ["team"] = "app" }, default);
        var untagged = await keys.CreateAsync("untagged", Abac, default);

        var identity = (await keys.ResolveAsync(created.AccessKeyId, default))!.Identity;
        Assert.Equal("app", identity.Tags!["team"]);
        var caller = new RequestContext("req-3", "us-east-1", identity, "10.0.0.1", SecureTransport: true);
        var nobody = new RequestContext("req-4", "us-east-1", (await keys.ResolveAsync(untagged.AccessKeyId, default))!.Identity, "10.0.0.1", SecureTransport: true);

        await AssertNotDenied(() => Get(_h, caller));
        await AssertDenied(() => Get(_h, caller, secretId: "ops/db"), "GetSecretValue");
        await AssertDenied(() => Get(_h, nobody), "GetSecretValue");
    }

    [Theory]
    [InlineData("aws:PrincipalOrgID")]
    [InlineData("aws:SourceVpce")]
    [InlineData("secretsmanager:KmsKeyArn")]
    public async Task CreateKey_PolicyWithAnUnevaluableKey_IsRefusedNamingTheKey(string key)
    {
        var keys = new AccessKeyService(_h.Store, _h.Cipher, new RootCredentials("AKIAROOTROOTROOT0000", "root-secret", false), new KeyturnOptions(), _h.Time);
        var policy = """{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*", "Condition": """
            + Condition("StringNotEquals", key, "\"x\"") + "}]}";

        var error = await Assert.ThrowsAsync<ArgumentException>(() => keys.CreateAsync("bad", policy, default));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Empty(await keys.ListAsync(default));
    }

    [Theory]
    [InlineData("aws:team", "x")]
    [InlineData("", "x")]
    [InlineData("team", "a\u0000b")]
    public async Task CreateKey_MalformedTag_IsRefused(string tagKey, string tagValue)
    {
        var keys = new AccessKeyService(_h.Store, _h.Cipher, new RootCredentials("AKIAROOTROOTROOT0000", "root-secret", false), new KeyturnOptions(), _h.Time);

        await Assert.ThrowsAsync<ArgumentException>(() => keys.CreateAsync(
            "tagged", """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}""",
            new Dictionary<string, string> { [tagKey] = tagValue }, default));
    }

    [Fact]
    public async Task ResourcePolicyWithAnUnevaluableKey_ValidateReportsIt_PutAcceptsAndWarns()
    {
        await Seed();
        const string Policy = """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
              "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}
            """;

        var validation = await new ValidateResourcePolicyHandler(_h.Services).ExecuteAsync(new ValidateResourcePolicyRequest("app/db", Policy), _h.Root, default);
        Assert.False(validation.PolicyValidationPassed);
        var error = Assert.Single(validation.ValidationErrors);
        Assert.Equal(PolicyCheckNames.UnsupportedConditionKey, error.CheckName);
        Assert.Contains("aws:PrincipalOrgID", error.ErrorMessage, StringComparison.Ordinal);

        var logger = new ListLogger<PutResourcePolicyHandler>();
        await new PutResourcePolicyHandler(_h.Services, logger).ExecuteAsync(new PutResourcePolicyRequest("app/db", Policy, null), _h.Root, default);
        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("aws:PrincipalOrgID", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("o-abc123", warning.Message, StringComparison.Ordinal);

        // The resource policy's Deny fails closed: even root, which IAM allows by default, is denied.
        await AssertDenied(() => Get(_h, _h.Root), "GetSecretValue");
    }

    public void Dispose() => _h.Dispose();

    /// <summary>app/db (team=app, env=dev, two versions) and ops/db (team=ops).</summary>
    private async Task Seed()
    {
        await _h.Create("app/db", "v1");
        await _h.Put("app/db", "v2");
        await new TagResourceHandler(_h.Services).ExecuteAsync(new TagResourceRequest("app/db", [new("team", "app"), new("env", "dev")]), _h.Root, default);
        await _h.Create("ops/db", "o1");
        await new TagResourceHandler(_h.Services).ExecuteAsync(new TagResourceRequest("ops/db", [new("team", "ops")]), _h.Root, default);
    }

    /// <summary>{"OP": {"KEY": VALUE}} with VALUE as JSON.</summary>
    private static string Condition(string op, string key, string valueJson) => $"{{\"{op}\": {{\"{key}\": {valueJson}}}}}";

    private static string AllowWhen(string condition) =>
        """{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*", "Condition": """ + condition + "}";

    private static RequestContext Caller(string statements, string? sourceIp = "10.0.0.1", bool secure = true, IReadOnlyDictionary<string, string>? tags = null)
    {
        var policy = PolicyDocument.Parse($$"""{"Version": "2012-10-17", "Statement": [{{statements}}]}""", PolicyKind.Identity);
        return new RequestContext("req-2", "us-east-1", new CallerIdentity("AKIAUSER", "arn:aws:iam::000000000000:user/app", IsRoot: false, policy, tags), sourceIp, secure);
    }

    private static async Task AssertDenied(Func<Task> call, string action)
    {
        var error = await ServiceHarness.Fails(call, ErrorKind.AccessDenied);
        Assert.Contains($"is not authorized to perform: secretsmanager:{action}", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Not refused by the policy; the call may still fail for its own reasons (e.g. Keyturn does not replicate).</summary>
    private static async Task AssertNotDenied(Func<Task> call, string action = "GetSecretValue")
    {
        try
        {
            await call();
        }
        catch (ServiceException e) when (!e.Message.Contains($"is not authorized to perform: secretsmanager:{action} ", StringComparison.Ordinal))
        {
        }
    }

    private static Task Get(ServiceHarness h, RequestContext c, string secretId = "app/db", string? versionId = null, string? stage = null) =>
        new GetSecretValueHandler(h.Services).ExecuteAsync(new GetSecretValueRequest(secretId, versionId, stage), c, default);

    private static Task Create(
        ServiceHarness h, RequestContext c, string name, IReadOnlyList<SecretTag>? tags = null, string? kmsKeyId = null, string? description = null,
        IReadOnlyList<string>? regions = null) =>
        new CreateSecretHandler(h.Services).ExecuteAsync(
            new CreateSecretRequest(name, ServiceHarness.Token(), description, kmsKeyId, null, "v", tags, regions?.Select(r => new ReplicaRegion(r, null)).ToList(), null, null),
            c, default);

    private static Task Delete(ServiceHarness h, RequestContext c, long? window, bool? force) =>
        new DeleteSecretHandler(h.Services).ExecuteAsync(new DeleteSecretRequest("app/db", window, force), c, default);

    private static Task Tag(ServiceHarness h, RequestContext c, SecretTag tag) =>
        new TagResourceHandler(h.Services).ExecuteAsync(new TagResourceRequest("app/db", [tag]), c, default);

    private static Task Untag(ServiceHarness h, RequestContext c, string key) =>
        new UntagResourceHandler(h.Services).ExecuteAsync(new UntagResourceRequest("app/db", [key]), c, default);

    private static Task Update(ServiceHarness h, RequestContext c, string description) =>
        new UpdateSecretHandler(h.Services).ExecuteAsync(new UpdateSecretRequest("app/db", null, description, null, null, null, null), c, default);

    private static async Task MoveLabel(ServiceHarness h, RequestContext c, string label)
    {
        var labels = await h.Labels("app/db");
        var current = labels.Single(l => l.Value.Contains("AWSCURRENT")).Key;
        var previous = labels.Single(l => l.Value.Contains("AWSPREVIOUS")).Key;
        await new UpdateSecretVersionStageHandler(h.Services).ExecuteAsync(
            new UpdateSecretVersionStageRequest("app/db", label, label == "AWSCURRENT" ? current : null, previous), c, default);
    }

    private static Task PutPolicy(ServiceHarness h, RequestContext c, bool block) =>
        new PutResourcePolicyHandler(h.Services).ExecuteAsync(new PutResourcePolicyRequest(
            "app/db", """{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "000000000000"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}""", block), c, default);

    private static Task Rotate(ServiceHarness h, RequestContext c, string function, bool? immediately) =>
        new RotateSecretHandler(h.Services, new NoFunctions(), new NoLaunches()).ExecuteAsync(
            new RotateSecretRequest("app/db", ServiceHarness.Token(), function, null, immediately), c, default);

    private static Task Replicate(ServiceHarness h, RequestContext c, string region) =>
        new ReplicationHandler(h.Services, "ReplicateSecretToRegions").ExecuteAsync(
            new ReplicateSecretToRegionsRequest("app/db", [new ReplicaRegion(region, null)], null), c, default);

    /// <summary>No function can be invoked: the policy decision comes first, so a permitted call fails after it.</summary>
    private sealed class NoFunctions : IRotationFunctionCatalog
    {
        public Task<bool> ExistsAsync(string functionName, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);
    }

    private sealed class NoLaunches : IRotationLauncher
    {
        public void Launch(string secretArn, string token) => throw new InvalidOperationException("no rotation may start in these tests");
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
