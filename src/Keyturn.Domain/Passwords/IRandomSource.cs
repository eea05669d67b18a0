namespace Keyturn.Domain.Passwords;

/// <summary>A source of uniformly distributed integers; injected so generation is testable.</summary>
public interface IRandomSource
{
    /// <summary>Returns a uniformly distributed integer in [0, <paramref name="exclusiveMax"/>).</summary>
    int NextInt(int exclusiveMax);
}
