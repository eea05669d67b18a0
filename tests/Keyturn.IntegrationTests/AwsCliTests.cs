using System.Globalization;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The main <c>aws secretsmanager</c> commands of the real AWS CLI v2 (Debian's 2.9.19) against the server: their
/// outputs member by member, pagination, binary values from files, and the exit code and stderr of AWS errors.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class AwsCliTests(ServerFixture fixture)
{
    /// <summary>AWS CLI v2: "the service returned an error".</summary>
    private const int ServiceErrorExitCode = 254;

    private const string Sm = "secretsmanager";

    private const string IsoTimestamp = @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$";

    private const string Policy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}""";

    private AwsCli Cli => fixture.Cli;

    [Fact]
    public async Task CreateSecret_WithDescriptionAndTags_DescribeShowsThem()
    {
        var name = Unique("cli-create") + "/app_db";
        var token = Guid.NewGuid().ToString();

        var created = await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-dummy-value",
            "--description", "cli test secret", "--tags", "Key=team,Value=cli", "Key=env,Value=test", "--client-request-token", token);

        Assert.Equal(["ARN", "Name", "VersionId"], Members(created));
        Assert.Equal(name, created.GetProperty("Name").GetString());
        Assert.Equal(token, created.GetProperty("VersionId").GetString());
        AssertArn(created.GetProperty("ARN").GetString(), name);

        var described = await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name);
        Assert.Equal(["ARN", "CreatedDate", "Description", "LastChangedDate", "Name", "Tags", "VersionIdsToStages"], Members(described));
        Assert.Equal("cli test secret", described.GetProperty("Description").GetString());
        Assert.Equal(["env=test", "team=cli"], Tags(described));
        Assert.Equal(["AWSCURRENT"], Strings(described.GetProperty("VersionIdsToStages").GetProperty(token)));
        Assert.Matches(IsoTimestamp, described.GetProperty("CreatedDate").GetString()!);
        Assert.Matches(IsoTimestamp, described.GetProperty("LastChangedDate").GetString()!);

        var empty = await Cli.JsonAsync(Sm, "create-secret", "--name", Unique("cli-create-empty"));
        Assert.Equal(["ARN", "Name"], Members(empty));
    }

    [Fact]
    public async Task GetSecretValue_ByNameFullArnAndPartialArn_ReturnsTheCurrentValue()
    {
        var name = Unique("cli-get");
        var created = await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", """{"username":"cli","password":"cli-dummy-pw"}""");
        var arn = created.GetProperty("ARN").GetString()!;
        var version = created.GetProperty("VersionId").GetString()!;

        foreach (var id in new[] { name, arn, arn[..^7] })
        {
            var value = await Cli.JsonAsync(Sm, "get-secret-value", "--secret-id", id);
            Assert.Equal(["ARN", "CreatedDate", "Name", "SecretString", "VersionId", "VersionStages"], Members(value));
            Assert.Equal(arn, value.GetProperty("ARN").GetString());
            Assert.Equal(name, value.GetProperty("Name").GetString());
            Assert.Equal(version, value.GetProperty("VersionId").GetString());
            Assert.Equal("""{"username":"cli","password":"cli-dummy-pw"}""", value.GetProperty("SecretString").GetString());
            Assert.Equal(["AWSCURRENT"], Strings(value.GetProperty("VersionStages")));
            Assert.Matches(IsoTimestamp, value.GetProperty("CreatedDate").GetString()!);
        }

        var byStage = await Cli.JsonAsync(Sm, "get-secret-value", "--secret-id", name, "--version-stage", "AWSCURRENT", "--version-id", version);
        Assert.Equal(version, byStage.GetProperty("VersionId").GetString());

        // LastAccessedDate: day resolution once read.
        var described = await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name);
        Assert.EndsWith("T00:00:00+00:00", described.GetProperty("LastAccessedDate").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutSecretValue_SecretBinaryFromFile_RoundTripsAsBase64()
    {
        var name = Unique("cli-binary");
        await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-first");
        var file = Path.Combine(Path.GetTempPath(), $"keyturn-cli-{Guid.NewGuid():N}.bin");
        byte[] bytes = [0x00, 0x01, 0x02, 0xff, 0x80, 0x7f];
        await File.WriteAllBytesAsync(file, bytes);
        try
        {
            var put = await Cli.JsonAsync(Sm, "put-secret-value", "--secret-id", name, "--secret-binary", $"fileb://{file}");
            Assert.Equal(["ARN", "Name", "VersionId", "VersionStages"], Members(put));
            Assert.Equal(["AWSCURRENT"], Strings(put.GetProperty("VersionStages")));

            var value = await Cli.JsonAsync(Sm, "get-secret-value", "--secret-id", name);
            Assert.Equal(Convert.ToBase64String(bytes), value.GetProperty("SecretBinary").GetString());
            Assert.False(value.TryGetProperty("SecretString", out _));
            Assert.Equal(put.GetProperty("VersionId").GetString(), value.GetProperty("VersionId").GetString());

            var previous = await Cli.JsonAsync(Sm, "get-secret-value", "--secret-id", name, "--version-stage", "AWSPREVIOUS");
            Assert.Equal("cli-first", previous.GetProperty("SecretString").GetString());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task UpdateSecret_DescriptionOnlyAndValue_OutputsAndVersions()
    {
        var name = Unique("cli-update");
        var created = await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-v1");
        var v1 = created.GetProperty("VersionId").GetString()!;

        var description = await Cli.JsonAsync(Sm, "update-secret", "--secret-id", name, "--description", "cli updated");
        Assert.Equal(["ARN", "Name"], Members(description));

        var withValue = await Cli.JsonAsync(Sm, "update-secret", "--secret-id", name, "--secret-string", "cli-v2");
        Assert.Equal(["ARN", "Name", "VersionId"], Members(withValue));
        var v2 = withValue.GetProperty("VersionId").GetString()!;
        Assert.NotEqual(v1, v2);

        var described = await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name);
        Assert.Equal("cli updated", described.GetProperty("Description").GetString());
        var stages = described.GetProperty("VersionIdsToStages");
        Assert.Equal(["AWSPREVIOUS"], Strings(stages.GetProperty(v1)));
        Assert.Equal(["AWSCURRENT"], Strings(stages.GetProperty(v2)));
        Assert.Equal("cli-v2", (await Cli.JsonAsync(Sm, "get-secret-value", "--secret-id", name)).GetProperty("SecretString").GetString());

        var versions = await Cli.JsonAsync(Sm, "list-secret-version-ids", "--secret-id", name, "--include-deprecated");
        Assert.Equal(new[] { v1, v2 }.Order(StringComparer.Ordinal),
            versions.GetProperty("Versions").EnumerateArray().Select(v => v.GetProperty("VersionId").GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ListSecrets_WithFiltersAndPagination_ListsEachSecretOnce()
    {
        var prefix = Unique("cli-list");
        var names = Enumerable.Range(0, 7).Select(i => $"{prefix}/s{i}").ToList();
        foreach (var name in names)
        {
            await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-list-value", "--description", "cli listing");
        }

        await Cli.JsonAsync(Sm, "create-secret", "--name", prefix + "-other", "--secret-string", "cli-list-value");
        var filter = $"Key=name,Values={prefix}/";

        // --page-size: the CLI follows NextToken itself; the result is every match, once.
        var all = await Cli.JsonAsync(Sm, "list-secrets", "--filters", filter, "--page-size", "2");
        Assert.Equal(names, ListedNames(all).Order(StringComparer.Ordinal));
        Assert.False(all.TryGetProperty("NextToken", out _));
        var entry = all.GetProperty("SecretList").EnumerateArray().First();
        Assert.True(entry.TryGetProperty("SecretVersionsToStages", out _), entry.ToString());
        Assert.False(entry.TryGetProperty("VersionIdsToStages", out _), entry.ToString());

        // --max-items: a NextToken to resume from with --starting-token.
        var collected = new List<string>();
        string? next = null;
        var rounds = 0;
        do
        {
            string[] arguments = next is null
                ? [Sm, "list-secrets", "--filters", filter, "--max-items", "3", "--page-size", "2"]
                : [Sm, "list-secrets", "--filters", filter, "--max-items", "3", "--page-size", "2", "--starting-token", next];
            var page = await Cli.JsonAsync(arguments);
            var pageNames = ListedNames(page);
            Assert.InRange(pageNames.Count, 1, 3);
            collected.AddRange(pageNames);
            next = page.TryGetProperty("NextToken", out var token) ? token.GetString() : null;
            rounds++;
        }
        while (next is not null && rounds < 10);

        Assert.Equal(3, rounds);
        Assert.Equal(collected.Count, collected.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(names, collected.Order(StringComparer.Ordinal));

        // Filters AND together; description matches word prefixes, case-insensitively.
        var both = await Cli.JsonAsync(Sm, "list-secrets", "--filters", filter, "Key=description,Values=CLI");
        Assert.Equal(names, ListedNames(both).Order(StringComparer.Ordinal));
        var none = await Cli.JsonAsync(Sm, "list-secrets", "--filters", filter, "Key=description,Values=listingx");
        Assert.Empty(ListedNames(none));
        var negated = await Cli.JsonAsync(Sm, "list-secrets", "--filters", $"Key=name,Values={prefix}", $"Key=name,Values=!{prefix}/");
        Assert.Equal([prefix + "-other"], ListedNames(negated));
    }

    [Fact]
    public async Task TagAndUntagResource_NoOutput_TagsEndAsEmptyList()
    {
        var name = Unique("cli-tags");
        await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-tag-value");
        Assert.False((await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name)).TryGetProperty("Tags", out _));

        var tagged = await Cli.RunAsync(Sm, "tag-resource", "--secret-id", name, "--tags", "Key=owner,Value=cli", "Key=tier,Value=gold");
        Assert.True(tagged.ExitCode == 0, tagged.ToString());
        Assert.Equal(string.Empty, tagged.Stdout.Trim());
        Assert.Equal(["owner=cli", "tier=gold"], Tags(await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name)));

        await Cli.JsonAsync(Sm, "tag-resource", "--secret-id", name, "--tags", "Key=tier,Value=silver");
        Assert.Equal(["owner=cli", "tier=silver"], Tags(await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name)));

        var untagged = await Cli.RunAsync(Sm, "untag-resource", "--secret-id", name, "--tag-keys", "owner", "tier");
        Assert.True(untagged.ExitCode == 0, untagged.ToString());
        Assert.Equal(string.Empty, untagged.Stdout.Trim());
        var described = await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name);
        Assert.True(described.TryGetProperty("Tags", out var tags), described.ToString());
        Assert.Equal(0, tags.GetArrayLength());
    }

    [Fact]
    public async Task DeleteSecret_RecoveryWindowRestoreAndForceDelete()
    {
        var name = Unique("cli-delete");
        var arn = (await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-delete-value")).GetProperty("ARN").GetString()!;

        var deleted = await Cli.JsonAsync(Sm, "delete-secret", "--secret-id", name, "--recovery-window-in-days", "7");
        Assert.Equal(["ARN", "DeletionDate", "Name"], Members(deleted));
        Assert.Equal(arn, deleted.GetProperty("ARN").GetString());
        var deletionDate = DateTimeOffset.Parse(deleted.GetProperty("DeletionDate").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(deletionDate, DateTimeOffset.UtcNow.AddDays(7).AddHours(-1), DateTimeOffset.UtcNow.AddDays(7).AddHours(1));

        var described = await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name);
        Assert.Matches(IsoTimestamp, described.GetProperty("DeletedDate").GetString()!);
        var stderr = await Cli.ErrorAsync("InvalidRequestException", Sm, "get-secret-value", "--secret-id", name);
        Assert.Contains("You can't perform this operation on the secret because it was marked for deletion.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(name, ListedNames(await Cli.JsonAsync(Sm, "list-secrets", "--filters", $"Key=name,Values={name}")));

        var restored = await Cli.JsonAsync(Sm, "restore-secret", "--secret-id", name);
        Assert.Equal(["ARN", "Name"], Members(restored));
        Assert.False((await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name)).TryGetProperty("DeletedDate", out _));
        Assert.Equal("cli-delete-value", (await Cli.JsonAsync(Sm, "get-secret-value", "--secret-id", name)).GetProperty("SecretString").GetString());

        var forced = await Cli.JsonAsync(Sm, "delete-secret", "--secret-id", arn, "--force-delete-without-recovery");
        Assert.Equal(["ARN", "DeletionDate", "Name"], Members(forced));
        await WaitUntilGoneAsync(name);
        stderr = await Cli.ErrorAsync("ResourceNotFoundException", Sm, "get-secret-value", "--secret-id", name);
        Assert.Contains("Secrets Manager can't find the specified secret.", stderr, StringComparison.Ordinal);

        await Cli.ErrorAsync("InvalidParameterException", Sm, "delete-secret", "--secret-id", Unique("cli-delete-params"),
            "--recovery-window-in-days", "7", "--force-delete-without-recovery");
    }

    [Fact]
    public async Task GetRandomPassword_HonoursLengthAndExclusions()
    {
        var password = (await Cli.JsonAsync(Sm, "get-random-password", "--password-length", "40", "--exclude-punctuation", "--exclude-characters", "abcXYZ019"))
            .GetProperty("RandomPassword").GetString()!;
        Assert.Equal(40, password.Length);
        Assert.All(password, c => Assert.True(char.IsAsciiLetterOrDigit(c) && !"abcXYZ019".Contains(c, StringComparison.Ordinal), $"unexpected character '{c}'"));

        var fallback = await Cli.JsonAsync(Sm, "get-random-password");
        Assert.Equal(["RandomPassword"], Members(fallback));
        Assert.Equal(32, fallback.GetProperty("RandomPassword").GetString()!.Length);
    }

    [Fact]
    public async Task ResourcePolicy_PutGetValidateDelete()
    {
        var name = Unique("cli-policy");
        var arn = (await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-policy-value")).GetProperty("ARN").GetString()!;

        var put = await Cli.JsonAsync(Sm, "put-resource-policy", "--secret-id", name, "--resource-policy", Policy);
        Assert.Equal(["ARN", "Name"], Members(put));
        Assert.Equal(arn, put.GetProperty("ARN").GetString());

        var got = await Cli.JsonAsync(Sm, "get-resource-policy", "--secret-id", name);
        Assert.Equal(["ARN", "Name", "ResourcePolicy"], Members(got));
        Assert.Equal(Policy, got.GetProperty("ResourcePolicy").GetString());

        var validated = await Cli.JsonAsync(Sm, "validate-resource-policy", "--secret-id", name, "--resource-policy", Policy);
        Assert.True(validated.GetProperty("PolicyValidationPassed").GetBoolean(), validated.ToString());
        Assert.Equal(0, validated.GetProperty("ValidationErrors").GetArrayLength());

        var deleted = await Cli.JsonAsync(Sm, "delete-resource-policy", "--secret-id", name);
        Assert.Equal(["ARN", "Name"], Members(deleted));
        Assert.Equal(["ARN", "Name"], Members(await Cli.JsonAsync(Sm, "get-resource-policy", "--secret-id", name)));

        await Cli.ErrorAsync("MalformedPolicyDocumentException", Sm, "put-resource-policy", "--secret-id", name, "--resource-policy", "{not json");
        await Cli.ErrorAsync("MalformedPolicyDocumentException", Sm, "validate-resource-policy", "--resource-policy", "{not json");
    }

    [Fact]
    public async Task RotateSecret_UnknownFunctionOrNone_IsRefusedAndNothingIsStored()
    {
        var name = Unique("cli-rotate");
        await Cli.JsonAsync(Sm, "create-secret", "--name", name, "--secret-string", "cli-rotate-value");

        var stderr = await Cli.ErrorAsync("AccessDeniedException", Sm, "rotate-secret", "--secret-id", name,
            "--rotation-lambda-arn", "arn:aws:lambda:us-east-1:000000000000:function:cli-not-registered", "--rotation-rules", "AutomaticallyAfterDays=7");
        Assert.Contains("Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.",
            stderr, StringComparison.Ordinal);
        stderr = await Cli.ErrorAsync("InvalidRequestException", Sm, "rotate-secret", "--secret-id", name, "--rotation-rules", "AutomaticallyAfterDays=7");
        Assert.Contains("No Lambda rotation function ARN is associated with this secret.", stderr, StringComparison.Ordinal);

        var described = await Cli.JsonAsync(Sm, "describe-secret", "--secret-id", name);
        foreach (var member in new[] { "RotationEnabled", "RotationLambdaARN", "RotationRules", "NextRotationDate" })
        {
            Assert.False(described.TryGetProperty(member, out _), $"{member} after refused rotations: {described}");
        }

        Assert.Single(described.GetProperty("VersionIdsToStages").EnumerateObject());
    }

    [Theory]
    [InlineData("ResourceNotFoundException", "GetSecretValue", "Secrets Manager can't find the specified secret.", "get-secret-value", "--secret-id", "{missing}")]
    [InlineData("ResourceNotFoundException", "DescribeSecret", "Secrets Manager can't find the specified secret.", "describe-secret", "--secret-id", "{missing}")]
    [InlineData("ResourceNotFoundException", "GetSecretValue", "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS", "get-secret-value", "--secret-id", "{existing}", "--version-stage", "AWSPREVIOUS")]
    [InlineData("ResourceExistsException", "CreateSecret", "The operation failed because the secret {existing} already exists.", "create-secret", "--name", "{existing}", "--secret-string", "cli-again")]
    [InlineData("ValidationException", "DescribeSecret", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!", "describe-secret", "--secret-id", "Inv Name")]
    [InlineData("InvalidParameterException", "DeleteSecret", null, "delete-secret", "--secret-id", "{existing}", "--recovery-window-in-days", "6")]
    [InlineData("InvalidRequestException", "CancelRotateSecret", null, "cancel-rotate-secret", "--secret-id", "{existing}")]
    public async Task ServiceErrors_Exit254_WithCodeOperationAndMessageOnStderr(string code, string operation, string? message, params string[] command)
    {
        var existing = Unique("cli-errors");
        await Cli.JsonAsync(Sm, "create-secret", "--name", existing, "--secret-string", "cli-error-value");
        string[] arguments = [Sm, .. command.Select(a => a.Replace("{missing}", Unique("cli-missing"), StringComparison.Ordinal).Replace("{existing}", existing, StringComparison.Ordinal))];

        var result = await Cli.RunAsync(arguments);

        Assert.True(result.ExitCode == ServiceErrorExitCode, $"aws {string.Join(' ', arguments)}: expected exit {ServiceErrorExitCode}: {result}");
        Assert.Contains($"An error occurred ({code}) when calling the {operation} operation", result.Stderr, StringComparison.Ordinal);
        if (message is not null)
        {
            Assert.Contains(": " + message.Replace("{existing}", existing, StringComparison.Ordinal), result.Stderr, StringComparison.Ordinal);
        }

        Assert.Equal(string.Empty, result.Stdout.Trim());
    }

    private async Task WaitUntilGoneAsync(string name)
    {
        for (var i = 0; i < 100; i++)
        {
            var result = await Cli.RunAsync(Sm, "describe-secret", "--secret-id", name);
            if (result.Stderr.Contains("(ResourceNotFoundException)", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"{name} still exists after a forced deletion");
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..10]}";

    private static string[] Members(JsonElement element) =>
        [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static string[] Tags(JsonElement described) =>
        [.. described.GetProperty("Tags").EnumerateArray()
            .Select(t => $"{t.GetProperty("Key").GetString()}={t.GetProperty("Value").GetString()}").Order(StringComparer.Ordinal)];

    private static List<string> ListedNames(JsonElement listed) =>
        [.. listed.GetProperty("SecretList").EnumerateArray().Select(e => e.GetProperty("Name").GetString()!)];

    private static void AssertArn(string? arn, string name) =>
        Assert.Matches($"^arn:aws:secretsmanager:us-east-1:\\d{{12}}:secret:{System.Text.RegularExpressions.Regex.Escape(name)}-[A-Za-z0-9]{{6}}$", arn);
}
