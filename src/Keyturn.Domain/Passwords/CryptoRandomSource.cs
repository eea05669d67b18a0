using System.Security.Cryptography;

namespace Keyturn.Domain.Passwords;

/// <summary>The production <see cref="IRandomSource"/>: the OS CSPRNG, which rejects biased draws itself.</summary>
public sealed class CryptoRandomSource : IRandomSource
{
    public static CryptoRandomSource Instance { get; } = new();

    public int NextInt(int exclusiveMax) => RandomNumberGenerator.GetInt32(exclusiveMax);
}
