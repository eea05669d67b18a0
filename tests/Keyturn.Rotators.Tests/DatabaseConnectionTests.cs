using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;

namespace Keyturn.Rotators.Tests;

public sealed class DatabaseConnectionTests
{
    [Theory]
    [InlineData("", SslMode.Prefer)]
    [InlineData(",\"ssl\":\"maybe\"", SslMode.Prefer)]
    [InlineData(",\"ssl\":true", SslMode.Require)]
    [InlineData(",\"ssl\":\"True\"", SslMode.Require)]
    [InlineData(",\"ssl\":false", SslMode.Disable)]
    public void FromSecret_SslField_MapsToMode(string ssl, SslMode expected)
    {
        var secret = BuiltInEngines.Parse($$"""{"engine":"mariadb","host":"h","username":"u","password":"p"{{ssl}}}""");

        var connection = DatabaseConnection.FromSecret(secret);

        Assert.Equal(new DatabaseConnection("mariadb", "h", 3306, "u", "p", null, expected), connection);
    }

    [Fact]
    public void WithCredentials_KeepsEndpointAndOptions()
    {
        var child = new DatabaseConnection("postgres", "h", 5432, "app", "pw", "shop", SslMode.Require);

        Assert.Equal(new DatabaseConnection("postgres", "h", 5432, "admin", "root-pw", "shop", SslMode.Require), child.WithCredentials("admin", "root-pw"));
    }

    [Fact]
    public void Engines_CoverEveryEngineTheSecretAccepts()
    {
        var engines = PostgreSql.PostgreSqlRotator.Create().Engine.EngineValues.Concat(MySql.MySqlRotator.Create().Engine.EngineValues);

        Assert.Equal(["aurora-mysql", "aurora-postgresql", "mariadb", "mysql", "postgres", "postgresql"], engines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Rotator_OtherEnginesConnection_RefusedAsMisuse()
    {
        var mysql = new DatabaseConnection("mysql", "h", 3306, "u", "p", null, SslMode.Prefer);

        await Assert.ThrowsAsync<ArgumentException>(() =>
            PostgreSql.PostgreSqlRotator.Create().ProbeLoginAsync(mysql, TimeSpan.FromSeconds(1), CancellationToken.None));
    }
}
