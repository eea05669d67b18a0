using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Tests.Secrets;

/// <summary>Builds secrets with labelled versions for the label-rule tables ("v1:AWSCURRENT,PUT0").</summary>
internal static class SecretBuilder
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static Secret Build(params string[] versions)
    {
        var secret = new Secret("arn:aws:secretsmanager:us-east-1:000000000000:secret:s-AbCdEf", "s", "us-east-1", Start);
        var minute = 0;
        foreach (var spec in versions)
        {
            var parts = spec.Split(':', 2);
            var version = new SecretVersion(parts[0], Start.AddMinutes(minute++), hasValue: true);
            version.RestoreStages(parts.Length > 1 && parts[1].Length > 0 ? parts[1].Split(',') : []);
            secret.AddVersion(version);
        }

        return secret;
    }

    public static SecretVersion Add(Secret secret, string id)
    {
        var version = new SecretVersion(id, Start.AddHours(1 + secret.Versions.Count), hasValue: true);
        secret.AddVersion(version);
        return version;
    }

    /// <summary>"v1:AWSPREVIOUS v2:AWSCURRENT,AWSPENDING v3:" with labels sorted, versions in id order.</summary>
    public static string Describe(Secret secret) => string.Join(" ", secret.Versions
        .OrderBy(v => v.VersionId, StringComparer.Ordinal)
        .Select(v => v.VersionId + ":" + string.Join(",", v.Stages.Order(StringComparer.Ordinal))));
}
