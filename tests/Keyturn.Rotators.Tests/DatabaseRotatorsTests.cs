using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.MySql;
using Keyturn.Rotators.PostgreSql;

namespace Keyturn.Rotators.Tests;

/// <summary>
/// The engine registry the rotation functions and the doctor share: an engine goes to the rotator that declares it,
/// or to none. Engine names are those of RDS and AWS's rotation functions (postgres, aurora-postgresql, mysql,
/// mariadb, aurora-mysql), plus postgresql as people write it; the others are the engines of AWS's other secret
/// templates and rotation samples (oracle, sqlserver, db2, mongo, redshift, redis).
/// </summary>
public sealed class DatabaseRotatorsTests
{
    private static readonly DatabaseRotators Registry = new([PostgreSqlRotator.Create(), MySqlRotator.Create()]);

    [Theory]
    [InlineData("postgres", "PostgreSQL")]
    [InlineData("postgresql", "PostgreSQL")]
    [InlineData("aurora-postgresql", "PostgreSQL")]
    [InlineData(" Postgres ", "PostgreSQL")]
    [InlineData("mysql", "MySQL")]
    [InlineData("mariadb", "MySQL")]
    [InlineData("aurora-mysql", "MySQL")]
    [InlineData("MariaDB", "MySQL")]
    [InlineData("oracle", null)]
    [InlineData("sqlserver", null)]
    [InlineData("db2", null)]
    [InlineData("mongo", null)]
    [InlineData("redshift", null)]
    [InlineData("redis", null)]
    [InlineData("aurora", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Find_EachEngineGoesToItsOwnRotatorOrToNone(string? engine, string? expected)
    {
        var rotator = Registry.Find(engine);

        Assert.Equal(expected, rotator?.Engine.Product);
    }

    [Fact]
    public void For_AnUnsupportedEngine_NamesItAndTheSupportedOnes()
    {
        var mysqlOnly = new DatabaseRotators([MySqlRotator.Create()]);
        var secret = BuiltInEngines.Parse("""{"engine":"postgres","host":"h","username":"u","password":"p"}""");

        var refused = Assert.Throws<DatabaseSecretException>(() => mysqlOnly.For(secret));

        Assert.Equal("No rotator serves the engine 'postgres'; the engines with a rotator are mysql, mariadb, aurora-mysql.", refused.Message);
    }

    [Fact]
    public void Engines_InRegistrationOrder_EveryOneAcceptedBySecrets()
    {
        Assert.Equal(["postgres", "aurora-postgresql", "postgresql", "mysql", "mariadb", "aurora-mysql"], Registry.Engines);
        Assert.All(Registry.Engines, engine => Assert.Same(Registry.Find(engine)!.Engine, BuiltInEngines.Parse($$"""{"engine":"{{engine}}","host":"h","username":"u","password":"p"}""").Descriptor));
    }

    [Fact]
    public void Constructor_TwoRotatorsForOneEngine_Refused()
    {
        var refused = Assert.Throws<ArgumentException>(() => new DatabaseRotators([PostgreSqlRotator.Create(), PostgreSqlRotator.Create()]));

        Assert.Contains("'postgres'", refused.Message, StringComparison.Ordinal);
    }
}
