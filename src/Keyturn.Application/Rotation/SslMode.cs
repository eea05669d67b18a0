namespace Keyturn.Application.Rotation;

/// <summary>
/// How a rotator secures its database connection, taken from the secret's <c>ssl</c> field the way
/// AWS's rotation functions read it.
/// </summary>
public enum SslMode
{
    /// <summary>
    /// <c>ssl</c> absent or not a recognised value: use TLS when the server offers it, plaintext otherwise
    /// (libpq's <c>prefer</c>; the certificate is not verified, as with any opportunistic TLS).
    /// </summary>
    Prefer,

    /// <summary>
    /// <c>ssl</c> is <c>true</c> or <c>"true"</c>: TLS only, with the certificate chain and host name verified
    /// (AWS uses <c>verify-full</c> here too). No fall-back.
    /// </summary>
    Require,

    /// <summary><c>ssl</c> is <c>false</c> or <c>"false"</c>: plaintext only.</summary>
    Disable,
}
