using System.Globalization;
using System.Text.Json;
using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;

namespace Keyturn.Bench.Shared;

/// <summary>The benchmarks' side of their throwaway PostgreSQL: secret values for its roles, and login checks.</summary>
internal static class BenchPostgres
{
    /// <summary>The database Keyturn's store lives in on the throwaway cluster.</summary>
    public const string StoreDatabase = "keyturn_store";

    /// <summary>
    /// Settles the store before a measured cell: the previous cell's dead rows vacuumed, statistics fresh and dirty pages
    /// written, so autovacuum or a checkpoint that earlier writes provoked is not billed to the cell, and reads are not
    /// planned on a guess (un-analyzed, PostgreSQL spent about 2.5x its CPU per GetSecretValue).
    /// </summary>
    public static Task SettleStoreAsync(PostgresServer postgres) => postgres.ExecuteAsSuperuserAsync(StoreDatabase, "VACUUM (ANALYZE)", "CHECKPOINT");

    /// <summary>A secret value for a role of <paramref name="postgres"/>, as RDS writes them (no <c>ssl</c> key).</summary>
    public static string SecretJson(PostgresServer postgres, string user, string password) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["engine"] = "postgres",
        ["host"] = "127.0.0.1",
        ["port"] = postgres.Port,
        ["username"] = user,
        ["password"] = password,
        ["dbname"] = PostgresServer.Database,
    });

    /// <summary>Whether <paramref name="password"/> logs in as <paramref name="user"/>; false only for a refused password.</summary>
    public static async Task<bool> LogsInAsync(PostgresServer postgres, string user, string password)
    {
        try
        {
            await using var connection = new NpgsqlConnection(postgres.ConnectionString(user, password));
            await connection.OpenAsync();
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            return false;
        }
    }

    /// <summary>
    /// Restarts the throwaway cluster with production durability (fsync, synchronous_commit and full_page_writes at their
    /// defaults, which the test cluster turns off), <paramref name="maxConnections"/> and <paramref name="sharedBuffers"/>,
    /// on the same port and socket directory. The test cluster's settings are on its command line, which overrides any
    /// configuration file, so the restart gives a whole new one. Returns the settings, for the report.
    /// </summary>
    public static async Task<string> RestartDurableAsync(PostgresServer postgres, int maxConnections, string sharedBuffers)
    {
        var settings = string.Create(CultureInfo.InvariantCulture,
            $"fsync=on synchronous_commit=on full_page_writes=on max_connections={maxConnections} shared_buffers={sharedBuffers} ssl=off");
        var options = string.Join(' ', [
            $"-k {Path.GetDirectoryName(postgres.DataDirectory)}",
            string.Create(CultureInfo.InvariantCulture, $"-p {postgres.Port}"),
            "-c listen_addresses=127.0.0.1",
            .. settings.Split(' ').Select(s => "-c " + s),
            "-c log_statement=ddl -c log_min_error_statement=error",
        ]);
        await ProcessRunner.RunAsPostgresAsync(
            Path.Combine(PostgresServer.BinDirectory, "pg_ctl"),
            ["-D", postgres.DataDirectory, "-l", postgres.LogPath, "-m", "fast", "-w", "-t", "60", "-o", options, "restart"],
            TimeSpan.FromSeconds(90));
        return settings;
    }
}
