using Keyturn.Domain.Errors;
using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Tests.Secrets;

/// <summary>The label rules, case by case from the spec (§4 and the edge cases of §6).</summary>
public sealed class StageRulesTests
{
    public static TheoryData<string, string[], string?, string[]?, string> ValueWrites => new()
    {
        // name, given versions, new version id, requested stages (null = default), expected
        { "first value becomes AWSCURRENT (case 4)", [], "v1", null, "v1:AWSCURRENT" },
        { "first value with only custom stages still gets AWSCURRENT", [], "v1", ["ONE"], "v1:AWSCURRENT,ONE" },
        { "put moves AWSCURRENT and makes AWSPREVIOUS (case 21)", ["v1:AWSCURRENT"], "v2", null, "v1:AWSPREVIOUS v2:AWSCURRENT" },
        { "third put deprecates the oldest (case 22)", ["v1:AWSPREVIOUS", "v2:AWSCURRENT"], "v3", null, "v1: v2:AWSPREVIOUS v3:AWSCURRENT" },
        { "put with AWSPENDING leaves current alone (case 24)", ["v1:AWSCURRENT"], "v2", ["AWSPENDING"], "v1:AWSCURRENT v2:AWSPENDING" },
        { "put after a finished rotation drops AWSPENDING from the old current (case 26)", ["v1:AWSPREVIOUS", "v2:AWSCURRENT,AWSPENDING"], "v3", null, "v1: v2:AWSPREVIOUS v3:AWSCURRENT" },
        { "put of AWSPENDING moves it off the current (case 27)", ["v2:AWSCURRENT,AWSPENDING"], "v3", ["AWSPENDING"], "v2:AWSCURRENT v3:AWSPENDING" },
        { "custom labels are accepted and kept (case 28)", ["v1:AWSCURRENT"], "v2", ["AWSSOMETHING", "AWSPENDING", "PUT1"], "v1:AWSCURRENT v2:AWSPENDING,AWSSOMETHING,PUT1" },
        { "all labels stolen deprecates the old version (case 30)", ["v1:AWSCURRENT", "v2:one,three,two"], "v3", ["one", "two", "three", "four"], "v1:AWSCURRENT v2: v3:four,one,three,two" },
        { "some labels stolen (case 31)", ["v1:AWSCURRENT", "v2:one,three,two"], "v3", ["one", "two", "four"], "v1:AWSCURRENT v2:three v3:four,one,two" },
        { "a new current abandons a pending rotation on another version", ["v1:AWSCURRENT", "v2:AWSPENDING"], "v3", null, "v1:AWSPREVIOUS v2: v3:AWSCURRENT" },
        { "old current keeps its custom labels", ["v1:AWSCURRENT,PUT0"], "v2", null, "v1:AWSPREVIOUS,PUT0 v2:AWSCURRENT" },
    };

    [Theory]
    [MemberData(nameof(ValueWrites))]
    public void ApplyValueWrite_Cases_MatchAws(string name, string[] given, string? newVersion, string[]? stages, string expected)
    {
        var secret = SecretBuilder.Build(given);
        var version = SecretBuilder.Add(secret, newVersion!);

        StageRules.ApplyValueWrite(secret, version, stages);

        Assert.True(expected == SecretBuilder.Describe(secret), $"{name}: expected '{expected}', got '{SecretBuilder.Describe(secret)}'");
    }

    public static TheoryData<string, string[], string, string?, string?, string> StageMoves => new()
    {
        // name, given, label, remove-from, move-to, expected
        { "finishSecret keeps AWSPENDING on the new current (case 25)", ["v1:AWSCURRENT", "v2:AWSPENDING"], "AWSCURRENT", "v1", "v2", "v1:AWSPREVIOUS v2:AWSCURRENT,AWSPENDING" },
        { "moving AWSCURRENT takes AWSPREVIOUS from its holder (case 29)", ["v1:AWSPREVIOUS", "v2:AWSCURRENT,PUT0", "v3:AWSPENDING,PUT1"], "AWSCURRENT", "v2", "v3", "v1: v2:AWSPREVIOUS,PUT0 v3:AWSCURRENT,AWSPENDING,PUT1" },
        { "roll back to AWSPREVIOUS also drops AWSPENDING (seed's second repair)", ["v1:AWSPREVIOUS", "v2:AWSCURRENT,AWSPENDING"], "AWSCURRENT", "v2", "v1", "v1:AWSCURRENT v2:AWSPREVIOUS" },
        { "remove a stuck AWSPENDING (seed)", ["v1:AWSPREVIOUS", "v2:AWSCURRENT", "v3:AWSPENDING"], "AWSPENDING", "v3", null, "v1:AWSPREVIOUS v2:AWSCURRENT v3:" },
        { "remove a custom label leaves the rest (case 32)", ["v1:AWSPREVIOUS", "v2:AWSCURRENT,PENDING"], "PENDING", "v2", null, "v1:AWSPREVIOUS v2:AWSCURRENT" },
        { "attach an unheld label needs no RemoveFromVersionId", ["v1:AWSCURRENT", "v2:"], "BLUE", null, "v2", "v1:AWSCURRENT v2:BLUE" },
        { "moving onto the holder is a no-op", ["v1:AWSCURRENT"], "AWSCURRENT", null, "v1", "v1:AWSCURRENT" },
        { "moving a custom label doesn't touch AWSPREVIOUS", ["v1:AWSPREVIOUS", "v2:AWSCURRENT,GREEN", "v3:"], "GREEN", "v2", "v3", "v1:AWSPREVIOUS v2:AWSCURRENT v3:GREEN" },
    };

    [Theory]
    [MemberData(nameof(StageMoves))]
    public void UpdateVersionStage_Cases_MatchAws(string name, string[] given, string label, string? removeFrom, string? moveTo, string expected)
    {
        var secret = SecretBuilder.Build(given);

        StageRules.UpdateVersionStage(secret, label, removeFrom, moveTo);

        Assert.True(expected == SecretBuilder.Describe(secret), $"{name}: expected '{expected}', got '{SecretBuilder.Describe(secret)}'");
    }

    public static TheoryData<string, string[], string, string?, string?, ErrorKind, string> StageMoveErrors => new()
    {
        { "RemoveFromVersionId missing (case 33)", ["v1:AWSCURRENT", "v2:AWSPENDING"], "AWSCURRENT", null, "v2", ErrorKind.InvalidParameter,
            "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version v1, so you must explicitly reference that version in RemoveFromVersionId." },
        { "RemoveFromVersionId names the wrong version", ["v1:AWSCURRENT", "v2:AWSPENDING", "v3:"], "AWSCURRENT", "v3", "v2", ErrorKind.InvalidParameter,
            "The parameter RemoveFromVersionId doesn't match. Staging label AWSCURRENT is currently attached to version v1, not to version v3." },
        { "MoveToVersionId doesn't exist", ["v1:AWSCURRENT"], "AWSCURRENT", "v1", "nope", ErrorKind.InvalidParameter,
            "The parameter MoveToVersionId is invalid: version nope doesn't exist for this secret." },
        { "removing a label the version doesn't hold", ["v1:AWSCURRENT", "v2:"], "AWSPENDING", "v2", null, ErrorKind.InvalidParameter,
            "The staging label AWSPENDING isn't attached to version v2, so it can't be removed from it." },
        { "removing AWSCURRENT without a new holder", ["v1:AWSCURRENT"], "AWSCURRENT", "v1", null, ErrorKind.InvalidParameter,
            "You can't remove the staging label AWSCURRENT from a version without moving it to another version. Specify MoveToVersionId." },
        { "neither version given", ["v1:AWSCURRENT"], "AWSPENDING", null, null, ErrorKind.InvalidParameter,
            "You must specify at least one of RemoveFromVersionId and MoveToVersionId." },
    };

    [Theory]
    [MemberData(nameof(StageMoveErrors))]
    public void UpdateVersionStage_InvalidMoves_FailWithoutChanges(string name, string[] given, string label, string? removeFrom, string? moveTo, ErrorKind kind, string message)
    {
        var secret = SecretBuilder.Build(given);
        var before = SecretBuilder.Describe(secret);

        var error = Assert.Throws<ServiceException>(() => StageRules.UpdateVersionStage(secret, label, removeFrom, moveTo));

        Assert.Equal(kind, error.Kind);
        Assert.Equal(message, error.Message);
        Assert.True(before == SecretBuilder.Describe(secret), name);
    }

    [Fact]
    public void ApplyValueWrite_TwentyFirstLabel_ThrowsLimitExceeded()
    {
        var labels = string.Join(",", Enumerable.Range(1, 19).Select(i => "L" + i));
        var secret = SecretBuilder.Build("v1:AWSCURRENT," + labels);
        var version = SecretBuilder.Add(secret, "v2");

        StageRules.ApplyValueWrite(secret, version, ["L1"]);
        var third = SecretBuilder.Add(secret, "v3");
        var error = Assert.Throws<ServiceException>(() => StageRules.ApplyValueWrite(secret, third, ["NEW"]));

        Assert.Equal(ErrorKind.LimitExceeded, error.Kind);
    }

    [Fact]
    public void Attach_AnyOrderOfMoves_KeepsOneHolderPerLabel()
    {
        var random = new Random(1234);
        string[] labels = ["AWSCURRENT", "AWSPENDING", "AWSPREVIOUS", "A", "B"];
        var secret = SecretBuilder.Build("v0:AWSCURRENT");
        for (var i = 1; i < 200; i++)
        {
            var target = random.Next(3) == 0 ? SecretBuilder.Add(secret, "v" + i) : secret.Versions[random.Next(secret.Versions.Count)];
            StageRules.Attach(secret, labels[random.Next(labels.Length)], target);

            foreach (var label in labels)
            {
                Assert.True(secret.Versions.Count(v => v.HasStage(label)) <= 1, $"label {label} has more than one holder after move {i}");
            }

            Assert.Single(secret.Versions, v => v.HasStage("AWSCURRENT"));
        }
    }
}
