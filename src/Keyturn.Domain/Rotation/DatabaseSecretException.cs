namespace Keyturn.Domain.Rotation;

/// <summary>
/// A database secret's JSON can't be used for rotation: not JSON, a field missing or of the wrong type, an
/// unsupported engine, or a username that can't be alternated. The message names the field and never contains
/// the password.
/// </summary>
public sealed class DatabaseSecretException : Exception
{
    public DatabaseSecretException(string message)
        : base(message)
    {
    }

    /// <summary>The <c>engine</c> as written, when that is the problem: no rotation here speaks that engine's protocol.</summary>
    public string? UnsupportedEngine { get; init; }
}
