using Keyturn.Application.Operations;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Tests.Operations;

/// <summary>Versions and labels through the operations and the store (spec §6 cases 21–37).</summary>
public sealed class VersionsAndLabelsTests : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task PutSecretValue_Twice_RotatesCurrentPreviousAndDeprecates()
    {
        var v1 = (await _h.Create("s", "one")).VersionId!;
        var v2 = (await _h.Put("s", "two")).VersionId;
        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [v2] = ["AWSCURRENT"] }, await _h.Labels("s"));

        var v3 = (await _h.Put("s", "three")).VersionId;
        Assert.Equal(new() { [v2] = ["AWSPREVIOUS"], [v3] = ["AWSCURRENT"] }, await _h.Labels("s"));

        var all = await _h.Versions("s", includeDeprecated: true);
        var deprecated = Assert.Single(all.Versions, v => v.VersionId == v1);
        Assert.Null(deprecated.VersionStages);
        Assert.Equal("one", (await _h.Get("s", versionId: v1)).SecretString);
        Assert.All(all.Versions, v => Assert.Equal(["DefaultEncryptionKey"], v.KmsKeyIds));
        Assert.Null(all.NextToken);
    }

    [Fact]
    public async Task FullManualRotation_FinishMovesCurrentAndKeepsPending()
    {
        var v1 = (await _h.Create("rot", "one")).VersionId!;
        var pending = await _h.Put("rot", "two", stages: ["AWSPENDING"]);
        Assert.Equal(["AWSPENDING"], pending.VersionStages);
        Assert.Equal("one", (await _h.Get("rot")).SecretString);

        await _h.Stage("rot", "AWSCURRENT", v1, pending.VersionId);

        Assert.Equal(new() { [v1] = ["AWSPREVIOUS"], [pending.VersionId] = ["AWSCURRENT", "AWSPENDING"] }, await _h.Labels("rot"));
        var v3 = (await _h.Put("rot", "three")).VersionId;
        Assert.Equal(new() { [pending.VersionId] = ["AWSPREVIOUS"], [v3] = ["AWSCURRENT"] }, await _h.Labels("rot"));
    }

    [Fact]
    public async Task PutSecretValue_SameToken_IdempotentOrConflict()
    {
        var created = await _h.Create("idem", "Hello");
        var token = ServiceHarness.Token();
        var first = await _h.Put("idem", "Hi there", token);

        var again = await _h.Put("idem", "Hi there", token);

        Assert.Equal(first.VersionId, again.VersionId);
        Assert.Equal(["AWSCURRENT"], again.VersionStages);
        Assert.Equal(2, (await _h.Versions("idem", includeDeprecated: true)).Versions.Count);
        await ServiceHarness.Fails(() => _h.Put("idem", "different", token), ErrorKind.ResourceExists,
            $"You can't use ClientRequestToken {token} because that value is already in use for a version of secret {created.ARN}.");

        var update = new UpdateSecretHandler(_h.Services);
        var updated = await update.ExecuteAsync(new UpdateSecretRequest("idem", token, null, null, null, "Hi there", null), _h.Root, default);
        Assert.Equal(token, updated.VersionId);
        await ServiceHarness.Fails(() => update.ExecuteAsync(new UpdateSecretRequest("idem", token, null, null, null, "nope", null), _h.Root, default),
            ErrorKind.ResourceExists);
    }

    [Fact]
    public async Task UpdateSecret_DescriptionOnly_NoVersionId()
    {
        await _h.Create("upd", "x");
        var update = new UpdateSecretHandler(_h.Services);

        var described = await update.ExecuteAsync(new UpdateSecretRequest("upd", null, "new text", null, null, null, null), _h.Root, default);
        var nothing = await update.ExecuteAsync(new UpdateSecretRequest("upd", null, null, null, null, null, null), _h.Root, default);

        Assert.Null(described.VersionId);
        Assert.Null(nothing.VersionId);
        Assert.Equal("new text", (await _h.Describe("upd")).Description);
    }

    [Fact]
    public async Task UpdateSecretVersionStage_WithoutRemove_ExactAwsMessage()
    {
        var v1 = (await _h.Create("cas", "one")).VersionId!;
        var v2 = (await _h.Put("cas", "two", stages: ["AWSPENDING"])).VersionId;

        await ServiceHarness.Fails(() => _h.Stage("cas", "AWSCURRENT", null, v2), ErrorKind.InvalidParameter,
            $"The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version {v1}, so you must explicitly reference that version in RemoveFromVersionId.");
        Assert.Equal(new() { [v1] = ["AWSCURRENT"], [v2] = ["AWSPENDING"] }, await _h.Labels("cas"));
    }

    [Fact]
    public async Task UpdateSecretVersionStage_StaleCompareAndSwap_Refused()
    {
        var v1 = (await _h.Create("stale", "one")).VersionId!;
        var v2 = (await _h.Put("stale", "two", stages: ["AWSPENDING"])).VersionId;
        var v3 = (await _h.Put("stale", "three", stages: ["BLUE"])).VersionId;
        await _h.Stage("stale", "AWSCURRENT", v1, v2);

        // A second actor still believes v1 is current and wants v3 there: the swap must fail.
        await ServiceHarness.Fails(() => _h.Stage("stale", "AWSCURRENT", v1, v3), ErrorKind.InvalidParameter);
        // Repeating a move that already happened is a harmless no-op, as on AWS.
        await _h.Stage("stale", "AWSCURRENT", v1, v2);
        Assert.Equal(["AWSCURRENT", "AWSPENDING"], (await _h.Labels("stale"))[v2]);
    }

    [Fact]
    public async Task Labels_TwentyDistinct_TwentyFirstRefused()
    {
        await _h.Create("many", "x");
        var labels = Enumerable.Range(1, 19).Select(i => "L" + i).ToList();
        await _h.Put("many", "y", stages: labels);

        await ServiceHarness.Fails(() => _h.Put("many", "z", stages: ["NEW"]), ErrorKind.LimitExceeded);
        Assert.Equal(2, (await _h.Versions("many", includeDeprecated: true)).Versions.Count);
    }

    [Fact]
    public async Task ListSecretVersionIds_Pages()
    {
        await _h.Create("paged", "0");
        for (var i = 1; i < 5; i++)
        {
            await _h.Put("paged", i.ToString(System.Globalization.CultureInfo.InvariantCulture), stages: ["L" + i]);
        }

        var handler = new ListSecretVersionIdsHandler(_h.Services);
        var seen = new List<string>();
        string? next = null;
        do
        {
            var page = await handler.ExecuteAsync(new ListSecretVersionIdsRequest("paged", 2, next, null), _h.Root, default);
            Assert.True(page.Versions.Count <= 2);
            seen.AddRange(page.Versions.Select(v => v.VersionId));
            next = page.NextToken;
        }
        while (next is not null);

        Assert.Equal(5, seen.Distinct().Count());
        await ServiceHarness.Fails(() => handler.ExecuteAsync(new ListSecretVersionIdsRequest("paged", 2, "bogus", null), _h.Root, default), ErrorKind.InvalidNextToken);
    }

    [Fact]
    public async Task RotateSecret_WithoutFunction_AwsErrorsAndNothingPersisted()
    {
        await _h.Create("rotate-me", "x");
        var rotate = new RotateSecretHandler(_h.Services, new NoFunctions(), new NoLaunches());

        await ServiceHarness.Fails(
            () => rotate.ExecuteAsync(new RotateSecretRequest("rotate-me", ServiceHarness.Token(), null, new RotationRulesType(1, null, null), null), _h.Root, default),
            ErrorKind.InvalidRequest, "No Lambda rotation function ARN is associated with this secret.");
        await ServiceHarness.Fails(
            () => rotate.ExecuteAsync(new RotateSecretRequest("rotate-me", ServiceHarness.Token(), "arn:aws:lambda:us-east-1:000000000000:function:missing", null, null), _h.Root, default),
            ErrorKind.AccessDenied,
            "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.");
        await ServiceHarness.Fails(
            () => rotate.ExecuteAsync(new RotateSecretRequest("rotate-me", null, "f", null, null), _h.Root, default),
            ErrorKind.InvalidParameter, "You must provide a ClientRequestToken value. We recommend a UUID-type value.");

        var described = await _h.Describe("rotate-me");
        Assert.Null(described.RotationEnabled);
        Assert.Null(described.RotationRules);
        Assert.Null(described.RotationLambdaARN);
    }

    [Fact]
    public async Task GetRandomPassword_HonoursExclusions()
    {
        var handler = new GetRandomPasswordHandler(_h.Services, Keyturn.Domain.Passwords.CryptoRandomSource.Instance);

        var password = (await handler.ExecuteAsync(new GetRandomPasswordRequest(120, "xyzDje@?!.", null, null, null, null, null, null), _h.Root, default)).RandomPassword;
        var fallback = (await handler.ExecuteAsync(new GetRandomPasswordRequest(null, null, null, null, null, null, null, null), _h.Root, default)).RandomPassword;

        Assert.Equal(120, password.Length);
        Assert.DoesNotContain(password, c => "xyzDje@?!.".Contains(c, StringComparison.Ordinal));
        Assert.Equal(32, fallback.Length);
    }

    [Fact]
    public async Task ListSecrets_FiltersSortsAndPages()
    {
        await _h.Create("testing1/one", "x", description: "a secret");
        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        await _h.Create("/testing2/two", "x", description: "an secret");
        _h.Clock.Advance(TimeSpan.FromSeconds(1));
        await _h.Create("thesecret", "x", description: "thesecret");
        var handler = new ListSecretsHandler(_h.Services);

        var byName = await handler.ExecuteAsync(new ListSecretsRequest(null, null, null, [new("name", ["/"])], null, null), _h.Root, default);
        var byDescription = await handler.ExecuteAsync(new ListSecretsRequest(null, null, null, [new("description", ["a secret"])], null, null), _h.Root, default);
        var descending = await handler.ExecuteAsync(new ListSecretsRequest(null, null, null, null, "desc", "name"), _h.Root, default);
        var firstPage = await handler.ExecuteAsync(new ListSecretsRequest(null, 2, null, null, null, null), _h.Root, default);
        var secondPage = await handler.ExecuteAsync(new ListSecretsRequest(null, 2, firstPage.NextToken, null, null, null), _h.Root, default);

        Assert.Equal(["/testing2/two"], byName.SecretList.Select(s => s.Name));
        Assert.Equal(["/testing2/two", "testing1/one"], byDescription.SecretList.Select(s => s.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["thesecret", "testing1/one", "/testing2/two"], descending.SecretList.Select(s => s.Name));
        Assert.Equal(2, firstPage.SecretList.Count);
        Assert.Single(secondPage.SecretList);
        Assert.Null(secondPage.NextToken);
        Assert.NotNull(firstPage.SecretList[0].SecretVersionsToStages);
    }

    private sealed class NoFunctions : Ports.IRotationFunctionCatalog
    {
        public Task<bool> ExistsAsync(string functionName, CancellationToken cancellationToken) => Task.FromResult(false);

        public Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);
    }

    private sealed class NoLaunches : Keyturn.Application.Rotation.IRotationLauncher
    {
        public void Launch(string secretArn, string token) => throw new InvalidOperationException("nothing may be launched when RotateSecret is refused");
    }
}
