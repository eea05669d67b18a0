using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Keyturn.Domain.Rotation;

/// <summary>
/// The JSON a database secret holds, read the way AWS's rotation templates read it: <c>engine</c>, <c>host</c>,
/// <c>username</c> and <c>password</c> are required; <c>port</c> (number or string), <c>dbname</c>,
/// <c>masterarn</c> and <c>ssl</c> (bool or "true"/"false") are optional. Fields this type does not know are kept
/// as they are by <see cref="ToJson"/>, so a rotation only ever changes the password (and, for alternating
/// users, the username).
/// </summary>
public sealed class DatabaseSecret
{
    public const string CloneSuffix = "_clone";

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        // Keep punctuation readable in the stored value: '+', '&', '<' and quotes stay as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly JsonObject _json;

    private DatabaseSecret(JsonObject json, DatabaseEngine descriptor, string declaredEngine, string host, int port, string username, string password, string? dbName, string? masterArn, bool? ssl)
    {
        _json = json;
        Descriptor = descriptor;
        DeclaredEngine = declaredEngine;
        Host = host;
        Port = port;
        Username = username;
        Password = password;
        DbName = dbName;
        MasterArn = masterArn;
        Ssl = ssl;
    }

    /// <summary>The engine family (<see cref="DatabaseEngine.Family"/>): <c>postgres</c> for <c>aurora-postgresql</c>, <c>mysql</c> for <c>mariadb</c>.</summary>
    public string Engine => Descriptor.Family;

    /// <summary>What Keyturn knows of the engine: defaults and limits, from the rotator that serves it.</summary>
    public DatabaseEngine Descriptor { get; }

    /// <summary>The <c>engine</c> value as written in the secret (for example <c>aurora-postgresql</c> or <c>mariadb</c>).</summary>
    public string DeclaredEngine { get; }

    public string Host { get; }

    /// <summary>The <c>port</c> field, or the engine's default (5432, 3306) when it is absent.</summary>
    public int Port { get; }

    public string Username { get; }

    public string Password { get; }

    /// <summary>The <c>dbname</c> field, or <see langword="null"/>. PostgreSQL rotators default to <c>postgres</c>.</summary>
    public string? DbName { get; }

    /// <summary>The <c>masterarn</c> field: the secret of the user that manages alternating users.</summary>
    public string? MasterArn { get; }

    /// <summary><see langword="true"/>: TLS only; <see langword="false"/>: plaintext only; <see langword="null"/> (absent or not a recognised value): TLS first, then plaintext.</summary>
    public bool? Ssl { get; }

    /// <summary>
    /// Reads a secret value for one of <paramref name="engines"/>; throws <see cref="DatabaseSecretException"/> naming
    /// the first problem (an <c>engine</c> no rotator serves sets <see cref="DatabaseSecretException.UnsupportedEngine"/>).
    /// </summary>
    public static DatabaseSecret Parse(string json, DatabaseEngineCatalog engines)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(engines);
        var root = ParseObject(json);

        var declaredEngine = RequiredString(root, "engine");
        var descriptor = engines.Find(declaredEngine)
            ?? throw new DatabaseSecretException(
                $"The secret JSON's 'engine' field is '{declaredEngine}'; database rotation supports {string.Join(", ", engines.EngineValues)}.")
            {
                UnsupportedEngine = declaredEngine,
            };
        var host = RequiredString(root, "host");
        var username = RequiredString(root, "username");
        var password = RequiredString(root, "password", allowEmpty: true);
        var port = ReadPort(root) ?? descriptor.DefaultPort;
        var dbName = OptionalString(root, "dbname");
        var masterArn = OptionalString(root, "masterarn");
        var ssl = ReadSsl(root);

        return new DatabaseSecret(root, descriptor, declaredEngine, host, port, username, password, dbName, masterArn, ssl);
    }

    /// <summary>
    /// The other user of an alternating pair: <c>name</c> → <c>name_clone</c> and <c>name_clone</c> → <c>name</c>.
    /// Refuses a clone name longer than the server takes (<see cref="DatabaseEngine.UsernameLimitFor"/>: PostgreSQL
    /// truncates longer identifiers, which would make the "clone" the same role; MySQL and MariaDB refuse them).
    /// </summary>
    public string AlternateUsername()
    {
        if (Username.EndsWith(CloneSuffix, StringComparison.Ordinal))
        {
            var original = Username[..^CloneSuffix.Length];
            if (original.Length == 0)
            {
                throw new DatabaseSecretException($"Unable to alternate user '{Username}': removing '{CloneSuffix}' leaves an empty name.");
            }

            return original;
        }

        var clone = Username + CloneSuffix;
        var limit = Descriptor.UsernameLimitFor(DeclaredEngine);
        if (!limit.Allows(clone))
        {
            throw new DatabaseSecretException(
                $"Unable to clone user '{Username}': with '{CloneSuffix}' appended the name would exceed {limit}.");
        }

        return clone;
    }

    /// <summary>The same secret with another password; every other field, known or not, stays as it was.</summary>
    public DatabaseSecret WithPassword(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var json = (JsonObject)_json.DeepClone();
        json["password"] = password;
        return new DatabaseSecret(json, Descriptor, DeclaredEngine, Host, Port, Username, password, DbName, MasterArn, Ssl);
    }

    /// <summary>The same secret with another username; every other field, known or not, stays as it was.</summary>
    public DatabaseSecret WithUsername(string username)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        var json = (JsonObject)_json.DeepClone();
        json["username"] = username;
        return new DatabaseSecret(json, Descriptor, DeclaredEngine, Host, Port, username, Password, DbName, MasterArn, Ssl);
    }

    /// <summary>The secret as compact JSON, fields in their original order, unknown fields included.</summary>
    public string ToJson() => _json.ToJsonString(WriteOptions);

    /// <summary>Describes the secret without its password.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{DeclaredEngine}://{Username}@{Host}:{Port}/{DbName ?? string.Empty}");

    private static JsonObject ParseObject(string json)
    {
        // Parse with JsonDocument first: its errors carry positions, never input text, and duplicates are
        // found before a JsonObject would refuse them with an exception naming the key.
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DatabaseSecretException("The secret value is not a JSON object.");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new DatabaseSecretException($"The secret JSON has the '{property.Name}' field more than once.");
                }
            }

            return JsonObject.Create(document.RootElement.Clone())!;
        }
        catch (JsonException e)
        {
            // The driver's message can quote a fragment of the input, which may be the password.
            var where = e.LineNumber is { } line && e.BytePositionInLine is { } position
                ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, byte {position + 1})")
                : string.Empty;
            throw new DatabaseSecretException($"The secret value is not valid JSON{where}.");
        }
    }

    private static string RequiredString(JsonObject root, string name, bool allowEmpty = false)
    {
        if (!root.TryGetPropertyValue(name, out var node) || node is null)
        {
            throw new DatabaseSecretException($"The secret JSON is missing the '{name}' field.");
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            throw new DatabaseSecretException($"The secret JSON's '{name}' field must be a string.");
        }

        var value = node.GetValue<string>();
        if (!allowEmpty && value.Trim().Length == 0)
        {
            throw new DatabaseSecretException($"The secret JSON's '{name}' field is empty.");
        }

        return value;
    }

    private static string? OptionalString(JsonObject root, string name)
    {
        if (!root.TryGetPropertyValue(name, out var node) || node is null)
        {
            return null;
        }

        if (node.GetValueKind() != JsonValueKind.String)
        {
            throw new DatabaseSecretException($"The secret JSON's '{name}' field must be a string.");
        }

        var value = node.GetValue<string>();
        return value.Length == 0 ? null : value;
    }

    private static int? ReadPort(JsonObject root)
    {
        if (!root.TryGetPropertyValue("port", out var node) || node is null)
        {
            return null;
        }

        var text = node.GetValueKind() switch
        {
            JsonValueKind.Number => node.ToJsonString(),
            JsonValueKind.String => node.GetValue<string>().Trim(),
            _ => null,
        };
        if (text is not null
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            && port is >= 1 and <= 65535)
        {
            return port;
        }

        throw new DatabaseSecretException("The secret JSON's 'port' field must be a whole number from 1 to 65535 (a JSON number or a string).");
    }

    private static bool? ReadSsl(JsonObject root)
    {
        // As AWS's get_ssl_config: a bool, or "true"/"false" in any case; any other value (or none) means
        // "try TLS, then plaintext" rather than an error.
        if (!root.TryGetPropertyValue("ssl", out var node) || node is null)
        {
            return null;
        }

        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => node.GetValue<string>().ToLowerInvariant() switch
            {
                "true" => true,
                "false" => false,
                _ => null,
            },
            _ => null,
        };
    }
}
