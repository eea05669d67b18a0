using System.Globalization;

namespace Keyturn.Domain.Rotation;

/// <summary>
/// The database a secret names, normalised so two spellings of one server compare equal: the engine family
/// (aurora-postgresql is postgres, mariadb is mysql), the host without case, brackets or a trailing dot, the
/// port with the engine's default, and the database with the engine's default (<c>postgres</c> for PostgreSQL,
/// none for MySQL). A master secret may act on a user's secret only when both name the same endpoint; otherwise
/// a secret could point the master's credentials at a server they were never meant for.
/// </summary>
public sealed record DatabaseEndpoint(string Engine, string Host, int Port, string Database)
{
    public static DatabaseEndpoint Of(DatabaseSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return new DatabaseEndpoint(secret.Engine, NormalizeHost(secret.Host), secret.Port, secret.DbName ?? secret.Descriptor.DefaultDatabase);
    }

    public static string NormalizeHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var trimmed = host.Trim();
        if (trimmed.StartsWith('[') && trimmed.EndsWith(']'))
        {
            trimmed = trimmed[1..^1];
        }

        return trimmed.TrimEnd('.').ToLowerInvariant();
    }

    /// <summary>What differs between two endpoints, e.g. "port 5433 ≠ 5432", or null when they are the same.</summary>
    public string? DifferenceFrom(DatabaseEndpoint other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var differences = new List<string>();
        if (Engine != other.Engine)
        {
            differences.Add($"engine {Engine} vs {other.Engine}");
        }

        if (Host != other.Host)
        {
            differences.Add($"host {Host} vs {other.Host}");
        }

        if (Port != other.Port)
        {
            differences.Add(string.Create(CultureInfo.InvariantCulture, $"port {Port} vs {other.Port}"));
        }

        if (!string.Equals(Database, other.Database, StringComparison.Ordinal))
        {
            differences.Add($"database '{Database}' vs '{other.Database}'");
        }

        return differences.Count == 0 ? null : string.Join(", ", differences);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Engine}://{Host}:{Port}/{Database}");
}
