using System.Globalization;
using System.Text;
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
    public const string Postgres = "postgres";
    public const string MySql = "mysql";
    public const string CloneSuffix = "_clone";

    /// <summary>PostgreSQL identifiers are at most NAMEDATALEN - 1 = 63 bytes; longer names are silently truncated.</summary>
    public const int PostgresUsernameBytes = 63;

    /// <summary>MySQL 5.7.8 and later (Aurora MySQL 2 and 3, MySQL 8 and 9) allow 32-character user names.</summary>
    public const int MySqlUsernameCharacters = 32;

    /// <summary>
    /// MariaDB has allowed 80-character user names for a long time (10.11 even takes 128); 80 holds on every
    /// maintained release, including the older ones RDS still runs.
    /// </summary>
    public const int MariaDbUsernameCharacters = 80;

    /// <summary>AWS's PostgreSQL default <c>EXCLUDE_CHARACTERS</c>: the colon breaks <c>.pgpass</c>, the others URIs and quoting.</summary>
    public const string PostgresExcludedCharacters = ":/@\"'\\";

    /// <summary>AWS's MySQL default <c>EXCLUDE_CHARACTERS</c> (the colon is allowed).</summary>
    public const string MySqlExcludedCharacters = "/@\"'\\";

    private static readonly JsonSerializerOptions WriteOptions = new()
    {
        // Keep punctuation readable in the stored value: '+', '&', '<' and quotes stay as they are.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly JsonObject _json;

    private DatabaseSecret(JsonObject json, string engine, string declaredEngine, string host, int port, string username, string password, string? dbName, string? masterArn, bool? ssl)
    {
        _json = json;
        Engine = engine;
        DeclaredEngine = declaredEngine;
        Host = host;
        Port = port;
        Username = username;
        Password = password;
        DbName = dbName;
        MasterArn = masterArn;
        Ssl = ssl;
    }

    /// <summary>The engine family: <see cref="Postgres"/> or <see cref="MySql"/>.</summary>
    public string Engine { get; }

    /// <summary>The <c>engine</c> value as written in the secret (for example <c>aurora-postgresql</c> or <c>mariadb</c>).</summary>
    public string DeclaredEngine { get; }

    public string Host { get; }

    /// <summary>The <c>port</c> field, or 5432 / 3306 when it is absent.</summary>
    public int Port { get; }

    public string Username { get; }

    public string Password { get; }

    /// <summary>The <c>dbname</c> field, or <see langword="null"/>. PostgreSQL rotators default to <c>postgres</c>.</summary>
    public string? DbName { get; }

    /// <summary>The <c>masterarn</c> field: the secret of the user that manages alternating users.</summary>
    public string? MasterArn { get; }

    /// <summary><see langword="true"/>: TLS only; <see langword="false"/>: plaintext only; <see langword="null"/> (absent or not a recognised value): TLS first, then plaintext.</summary>
    public bool? Ssl { get; }

    /// <summary>Reads a secret value; throws <see cref="DatabaseSecretException"/> naming the first problem.</summary>
    public static DatabaseSecret Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var root = ParseObject(json);

        var declaredEngine = RequiredString(root, "engine");
        var engine = NormalizeEngine(declaredEngine)
            ?? throw new DatabaseSecretException(
                $"The secret JSON's 'engine' field is '{declaredEngine}'; database rotation supports postgres, aurora-postgresql, postgresql, mysql, mariadb and aurora-mysql.")
            {
                UnsupportedEngine = declaredEngine,
            };
        var host = RequiredString(root, "host");
        var username = RequiredString(root, "username");
        var password = RequiredString(root, "password", allowEmpty: true);
        var port = ReadPort(root) ?? DefaultPort(engine);
        var dbName = OptionalString(root, "dbname");
        var masterArn = OptionalString(root, "masterarn");
        var ssl = ReadSsl(root);

        return new DatabaseSecret(root, engine, declaredEngine, host, port, username, password, dbName, masterArn, ssl);
    }

    /// <summary>
    /// The engine family of an <c>engine</c> value: postgres and aurora-postgresql (the RDS engine names AWS's
    /// functions accept) and postgresql (the product's name, which people write by hand) → <see cref="Postgres"/>;
    /// mysql, mariadb and aurora-mysql → <see cref="MySql"/>; anything else → <see langword="null"/>.
    /// </summary>
    public static string? NormalizeEngine(string? engine) =>
        engine?.Trim().ToLowerInvariant() switch
        {
            "postgres" or "aurora-postgresql" or "postgresql" => Postgres,
            "mysql" or "mariadb" or "aurora-mysql" => MySql,
            _ => null,
        };

    /// <summary>5432 for PostgreSQL, 3306 for MySQL and MariaDB.</summary>
    public static int DefaultPort(string engine) =>
        NormalizeEngine(engine) switch
        {
            Postgres => 5432,
            MySql => 3306,
            _ => throw new ArgumentException($"Unsupported engine '{engine}'.", nameof(engine)),
        };

    /// <summary>The characters AWS's rotation functions keep out of generated passwords for this engine by default.</summary>
    public static string DefaultExcludedCharacters(string engine) =>
        NormalizeEngine(engine) switch
        {
            Postgres => PostgresExcludedCharacters,
            MySql => MySqlExcludedCharacters,
            _ => throw new ArgumentException($"Unsupported engine '{engine}'.", nameof(engine)),
        };

    /// <summary>
    /// The other user of an alternating pair: <c>name</c> → <c>name_clone</c> and <c>name_clone</c> → <c>name</c>.
    /// Refuses a clone name longer than the engine allows: 63 bytes for PostgreSQL (longer identifiers are
    /// truncated, which would make the "clone" the same role), 80 characters for <c>mariadb</c> and 32 for
    /// <c>mysql</c>/<c>aurora-mysql</c> (MySQL 5.7.8+; the same secret may point at either server, so the
    /// stricter limit is the one that always works).
    /// </summary>
    public static string AlternateUsername(string username, string engine)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        var family = NormalizeEngine(engine)
            ?? throw new ArgumentException($"Unsupported engine '{engine}'.", nameof(engine));

        if (username.EndsWith(CloneSuffix, StringComparison.Ordinal))
        {
            var original = username[..^CloneSuffix.Length];
            if (original.Length == 0)
            {
                throw new DatabaseSecretException($"Unable to alternate user '{username}': removing '{CloneSuffix}' leaves an empty name.");
            }

            return original;
        }

        var clone = username + CloneSuffix;
        if (family == Postgres)
        {
            if (Encoding.UTF8.GetByteCount(clone) > PostgresUsernameBytes)
            {
                throw new DatabaseSecretException(
                    $"Unable to clone user '{username}': with '{CloneSuffix}' appended the name would exceed PostgreSQL's limit of {PostgresUsernameBytes} bytes.");
            }

            return clone;
        }

        var (limit, server) = engine.Trim().Equals("mariadb", StringComparison.OrdinalIgnoreCase)
            ? (MariaDbUsernameCharacters, "MariaDB")
            : (MySqlUsernameCharacters, "MySQL");
        if (clone.EnumerateRunes().Count() > limit)
        {
            throw new DatabaseSecretException(
                $"Unable to clone user '{username}': with '{CloneSuffix}' appended the name would exceed {server}'s limit of {limit} characters.");
        }

        return clone;
    }

    /// <summary>The same secret with another password; every other field, known or not, stays as it was.</summary>
    public DatabaseSecret WithPassword(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var json = (JsonObject)_json.DeepClone();
        json["password"] = password;
        return new DatabaseSecret(json, Engine, DeclaredEngine, Host, Port, Username, password, DbName, MasterArn, Ssl);
    }

    /// <summary>The same secret with another username; every other field, known or not, stays as it was.</summary>
    public DatabaseSecret WithUsername(string username)
    {
        ArgumentException.ThrowIfNullOrEmpty(username);
        var json = (JsonObject)_json.DeepClone();
        json["username"] = username;
        return new DatabaseSecret(json, Engine, DeclaredEngine, Host, Port, username, Password, DbName, MasterArn, Ssl);
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
