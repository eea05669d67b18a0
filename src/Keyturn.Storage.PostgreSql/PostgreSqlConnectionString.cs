using System.Globalization;
using Npgsql;

namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// Reads the store's connection string: a libpq URI (<c>postgresql://user:password@host:port/db?sslmode=verify-full</c>,
/// also <c>postgres://</c>, several <c>host:port</c> pairs separated by commas for a failover pair) or Npgsql's own
/// <c>Key=Value;</c> form. Npgsql does not read URIs itself. Errors never repeat the input, which holds the password.
/// </summary>
public static class PostgreSqlConnectionString
{
    private static readonly string[] Schemes = ["postgresql://", "postgres://"];

    /// <summary>The libpq query keys understood, and how each sets the Npgsql builder.</summary>
    private static readonly Dictionary<string, Action<NpgsqlConnectionStringBuilder, string>> QueryKeys = new(StringComparer.Ordinal)
    {
        ["host"] = (b, v) => b.Host = v,
        ["port"] = (b, v) => b.Port = Number("port", v),
        ["dbname"] = (b, v) => b.Database = v,
        ["user"] = (b, v) => b.Username = v,
        ["password"] = (b, v) => b.Password = v,
        ["sslmode"] = (b, v) => b.SslMode = SslModeOf(v),
        ["sslrootcert"] = (b, v) => b.RootCertificate = v,
        ["sslcert"] = (b, v) => b.SslCertificate = v,
        ["sslkey"] = (b, v) => b.SslKey = v,
        ["connect_timeout"] = (b, v) => b.Timeout = Number("connect_timeout", v),
        ["application_name"] = (b, v) => b.ApplicationName = v,
        ["target_session_attrs"] = (b, v) => b.TargetSessionAttributes = v,
        ["options"] = (b, v) => b.Options = v,
    };

    /// <summary>libpq's connection keywords: an unsupported one is named in the error.</summary>
    private static readonly HashSet<string> LibpqKeywords = new(StringComparer.Ordinal)
    {
        "hostaddr", "passfile", "channel_binding", "client_encoding", "fallback_application_name", "keepalives", "keepalives_idle",
        "keepalives_interval", "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "requiressl", "sslcompression", "sslpassword",
        "sslcertmode", "sslcrl", "sslcrldir", "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname", "gsslib",
        "gssdelegation", "service", "load_balance_hosts", "sslnegotiation",
    };

    /// <summary>True when <paramref name="value"/> is a PostgreSQL URI.</summary>
    public static bool IsUri(string value) => Schemes.Any(s => value.StartsWith(s, StringComparison.OrdinalIgnoreCase));

    /// <summary>The Npgsql connection string for a URI or a <c>Key=Value;</c> string.</summary>
    /// <exception cref="FormatException">The string is malformed or uses an unsupported key; the message names the key, never a value.</exception>
    public static string ToNpgsql(string value) => Parse(value).ConnectionString;

    /// <summary>The connection string without its password, for logs and messages: <c>postgresql://user@host:port/db</c>.</summary>
    public static string Describe(string value)
    {
        try
        {
            var builder = Parse(value);
            var port = builder.Port == NpgsqlConnection.DefaultPort || (builder.Host ?? "").Contains(',', StringComparison.Ordinal)
                ? ""
                : string.Create(CultureInfo.InvariantCulture, $":{builder.Port}");
            return $"postgresql://{builder.Username}@{builder.Host}{port}/{builder.Database}";
        }
        catch (FormatException)
        {
            return "postgresql://(unreadable connection string)";
        }
    }

    /// <summary>
    /// The <c>Multiplexing</c> key of a <c>Key=Value;</c> string when it is given (it chooses whether read units multiplex),
    /// null when it is not or the string is a URI.
    /// </summary>
    internal static bool? ExplicitMultiplexing(string value)
    {
        if (IsUri(value))
        {
            return null;
        }

        // Npgsql's builder answers every key it knows, given or not; the generic one keeps only the keys written.
        var builder = Parse(value);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = value };
        return given.ContainsKey("Multiplexing") ? builder.Multiplexing : null;
    }

    /// <summary>
    /// Keyturn's own key for the size of the multiplexing read pool (Npgsql does not know it, so it is taken out before the rest
    /// goes to Npgsql); <c>read_max_pool_size</c> in a URI.
    /// </summary>
    public const string ReadMaxPoolSizeKey = "Read Max Pool Size";

    private const string ReadMaxPoolSizeQueryKey = "read_max_pool_size";

    // As Npgsql's own Maximum Pool Size: with or without spaces, the word in full or not.
    private static readonly string[] ReadMaxPoolSizeSpellings = [ReadMaxPoolSizeKey, "ReadMaxPoolSize", "Read Maximum Pool Size", "ReadMaximumPoolSize"];

    internal static NpgsqlConnectionStringBuilder Parse(string value) => Parse(value, out _);

    /// <summary>The Npgsql builder, and the read pool's size when the string sets it (<see cref="ReadMaxPoolSizeKey"/>).</summary>
    internal static NpgsqlConnectionStringBuilder Parse(string value, out int? readMaxPoolSize)
    {
        ArgumentNullException.ThrowIfNull(value);
        readMaxPoolSize = null;
        if (!IsUri(value))
        {
            try
            {
                return new NpgsqlConnectionStringBuilder(WithoutReadMaxPoolSize(value, out readMaxPoolSize));
            }
            catch (ArgumentException e)
            {
                // Npgsql names the keyword, not its value; keep only that.
                throw new FormatException($"The PostgreSQL connection string is not valid: {e.Message}");
            }
        }

        var rest = value[(value.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var builder = new NpgsqlConnectionStringBuilder();

        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        var query = queryStart >= 0 ? rest[(queryStart + 1)..] : "";
        rest = queryStart >= 0 ? rest[..queryStart] : rest;

        var pathStart = rest.IndexOf('/', StringComparison.Ordinal);
        var path = pathStart >= 0 ? rest[(pathStart + 1)..] : "";
        var authority = pathStart >= 0 ? rest[..pathStart] : rest;

        // The password may hold '@' only percent-encoded, so the last '@' ends the user information.
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Decode("user", colon >= 0 ? userInfo[..colon] : userInfo);
            if (colon >= 0)
            {
                builder.Password = Decode("password", userInfo[(colon + 1)..]);
            }
        }

        if (authority.Length > 0)
        {
            var hosts = Hosts(authority);
            if (hosts.Count == 1)
            {
                builder.Host = hosts[0].Host.Trim('[', ']');
                if (hosts[0].Port is { } port)
                {
                    builder.Port = port;
                }
            }
            else
            {
                // Several hosts (a primary and its standbys): Npgsql's list of host:port pairs.
                builder.Host = string.Join(',', hosts.Select(h => h.Port is { } port ? string.Create(CultureInfo.InvariantCulture, $"{h.Host}:{port}") : h.Host));
            }
        }

        if (path.Length > 0)
        {
            builder.Database = Decode("dbname", path);
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Decode("a query key", equals >= 0 ? pair[..equals] : pair);
            if (key == ReadMaxPoolSizeQueryKey)
            {
                readMaxPoolSize = Number(key, Decode(key, equals >= 0 ? pair[(equals + 1)..] : ""));
                continue;
            }

            if (!QueryKeys.TryGetValue(key, out var apply))
            {
                // Only libpq's own keywords are named: anything else may be a misplaced password.
                var named = LibpqKeywords.Contains(key) ? $"the query parameter '{key}'" : "a query parameter that is not a libpq keyword";
                throw new FormatException($"The PostgreSQL URI has {named}, which Keyturn does not support; supported: {string.Join(", ", QueryKeys.Keys)}, {ReadMaxPoolSizeQueryKey}.");
            }

            apply(builder, Decode(key, equals >= 0 ? pair[(equals + 1)..] : ""));
        }

        return builder;
    }

    // A Key=Value string without Keyturn's read pool key, which Npgsql would refuse; the string as given when it has none.
    private static string WithoutReadMaxPoolSize(string value, out int? readMaxPoolSize)
    {
        readMaxPoolSize = null;
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = value };
        var found = false;
        foreach (var key in ReadMaxPoolSizeSpellings)
        {
            if (given.TryGetValue(key, out var raw))
            {
                readMaxPoolSize = int.TryParse(Convert.ToString(raw, CultureInfo.InvariantCulture), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size > 0
                    ? size
                    : throw new FormatException($"The PostgreSQL connection string's {ReadMaxPoolSizeKey} must be a positive number.");
                given.Remove(key);
                found = true;
            }
        }

        return found ? given.ConnectionString : value;
    }

    /// <summary>The <c>host[:port]</c> pairs of the authority, separated by commas, IPv6 addresses in brackets.</summary>
    private static List<(string Host, int? Port)> Hosts(string authority)
    {
        var hosts = new List<(string Host, int? Port)>();
        foreach (var part in authority.Split(','))
        {
            string host;
            string? port = null;
            if (part.StartsWith('['))
            {
                var close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw new FormatException("The PostgreSQL URI has an IPv6 host without its closing ']'.");
                }

                host = part[..(close + 1)];
                if (part.Length > close + 1)
                {
                    port = part[(close + 1)..].StartsWith(':') ? part[(close + 2)..] : throw new FormatException("The PostgreSQL URI has text after an IPv6 host.");
                }
            }
            else
            {
                var colon = part.LastIndexOf(':');
                host = colon >= 0 ? part[..colon] : part;
                port = colon >= 0 ? part[(colon + 1)..] : null;
            }

            host = Decode("host", host);
            if (host.Length == 0)
            {
                throw new FormatException("The PostgreSQL URI has an empty host.");
            }

            hosts.Add((host, port is null ? null : Number("port", port)));
        }

        return hosts;
    }

    private static string Decode(string what, string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            throw new FormatException($"The PostgreSQL URI's {what} is not valid percent-encoding.");
        }
    }

    private static int Number(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new FormatException($"The PostgreSQL URI's {key} must be a positive number.");

    private static SslMode SslModeOf(string value) => value switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new FormatException("The PostgreSQL URI's sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full."),
    };
}
