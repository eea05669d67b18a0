using System.Text.Json;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Rotation;

/// <summary>The <c>masterarn</c> a secret's AWSCURRENT value names: the secret a rotation of it would read besides its own.</summary>
public static class MasterSecrets
{
    /// <summary>The <c>masterarn</c> string field of the AWSCURRENT JSON value, or null (no value, not JSON, no field).</summary>
    public static async ValueTask<string?> MasterArnOfAsync(SecretServices services, ISecretSession session, Secret secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (secret.HolderOf(StagingLabels.Current) is not { HasValue: true } current)
        {
            return null;
        }

        string? text;
        try
        {
            (text, _) = await services.OpenAsync(session, secret, current, cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceException)
        {
            return null;
        }

        if (text is null || !text.TrimStart().StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("masterarn", out var master)
                && master.ValueKind == JsonValueKind.String
                && master.GetString() is { Length: > 0 } value
                ? value
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
