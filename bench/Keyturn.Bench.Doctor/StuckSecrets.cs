using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyturn.Protocol.Client;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Keyturn.Bench.Doctor;

/// <summary>The states a secret is built in: healthy, or stuck in one of three ways a single-user rotation gets stuck.</summary>
internal enum Kind
{
    /// <summary>AWSCURRENT logs in, nothing pending.</summary>
    Healthy,

    /// <summary>The seed's "AWSPENDING never applied": a pending version whose password the database doesn't have.</summary>
    PendingNotApplied,

    /// <summary>The lockout trap: the database has the pending password, AWSCURRENT still the old one.</summary>
    DatabaseAhead,

    /// <summary>AWSCURRENT moved to a password the database never got; AWSPREVIOUS still logs in.</summary>
    LabelsAhead,
}

/// <summary>One secret as built: its role, its first version, and (when stuck) the pending version.</summary>
internal sealed record Seeded(string Name, string Arn, string User, string Password, string FirstVersion, Kind Kind)
{
    public string? PendingVersion { get; set; }

    public string? PendingPassword { get; set; }

    /// <summary>The version that must hold AWSCURRENT once the doctor repaired the secret, and its password.</summary>
    public (string Version, string Password) Repaired => Kind == Kind.DatabaseAhead ? (PendingVersion!, PendingPassword!) : (FirstVersion, Password);
}

/// <summary>
/// Builds real states: a PostgreSQL role per secret (created in bulk with SQL), the secret through the API, rotation
/// enabled through RotateSecret (RotateImmediately=false: AWS's dry run, which only runs testSecret), and the stuck
/// states made as a failed rotation leaves them: a pending version through PutSecretValue, the password through
/// ALTER ROLE, the labels through UpdateSecretVersionStage.
/// </summary>
internal static class StuckSecrets
{
    public static async Task CreateRolesAsync(PostgresServer postgres, IReadOnlyList<(string User, string Password)> users)
    {
        await Parallel.ForEachAsync(users.Chunk(250), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (chunk, _) =>
            await postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, string.Join(";\n", chunk.Select(u => $"CREATE ROLE {u.User} LOGIN PASSWORD '{u.Password}'"))));
    }

    public static async Task<Seeded> CreateSecretAsync(SecretsManagerClient client, BenchContext context, string name, string user, string password, Kind kind, CancellationToken cancellationToken)
    {
        var created = await client.CallAsync("CreateSecret", new JsonObject { ["Name"] = name, ["ClientRequestToken"] = Guid.NewGuid().ToString(), ["SecretString"] = context.SecretJson(user, password) }, cancellationToken);
        return new Seeded(name, created.GetProperty("ARN").GetString()!, user, password, created.GetProperty("VersionId").GetString()!, kind);
    }

    public static Task EnableRotationAsync(SecretsManagerClient client, Seeded secret, CancellationToken cancellationToken) =>
        client.CallAsync("RotateSecret", new JsonObject
        {
            ["SecretId"] = secret.Arn,
            ["ClientRequestToken"] = Guid.NewGuid().ToString(),
            ["RotationLambdaARN"] = BenchContext.Function,
            ["RotationRules"] = new JsonObject { ["AutomaticallyAfterDays"] = 30 },
            ["RotateImmediately"] = false,
        }, cancellationToken);

    /// <summary>Polls the server's <c>rotations</c> table until <paramref name="expected"/> dry runs since <paramref name="sinceMs"/> have ended.</summary>
    public static async Task<Dictionary<string, int>> WaitForDryRunsAsync(string databasePath, long sinceMs, int expected, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        while (true)
        {
            var counts = new Dictionary<string, int>(StringComparer.Ordinal);
            using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT status, count(*) FROM rotations WHERE mode = 'TestOnly' AND started_ms >= $since GROUP BY status";
                command.Parameters.AddWithValue("$since", sinceMs);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    counts[reader.GetString(0)] = reader.GetInt32(1);
                }
            }

            var ended = counts.GetValueOrDefault("Succeeded") + counts.GetValueOrDefault("Failed") + counts.GetValueOrDefault("Abandoned");
            if (ended >= expected || watch.Elapsed > timeout)
            {
                return counts;
            }

            if (watch.Elapsed - lastReport > TimeSpan.FromSeconds(10))
            {
                lastReport = watch.Elapsed;
                Report.Progress($"  dry runs: {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>
    /// The API half of a stuck state: a pending version with a new password (as createSecret writes it), and for
    /// <see cref="Kind.LabelsAhead"/> AWSCURRENT moved onto it. <see cref="Kind.DatabaseAhead"/> also needs
    /// <see cref="DatabaseAheadSql"/> run (setSecret's half).
    /// </summary>
    public static async Task MakeStuckAsync(SecretsManagerClient client, BenchContext context, Seeded secret, CancellationToken cancellationToken)
    {
        if (secret.Kind == Kind.Healthy)
        {
            return;
        }

        secret.PendingPassword = "Pending-" + Guid.NewGuid().ToString("N");
        var put = await client.CallAsync("PutSecretValue", new JsonObject
        {
            ["SecretId"] = secret.Arn,
            ["ClientRequestToken"] = Guid.NewGuid().ToString(),
            ["SecretString"] = context.SecretJson(secret.User, secret.PendingPassword),
            ["VersionStages"] = new JsonArray("AWSPENDING"),
        }, cancellationToken);
        secret.PendingVersion = put.GetProperty("VersionId").GetString()!;
        if (secret.Kind == Kind.LabelsAhead)
        {
            await client.UpdateSecretVersionStageAsync(secret.Arn, "AWSCURRENT", secret.FirstVersion, secret.PendingVersion, cancellationToken);
        }
    }

    public static string DatabaseAheadSql(Seeded secret) => $"ALTER ROLE {secret.User} PASSWORD '{secret.PendingPassword}'";

    /// <summary>
    /// After a repair: no version holds AWSPENDING, the expected version holds AWSCURRENT, and the AWSCURRENT
    /// value's password logs in. Returns null when all holds, else what didn't.
    /// </summary>
    public static async Task<string?> CheckRepairedAsync(SecretsManagerClient client, PostgresServer postgres, Seeded secret, CancellationToken cancellationToken)
    {
        var versions = await client.ListVersionsAsync(secret.Arn, cancellationToken);
        if (versions.Any(v => v.Stages.Contains("AWSPENDING")))
        {
            return $"{secret.Name}: AWSPENDING is still attached";
        }

        var (version, password) = secret.Repaired;
        var current = versions.SingleOrDefault(v => v.Stages.Contains("AWSCURRENT"));
        if (current?.VersionId != version)
        {
            return $"{secret.Name}: AWSCURRENT is on {current?.VersionId}, expected {version}";
        }

        var text = await client.GetSecretStringAsync(secret.Arn, null, "AWSCURRENT", cancellationToken);
        var currentPassword = JsonDocument.Parse(text!).RootElement.GetProperty("password").GetString()!;
        if (currentPassword != password)
        {
            return $"{secret.Name}: the AWSCURRENT value has an unexpected password";
        }

        return await BenchPostgres.LogsInAsync(postgres, secret.User, currentPassword) ? null : $"{secret.Name}: the AWSCURRENT password does not log in";
    }
}
