using Keyturn.Domain.Passwords;

namespace Keyturn.Domain.Tests.Passwords;

/// <summary>Replays fixed draws and records the bound each one was asked for.</summary>
internal sealed class ScriptedRandomSource(params int[] draws) : IRandomSource
{
    private readonly Queue<int> _draws = new(draws);

    public List<int> Bounds { get; } = [];

    public int NextInt(int exclusiveMax)
    {
        Bounds.Add(exclusiveMax);
        return _draws.Count > 0 ? _draws.Dequeue() : 0;
    }
}
