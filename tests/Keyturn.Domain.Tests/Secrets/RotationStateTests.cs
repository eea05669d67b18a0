using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Tests.Secrets;

/// <summary>RotateSecret's label check: AWSPENDING on a version without AWSCURRENT is a rotation not yet finished.</summary>
public sealed class RotationStateTests
{
    public static TheoryData<string, string[], string?> Cases => new()
    {
        // name, given versions, the unfinished rotation's version (null: RotateSecret accepts)
        { "only AWSCURRENT: accepted", ["v1:AWSCURRENT"], null },
        { "a finished rotation leaves AWSPENDING on the current version: accepted", ["v1:AWSPREVIOUS", "v2:AWSCURRENT,AWSPENDING"], null },
        { "AWSPENDING on its own version: refused", ["v1:AWSCURRENT", "v2:AWSPENDING"], "v2" },
        { "AWSPENDING on the previous version: refused", ["v1:AWSPREVIOUS,AWSPENDING", "v2:AWSCURRENT"], "v1" },
        { "AWSPENDING with no AWSCURRENT anywhere: refused", ["v1:", "v2:AWSPENDING"], "v2" },
        { "no labels at all: accepted", ["v1:"], null },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void InProgressVersion_SameOnASecretAndOnItsLabelMap(string name, string[] given, string? expected)
    {
        var secret = SecretBuilder.Build(given);
        var labels = secret.Versions.ToDictionary(v => v.VersionId, v => v.Stages);

        Assert.True(expected == RotationState.InProgressVersion(secret)?.VersionId, $"{name}: secret says {RotationState.InProgressVersion(secret)?.VersionId}");
        Assert.True(expected == RotationState.InProgressVersion(labels), $"{name}: label map says {RotationState.InProgressVersion(labels)}");
        Assert.Equal(expected is null, RotationState.AcceptsRotation(labels));
    }
}
