using Keyturn.Application.Ports;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

/// <summary>
/// The value write shared by CreateSecret, PutSecretValue and UpdateSecret: ClientRequestToken
/// idempotency, filling a rotation placeholder, labelling and the version quota (spec §4.3, §4.4).
/// </summary>
internal static class ValueWriter
{
    public static void RequireOneValue(string? secretString, byte[]? secretBinary)
    {
        if (secretString is not null && secretBinary is not null)
        {
            throw new ServiceException(ErrorKind.InvalidParameter,
                "You can't specify both a binary secret value and a string secret value in the same secret.");
        }
    }

    /// <summary>Writes the value and returns the version that now holds it.</summary>
    public static async ValueTask<SecretVersion> WriteAsync(
        SecretServices services, ISecretSession session, Secret secret, string token,
        string? secretString, byte[]? secretBinary, IReadOnlyList<string>? stages, CancellationToken cancellationToken)
    {
        var existing = secret.FindVersion(token);
        if (existing is not null && existing.HasValue)
        {
            if (await services.HasSameValueAsync(session, secret, existing, secretString, secretBinary, cancellationToken).ConfigureAwait(false))
            {
                return existing;
            }

            throw ServiceException.TokenInUse(token, secret.Arn);
        }

        var now = services.Now;
        var version = existing;
        if (version is null)
        {
            version = new SecretVersion(token, now);
            secret.AddVersion(version);
        }

        version.SetValue(services.Seal(secret, token, secretString, secretBinary));
        var wasCurrent = version.HasStage(StagingLabels.Current);
        StageRules.ApplyValueWrite(secret, version, stages);
        if (!wasCurrent && version.HasStage(StagingLabels.Current) && secret.Rotation is { Enabled: true })
        {
            // A manual value change counts as a rotation when the next rotation date is computed.
            secret.NextRotationDate = Rotation.RotationSchedules.NextRotationDate(secret, now);
        }

        VersionRetention.Enforce(secret, now);
        secret.LastChangedDate = now;
        return version;
    }
}
