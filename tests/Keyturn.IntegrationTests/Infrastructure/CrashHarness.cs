using System.Globalization;
using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// A private PostgreSQL 15 server for the crash tests: they stop and restart it, and take locks that block
/// every login, which must not disturb tests in other collections.
/// </summary>
public sealed class CrashPostgres : IAsyncLifetime
{
    private TestCertificates? _certificates;

    public PostgresServer Postgres { get; } = new();

    public async Task InitializeAsync()
    {
        if (DatabaseServers.SkipReason is not null)
        {
            return;
        }

        if (PostgresServer.MissingBinary() is { } missing)
        {
            throw new InvalidOperationException($"The crash tests need a real PostgreSQL server, but {missing} is not installed (or set {DatabaseServers.SkipVariable}=1 to skip them).");
        }

        // If the test host ends without disposing fixtures, still take the server down.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Postgres.StopNow();
        _certificates = TestCertificates.Create();
        await Postgres.StartAsync(_certificates);
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Postgres.StopAsync();
        }
        finally
        {
            _certificates?.Delete();
        }
    }

    /// <summary>Stops the PostgreSQL server process (fast shutdown), keeping its data.</summary>
    public Task StopServerAsync() => Postgres.StopServerAsync();

    /// <summary>Starts the stopped server again with the options of its last run (pg_ctl keeps them in postmaster.opts).</summary>
    public Task StartServerAgainAsync() => Postgres.StartServerAgainAsync();

    /// <summary>A superuser session of the test's own, for holding locks and watching the rotator's sessions.</summary>
    public async Task<NpgsqlConnection> OpenSuperuserAsync()
    {
        var connection = new NpgsqlConnection(Postgres.ConnectionString(PostgresServer.Superuser, Postgres.SuperuserPassword));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A statement on <paramref name="connection"/>, for tests that hold locks or transactions open on it.</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Creates a login role named <paramref name="prefix"/> plus a random suffix, with <paramref name="password"/>.</summary>
    public async Task<string> CreateRoleAsync(string prefix, string password)
    {
        var user = prefix + Guid.NewGuid().ToString("N")[..8];
        await Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
        return user;
    }

    public async Task<LoginOutcome> ProbeAsync(string user, string password) =>
        (await PostgreSqlRotator.Create().ProbeLoginAsync(
            new DatabaseConnection("postgres", "127.0.0.1", Postgres.Port, user, password, PostgresServer.Database, Keyturn.Application.Rotation.SslMode.Disable), TimeSpan.FromSeconds(30), default)).Outcome;

    public string SecretJson(string user, string password, string? masterArn = null) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["engine"] = "postgres",
        ["host"] = "127.0.0.1",
        ["port"] = Postgres.Port,
        ["username"] = user,
        ["password"] = password,
        ["dbname"] = PostgresServer.Database,
        ["masterarn"] = masterArn,
    }.Where(p => p.Value is not null).ToDictionary());
}

[CollectionDefinition(Name)]
public sealed class CrashPostgresCollection : ICollectionFixture<CrashPostgres>
{
    public const string Name = "keyturn crashes with PostgreSQL";
}

/// <summary>One row of the engine's write-ahead journal, read straight from the data directory's SQLite file.</summary>
public sealed record JournalRow(string Step, string Phase, string? Outcome, string Node, long Fencing);

/// <summary>
/// A real <c>keyturn serve</c> on one data directory that a test kills with SIGKILL and starts again, with the
/// engine's test-only pause point (<c>KEYTURN_FAULT_PAUSE</c>) when a test needs to stop at an exact place.
/// </summary>
public sealed class CrashHarness : IAsyncDisposable
{
    private readonly Dictionary<string, string> _root = new()
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = "AKIACRASHTEST" + Random.Shared.Next(1000000, 9999999).ToString(CultureInfo.InvariantCulture),
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = "crash-test-secret-key-" + Guid.NewGuid().ToString("N"),
    };

    private KeyturnProcess? _server;

    public string DataDirectory { get; } = TestDirectories.Create("keyturn-crash-");

    /// <summary>The file the engine creates when it reaches the pause point, and waits on while it exists.</summary>
    public string PauseFile => Path.Combine(DataDirectory, "fault-pause");

    public KeyturnProcess Server => _server ?? throw new InvalidOperationException("The server is not running.");

    public AwsCli Cli => new(Server);

    /// <summary>Starts the server; with <paramref name="pause"/> (for example <c>end:setSecret</c>) the engine stops there.</summary>
    public async Task StartAsync(string? pause = null)
    {
        var environment = new Dictionary<string, string>(_root);
        if (pause is not null)
        {
            environment["KEYTURN_FAULT_PAUSE"] = pause;
            environment["KEYTURN_FAULT_PAUSE_FILE"] = PauseFile;
        }

        _server = await KeyturnProcess.StartAsync(DataDirectory, environment);
    }

    /// <summary>Lets alternating users read the crash tests' master secrets (<c>master/…</c>), as an administrator would.</summary>
    public Task AllowMastersAsync() =>
        Server.FunctionsAsync("policy", "keyturn-postgresql-alternating-users", "--allow-master", "master/*");

    /// <summary>SIGKILL of the server (and anything it started): no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        TestDirectories.Delete(DataDirectory);
    }

    public Task WaitForPauseAsync(string token) =>
        UntilAsync(() => Task.FromResult(File.Exists(PauseFile)), async () => $"the engine to reach its pause point ({await StatusAsync(token)})");

    /// <summary>The rotation's row in the store: status, step and reason (never a secret value).</summary>
    public async Task<string> StatusAsync(string token)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT status, coalesce(step, '-'), attempt, coalesce(reason, '') FROM rotations WHERE token = $t";
        command.Parameters.AddWithValue("$t", token);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync()
            ? $"{reader.GetString(0)} {reader.GetString(1)} attempt {reader.GetInt64(2)} {reader.GetString(3)}".Trim()
            : "(no rotation)";
    }

    public async Task<List<JournalRow>> JournalAsync(string token)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT step, phase, outcome, node, fencing FROM rotation_journal WHERE token = $t ORDER BY id";
        command.Parameters.AddWithValue("$t", token);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<JournalRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new JournalRow(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3), reader.GetInt64(4)));
        }

        return rows;
    }

    public async Task<long> CountRotationsAsync(string secretArn)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM rotations WHERE secret_arn = $a";
        command.Parameters.AddWithValue("$a", secretArn);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary><c>keyturn rotations</c>, the operator's view of the same state.</summary>
    public async Task<string> RotationsCommandAsync(string name)
    {
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "rotations", "--data-dir", DataDirectory], Server, _root);
        return result.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal)) ?? "(no status line)";
    }

    public async Task<(string Arn, string VersionId)> CreateSecretAsync(string name, string json)
    {
        var created = await Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", json);
        return (created.GetProperty("ARN").GetString()!, created.GetProperty("VersionId").GetString()!);
    }

    /// <summary>
    /// A new role of <paramref name="db"/> with <paramref name="password"/>, the server started (with <paramref name="pause"/>), and a
    /// secret <paramref name="namePrefix"/>USER holding the role's credentials.
    /// </summary>
    public async Task<(string User, string Name, string Arn, string V1)> StartWithSecretAsync(CrashPostgres db, string userPrefix, string namePrefix, string password, string? pause)
    {
        var user = await db.CreateRoleAsync(userPrefix, password);
        await StartAsync(pause);
        var name = namePrefix + user;
        var (arn, v1) = await CreateSecretAsync(name, db.SecretJson(user, password));
        return (user, name, arn, v1);
    }

    public async Task<string> RotateAsync(string name, string function) =>
        (await Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name,
            "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{function}",
            "--rotation-rules", "AutomaticallyAfterDays=30")).GetProperty("VersionId").GetString()!;

    public async Task<Dictionary<string, string[]>> StagesAsync(string name)
    {
        var described = await Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name);
        return described.TryGetProperty("VersionIdsToStages", out var stages)
            ? stages.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal).ToArray())
            : [];
    }

    /// <summary>A field of one version's JSON value (read through the API; the value itself is never printed).</summary>
    public async Task<string> FieldAsync(string name, string versionId, string field)
    {
        var value = await Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name, "--version-id", versionId);
        using var document = JsonDocument.Parse(value.GetProperty("SecretString").GetString()!);
        return document.RootElement.GetProperty(field).GetString()!;
    }

    /// <summary>Waits until the rotation has succeeded: its version holds AWSCURRENT and the store says Succeeded.</summary>
    public Task WaitForSuccessAsync(string name, string token) =>
        UntilAsync(
            async () => (await StatusAsync(token)).StartsWith("Succeeded ", StringComparison.Ordinal)
                        && (await StagesAsync(name)).TryGetValue(token, out var labels) && labels.Contains("AWSCURRENT"),
            async () => $"the rotation of {name} to succeed ({await StatusAsync(token)})");

    /// <summary>Waits until the rotation's stored state starts with <paramref name="prefix"/> (for example <c>Retrying TestSecret</c>).</summary>
    public Task<string> WaitForStatusAsync(string token, string prefix) =>
        UntilAsync(
            async () => (await StatusAsync(token)).StartsWith(prefix, StringComparison.Ordinal) ? await StatusAsync(token) : null,
            async () => $"the rotation to be '{prefix}' ({await StatusAsync(token)})");

    /// <summary>Polls <paramref name="condition"/> (no fixed sleeps) with a generous deadline for a noisy machine.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, Func<Task<string>> what, int seconds = 120) =>
        await UntilAsync(async () => await condition() ? "" : null, what, seconds);

    public static async Task<T> UntilAsync<T>(Func<Task<T?>> attempt, Func<Task<string>> what, int seconds = 120)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await attempt() is { } result)
            {
                return result;
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"timed out after {seconds} s waiting for {await what()}");
            }

            await Task.Delay(100);
        }
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(DataDirectory, "keyturn.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ConnectionString);
        connection.Open();
        return connection;
    }
}
