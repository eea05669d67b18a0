using System.Text.Json;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Rotation;

/// <summary>
/// What a rotation invocation must not store: the values of every version of the secret (deprecated ones
/// too, and the AWSPENDING value the invocation itself wrote) and of its master secret (the <c>masterarn</c>
/// of any version), read when the invocation's output is about to be stored. Of a value, masked are the
/// whole SecretString, every JSON string in it whatever its field is called, and a SecretBinary.
/// </summary>
public static class SecretRedaction
{
    public const string Mask = "********";

    /// <summary>
    /// The connection fields of AWS's rotation templates that describe where and as whom to log in, not how:
    /// the templates print them in their own log lines ("set password for user app_clone"), and masking
    /// the engine, host or user would leave the log unable to say what failed. Every other string is masked.
    /// </summary>
    private static readonly HashSet<string> DescriptiveFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "engine", "host", "port", "dbname", "username", "masterarn", "ssl", "dbClusterIdentifier", "dbInstanceIdentifier",
    };

    // ADO.NET, ODBC and JDBC spellings of a connection string's password key.
    private static readonly HashSet<string> PasswordKeys = new(StringComparer.OrdinalIgnoreCase) { "password", "pwd", "pass", "passwd" };

    /// <summary>A masker for the secret's values, its master's and <paramref name="extraSecrets"/> (values one invocation adds, such as the function's own key).</summary>
    public static async ValueTask<SecretMasker> MaskerForAsync(
        SecretServices services, ISecretSession session, string secretArn, IEnumerable<string> extraSecrets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(session);
        var texts = new List<string>(extraSecrets);
        var binaries = new List<byte[]>();
        var masters = new HashSet<string>(StringComparer.Ordinal);
        var secret = await session.FindByArnAsync(secretArn, cancellationToken).ConfigureAwait(false);
        if (secret is not null)
        {
            await CollectAsync(services, session, secret, texts, binaries, masters, cancellationToken).ConfigureAwait(false);
            foreach (var masterId in masters)
            {
                if (await FindMasterAsync(session, secret.Region, masterId, cancellationToken).ConfigureAwait(false) is { } master && master.Arn != secret.Arn)
                {
                    await CollectAsync(services, session, master, texts, binaries, null, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return SecretMasker.Create(texts, binaries);
    }

    private static async Task CollectAsync(
        SecretServices services, ISecretSession session, Secret secret, List<string> texts, List<byte[]> binaries, HashSet<string>? masters, CancellationToken cancellationToken)
    {
        foreach (var version in secret.Versions.Where(v => v.HasValue))
        {
            string? text;
            byte[]? binary;
            try
            {
                (text, binary) = await services.OpenAsync(session, secret, version, cancellationToken).ConfigureAwait(false);
            }
            catch (ServiceException)
            {
                // A value that cannot be decrypted cannot have been handed to the function either.
                continue;
            }

            if (binary is not null)
            {
                binaries.Add(binary);
            }

            if (text is not null)
            {
                AddText(text, texts, masters);
            }
        }
    }

    /// <summary>
    /// A masker for SecretString values a client read (the doctor, quoting a rotation function's log that Keyturn did
    /// not store: CloudWatch's, or a saved file), masked as an invocation's output is.
    /// </summary>
    public static SecretMasker MaskerFor(IEnumerable<string> secretStrings)
    {
        ArgumentNullException.ThrowIfNull(secretStrings);
        var texts = new List<string>();
        foreach (var text in secretStrings)
        {
            AddText(text, texts, null);
        }

        return SecretMasker.Create(texts);
    }

    private static void AddText(string text, List<string> texts, HashSet<string>? masters)
    {
        texts.Add(text);
        AddConnectionStringPasswords(text, texts);
        AddJsonStrings(text, texts, masters);
    }

    private static void AddJsonStrings(string text, List<string> texts, HashSet<string>? masters)
    {
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.Length == 0 || (trimmed[0] != '{' && trimmed[0] != '['))
        {
            return;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            Walk(document.RootElement, null, texts);
            if (masters is not null
                && document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("masterarn", out var master)
                && master.ValueKind == JsonValueKind.String
                && !string.IsNullOrEmpty(master.GetString()))
            {
                masters.Add(master.GetString()!);
            }
        }
        catch (JsonException)
        {
            // Not JSON after all: the whole value is masked as text.
        }
    }

    // Numbers and booleans are left alone: a port or a flag is no secret, and masking them would hide ports and ids in every line.
    private static void Walk(JsonElement element, string? field, List<string> texts)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String when field is null || !DescriptiveFields.Contains(field):
                var value = element.GetString()!;
                texts.Add(value);
                AddConnectionStringPasswords(value, texts);
                break;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Walk(property.Value, property.Name, texts);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Walk(item, field, texts);
                }

                break;
        }
    }

    /// <summary>
    /// The password inside a connection string kept in a field (<c>postgresql://app:PW@host/db</c>,
    /// <c>Server=h;Pwd=PW;</c>), which a function may print alone once it has taken the string apart.
    /// </summary>
    private static void AddConnectionStringPasswords(string value, List<string> texts)
    {
        if (value.Contains("://", StringComparison.Ordinal)
            && Uri.TryCreate(value, UriKind.Absolute, out var uri)
            && uri.UserInfo.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
        {
            var password = uri.UserInfo[(colon + 1)..];
            texts.Add(password);
            texts.Add(Uri.UnescapeDataString(password));
        }

        if (value.Contains('=', StringComparison.Ordinal))
        {
            foreach (var pair in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals > 0 && PasswordKeys.Contains(pair[..equals].Trim()))
                {
                    texts.Add(pair[(equals + 1)..].Trim().Trim('"', '\''));
                }
            }
        }
    }

    /// <summary>The master as a built-in function would resolve it: a full ARN, a partial ARN or a name in the secret's region.</summary>
    private static async ValueTask<Secret?> FindMasterAsync(ISecretSession session, string region, string masterId, CancellationToken cancellationToken)
    {
        if (SecretNames.TryGetArnResource(masterId, out var resource))
        {
            return await session.FindByArnAsync(masterId, cancellationToken).ConfigureAwait(false)
                ?? (SecretNames.IsValidName(resource) ? await session.FindByNameAsync(region, resource, cancellationToken).ConfigureAwait(false) : null);
        }

        return SecretNames.IsValidName(masterId) ? await session.FindByNameAsync(region, masterId, cancellationToken).ConfigureAwait(false) : null;
    }
}
