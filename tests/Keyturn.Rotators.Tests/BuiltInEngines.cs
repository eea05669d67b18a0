using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.MySql;
using Keyturn.Rotators.PostgreSql;

namespace Keyturn.Rotators.Tests;

/// <summary>The engines Keyturn ships, as the host registers them: what secrets are parsed against in these tests.</summary>
internal static class BuiltInEngines
{
    public static DatabaseRotators Registry { get; } = new([PostgreSqlRotator.Create(), MySqlRotator.Create()]);

    public static DatabaseEngineCatalog Catalog => Registry.Catalog;

    public static DatabaseSecret Parse(string json) => Registry.Parse(json);

    /// <summary>The alternate of <paramref name="username"/> in a secret of <paramref name="engine"/>.</summary>
    public static string AlternateUsername(string username, string engine) =>
        Parse(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["engine"] = engine, ["host"] = "h", ["username"] = username, ["password"] = "p" })).AlternateUsername();

    public static DatabaseEngine Engine(string engine) => Catalog.Find(engine) ?? throw new ArgumentException($"No built-in engine '{engine}'.", nameof(engine));
}
