using Keyturn.Domain.Errors;

namespace Keyturn.Domain.Secrets;

/// <summary>
/// AWS keeps about 100 versions per secret: deprecated versions beyond that are purged, but never
/// ones younger than 24 hours, so writing values too fast hits LimitExceededException (spec §2.2).
/// </summary>
public static class VersionRetention
{
    public const int MaxVersions = 100;

    public static readonly TimeSpan MinimumAge = TimeSpan.FromHours(24);

    /// <summary>Removes purgeable versions (oldest first) and returns them, or throws if the quota can't be met.</summary>
    public static IReadOnlyList<SecretVersion> Enforce(Secret secret, DateTimeOffset now)
    {
        if (secret.Versions.Count <= MaxVersions)
        {
            return [];
        }

        var purgeable = secret.Versions
            .Where(v => v.IsDeprecated && now - v.CreatedDate >= MinimumAge)
            .OrderBy(v => v.CreatedDate)
            .ToList();

        var removed = new List<SecretVersion>();
        foreach (var version in purgeable)
        {
            if (secret.Versions.Count <= MaxVersions)
            {
                break;
            }

            secret.RemoveVersion(version);
            removed.Add(version);
        }

        if (secret.Versions.Count > MaxVersions)
        {
            throw new ServiceException(ErrorKind.LimitExceeded,
                $"You have exceeded the maximum number of versions ({MaxVersions}) for this secret. Secrets Manager deletes deprecated versions only after they are 24 hours old; try again later.");
        }

        return removed;
    }
}
