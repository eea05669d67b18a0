using Keyturn.Server.Hosting;

namespace Keyturn.IntegrationTests.Cluster;

/// <summary>How <c>--store</c> and <c>KEYTURN_STORE</c> choose the backend, and how messages name a store.</summary>
public sealed class StorageOptionsTests
{
    public static TheoryData<string, string?, string?, string?> Resolutions() => new()
    {
        { "The flag wins over the variable", "postgresql://a@db/k", "/var/lib/keyturn", "postgresql://a@db/k" },
        { "The variable applies without the flag", null, "postgres://a@db/k", "postgres://a@db/k" },
        { "Neither is the embedded store in the data directory", null, " ", null },
    };

    [Theory]
    [MemberData(nameof(Resolutions))]
    public void Resolve(string name, string? flag, string? variable, string? expected) =>
        Assert.True(StorageOptions.Resolve(flag, variable) == expected, name);

    public static TheoryData<string, string?, string> Descriptions() => new()
    {
        { "A URL is named without its password or parameters", "postgresql://keyturn:s3cret@db.internal:5433/keyturn?sslmode=verify-full", "the PostgreSQL store postgresql://keyturn@db.internal:5433/keyturn" },
        { "The postgres scheme is PostgreSQL too", "postgres://keyturn:s3cret@db/keyturn", "the PostgreSQL store postgres://keyturn@db/keyturn" },
        { "A directory is the embedded store there", "/srv/keyturn-store", "the store in /srv/keyturn-store" },
        { "Nothing is the embedded store in the data directory", null, "the store in /srv/node-data" },
    };

    [Theory]
    [MemberData(nameof(Descriptions))]
    public void Describe(string name, string? store, string expected) =>
        Assert.True(StorageOptions.Describe(new ServerOptions { DataDirectory = "/srv/node-data", Store = store }) == expected, $"{name}: {StorageOptions.Describe(new ServerOptions { DataDirectory = "/srv/node-data", Store = store })}");
}
