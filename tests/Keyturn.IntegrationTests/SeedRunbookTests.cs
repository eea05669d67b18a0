using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The field report's runbook, command for command, with the real AWS CLI v2: the label states it
/// shows and the outputs of list-secret-version-ids and update-secret-version-stage.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class SeedRunbookTests(ServerFixture fixture)
{
    private const string Previous = "8db5d941-83e3-48bc-b63c-adcb714da48d";
    private const string Current = "c7264842-7f5d-407a-9b8e-24e63385e62a";
    private const string Pending = "dfe186d3-7399-4f46-873a-a4f7078aa77f";

    [Fact]
    public async Task StuckPending_RemovedWithUpdateSecretVersionStage_LeavesCurrentAndPrevious()
    {
        var cli = fixture.Cli;
        var name = "seed-a-" + Guid.NewGuid().ToString("N")[..8] + "/AdminLoginInfo";
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--client-request-token", Previous,
            "--secret-string", """{"engine":"postgres","username":"postgresAdmin","password":"seed-old-pw"}""");
        await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", name, "--client-request-token", Current,
            "--secret-string", """{"engine":"postgres","username":"postgresAdmin","password":"seed-current-pw"}""");
        await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", name, "--client-request-token", Pending,
            "--secret-string", """{"engine":"postgres","username":"postgresAdmin","password":"seed-pending-pw"}""", "--version-stages", "AWSPENDING");
        foreach (var version in new[] { Previous, Current, Pending })
        {
            await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name, "--version-id", version);
        }

        // $ aws secretsmanager list-secret-version-ids --secret-id prd-db-cluster/AdminLoginInfo
        var listed = await cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name);
        AssertVersions(listed, name, (Pending, ["AWSPENDING"]), (Current, ["AWSCURRENT"]), (Previous, ["AWSPREVIOUS"]));
        foreach (var version in listed.GetProperty("Versions").EnumerateArray())
        {
            // The same members, in the same forms, as the report's output.
            Assert.Equal(["CreatedDate", "KmsKeyIds", "LastAccessedDate", "VersionId", "VersionStages"],
                version.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(["DefaultEncryptionKey"], version.GetProperty("KmsKeyIds").EnumerateArray().Select(e => e.GetString()));
            Assert.EndsWith("T00:00:00+00:00", version.GetProperty("LastAccessedDate").GetString(), StringComparison.Ordinal);
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$", version.GetProperty("CreatedDate").GetString()!);
        }

        // $ aws secretsmanager update-secret-version-stage --secret-id … --version-stage AWSPENDING --remove-from-version-id dfe186d3-…
        var updated = await cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name,
            "--version-stage", "AWSPENDING", "--remove-from-version-id", Pending);
        Assert.Equal(["ARN", "Name"], updated.EnumerateObject().Select(p => p.Name));
        Assert.Equal(name, updated.GetProperty("Name").GetString());
        Assert.Matches($"^arn:aws:secretsmanager:us-east-1:000000000000:secret:{name}-[A-Za-z0-9]{{6}}$", updated.GetProperty("ARN").GetString()!);

        listed = await cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name);
        AssertVersions(listed, name, (Current, ["AWSCURRENT"]), (Previous, ["AWSPREVIOUS"]));

        // The deprecated version is still there for the orphan scan.
        var all = await cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name, "--include-deprecated");
        var deprecated = all.GetProperty("Versions").EnumerateArray().Single(v => v.GetProperty("VersionId").GetString() == Pending);
        Assert.False(deprecated.TryGetProperty("VersionStages", out _));
    }

    [Fact]
    public async Task PendingOnCurrent_RolledBackToPrevious_MatchesTheReport()
    {
        var cli = fixture.Cli;
        const string old = "11c46614-f0fb-4695-9fd9-7792cac5aa32";
        const string rotated = "4bcc57ad-6901-489f-88cf-c5b56f14cbca";
        var name = "seed-b-" + Guid.NewGuid().ToString("N")[..8] + "/AdminLoginInfo";
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--client-request-token", old, "--secret-string", "seed-old");
        await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", name, "--client-request-token", rotated,
            "--secret-string", "seed-rotated", "--version-stages", "AWSPENDING");

        // finishSecret moved AWSCURRENT but the database never got the new password: the report's stuck state.
        await cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name,
            "--version-stage", "AWSCURRENT", "--move-to-version-id", rotated, "--remove-from-version-id", old);
        var listed = await cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name);
        AssertVersions(listed, name, (rotated, ["AWSCURRENT", "AWSPENDING"]), (old, ["AWSPREVIOUS"]));

        // A new rotation is refused while AWSPENDING sits on a version... here it sits on AWSCURRENT, so the
        // report's repair is the roll-back, verbatim:
        var rolledBack = await cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name,
            "--version-stage", "AWSCURRENT", "--remove-from-version-id", rotated, "--move-to-version-id", old);
        Assert.Equal(name, rolledBack.GetProperty("Name").GetString());

        listed = await cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name);
        AssertVersions(listed, name, (old, ["AWSCURRENT"]), (rotated, ["AWSPREVIOUS"]));
    }

    [Fact]
    public async Task MoveWithoutRemoveFrom_IsRefusedWithAwsMessage()
    {
        var cli = fixture.Cli;
        var name = "seed-c-" + Guid.NewGuid().ToString("N")[..8];
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--client-request-token", Previous, "--secret-string", "one");
        await cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", name, "--client-request-token", Pending,
            "--secret-string", "two", "--version-stages", "AWSPENDING");

        var stderr = await cli.ErrorAsync("InvalidParameterException", "secretsmanager", "update-secret-version-stage", "--secret-id", name,
            "--version-stage", "AWSCURRENT", "--move-to-version-id", Pending);

        Assert.Contains($"Staging label AWSCURRENT is currently attached to version {Previous}, so you must explicitly reference that version in RemoveFromVersionId.", stderr, StringComparison.Ordinal);
    }

    private static void AssertVersions(JsonElement listed, string name, params (string Id, string[] Stages)[] expected)
    {
        Assert.Equal(name, listed.GetProperty("Name").GetString());
        Assert.False(listed.TryGetProperty("NextToken", out _));
        var actual = listed.GetProperty("Versions").EnumerateArray()
            .ToDictionary(v => v.GetProperty("VersionId").GetString()!, v => v.GetProperty("VersionStages").EnumerateArray().Select(s => s.GetString()!).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(expected.Length, actual.Count);
        foreach (var (id, stages) in expected)
        {
            Assert.True(actual.ContainsKey(id), $"version {id} missing from {listed}");
            Assert.Equal(stages.Order(StringComparer.Ordinal), actual[id]);
        }
    }
}
