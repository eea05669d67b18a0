using Keyturn.Application.Logs;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Logs;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keyturn.Application.Tests.Storage;

/// <summary>
/// A database written by an older Keyturn opens under this one without losing anything: the log events of a
/// schema-2 file (before the trigram index) are indexed by the upgrade and found by filters that use the index.
/// </summary>
public sealed class SqliteSchemaUpgradeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("keyturn-upgrade-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        TestDirectories.Delete(_directory);
    }

    [Fact]
    public async Task SchemaTwoDatabase_UpgradesToThree_OldLogEventsFoundThroughTheIndex()
    {
        const string Group = "/aws/lambda/keyturn-postgresql-single-user";
        const string Arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:prd-db-cluster/AdminLoginInfo-AbCdEf";
        var path = Path.Combine(_directory, "keyturn.db");
        using (var old = new SqliteConnection($"Data Source={path}"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = SqliteSchema.Migrations[0] + "\n" + SqliteSchema.Migrations[1] + "\nPRAGMA user_version = 2;" +
                $"\nINSERT INTO log_groups (name, created_ms) VALUES ('{Group}', 1);" +
                $"\nINSERT INTO log_streams (group_name, name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, stored_bytes) VALUES ('{Group}', 's', 1, 10, 20, 20, 100);" +
                $"\nINSERT INTO log_events (group_name, stream_name, timestamp_ms, ingestion_ms, message) VALUES ('{Group}', 's', 10, 10, '[ERROR] setSecret: Unable to log into database for {Arn}');" +
                $"\nINSERT INTO log_events (group_name, stream_name, timestamp_ms, ingestion_ms, message) VALUES ('{Group}', 's', 20, 20, 'REPORT RequestId: x Duration: 15012.34 ms');";
            create.ExecuteNonQuery();
        }

        using var database = SqliteDatabase.Open(path);

        using (var upgraded = new SqliteConnection($"Data Source={path}"))
        {
            upgraded.Open();
            using var version = upgraded.CreateCommand();
            version.CommandText = "PRAGMA user_version;";
            Assert.Equal(SqliteSchema.CurrentVersion, Convert.ToInt32(version.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        }

        var logs = database.Logs;
        var found = await logs.FilterAsync(new LogFilterQuery(Group, null, null, null, null, LogFilterPattern.Parse($"\"{Arn}\""), null, 100, int.MaxValue, 100_000), default);
        var report = await logs.FilterAsync(new LogFilterQuery(Group, null, null, null, null, LogFilterPattern.Parse("REPORT"), null, 100, int.MaxValue, 100_000), default);

        Assert.Equal(["[ERROR] setSecret: Unable to log into database for " + Arn], found.Events.Select(e => e.Message));
        Assert.Single(report.Events);
        Assert.NotNull(SqliteLogStore.TextIndexQuery(LogFilterPattern.Parse($"\"{Arn}\"")));
    }

    [Fact]
    public async Task SchemaThreeDatabase_UpgradesToFour_StandingFunctionKeysAreRevoked()
    {
        var path = Path.Combine(_directory, "keyturn.db");
        using (var old = new SqliteConnection($"Data Source={path}"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = SqliteSchema.Migrations[0] + "\n" + SqliteSchema.Migrations[1] + "\n" + SqliteSchema.Migrations[2] + "\nPRAGMA user_version = 3;" +
                "\nINSERT INTO access_keys VALUES ('AKIAFUNCTIONKEY00001', 'function-app-rotator', x'00', '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"secretsmanager:*\",\"Resource\":\"*\"}]}', 1, NULL);" +
                "\nINSERT INTO access_keys VALUES ('AKIAAPPKEY0000000001', 'app-reader', x'00', '{}', 1, NULL);" +
                "\nINSERT INTO functions VALUES ('app-rotator', 'Command', 'true', 30000, 'AKIAFUNCTIONKEY00001', x'00', 1);";
            create.ExecuteNonQuery();
        }

        using var database = SqliteDatabase.Open(path);
        var store = database.Secrets;
        var (keys, function) = await store.ReadAsync(
            async (session, ct) => (await session.ListAccessKeysAsync(ct), await session.FindFunctionAsync("app-rotator", ct)), default);

        Assert.NotNull(keys.Single(k => k.AccessKeyId == "AKIAFUNCTIONKEY00001").RevokedDate);
        Assert.Null(keys.Single(k => k.AccessKeyId == "AKIAAPPKEY0000000001").RevokedDate);
        Assert.Null(function!.AccessKeyId);
        Assert.Null(function.EncryptedSecretAccessKey);
        Assert.Null(await store.ReadAsync(async (session, ct) => await session.FindFunctionPolicyAsync("app-rotator", ct), default));
    }

    [Fact]
    public async Task SchemaSixDatabase_UpgradesToSeven_RotationRecordsGetRevisionOne_AndWritesCompareIt()
    {
        const string Arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf";
        var path = Path.Combine(_directory, "keyturn.db");
        using (var old = new SqliteConnection($"Data Source={path}"))
        {
            old.Open();
            using var create = old.CreateCommand();
            create.CommandText = string.Join("\n", SqliteSchema.Migrations.Take(6)) + "\nPRAGMA user_version = 6;" +
                $"\nINSERT INTO rotations (secret_arn, token, function_name, mode, status, step, attempt, reason, started_ms, updated_ms, next_attempt_ms) " +
                $"VALUES ('{Arn}', 'token-1', 'app-rotator', 'Rotate', 'Retrying', 'CreateSecret', 1, 'connection refused', 1, 2, 3);";
            create.ExecuteNonQuery();
        }

        using var database = SqliteDatabase.Open(path);
        var store = database.Secrets;
        var read = (await store.ReadAsync(async (session, ct) => await session.FindRotationAsync(Arn, "token-1", ct), default))!;

        Assert.Equal(1, read.Version);
        Assert.Equal(RotationStatus.Retrying, read.Status);
        var cancelled = await store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(read with { Status = RotationStatus.Abandoned }, ct), default);
        Assert.Equal(2, cancelled.Version);
        await Assert.ThrowsAsync<RotationConflictException>(async () => await store.WriteAsync(async (session, ct) => await session.SaveRotationAsync(read with { Status = RotationStatus.Running }, ct), default));
        Assert.Equal(RotationStatus.Abandoned, (await store.ReadAsync(async (session, ct) => await session.FindRotationAsync(Arn, "token-1", ct), default))!.Status);
    }
}
