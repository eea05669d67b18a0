using System.Text.Json;
using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;

namespace Keyturn.Bench.Shared;

/// <summary>The benchmarks' side of their throwaway PostgreSQL: secret values for its roles, and login checks.</summary>
internal static class BenchPostgres
{
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
}
