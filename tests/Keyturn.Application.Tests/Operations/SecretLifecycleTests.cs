using Keyturn.Application.Operations;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Tests.Operations;

/// <summary>Creation, identity, reads, deletion and tags: the spec's edge cases 1–20 and 37–43.</summary>
public sealed class SecretLifecycleTests : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task CreateSecret_WithValue_ReturnsArnWithSuffixAndCurrentVersion()
    {
        var token = ServiceHarness.Token();
        var created = await _h.Create("app/db", "hello", token);

        Assert.Matches("^arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-[A-Za-z0-9]{6}$", created.ARN);
        Assert.Equal(token, created.VersionId);
        var value = await _h.Get("app/db");
        Assert.Equal("hello", value.SecretString);
        Assert.Equal(["AWSCURRENT"], value.VersionStages);
    }

    [Fact]
    public async Task CreateSecret_WithoutValue_HasNoVersionAndGetFails()
    {
        var created = await _h.Create("empty", value: null, description: "");

        Assert.Null(created.VersionId);
        var described = await _h.Describe("empty");
        Assert.Null(described.VersionIdsToStages);
        Assert.Null(described.Description);
        await ServiceHarness.Fails(() => _h.Get("empty"), ErrorKind.ResourceNotFound,
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");

        var put = await _h.Put("empty", "first", stages: ["AWSPENDING"]);
        Assert.Equal(["AWSPENDING", "AWSCURRENT"], put.VersionStages);
    }

    [Fact]
    public async Task CreateSecret_ExistingName_FailsUnlessSameTokenAndValue()
    {
        var token = ServiceHarness.Token();
        var first = await _h.Create("s", "Hello", token);

        Assert.Equal(first, await _h.Create("s", "Hello", token));
        await ServiceHarness.Fails(() => _h.Create("s", "Hi", token), ErrorKind.ResourceExists,
            $"You can't use ClientRequestToken {token} because that value is already in use for a version of secret {first.ARN}.");
        await ServiceHarness.Fails(() => _h.Create("s", "Hello"), ErrorKind.ResourceExists, "The operation failed because the secret s already exists.");
    }

    [Theory]
    [InlineData("Inv Name")]
    [InlineData(" Inv*Name? ")]
    public async Task AnyOperation_InvalidName_ValidationException(string name)
    {
        const string message = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";
        await ServiceHarness.Fails(() => _h.Create(name), ErrorKind.Validation, message);
        await ServiceHarness.Fails(() => _h.Get(name), ErrorKind.Validation, message);
        await ServiceHarness.Fails(() => _h.Describe(name), ErrorKind.Validation, message);
        await ServiceHarness.Fails(() => new DeleteSecretHandler(_h.Services).ExecuteAsync(new DeleteSecretRequest(name, null, true), _h.Root, default), ErrorKind.Validation, message);
    }

    [Fact]
    public async Task CreateSecret_ValueWithoutToken_InvalidRequestBeforeAnythingElse()
    {
        var request = new CreateSecretRequest("Inv Name", null, null, null, null, "v", null, null, null, null);
        await ServiceHarness.Fails(() => new CreateSecretHandler(_h.Services).ExecuteAsync(request, _h.Root, default),
            ErrorKind.InvalidRequest, "You must provide a ClientRequestToken value. We recommend a UUID-type value.");
    }

    [Fact]
    public async Task PutSecretValue_ValueWithoutToken_InvalidRequestEvenForMissingSecret() =>
        await ServiceHarness.Fails(
            () => new PutSecretValueHandler(_h.Services).ExecuteAsync(new PutSecretValueRequest("missing", null, null, "v", null, null), _h.Root, default),
            ErrorKind.InvalidRequest, "You must provide a ClientRequestToken value. We recommend a UUID-type value.");

    [Fact]
    public async Task CreateSecret_StringAndBinary_InvalidParameter()
    {
        var request = new CreateSecretRequest("both", ServiceHarness.Token(), null, null, [1], "v", null, null, null, null);
        await ServiceHarness.Fails(() => new CreateSecretHandler(_h.Services).ExecuteAsync(request, _h.Root, default), ErrorKind.InvalidParameter);
    }

    [Fact]
    public async Task GetSecretValue_ByPartialArn_Works()
    {
        var created = await _h.Create("partial/arn", "x");

        var value = await _h.Get(created.ARN[..^7]);

        Assert.Equal(created.ARN, value.ARN);
        Assert.Equal("x", (await _h.Get(created.ARN)).SecretString);
    }

    [Fact]
    public async Task GetSecretValue_Misses_ReturnAwsMessages()
    {
        var created = await _h.Create("reads", "x");
        var unknown = Guid.NewGuid().ToString();

        await ServiceHarness.Fails(() => _h.Get("nope"), ErrorKind.ResourceNotFound, "Secrets Manager can't find the specified secret.");
        await ServiceHarness.Fails(() => _h.Get("reads", stage: "AWSPREVIOUS"), ErrorKind.ResourceNotFound,
            "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS");
        await ServiceHarness.Fails(() => _h.Get("reads", versionId: unknown), ErrorKind.ResourceNotFound,
            $"Secrets Manager can't find the specified secret value for VersionId: {unknown}");
        await ServiceHarness.Fails(() => _h.Get("reads", versionId: created.VersionId, stage: "AWSPREVIOUS"), ErrorKind.InvalidRequest,
            "You provided a VersionStage that is not associated to the provided VersionId.");
    }

    [Fact]
    public async Task GetSecretValue_Binary_RoundTrips()
    {
        byte[] bytes = [0x00, 0x01, 0x02, 0xff];
        await new CreateSecretHandler(_h.Services).ExecuteAsync(new CreateSecretRequest("bin", ServiceHarness.Token(), null, null, bytes, null, null, null, null, null), _h.Root, default);

        var value = await _h.Get("bin");

        Assert.Null(value.SecretString);
        Assert.Equal(bytes, value.SecretBinary);
    }

    [Fact]
    public async Task GetSecretValue_SetsLastAccessedDateAtDayResolution()
    {
        await _h.Create("accessed", "x");
        Assert.Null((await _h.Describe("accessed")).LastAccessedDate);

        await _h.Get("accessed");
        _h.Clock.Advance(TimeSpan.FromHours(3));
        await _h.Get("accessed");

        var today = new DateTimeOffset(2026, 3, 28, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(today, (await _h.Describe("accessed")).LastAccessedDate);
        Assert.Equal(today, (await _h.Versions("accessed")).Versions.Single().LastAccessedDate);
    }

    [Fact]
    public async Task DeleteSecret_ThenRestore_FollowsAwsStates()
    {
        await _h.Create("doomed", "x");
        var delete = new DeleteSecretHandler(_h.Services);

        var deleted = await delete.ExecuteAsync(new DeleteSecretRequest("doomed", 7, null), _h.Root, default);

        Assert.Equal(_h.Clock.GetUtcNow().AddDays(7).ToUnixTimeSeconds(), deleted.DeletionDate.ToUnixTimeSeconds());
        Assert.NotNull((await _h.Describe("doomed")).DeletedDate);
        const string marked = "You can't perform this operation on the secret because it was marked for deletion.";
        await ServiceHarness.Fails(() => _h.Get("doomed"), ErrorKind.InvalidRequest, marked);
        await ServiceHarness.Fails(() => _h.Put("doomed", "y"), ErrorKind.InvalidRequest, marked);
        await ServiceHarness.Fails(() => new TagResourceHandler(_h.Services).ExecuteAsync(new TagResourceRequest("doomed", [new("k", "v")]), _h.Root, default), ErrorKind.InvalidRequest, marked);
        await ServiceHarness.Fails(() => _h.Create("doomed"), ErrorKind.InvalidRequest,
            "You can't create this secret because a secret with this name is already scheduled for deletion.");

        await new RestoreSecretHandler(_h.Services).ExecuteAsync(new RestoreSecretRequest("doomed"), _h.Root, default);

        Assert.Null((await _h.Describe("doomed")).DeletedDate);
        Assert.Equal("x", (await _h.Get("doomed")).SecretString);
    }

    [Fact]
    public async Task DeleteSecret_RecoveryWindowPassed_SecretIsGone()
    {
        await _h.Create("expires", "x");
        await new DeleteSecretHandler(_h.Services).ExecuteAsync(new DeleteSecretRequest("expires", 7, null), _h.Root, default);

        _h.Clock.Advance(TimeSpan.FromDays(7) + TimeSpan.FromSeconds(1));

        await ServiceHarness.Fails(() => _h.Describe("expires"), ErrorKind.ResourceNotFound);
        var recreated = await _h.Create("expires", "y");
        Assert.Equal("y", (await _h.Get(recreated.ARN)).SecretString);
    }

    [Fact]
    public async Task DeleteSecret_Force_RecreateGetsNewSuffix()
    {
        var first = await _h.Create("forced", "x");
        var delete = new DeleteSecretHandler(_h.Services);

        await delete.ExecuteAsync(new DeleteSecretRequest("forced", null, true), _h.Root, default);
        await ServiceHarness.Fails(() => _h.Describe("forced"), ErrorKind.ResourceNotFound);
        var second = await _h.Create("forced", "y");

        Assert.NotEqual(first.ARN, second.ARN);
        var missing = await delete.ExecuteAsync(new DeleteSecretRequest("never-existed", null, true), _h.Root, default);
        Assert.Equal("never-existed", missing.Name);
    }

    public const string WindowRange = "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).";
    public const string BothGiven = "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.";

    [Theory]
    [InlineData(6L, null, WindowRange)]
    [InlineData(31L, null, WindowRange)]
    [InlineData(0L, false, WindowRange)]
    [InlineData(0L, true, WindowRange)] // the reported case: the range is checked before the combination
    [InlineData(31L, true, WindowRange)]
    [InlineData(7L, true, BothGiven)]
    [InlineData(30L, true, BothGiven)]
    public async Task DeleteSecret_BadParameters_InvalidParameterInAwsWords(long? window, bool? force, string message)
    {
        await _h.Create("params", "x");
        await ServiceHarness.Fails(
            () => new DeleteSecretHandler(_h.Services).ExecuteAsync(new DeleteSecretRequest("params", window, force), _h.Root, default),
            ErrorKind.InvalidParameter, message);
        Assert.Null((await _h.Describe("params")).DeletedDate);
    }

    [Theory]
    [InlineData(7L, false, 7)]
    [InlineData(null, false, 30)]
    [InlineData(null, null, 30)]
    public async Task DeleteSecret_WindowWithoutForce_SchedulesTheDeletion(long? window, bool? force, int days)
    {
        await _h.Create("scheduled", "x");

        var deleted = await new DeleteSecretHandler(_h.Services).ExecuteAsync(new DeleteSecretRequest("scheduled", window, force), _h.Root, default);

        Assert.Equal(_h.Clock.GetUtcNow().AddDays(days).ToUnixTimeSeconds(), deleted.DeletionDate.ToUnixTimeSeconds());
    }

    [Fact]
    public async Task Tags_NeverTaggedOmitted_AllRemovedEmptyList()
    {
        await _h.Create("tagged", "x");
        Assert.Null((await _h.Describe("tagged")).Tags);

        await new TagResourceHandler(_h.Services).ExecuteAsync(new TagResourceRequest("tagged", [new("team", "a"), new("env", "prd")]), _h.Root, default);
        await new TagResourceHandler(_h.Services).ExecuteAsync(new TagResourceRequest("tagged", [new("team", "b")]), _h.Root, default);
        var tags = (await _h.Describe("tagged")).Tags!;
        Assert.Equal(["env=prd", "team=b"], tags.Select(t => $"{t.Key}={t.Value}").Order(StringComparer.Ordinal));

        await new UntagResourceHandler(_h.Services).ExecuteAsync(new UntagResourceRequest("tagged", ["team", "env"]), _h.Root, default);
        Assert.Empty((await _h.Describe("tagged")).Tags!);
    }

    [Fact]
    public async Task MissingRequiredMember_ValidationExceptionInAwsWording() =>
        await ServiceHarness.Fails(() => _h.Get(null!), ErrorKind.Validation,
            "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null");

    [Fact]
    public async Task OversizedValue_ValidationExceptionWithoutTheValue()
    {
        var big = new string('s', 65537);
        var error = await ServiceHarness.Fails(() => _h.Create("big", big), ErrorKind.Validation,
            "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536");
        Assert.DoesNotContain("sss", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\u00e9", 32768, true)] // 2 bytes each: exactly 65,536 bytes
    [InlineData("\u00e9", 32769, false)] // 32,769 characters are 65,538 bytes
    [InlineData("\u20ac", 21846, false)] // 3 bytes each: 65,538 bytes in 21,846 characters
    [InlineData("\U0001F511", 16384, true)] // 4 bytes each (two UTF-16 chars): exactly 65,536 bytes
    public async Task SecretStringQuota_CountsUtf8BytesNotCharacters(string unit, int repeat, bool accepted)
    {
        var value = string.Concat(Enumerable.Repeat(unit, repeat));

        const string TooLong =
            "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536";
        await _h.Create("bytes");

        if (accepted)
        {
            await _h.Put("bytes", value);
            await _h.Create("bytes-created", value);
        }
        else
        {
            await ServiceHarness.Fails(() => _h.Put("bytes", value), ErrorKind.Validation, TooLong);
            await ServiceHarness.Fails(() => _h.Create("bytes-created", value), ErrorKind.Validation, TooLong);
        }
    }
}
