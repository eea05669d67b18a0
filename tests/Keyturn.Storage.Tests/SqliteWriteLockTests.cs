using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>
/// The embedded store starts and commits its transactions through SQLite's own API; when another process holds the
/// database's write lock, a write unit must wait for it as Microsoft.Data.Sqlite's transactions did, not fail.
/// </summary>
public sealed class SqliteWriteLockTests
{
    [Fact]
    public async Task A_write_unit_waits_while_another_process_holds_the_write_lock_then_commits()
    {
        var directory = Directory.CreateTempSubdirectory("keyturn-lock-").FullName;
        try
        {
            using var database = SqliteDatabase.Open(SqliteDatabase.PathIn(directory));

            // Another process's writer as SQLite sees it: a connection outside this process's write gate.
            using var other = new SqliteConnection($"Data Source={SqliteDatabase.PathIn(directory)};Pooling=False");
            other.Open();
            Execute(other, "BEGIN IMMEDIATE;");

            var secret = NewSecret();
            var write = Task.Run(async () => await database.Secrets.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None));
            // Not a wait: nothing shows the unit is blocked, so it gets half a second to finish wrongly.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            Assert.False(write.IsCompleted, write.Exception?.InnerException?.Message ?? "the write unit finished while another process held the write lock");

            Execute(other, "COMMIT;");
            await write.WaitAsync(TimeSpan.FromSeconds(20));
            var found = await database.Secrets.ReadAsync(async (s, ct) => await s.FindByArnAsync(secret.Arn, ct), CancellationToken.None);
            Assert.Equal(secret.Versions[0].VersionId, Assert.Single(found!.Versions).VersionId);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            TestDirectories.Delete(directory);
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
