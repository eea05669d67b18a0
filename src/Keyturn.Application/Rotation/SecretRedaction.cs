using System.Text.Json;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Keeps secret values out of rotation logs even when an external function prints them: every
/// value of the secret's recent versions, and every password-like JSON field in them, is masked.
/// </summary>
public static class SecretRedaction
{
    public const string Mask = "****";

    private const int MinimumLength = 4;

    public static IReadOnlyList<string> SensitiveValues(SecretServices services, ISecretSession session, string secretArn)
    {
        var secret = session.FindByArn(secretArn);
        if (secret is null)
        {
            return [];
        }

        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var version in secret.Versions.Where(v => v.HasValue).OrderByDescending(v => v.CreatedDate).Take(10))
        {
            var (text, _) = services.Open(session, secret, version);
            if (text is null)
            {
                continue;
            }

            Add(values, text);
            AddJsonFields(values, text);
        }

        // Longest first, so a value containing another is masked whole.
        return values.OrderByDescending(v => v.Length).ToList();
    }

    public static string Redact(string message, IReadOnlyList<string> values)
    {
        foreach (var value in values)
        {
            if (message.Contains(value, StringComparison.Ordinal))
            {
                message = message.Replace(value, Mask, StringComparison.Ordinal);
            }
        }

        return message;
    }

    private static void AddJsonFields(HashSet<string> values, string text)
    {
        if (!text.TrimStart().StartsWith('{'))
        {
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String && IsSensitiveName(property.Name))
                {
                    Add(values, property.Value.GetString()!);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON after all: the whole value is already masked.
        }
    }

    private static bool IsSensitiveName(string name) =>
        name.Contains("password", StringComparison.OrdinalIgnoreCase)
        || name.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || name.Contains("token", StringComparison.OrdinalIgnoreCase)
        || name.Contains("key", StringComparison.OrdinalIgnoreCase);

    private static void Add(HashSet<string> values, string value)
    {
        if (value.Length >= MinimumLength)
        {
            values.Add(value);
        }
    }
}
