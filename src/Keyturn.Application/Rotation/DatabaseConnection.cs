using System.Globalization;
using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Everything a rotator needs to log in to a database as one user. <see cref="ToString"/> never prints the
/// password, so a connection can be logged or put in an exception message.
/// </summary>
/// <param name="Engine">The secret's <c>engine</c> as written (for example <c>aurora-postgresql</c> or <c>mariadb</c>).</param>
/// <param name="DbName">The database to connect to; <see langword="null"/> means the engine's default
/// (<c>postgres</c> for PostgreSQL, none for MySQL).</param>
public sealed record DatabaseConnection(
    string Engine,
    string Host,
    int Port,
    string Username,
    string Password,
    string? DbName,
    SslMode Ssl)
{
    /// <summary>The connection described by a parsed secret: <c>ssl</c> true → Require, false → Disable, otherwise Prefer.</summary>
    public static DatabaseConnection FromSecret(DatabaseSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var ssl = secret.Ssl switch
        {
            true => SslMode.Require,
            false => SslMode.Disable,
            null => SslMode.Prefer,
        };
        return new DatabaseConnection(secret.DeclaredEngine, secret.Host, secret.Port, secret.Username, secret.Password, secret.DbName, ssl);
    }

    /// <summary>The same endpoint and options with other credentials (a master acting on a child's database).</summary>
    public DatabaseConnection WithCredentials(string username, string password) =>
        this with { Username = username, Password = password };

    public override string ToString() =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{Engine}://{Username}@{Host}:{Port}/{DbName ?? string.Empty} (ssl={Ssl.ToString().ToLowerInvariant()})");
}
