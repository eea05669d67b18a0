using Keyturn.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using static Keyturn.Storage.Tests.StoreTestData;

namespace Keyturn.Storage.Tests;

/// <summary>What only the embedded store has to get right: sharing its file with other processes.</summary>
public sealed class SqliteSecretStoreTests
{
    [Fact]
    public async Task A_write_unit_waits_for_another_process_holding_the_write_lock_instead_of_failing()
    {
        var directory = Directory.CreateTempSubdirectory("keyturn-store-").FullName;
        try
        {
            using var database = SqliteDatabase.Open(SqliteDatabase.PathIn(directory));

            // Another process's writer (a `keyturn` command run beside the server) is a connection of its own: the
            // server's in-process write gate does not see it, only SQLite's lock does.
            using var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = SqliteDatabase.PathIn(directory), Pooling = false }.ToString());
            other.Open();
            using (var begin = other.CreateCommand())
            {
                begin.CommandText = "BEGIN IMMEDIATE;";
                begin.ExecuteNonQuery();
            }

            var secret = NewSecret();
            // SQLite's I/O is synchronous, so the unit waits on a thread of its own.
            var write = Task.Run(() => database.Secrets.WriteAsync(async (s, ct) => { await s.SaveAsync(secret, ct); return 0; }, CancellationToken.None));
            await Task.Delay(TimeSpan.FromMilliseconds(400));
            Assert.False(write.IsCompleted);

            using (var commit = other.CreateCommand())
            {
                commit.CommandText = "COMMIT;";
                commit.ExecuteNonQuery();
            }

            await write.WaitAsync(TimeSpan.FromSeconds(20));
            var found = await database.Secrets.ReadAsync(async (s, ct) => await s.FindByArnAsync(secret.Arn, ct), CancellationToken.None);
            Assert.Equal(secret.Arn, found?.Arn);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
