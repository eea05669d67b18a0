using System.Text;

namespace Keyturn.Domain.Rotation;

/// <summary>
/// What the rest of Keyturn needs to know about one database engine family, declared by its rotator: the
/// <c>engine</c> values it serves, its defaults and its limits. Secrets, built-in function names, password
/// rules and the doctor's probes all read it from here, so a new engine is one rotator with one descriptor.
/// </summary>
/// <param name="Family">The canonical <c>engine</c> value: two secrets of one family name the same kind of server.</param>
/// <param name="Product">The product as people write it (<c>PostgreSQL</c>); the built-in functions are named after it in lower case.</param>
/// <param name="EngineValues">Every <c>engine</c> value served, <paramref name="Family"/> first (RDS names such as <c>aurora-postgresql</c> included).</param>
/// <param name="DefaultPort">The port when the secret has none.</param>
/// <param name="DefaultDatabase">The database a connection without <c>dbname</c> uses (empty when the engine needs none).</param>
/// <param name="ExcludedCharacters">AWS's default <c>EXCLUDE_CHARACTERS</c> for the engine's passwords.</param>
/// <param name="UsernameLimitFor">The longest user name the server takes, by the secret's declared <c>engine</c> value.</param>
public sealed record DatabaseEngine(
    string Family,
    string Product,
    IReadOnlyList<string> EngineValues,
    int DefaultPort,
    string DefaultDatabase,
    string ExcludedCharacters,
    Func<string, UsernameLimit> UsernameLimitFor)
{
    /// <summary>How AWS's sample functions name the engine in their messages ("PostgreSQL DB").</summary>
    public string DisplayName => Product + " DB";

    /// <summary>The stem of the built-in functions' names: <c>keyturn-{stem}-single-user</c>.</summary>
    public string FunctionStem => Product.ToLowerInvariant();

    public bool Serves(string? engine) =>
        engine is not null && EngineValues.Contains(engine.Trim(), StringComparer.OrdinalIgnoreCase);
}

/// <summary>A user-name length limit: so many bytes or characters (Unicode scalar values), as <paramref name="Server"/> counts them.</summary>
public readonly record struct UsernameLimit(int Limit, bool CountsBytes, string Server)
{
    public bool Allows(string username) =>
        (CountsBytes ? Encoding.UTF8.GetByteCount(username) : username.EnumerateRunes().Count()) <= Limit;

    public override string ToString() => $"{Server}'s limit of {Limit} {(CountsBytes ? "bytes" : "characters")}";
}

/// <summary>The engines Keyturn has rotators for, found by any <c>engine</c> value they serve.</summary>
public sealed class DatabaseEngineCatalog
{
    private readonly Dictionary<string, DatabaseEngine> _byValue = new(StringComparer.OrdinalIgnoreCase);

    public DatabaseEngineCatalog(IEnumerable<DatabaseEngine> engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        var all = new List<DatabaseEngine>();
        foreach (var engine in engines)
        {
            foreach (var value in engine.EngineValues)
            {
                if (!_byValue.TryAdd(value.Trim(), engine))
                {
                    throw new ArgumentException($"Two engines declare the engine value '{value}'.", nameof(engines));
                }
            }

            all.Add(engine);
        }

        Engines = all;
    }

    /// <summary>The engines, in registration order.</summary>
    public IReadOnlyList<DatabaseEngine> Engines { get; }

    /// <summary>Every served <c>engine</c> value, in registration order.</summary>
    public IReadOnlyList<string> EngineValues => [.. Engines.SelectMany(e => e.EngineValues)];

    /// <summary>The engine serving <paramref name="engine"/> (case and surrounding blanks don't matter), or null.</summary>
    public DatabaseEngine? Find(string? engine) =>
        engine is not null && _byValue.TryGetValue(engine.Trim(), out var found) ? found : null;
}
