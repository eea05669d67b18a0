using Keyturn.Domain.Rotation;

namespace Keyturn.Rotators.Tests;

/// <summary>A master secret may act only on the endpoint a user secret names: the same server and database after normalisation.</summary>
public sealed class DatabaseEndpointTests
{
    public static TheoryData<string, string, string, string?> Pairs => new()
    {
        // name, master JSON fields, user JSON fields, expected difference (null = same endpoint)
        { "identical fields are the same endpoint", """ "engine":"postgres","host":"db.internal","port":5432,"dbname":"app" """, """ "engine":"postgres","host":"db.internal","port":5432,"dbname":"app" """, null },
        { "engine aliases are one family", """ "engine":"aurora-postgresql","host":"db","dbname":"app" """, """ "engine":"postgres","host":"db","dbname":"app" """, null },
        { "mariadb and mysql are one family", """ "engine":"mariadb","host":"db" """, """ "engine":"mysql","host":"db" """, null },
        { "host case and a trailing dot don't matter", """ "engine":"postgres","host":"DB.Internal.","dbname":"app" """, """ "engine":"postgres","host":"db.internal","dbname":"app" """, null },
        { "a missing port is the engine's default", """ "engine":"postgres","host":"db","dbname":"app" """, """ "engine":"postgres","host":"db","port":"5432","dbname":"app" """, null },
        { "a missing PostgreSQL dbname is postgres", """ "engine":"postgres","host":"db" """, """ "engine":"postgres","host":"db","dbname":"postgres" """, null },
        { "another port is another server (the reproduced attack)", """ "engine":"postgres","host":"127.0.0.1","port":5432,"dbname":"app" """, """ "engine":"postgres","host":"127.0.0.1","port":6543,"dbname":"app" """, "port 5432 vs 6543" },
        { "another host is another server", """ "engine":"postgres","host":"db1","dbname":"app" """, """ "engine":"postgres","host":"db2","dbname":"app" """, "host db1 vs db2" },
        { "another database is another endpoint", """ "engine":"postgres","host":"db","dbname":"app" """, """ "engine":"postgres","host":"db","dbname":"other" """, "database 'app' vs 'other'" },
        { "a MySQL dbname against none differs", """ "engine":"mysql","host":"db" """, """ "engine":"mysql","host":"db","dbname":"app" """, "database '' vs 'app'" },
        { "another engine family differs in engine and default port", """ "engine":"mysql","host":"db" """, """ "engine":"postgres","host":"db" """, "engine mysql vs postgres, port 3306 vs 5432, database '' vs 'postgres'" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void DifferenceFrom_ComparesNormalisedEndpoints(string name, string master, string user, string? expected)
    {
        var masterEndpoint = DatabaseEndpoint.Of(Parse(master));
        var userEndpoint = DatabaseEndpoint.Of(Parse(user));

        var difference = masterEndpoint.DifferenceFrom(userEndpoint);

        Assert.True(expected == difference, $"{name}: expected '{expected}', got '{difference}'");
        Assert.Equal(difference is null, masterEndpoint == userEndpoint);
    }

    private static DatabaseSecret Parse(string fields) =>
        BuiltInEngines.Parse("{" + fields + ""","username":"u","password":"p"}""");
}
