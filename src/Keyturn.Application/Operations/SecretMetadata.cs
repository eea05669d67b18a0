using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record RotationRulesType(long? AutomaticallyAfterDays, string? Duration, string? ScheduleExpression);

/// <summary>
/// The metadata members DescribeSecret and ListSecrets share. Absent members stay null so they are
/// omitted on the wire (spec §2.4).
/// </summary>
internal static class SecretMetadata
{
    public static Dictionary<string, IReadOnlyList<string>>? VersionsToStages(Secret secret)
    {
        Dictionary<string, IReadOnlyList<string>>? map = null;
        foreach (var version in secret.Versions)
        {
            if (!version.IsDeprecated)
            {
                map ??= new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
                map[version.VersionId] = [.. version.Stages];
            }
        }

        return map;
    }

    public static RotationRulesType? Rules(Secret secret) => secret.Rotation is { } r
        ? new RotationRulesType(r.AutomaticallyAfterDays, r.Duration, r.ScheduleExpression)
        : null;

    public static DateTimeOffset? NextRotationDate(Secret secret) =>
        secret.Rotation is { Enabled: true } ? secret.NextRotationDate : null;
}
