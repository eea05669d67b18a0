using Keyturn.Domain.Rotation;

namespace Keyturn.Rotators.Tests;

public sealed class DatabaseSecretTests
{
    private const string Password = "s3cr3t-P@ss";

    [Fact]
    public void Parse_AllFields_ReadsThem()
    {
        var secret = BuiltInEngines.Parse("""
            {"engine":"aurora-postgresql","host":"db.example","port":6543,"username":"app","password":"s3cr3t-P@ss",
             "dbname":"shop","masterarn":"arn:aws:secretsmanager:us-east-1:123456789012:secret:master","ssl":true}
            """);

        Assert.Equal("postgres", secret.Engine);
        Assert.Equal("aurora-postgresql", secret.DeclaredEngine);
        Assert.Equal("db.example", secret.Host);
        Assert.Equal(6543, secret.Port);
        Assert.Equal("app", secret.Username);
        Assert.Equal(Password, secret.Password);
        Assert.Equal("shop", secret.DbName);
        Assert.Equal("arn:aws:secretsmanager:us-east-1:123456789012:secret:master", secret.MasterArn);
        Assert.True(secret.Ssl);
    }

    [Theory]
    [InlineData("postgres", "postgres", 5432)]
    [InlineData("aurora-postgresql", "postgres", 5432)]
    [InlineData("postgresql", "postgres", 5432)]
    [InlineData("mysql", "mysql", 3306)]
    [InlineData("mariadb", "mysql", 3306)]
    [InlineData("aurora-mysql", "mysql", 3306)]
    [InlineData(" MariaDB ", "mysql", 3306)]
    public void Parse_Engine_NormalizedWithDefaultPort(string engine, string family, int port)
    {
        var secret = BuiltInEngines.Parse($$"""{"engine":"{{engine}}","host":"h","username":"u","password":"p"}""");

        Assert.Equal(family, secret.Engine);
        Assert.Equal(engine, secret.DeclaredEngine);
        Assert.Equal(port, secret.Port);
        Assert.Null(secret.DbName);
        Assert.Null(secret.MasterArn);
    }

    [Theory]
    [InlineData("5433", 5433)]
    [InlineData("\"5433\"", 5433)]
    [InlineData("\" 3307 \"", 3307)]
    public void Parse_PortNumberOrString_Accepted(string port, int expected)
    {
        var secret = BuiltInEngines.Parse($$"""{"engine":"mysql","host":"h","username":"u","password":"p","port":{{port}}}""");

        Assert.Equal(expected, secret.Port);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("65536")]
    [InlineData("\"abc\"")]
    [InlineData("5432.5")]
    [InlineData("-1")]
    [InlineData("true")]
    public void Parse_BadPort_Refused(string port)
    {
        var error = Assert.Throws<DatabaseSecretException>(() =>
            BuiltInEngines.Parse($$"""{"engine":"mysql","host":"h","username":"u","password":"p","port":{{port}}}"""));

        Assert.Contains("'port'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // As AWS's get_ssl_config: bools and "true"/"false" in any case; anything else means "try TLS, then plaintext".
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("\"true\"", true)]
    [InlineData("\"FALSE\"", false)]
    [InlineData("\"yes\"", null)]
    [InlineData("1", null)]
    [InlineData("null", null)]
    public void Parse_Ssl_BoolStringOrPrefer(string ssl, bool? expected)
    {
        var secret = BuiltInEngines.Parse($$"""{"engine":"postgres","host":"h","username":"u","password":"p","ssl":{{ssl}}}""");

        Assert.Equal(expected, secret.Ssl);
    }

    [Theory]
    [InlineData("engine")]
    [InlineData("host")]
    [InlineData("username")]
    [InlineData("password")]
    public void Parse_MissingRequiredField_NamesIt(string field)
    {
        var fields = new Dictionary<string, string> { ["engine"] = "postgres", ["host"] = "h", ["username"] = "u", ["password"] = Password };
        fields.Remove(field);
        var json = "{" + string.Join(',', fields.Select(f => $"\"{f.Key}\":\"{f.Value}\"")) + "}";

        var error = Assert.Throws<DatabaseSecretException>(() => BuiltInEngines.Parse(json));

        Assert.Equal($"The secret JSON is missing the '{field}' field.", error.Message);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NullField_CountsAsMissing()
    {
        var error = Assert.Throws<DatabaseSecretException>(() =>
            BuiltInEngines.Parse("""{"engine":"postgres","host":null,"username":"u","password":"p"}"""));

        Assert.Equal("The secret JSON is missing the 'host' field.", error.Message);
    }

    [Theory]
    [InlineData("""{"engine":"postgres","host":5,"username":"u","password":"p"}""", "The secret JSON's 'host' field must be a string.")]
    [InlineData("""{"engine":"postgres","host":"h","username":"u","password":12345}""", "The secret JSON's 'password' field must be a string.")]
    [InlineData("""{"engine":"postgres","host":" ","username":"u","password":"p"}""", "The secret JSON's 'host' field is empty.")]
    [InlineData("""{"engine":"postgres","host":"h","username":"u","password":"p","dbname":7}""", "The secret JSON's 'dbname' field must be a string.")]
    [InlineData("""{"engine":"oracle","host":"h","username":"u","password":"p"}""", "The secret JSON's 'engine' field is 'oracle'; database rotation supports postgres, aurora-postgresql, postgresql, mysql, mariadb, aurora-mysql.")]
    [InlineData("""["engine"]""", "The secret value is not a JSON object.")]
    [InlineData("""{"engine":"postgres","engine":"mysql","host":"h","username":"u","password":"p"}""", "The secret JSON has the 'engine' field more than once.")]
    public void Parse_InvalidField_ClearMessage(string json, string expected)
    {
        var error = Assert.Throws<DatabaseSecretException>(() => BuiltInEngines.Parse(json));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Parse_BrokenJson_NeverEchoesTheText()
    {
        var error = Assert.Throws<DatabaseSecretException>(() =>
            BuiltInEngines.Parse("""{"engine":"postgres","password":"s3cr3t-P@ss" "host":"h"}"""));

        Assert.StartsWith("The secret value is not valid JSON (line 1, byte ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", error.ToString(), StringComparison.Ordinal);
        Assert.Null(error.InnerException);
    }

    [Fact]
    public void Parse_EmptyPasswordOrDbName_PasswordKeptDbNameAbsent()
    {
        var secret = BuiltInEngines.Parse("""{"engine":"mysql","host":"h","username":"u","password":"","dbname":""}""");

        Assert.Equal(string.Empty, secret.Password);
        Assert.Null(secret.DbName);
    }

    [Fact]
    public void WithPasswordAndUsername_ToJson_KeepsUnknownFieldsOrderAndTypes()
    {
        var secret = BuiltInEngines.Parse("""
            {"engine":"mariadb","host":"h","port":"3307","username":"app","password":"old","proxy":{"name":"p1","ttl":30},"tags":[1,"x"],"ssl":"true"}
            """);

        var json = secret.WithPassword("n3w'\"+&<>\\pw").WithUsername("app_clone").ToJson();

        Assert.Equal(
            """{"engine":"mariadb","host":"h","port":"3307","username":"app_clone","password":"n3w'\"+&<>\\pw","proxy":{"name":"p1","ttl":30},"tags":[1,"x"],"ssl":"true"}""",
            json);
        var reread = BuiltInEngines.Parse(json);
        Assert.Equal("n3w'\"+&<>\\pw", reread.Password);
        Assert.Equal("app_clone", reread.Username);
    }

    [Fact]
    public void WithPassword_LeavesTheOriginalUnchanged()
    {
        var secret = BuiltInEngines.Parse("""{"engine":"postgres","host":"h","username":"u","password":"old"}""");

        var changed = secret.WithPassword("new");

        Assert.Equal("old", secret.Password);
        Assert.Contains("\"old\"", secret.ToJson(), StringComparison.Ordinal);
        Assert.Equal("new", changed.Password);
    }

    [Fact]
    public void WithPassword_MissingFieldAdded()
    {
        Assert.Equal(
            """{"engine":"postgres","host":"h","username":"u","password":"p2"}""",
            BuiltInEngines.Parse("""{"engine":"postgres","host":"h","username":"u","password":"p"}""").WithPassword("p2").ToJson());
    }

    [Fact]
    public void ToString_NeverShowsThePassword()
    {
        var secret = BuiltInEngines.Parse("""{"engine":"postgres","host":"h","username":"u","password":"s3cr3t-P@ss","dbname":"d"}""");

        Assert.Equal("postgres://u@h:5432/d", secret.ToString());
    }

    [Theory]
    [InlineData("app", "postgres", "app_clone")]
    [InlineData("app_clone", "postgres", "app")]
    [InlineData("app", "mariadb", "app_clone")]
    [InlineData("app_clone_clone", "mysql", "app_clone")]
    public void AlternateUsername_FlipsTheCloneSuffix(string username, string engine, string expected)
    {
        Assert.Equal(expected, BuiltInEngines.AlternateUsername(username, engine));
    }

    [Theory]
    // PostgreSQL counts bytes: 57 ASCII + "_clone" = 63 fits, 58 doesn't; 29 two-byte characters (58 bytes) don't.
    [InlineData(57, 'a', "postgres", true)]
    [InlineData(58, 'a', "aurora-postgresql", false)]
    [InlineData(28, 'é', "postgres", true)]
    [InlineData(29, 'é', "postgres", false)]
    // MySQL 5.7.8+ allows 32 characters, MariaDB 80; both count characters.
    [InlineData(26, 'a', "mysql", true)]
    [InlineData(27, 'a', "aurora-mysql", false)]
    [InlineData(26, 'é', "mysql", true)]
    [InlineData(74, 'a', "mariadb", true)]
    [InlineData(75, 'a', "mariadb", false)]
    public void AlternateUsername_EngineLimits(int length, char c, string engine, bool fits)
    {
        var username = new string(c, length);

        if (fits)
        {
            Assert.Equal(username + "_clone", BuiltInEngines.AlternateUsername(username, engine));
        }
        else
        {
            var error = Assert.Throws<DatabaseSecretException>(() => BuiltInEngines.AlternateUsername(username, engine));
            Assert.StartsWith($"Unable to clone user '{username}'", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AlternateUsername_OnlySuffix_Refused()
    {
        Assert.Throws<DatabaseSecretException>(() => BuiltInEngines.AlternateUsername("_clone", "postgres"));
        Assert.Throws<DatabaseSecretException>(() => BuiltInEngines.AlternateUsername("app", "oracle"));
    }

    [Theory]
    [InlineData("postgres", ":/@\"'\\")]
    [InlineData("aurora-postgresql", ":/@\"'\\")]
    [InlineData("mysql", "/@\"'\\")]
    [InlineData("mariadb", "/@\"'\\")]
    public void DefaultExcludedCharacters_AsAwsTemplates(string engine, string expected)
    {
        Assert.Equal(expected, BuiltInEngines.Engine(engine).ExcludedCharacters);
    }
}
