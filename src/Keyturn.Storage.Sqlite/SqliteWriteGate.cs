using System.Collections.Concurrent;

namespace Keyturn.Storage.Sqlite;

/// <summary>
/// One writer at a time per database file in this process, shared by every store on that file (secrets,
/// rotation bookkeeping and logs). Two connections that both BEGIN IMMEDIATE collide on SQLite's write
/// lock, and Microsoft.Data.Sqlite answers SQLITE_BUSY by putting the thread to sleep for 150 ms per retry;
/// queueing here instead is asynchronous and costs no more than the other writer's commit. Other
/// processes writing the same file are still kept apart by SQLite's own lock.
/// </summary>
internal static class SqliteWriteGate
{
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public static SemaphoreSlim For(string databasePath) =>
        Gates.GetOrAdd(Path.GetFullPath(databasePath), _ => new SemaphoreSlim(1, 1));
}
