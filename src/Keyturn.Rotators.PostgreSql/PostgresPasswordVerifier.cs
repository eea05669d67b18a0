using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// Computes the password verifier PostgreSQL stores (what <c>pg_authid.rolpassword</c> holds), on the client, the
/// way libpq's <c>PQencryptPasswordConn</c> and psql's <c>\password</c> do. The server recognises a pre-hashed
/// value in <c>ALTER ROLE ... PASSWORD</c> and stores it as is, so the plaintext never reaches the server: not
/// its statement log (<c>log_statement = ddl</c> would otherwise record it), not <c>pg_stat_activity</c>, not an
/// error message. The verifier contains only <c>[A-Za-z0-9+/=$:-]</c>, so it can't break out of its literal.
/// </summary>
internal static class PostgresPasswordVerifier
{
    /// <summary>PostgreSQL's default <c>scram_iterations</c>.</summary>
    public const int DefaultIterations = 4096;

    private const int SaltLength = 16;

    /// <summary>
    /// Client-side hashing applies when the password is printable ASCII: PostgreSQL's SASLprep leaves ASCII
    /// untouched, so the verifier is exactly what the server would compute. Other passwords are hashed by the
    /// server from a quoted literal instead (see <see cref="PostgresSyntax.QuoteLiteral"/>).
    /// </summary>
    public static bool CanHashOnClient(string password) =>
        password.All(c => c is >= ' ' and <= '~');

    /// <summary>
    /// The verifier for the server's <c>password_encryption</c>: <c>scram-sha-256</c>, or <c>md5</c> (also
    /// <c>on</c>/<c>off</c> on servers older than 10); <see langword="null"/> for anything else.
    /// </summary>
    public static string? For(string passwordEncryption, string password, string roleName, int iterations) =>
        passwordEncryption.Trim().ToLowerInvariant() switch
        {
            "scram-sha-256" => Scram(password, RandomNumberGenerator.GetBytes(SaltLength), iterations),
            "md5" or "on" or "off" or "true" or "false" => Md5(password, roleName),
            _ => null,
        };

    /// <summary><c>SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey</c> (RFC 5802/7677, PostgreSQL's format).</summary>
    public static string Scram(string password, byte[] salt, int iterations)
    {
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"SCRAM-SHA-256${iterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}");
    }

    /// <summary><c>md5</c> followed by the hex MD5 of password then role name, as PostgreSQL stores it.</summary>
    public static string Md5(string password, string roleName)
    {
#pragma warning disable CA5351 // PostgreSQL's md5 password format is MD5 by definition; it is used only when the server asks for it.
        var hash = MD5.HashData(Encoding.UTF8.GetBytes(password + roleName));
#pragma warning restore CA5351
        return "md5" + Convert.ToHexStringLower(hash);
    }
}
