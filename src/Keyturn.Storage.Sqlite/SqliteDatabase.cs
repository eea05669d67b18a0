using Microsoft.Data.Sqlite;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// The embedded database: one SQLite file in WAL mode holding secrets, rotation bookkeeping and logs. Opening it creates
/// the file owner-only, sets WAL and brings the schema up to date, once, for every store on it; both stores are made
/// from it, so neither depends on the other having opened the file first. Disposing it closes both.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    public const string FileName = "keyturn.db";

    private SqliteDatabase(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        WriteGate = SqliteWriteGate.For(Path);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();
        Secrets = new SqliteSecretStore(this);
        Logs = new SqliteLogStore(this);
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public SqliteSecretStore Secrets { get; }

    public SqliteLogStore Logs { get; }

    /// <summary>One writer at a time on this file in this process, shared by both stores (see <see cref="SqliteWriteGate"/>).</summary>
    internal SemaphoreSlim WriteGate { get; }

    internal string ConnectionString { get; }

    /// <summary>The database of a data directory (<see cref="FileName"/> in it).</summary>
    public static string PathIn(string dataDirectory) => System.IO.Path.Combine(dataDirectory, FileName);

    /// <summary>Opens (creating when missing) the database file and migrates its schema to this build's version.</summary>
    /// <exception cref="InvalidOperationException">The file was written by a newer Keyturn.</exception>
    public static SqliteDatabase Open(string path)
    {
        var database = new SqliteDatabase(path);
        CreatePrivateFiles(database.Path);
        using var connection = new PreparedConnection(database.ConnectionString);
        Execute(connection.Connection, "PRAGMA journal_mode=WAL;");
        Migrate(connection.Connection);
        return database;
    }

    public void Dispose()
    {
        // The write gate is shared with every other database object on this file, so it stays.
        Secrets.Close();
        SqliteConnection.ClearAllPools();
    }

    private static void Migrate(SqliteConnection connection)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        using var read = connection.CreateCommand();
        read.Transaction = transaction;
        read.CommandText = "PRAGMA user_version;";
        var version = Convert.ToInt32(read.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        if (version > SqliteSchema.CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The database was written by a newer Keyturn (schema {version}; this build knows {SqliteSchema.CurrentVersion}).");
        }

        for (var i = version; i < SqliteSchema.Migrations.Length; i++)
        {
            using var migrate = connection.CreateCommand();
            migrate.Transaction = transaction;
            migrate.CommandText = SqliteSchema.Migrations[i] + $"\nPRAGMA user_version = {i + 1};";
            migrate.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Creates the database and its WAL companions owner-only before SQLite opens them: they hold
    /// only ciphertext, but nobody else needs to read even that.
    /// </summary>
    private static void CreatePrivateFiles(string databasePath)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var path in new[] { databasePath, databasePath + "-wal", databasePath + "-shm" })
        {
            if (!File.Exists(path))
            {
                using var _ = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
            }
            else
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }
}
