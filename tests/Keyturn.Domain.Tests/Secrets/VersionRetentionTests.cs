using Keyturn.Domain.Errors;
using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Tests.Secrets;

public sealed class VersionRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Enforce_OldDeprecatedVersions_PurgesOldestFirst()
    {
        var secret = new Secret("arn", "s", "us-east-1", Now.AddDays(-30));
        for (var i = 0; i < 101; i++)
        {
            secret.AddVersion(new SecretVersion($"old{i:D3}", Now.AddDays(-10).AddMinutes(i), hasValue: true));
        }

        var current = new SecretVersion("new", Now, hasValue: true);
        current.RestoreStages(["AWSCURRENT"]);
        secret.AddVersion(current);

        var removed = VersionRetention.Enforce(secret, Now);

        Assert.Equal(["old000", "old001"], removed.Select(v => v.VersionId));
        Assert.Equal(100, secret.Versions.Count);
    }

    [Fact]
    public void Enforce_AllVersionsYoungerThanADay_ThrowsLimitExceeded()
    {
        var secret = new Secret("arn", "s", "us-east-1", Now);
        for (var i = 0; i < 101; i++)
        {
            secret.AddVersion(new SecretVersion($"v{i:D3}", Now.AddHours(-23), hasValue: true));
        }

        var error = Assert.Throws<ServiceException>(() => VersionRetention.Enforce(secret, Now));

        Assert.Equal(ErrorKind.LimitExceeded, error.Kind);
    }
}
