using Keyturn.Storage.PostgreSql;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Keyturn.Storage.Tests;

/// <summary>The store's connection string as an operator writes it (a libpq URI), and the password it carries kept out of sight.</summary>
public sealed class PostgreSqlConnectionStringTests
{
    private const string Password = "p@ss:w/rd?&=%Secret9";
    private const string Encoded = "p%40ss%3Aw%2Frd%3F%26%3D%25Secret9";

    public static TheoryData<string, string, string, int, string?, string?, SslMode> Uris => new()
    {
        { "a full URI with TLS verification", $"postgresql://keyturn:{Encoded}@db.internal:6432/secrets?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem", "db.internal", 6432, "secrets", "keyturn", SslMode.VerifyFull },
        { "the postgres scheme with the default port", "postgres://app@db/keyturn", "db", 5432, "keyturn", "app", SslMode.Prefer },
        { "a failover pair of hosts", "postgresql://app@pg1:5432,pg2:5433/keyturn?target_session_attrs=primary", "pg1:5432,pg2:5433", 5432, "keyturn", "app", SslMode.Prefer },
        { "an IPv6 host", "postgresql://app@[::1]:5433/keyturn?sslmode=require", "::1", 5433, "keyturn", "app", SslMode.Require },
        { "query keys instead of the authority", "postgresql:///keyturn?host=/run/postgresql&user=svc&port=5433", "/run/postgresql", 5433, "keyturn", "svc", SslMode.Prefer },
        { "a percent-encoded database name", "postgresql://app@db/key%20turn", "db", 5432, "key turn", "app", SslMode.Prefer },
        { "Npgsql's own form", "Host=db;Port=6432;Database=keyturn;Username=app", "db", 6432, "keyturn", "app", SslMode.Prefer },
    };

    [Theory]
    [MemberData(nameof(Uris))]
    public void A_connection_string_is_read_as(string _, string value, string host, int port, string? database, string? user, SslMode sslMode)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgreSqlConnectionString.ToNpgsql(value));
        Assert.Equal((host, port, database, user, sslMode), (builder.Host, builder.Port, builder.Database, builder.Username, builder.SslMode));
    }

    public static TheoryData<string, string, bool?> MultiplexingChoices => new()
    {
        { "a URI leaves it to the store (reads multiplex)", "postgresql://app@db/keyturn", null },
        { "Npgsql's form without the key leaves it to the store", "Host=db;Database=keyturn", null },
        { "Multiplexing=false turns it off", "Host=db;Database=keyturn;Multiplexing=false", false },
        { "the key in any case is read", "Host=db;multiplexing=False", false },
        { "Multiplexing=true keeps it on", "Host=db;Multiplexing=true", true },
    };

    [Theory]
    [MemberData(nameof(MultiplexingChoices))]
    public void Whether_read_units_multiplex_is_read_as(string _, string value, bool? multiplexing) =>
        Assert.Equal(multiplexing, PostgreSqlConnectionString.ExplicitMultiplexing(value));

    public static TheoryData<string, string, int?> ReadPoolSizes => new()
    {
        { "a URI without the key leaves the default", "postgresql://app@db/keyturn", null },
        { "a URI sets it with read_max_pool_size", "postgresql://app@db/keyturn?sslmode=disable&read_max_pool_size=4", 4 },
        { "Npgsql's form without the key leaves the default", "Host=db;Database=keyturn;Maximum Pool Size=50", null },
        { "Npgsql's form sets it with Read Max Pool Size", "Host=db;Read Max Pool Size=8;Database=keyturn", 8 },
        { "the key is read in any case and without its spaces", "Host=db;readmaxpoolsize=2", 2 },
        { "the key is read spelled as Npgsql spells its own", "Host=db;Read Maximum Pool Size=3", 3 },
    };

    [Theory]
    [MemberData(nameof(ReadPoolSizes))]
    public void The_read_pool_size_is_read_as(string _, string value, int? size)
    {
        var builder = PostgreSqlConnectionString.Parse(value, out var readMaxPoolSize);
        Assert.Equal(size, readMaxPoolSize);

        // Npgsql never sees Keyturn's own key (it refuses keys it does not know); the rest is intact.
        var npgsql = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        Assert.Equal("db", npgsql.Host);
        Assert.DoesNotContain("read", builder.ConnectionString, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("read", PostgreSqlConnectionString.ToNpgsql(value), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Host=db;Password=hunter2;Read Max Pool Size=0")]
    [InlineData("Host=db;Password=hunter2;Read Max Pool Size=-3")]
    [InlineData("Host=db;Password=hunter2;Read Max Pool Size=many")]
    [InlineData("postgresql://app:hunter2@db/keyturn?read_max_pool_size=0")]
    [InlineData("postgresql://app:hunter2@db/keyturn?read_max_pool_size=x")]
    public void A_read_pool_size_that_is_not_a_positive_number_is_refused_without_echoing_the_string(string value)
    {
        var refused = Assert.Throws<FormatException>(() => PostgreSqlConnectionString.ToNpgsql(value));
        Assert.Contains("must be a positive number", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_password_and_TLS_files_of_a_URI_are_decoded_and_mapped()
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgreSqlConnectionString.ToNpgsql(
            $"postgresql://keyturn:{Encoded}@db.internal:6432/secrets?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem&sslcert=/etc/ssl/c.pem&sslkey=/etc/ssl/c.key&connect_timeout=7&application_name=node-1"));
        Assert.Equal(Password, builder.Password);
        Assert.Equal(6432, builder.Port);
        Assert.Equal(("/etc/ssl/ca.pem", "/etc/ssl/c.pem", "/etc/ssl/c.key", 7, "node-1"),
            (builder.RootCertificate, builder.SslCertificate, builder.SslKey, builder.Timeout, builder.ApplicationName));
    }

    [Fact]
    public void Npgsql_does_not_read_URIs_itself_which_is_why_Keyturn_converts_them() =>
        Assert.ThrowsAny<ArgumentException>(() => new NpgsqlConnectionStringBuilder("postgresql://app@db/keyturn"));

    public static TheoryData<string, string> Refused => new()
    {
        { $"postgresql://keyturn:{Encoded}@db/keyturn?sslmode=verify-full&sslcompression=1", "'sslcompression', which Keyturn does not support" },
        { $"postgresql://keyturn:{Encoded}@db/keyturn?sslmode=sometimes", "sslmode must be one of" },
        { $"postgresql://keyturn:{Encoded}@db:port/keyturn", "port must be a positive number" },
        { $"postgresql://keyturn:{Encoded}@db/keyturn?{Encoded}=1", "a query parameter that is not a libpq keyword, which Keyturn does not support" },
        { $"postgresql://keyturn:{Encoded}@[::1/keyturn", "IPv6 host without its closing" },
        { $"Host=db;Password={Password};Bogus=1", "not valid" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void A_malformed_connection_string_is_refused_naming_the_problem_but_not_the_password(string value, string message)
    {
        var refused = Assert.Throws<FormatException>(() => PostgreSqlConnectionString.ToNpgsql(value));
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, refused.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Encoded, refused.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Secret9", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_description_for_logs_has_no_password() =>
        Assert.Equal("postgresql://keyturn@db.internal:6432/secrets",
            PostgreSqlConnectionString.Describe($"postgresql://keyturn:{Encoded}@db.internal:6432/secrets?sslmode=verify-full"));
}

/// <summary>The password given in the URI, against a real server: absent from every string the store's objects and logs show.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlPasswordExposureTests(PostgresServerFixture server)
{
    [Fact]
    public async Task The_password_appears_in_no_description_log_line_or_error_of_an_open_store()
    {
        var uri = await server.CreateDatabaseAsync();
        var lines = new List<string>();
        using var loggerFactory = new LineCollector(lines);
        await using var database = await PostgreSqlDatabase.OpenAsync(uri, loggerFactory: loggerFactory);
        var secret = StoreTestData.NewSecret();
        await database.SecretStore.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, default);
        await Assert.ThrowsAnyAsync<PostgresException>(async () => await database.SecretStore.WriteAsync<int>((_, _) => throw new PostgresException("x", "ERROR", "ERROR", "0A000"), default));
        var health = await database.CheckAsync(default);

        var password = server.Server.MasterPassword;
        Assert.True(health.Ready);
        Assert.NotEmpty(lines);
        Assert.All(lines, line => Assert.DoesNotContain(password, line, StringComparison.Ordinal));
        Assert.DoesNotContain(password, database.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(password, database.Description, StringComparison.Ordinal);
        Assert.DoesNotContain(password, database.DataSource.ConnectionString, StringComparison.Ordinal);
        Assert.DoesNotContain(password, database.ReadSource!.ConnectionString, StringComparison.Ordinal);
        Assert.DoesNotContain(password, health.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(password, database.SecretStore.ToString()!, StringComparison.Ordinal);
    }

    /// <summary>Every log line of every category, at every level (Npgsql's trace included).</summary>
    private sealed class LineCollector(List<string> lines) : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines)
            {
                lines.Add(formatter(state, exception) + " " + exception);
            }
        }

        public void Dispose()
        {
        }
    }
}
