using System.Collections.Concurrent;
using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// Rotation runs with the caller's authority, never root's: RotateSecret needs lambda:InvokeFunction on the
/// function and GetSecretValue on the secret's master; a function acts as its own principal, limited to the secret
/// it rotates and the masters an administrator allowed; an external function's key lives for one invocation.
/// </summary>
public sealed class RotationAuthorityTests : IDisposable
{
    private const string Alternating = "keyturn-postgresql-alternating-users";
    private const string AppRotator = "app-rotator";
    private const string AlternatingArn = "arn:aws:lambda:us-east-1:000000000000:function:" + Alternating;

    private readonly ServiceHarness _h = new();
    private readonly RecordingLauncher _launches = new();
    private readonly RotationOptions _options = new();

    public void Dispose() => _h.Dispose();

    // The reproduced key: Create/Put/Get/RotateSecret on app/* only, plus whatever each case adds.
    private static string AppKeyPolicy(string extraStatements) => $$"""
        {"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":["secretsmanager:CreateSecret","secretsmanager:PutSecretValue","secretsmanager:GetSecretValue","secretsmanager:RotateSecret"],
           "Resource":"arn:aws:secretsmanager:*:*:secret:app/*"}{{extraStatements}}]}
        """;

    private const string InvokeAlternating = """,{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:*:*:function:keyturn-postgresql-alternating-users"}""";
    private const string InvokeAppRotatorOnly = """,{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:000000000000:function:app-rotator"}""";
    private const string InvokeAny = """,{"Effect":"Allow","Action":"lambda:*","Resource":"*"}""";
    private const string ReadMaster = """,{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:prod/pg-master-*"}""";

    public static TheoryData<string, string, string, bool, string?> RotateSecretCases => new()
    {
        // name, extra statements in the key's policy, RotationLambdaARN, secret names a master, expected error message fragment (null = allowed)
        { "a key without lambda:InvokeFunction can't rotate with the built-in function", "", AlternatingArn, false, "is not authorized to perform: lambda:InvokeFunction on resource: " + AlternatingArn },
        { "a bare function name is authorized as the function's ARN", "", Alternating, false, "lambda:InvokeFunction on resource: " + AlternatingArn },
        { "a key allowed app-rotator only can't use another function", InvokeAppRotatorOnly, AlternatingArn, false, "lambda:InvokeFunction on resource: " + AlternatingArn },
        { "a key allowed app-rotator may rotate with it", InvokeAppRotatorOnly, "arn:aws:lambda:us-east-1:000000000000:function:app-rotator", false, null },
        { "invoking without reading the master is refused (the reproduced attack)", InvokeAlternating, AlternatingArn, true, "is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:000000000000:secret:prod/pg-master-" },
        { "invoking and reading the master is allowed", InvokeAlternating + ReadMaster, AlternatingArn, true, null },
        { "a function ARN in another region is refused", InvokeAny, "arn:aws:lambda:eu-west-1:000000000000:function:" + Alternating, false, "Secrets Manager cannot invoke the specified Lambda function." },
        { "a function ARN in another account is refused", InvokeAny, "arn:aws:lambda:us-east-1:111122223333:function:" + Alternating, false, "Secrets Manager cannot invoke the specified Lambda function." },
        { "a non-Lambda ARN is refused", InvokeAny, "arn:aws:iam:us-east-1:000000000000:function:" + Alternating, false, "Secrets Manager cannot invoke the specified Lambda function." },
        { "an unknown function is refused as AWS does", InvokeAny, "arn:aws:lambda:us-east-1:000000000000:function:missing", false, "Secrets Manager cannot invoke the specified Lambda function." },
    };

    [Theory]
    [MemberData(nameof(RotateSecretCases))]
    public async Task RotateSecret_AsAnAppKey_NeedsInvokeOnTheFunctionAndReadOnTheMaster(string name, string extra, string function, bool withMaster, string? error)
    {
        await CreateMasterAsync();
        var app = await _h.As("app-" + Guid.NewGuid().ToString("N")[..8], AppKeyPolicy(extra));
        await new CreateSecretHandler(_h.Services).ExecuteAsync(
            new CreateSecretRequest("app/evil", ServiceHarness.Token(), null, null, null, AppSecret(withMaster ? "prod/pg-master" : null), null, null, null, null), app, default);

        var rotate = () => Handler().ExecuteAsync(new RotateSecretRequest("app/evil", ServiceHarness.Token(), function, null, null), app, default);

        if (error is null)
        {
            await rotate();
            Assert.Single(_launches.Launched);
            return;
        }

        var refused = await ServiceHarness.Fails(rotate, ErrorKind.AccessDenied);
        Assert.True(refused.Message.Contains(error, StringComparison.Ordinal), $"{name}: {refused.Message}");
        Assert.Empty(_launches.Launched);
        Assert.Null((await _h.Describe("app/evil")).RotationEnabled);
    }

    [Fact]
    public async Task RotateSecret_AsRoot_AnyLocalFunctionAndMaster()
    {
        await CreateMasterAsync();
        await _h.Create("app/root-configured", AppSecret("prod/pg-master"));

        await Handler().ExecuteAsync(new RotateSecretRequest("app/root-configured", ServiceHarness.Token(), Alternating, null, null), _h.Root, default);

        Assert.Single(_launches.Launched);
    }

    [Fact]
    public async Task RotateSecret_MasterResourcePolicyDeny_RefusesEvenAKeyAllowedByItsOwnPolicy()
    {
        var master = await CreateMasterAsync();
        await new PutResourcePolicyHandler(_h.Services).ExecuteAsync(new PutResourcePolicyRequest(master, """
            {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::000000000000:user/app-*"}}}]}
            """, null), _h.Root, default);
        var app = await _h.As("app-denied", AppKeyPolicy(InvokeAlternating + ReadMaster));
        await new CreateSecretHandler(_h.Services).ExecuteAsync(
            new CreateSecretRequest("app/evil", ServiceHarness.Token(), null, null, null, AppSecret("prod/pg-master"), null, null, null, null), app, default);

        await ServiceHarness.Fails(() => Handler().ExecuteAsync(new RotateSecretRequest("app/evil", ServiceHarness.Token(), AlternatingArn, null, null), app, default), ErrorKind.AccessDenied);
        Assert.Empty(_launches.Launched);
    }

    public static TheoryData<string, string[], string, bool> BuiltInReads => new()
    {
        // name, administrator's allowed masters, secret the function reads, allowed
        { "the secret being rotated", [], "app/evil", true },
        { "another application secret", [], "app/other", false },
        { "a master nobody allowed", [], "prod/pg-master", false },
        { "a master allowed by ARN pattern", ["arn:aws:secretsmanager:*:*:secret:prod/pg-master-*"], "prod/pg-master", true },
        { "a master allowed by name", ["prod/pg-master"], "prod/pg-master", true },
        { "a master allowed by name pattern", ["prod/*"], "prod/pg-master", true },
        { "another master than the one allowed", ["prod/pg-master"], "prod/pg-master-2", false },
        { "an application secret, even with a master allowed", ["prod/*"], "app/other", false },
    };

    [Theory]
    [MemberData(nameof(BuiltInReads))]
    public async Task BuiltInFunctionIdentity_ReadsItsSecretAndOnlyAllowedMasters(string name, string[] allowed, string target, bool expected)
    {
        var secret = await _h.Create("app/evil", AppSecret("prod/pg-master"));
        await _h.Create("app/other", "other-value");
        await CreateMasterAsync();
        await _h.Create("prod/pg-master-2", "x");
        var policy = new FunctionPolicy(Alternating, allowed, false, null);
        var caller = new RequestContext("rotation", "us-east-1", RotationIdentity.Caller("000000000000", Alternating, secret.ARN, policy));

        Assert.Equal("arn:aws:sts::000000000000:assumed-role/keyturn-rotation-keyturn-postgresql-alternating-users/keyturn-postgresql-alternating-users", caller.Caller.PrincipalArn);
        Assert.False(caller.Caller.IsRoot);
        var read = () => new GetSecretValueHandler(_h.Services).ExecuteAsync(new GetSecretValueRequest(target, null, null), caller, default);
        if (expected)
        {
            await read();
        }
        else
        {
            var denied = await ServiceHarness.Fails(read, ErrorKind.AccessDenied);
            Assert.True(denied.Message.Contains("assumed-role/keyturn-rotation-", StringComparison.Ordinal), $"{name}: {denied.Message}");
        }
    }

    [Fact]
    public async Task FunctionPolicy_DefaultsToNothing_AndIsStoredPerFunction()
    {
        var functions = new FunctionService(_h.Store, _h.AccessKeys, new KeyturnOptions(), _h.Time);

        Assert.Equal([], (await functions.GetPolicyAsync(Alternating, default)).AllowedMasters);
        Assert.False((await functions.GetPolicyAsync(Alternating, default)).AllowPrivilegedClone);

        await functions.UpdatePolicyAsync(Alternating, ["prod/pg-master", "arn:aws:secretsmanager:*:*:secret:prod/other-*"], [], false, true, default);
        var removed = await functions.UpdatePolicyAsync(Alternating, [], ["prod/pg-master"], false, null, default);

        Assert.Equal(["arn:aws:secretsmanager:*:*:secret:prod/other-*"], removed.AllowedMasters);
        Assert.True(removed.AllowPrivilegedClone);
        Assert.Equal([], (await functions.GetPolicyAsync("keyturn-mysql-alternating-users", default)).AllowedMasters);
        await Assert.ThrowsAsync<ArgumentException>(() => functions.UpdatePolicyAsync(Alternating, ["arn:aws:iam::000000000000:user/x"], [], false, null, default));
        await Assert.ThrowsAsync<ArgumentException>(() => functions.UpdatePolicyAsync(Alternating, ["two\nlines"], [], false, null, default));
    }

    [Fact]
    public async Task ExternalFunctionKey_CoversOnlyItsSecret_AndEndsWithTheInvocation()
    {
        var secret = await _h.Create("app/db", AppSecret(null));
        await _h.Create("app/other", "other-value");
        var credentials = new RotationCredentials(_h.AccessKeys, _h.Services, _options, _h.Time);

        var key = await credentials.IssueAsync(AppRotator, secret.ARN, null, default);
        var resolved = await _h.AccessKeys.ResolveAsync(key.AccessKeyId, default);
        Assert.NotNull(resolved);
        var caller = new RequestContext("function", "us-east-1", resolved.Identity);

        Assert.Equal("arn:aws:sts::000000000000:assumed-role/keyturn-rotation-app-rotator/app-rotator", resolved.Identity.PrincipalArn);
        Assert.DoesNotContain("\"secretsmanager:*\"", (await _h.AccessKeys.ListAsync(default)).Single(k => k.AccessKeyId == key.AccessKeyId).PolicyDocument, StringComparison.Ordinal);
        await new GetRandomPasswordHandler(_h.Services, Domain.Passwords.CryptoRandomSource.Instance).ExecuteAsync(new GetRandomPasswordRequest(null, null, null, null, null, null, null, null), caller, default);
        await new GetSecretValueHandler(_h.Services).ExecuteAsync(new GetSecretValueRequest(secret.ARN, null, null), caller, default);
        await new PutSecretValueHandler(_h.Services).ExecuteAsync(new PutSecretValueRequest(secret.ARN, ServiceHarness.Token(), null, "pending", ["AWSPENDING"], null), caller, default);
        await ServiceHarness.Fails(() => new GetSecretValueHandler(_h.Services).ExecuteAsync(new GetSecretValueRequest("app/other", null, null), caller, default), ErrorKind.AccessDenied);
        await ServiceHarness.Fails(() => new CreateSecretHandler(_h.Services).ExecuteAsync(
            new CreateSecretRequest("app/new", ServiceHarness.Token(), null, null, null, "x", null, null, null, null), caller, default), ErrorKind.AccessDenied);

        await credentials.RevokeAsync(key);

        Assert.Null(await _h.AccessKeys.ResolveAsync(key.AccessKeyId, default));
    }

    [Fact]
    public async Task ExternalFunctionKey_ExpiresEvenIfNeverRevoked()
    {
        var secret = await _h.Create("app/db", AppSecret(null));
        var credentials = new RotationCredentials(_h.AccessKeys, _h.Services, _options, _h.Time);
        var key = await credentials.IssueAsync(AppRotator, secret.ARN, null, default);
        Assert.NotNull(await _h.AccessKeys.ResolveAsync(key.AccessKeyId, default));

        _h.Clock.Advance(key.Expires - _h.Clock.GetUtcNow());

        Assert.Null(await _h.AccessKeys.ResolveAsync(key.AccessKeyId, default));
    }

    [Theory]
    [InlineData("no master is allowed", new string[0], false)]
    [InlineData("the secret's master is allowed", new[] { "prod/pg-*" }, true)]
    [InlineData("another master is allowed", new[] { "prod/mysql-master" }, false)]
    public async Task ExternalFunctionKey_ReadsTheSecretsMasterOnlyWhenTheFunctionPolicyAllowsIt(string name, string[] allowed, bool readsMaster)
    {
        await CreateMasterAsync();
        await _h.Create("prod/pg-master-2", "x");
        var secret = await _h.Create("app/db", AppSecret("prod/pg-master"));
        await new FunctionService(_h.Store, _h.AccessKeys, new KeyturnOptions(), _h.Time).UpdatePolicyAsync(AppRotator, allowed, [], false, null, default);
        var credentials = new RotationCredentials(_h.AccessKeys, _h.Services, _options, _h.Time);

        var key = await credentials.IssueAsync(AppRotator, secret.ARN, null, default);
        var caller = new RequestContext("function", "us-east-1", (await _h.AccessKeys.ResolveAsync(key.AccessKeyId, default))!.Identity);

        var master = () => new GetSecretValueHandler(_h.Services).ExecuteAsync(new GetSecretValueRequest("prod/pg-master", null, null), caller, default);
        if (readsMaster)
        {
            await master();
        }
        else
        {
            await ServiceHarness.Fails(master, ErrorKind.AccessDenied);
        }

        // Never a master the secret doesn't name, even one matching the allowed pattern.
        await ServiceHarness.Fails(() => new GetSecretValueHandler(_h.Services).ExecuteAsync(new GetSecretValueRequest("prod/pg-master-2", null, null), caller, default), ErrorKind.AccessDenied);
        Assert.True(name.Length > 0);
    }

    [Fact]
    public async Task AccessKeys_ARoleSessionNameIsReservedForRotationFunctions()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _h.AccessKeys.CreateAsync(
            "assumed-role/keyturn-rotation-x/x", """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}""", default));
    }

    private RotateSecretHandler Handler() =>
        new(_h.Services, new RotationFunctionRegistry([new ScriptedFunction(_h, Alternating), new ScriptedFunction(_h, AppRotator)], _h.Store, _h.ExternalFunctions(_options)), _launches);

    private async Task<string> CreateMasterAsync() =>
        (await _h.Create("prod/pg-master", """{"engine":"postgres","host":"127.0.0.1","port":5432,"username":"postgres","password":"master-password","dbname":"postgres"}""")).ARN;

    private static string AppSecret(string? master) =>
        master is null
            ? """{"engine":"postgres","host":"127.0.0.1","port":5432,"username":"postgres","password":"x"}"""
            : $$"""{"engine":"postgres","host":"127.0.0.1","port":5432,"username":"postgres","password":"x","masterarn":"{{master}}"}""";

    private sealed class RecordingLauncher : IRotationLauncher
    {
        public ConcurrentQueue<string> Launched { get; } = new();

        public void Launch(string secretArn, string token) => Launched.Enqueue(secretArn);
    }
}
