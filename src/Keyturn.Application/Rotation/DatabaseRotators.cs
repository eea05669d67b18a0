using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The database rotators, keyed by the engine each one declares (<see cref="IDatabaseRotator.Engine"/>). Secrets are
/// parsed against its <see cref="Catalog"/>, the built-in rotation functions are generated from it, and the doctor's
/// probes pick a secret's rotator here, so an engine goes to the rotator that declares it or to none: never to another
/// engine's rotator. A new engine is one rotator added to the list the host builds.
/// </summary>
public sealed class DatabaseRotators
{
    private readonly Dictionary<string, IDatabaseRotator> _byFamily = new(StringComparer.Ordinal);

    public DatabaseRotators(IEnumerable<IDatabaseRotator> rotators)
    {
        ArgumentNullException.ThrowIfNull(rotators);
        var list = rotators.ToList();
        Catalog = new DatabaseEngineCatalog(list.Select(r => r.Engine));
        foreach (var rotator in list)
        {
            if (!_byFamily.TryAdd(rotator.Engine.Family, rotator))
            {
                throw new ArgumentException($"Two rotators declare the engine family '{rotator.Engine.Family}'.", nameof(rotators));
            }
        }

        Rotators = list;
    }

    /// <summary>The rotators, in registration order.</summary>
    public IReadOnlyList<IDatabaseRotator> Rotators { get; }

    /// <summary>The engines served, for parsing secrets (<see cref="DatabaseSecret.Parse"/>).</summary>
    public DatabaseEngineCatalog Catalog { get; }

    /// <summary>Every <c>engine</c> value some rotator serves, in registration order.</summary>
    public IReadOnlyList<string> Engines => Catalog.EngineValues;

    /// <summary>The rotator serving <paramref name="engine"/> (as written in a secret: case and surrounding blanks don't matter), or null.</summary>
    public IDatabaseRotator? Find(string? engine) =>
        Catalog.Find(engine) is { } found ? _byFamily[found.Family] : null;

    /// <summary>The rotator for <paramref name="secret"/>'s engine.</summary>
    public IDatabaseRotator For(DatabaseSecret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return _byFamily.TryGetValue(secret.Engine, out var rotator) ? rotator : throw new DatabaseSecretException(Unsupported(secret.DeclaredEngine));
    }

    /// <summary>Reads a secret value of an engine some rotator serves (see <see cref="DatabaseSecret.Parse"/>).</summary>
    public DatabaseSecret Parse(string json) => DatabaseSecret.Parse(json, Catalog);

    /// <summary>What to say about an engine no rotator serves: the engine, and the ones that are served.</summary>
    public string Unsupported(string engine) =>
        $"No rotator serves the engine '{engine}'; the engines with a rotator are {string.Join(", ", Engines)}.";
}
