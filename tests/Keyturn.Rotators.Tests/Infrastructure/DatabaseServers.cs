namespace Keyturn.Rotators.Tests.Infrastructure;

/// <summary>
/// Starts one throwaway PostgreSQL and one MariaDB server (in parallel) for the whole test run and stops them
/// afterwards, so <c>dotnet test</c> alone needs nothing but the Debian packages. A missing binary fails every
/// database test with a message saying what to install, unless <c>KEYTURN_SKIP_DB_TESTS=1</c>, which turns
/// them into skips (see <see cref="DatabaseFactAttribute"/>).
/// </summary>
public sealed class DatabaseServers : IAsyncLifetime
{
    public const string SkipVariable = "KEYTURN_SKIP_DB_TESTS";

    private TestCertificates? _certificates;

    public PostgresServer Postgres { get; } = new();

    public MariaDbServer MariaDb { get; } = new();

    public TestCertificates Certificates => _certificates ?? throw new InvalidOperationException("The servers have not started.");

    public static IReadOnlyList<string> MissingBinaries { get; } =
        new[] { PostgresServer.MissingBinary(), MariaDbServer.MissingBinary() }.OfType<string>().ToList();

    /// <summary>Why database tests are skipped, or <see langword="null"/> when they run.</summary>
    public static string? SkipReason =>
        MissingBinaries.Count > 0 && Environment.GetEnvironmentVariable(SkipVariable) == "1"
            ? $"{SkipVariable}=1 and not installed: {string.Join(", ", MissingBinaries)}"
            : null;

    public async Task InitializeAsync()
    {
        if (SkipReason is not null)
        {
            return;
        }

        // If the test host ends without disposing fixtures (a crash, Ctrl+C), still take the servers down.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            MariaDb.StopNow();
            Postgres.StopNow();
        };

        if (MissingBinaries.Count > 0)
        {
            throw new InvalidOperationException(
                $"The database rotator tests need real servers, but these are not installed: {string.Join(", ", MissingBinaries)}. "
                + $"Install them (apt-get install postgresql mariadb-server; ./run-tests does this) or set {SkipVariable}=1 to skip these tests.");
        }

        _certificates = TestCertificates.Create();
        var postgres = Postgres.StartAsync(_certificates);
        var mariaDb = MariaDb.StartAsync(_certificates);
        try
        {
            await Task.WhenAll(postgres, mariaDb);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Task.WhenAll(Postgres.StopAsync(), MariaDb.StopAsync());
        }
        finally
        {
            _certificates?.Delete();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DatabaseCollection : ICollectionFixture<DatabaseServers>
{
    public const string Name = "Databases";
}

/// <summary>A fact that needs the real database servers; skipped only under <see cref="DatabaseServers.SkipVariable"/>.</summary>
public sealed class DatabaseFactAttribute : FactAttribute
{
    public DatabaseFactAttribute()
    {
        if (DatabaseServers.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>A theory that needs the real database servers; skipped only under <see cref="DatabaseServers.SkipVariable"/>.</summary>
public sealed class DatabaseTheoryAttribute : TheoryAttribute
{
    public DatabaseTheoryAttribute()
    {
        if (DatabaseServers.SkipReason is { } reason)
        {
            Skip = reason;
        }
    }
}
