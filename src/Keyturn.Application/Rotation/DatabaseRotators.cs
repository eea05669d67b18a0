using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The database rotators, keyed by the <c>engine</c> values each one serves (<see cref="IDatabaseRotator.Engines"/>).
/// The built-in rotation functions and the doctor's probes both pick a secret's rotator here, so an engine goes to
/// the rotator that declares it or to none: never to another engine's rotator.
/// </summary>
public sealed class DatabaseRotators
{
    private readonly Dictionary<string, IDatabaseRotator> _byEngine = new(StringComparer.OrdinalIgnoreCase);

    public DatabaseRotators(IEnumerable<IDatabaseRotator> rotators)
    {
        ArgumentNullException.ThrowIfNull(rotators);
        var engines = new List<string>();
        foreach (var rotator in rotators)
        {
            foreach (var engine in rotator.Engines)
            {
                if (!_byEngine.TryAdd(engine.Trim(), rotator))
                {
                    throw new ArgumentException($"Two rotators declare the engine '{engine}'.", nameof(rotators));
                }

                engines.Add(engine.Trim());
            }
        }

        Engines = engines;
    }

    /// <summary>Every <c>engine</c> value some rotator serves, in registration order.</summary>
    public IReadOnlyList<string> Engines { get; }

    /// <summary>The rotator serving <paramref name="engine"/> (as written in a secret: case and surrounding blanks don't matter), or null.</summary>
    public IDatabaseRotator? Find(string? engine) =>
        engine is not null && _byEngine.TryGetValue(engine.Trim(), out var rotator) ? rotator : null;

    /// <summary>The rotator for <paramref name="secret"/>'s <c>engine</c>; throws <see cref="DatabaseSecretException"/> when none serves it.</summary>
    public IDatabaseRotator For(DatabaseSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return Find(secret.DeclaredEngine) ?? throw new DatabaseSecretException(Unsupported(secret.DeclaredEngine));
    }

    /// <summary>What to say about an engine no rotator serves: the engine, and the ones that are served.</summary>
    public string Unsupported(string engine) =>
        $"No rotator serves the engine '{engine}'; the engines with a rotator are {string.Join(", ", Engines)}.";
}
