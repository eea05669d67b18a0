using Keyturn.Application.Logs;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.Sqlite;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// A server whose database already holds rotation logs. There is no public write API for logs, so
/// they go in through the server's own sink (<see cref="SqliteLogStore"/>) before it starts.
/// </summary>
public sealed class SeededLogsFixture : IAsyncLifetime
{
    public const string Group = "/aws/lambda/seeded-rotator";
    public const string SecondGroup = "/aws/lambda/seeded-second";
    public const string FailedStream = "2026/03/28/[$LATEST]failed";
    public const string OtherStream = "2026/03/28/[$LATEST]other";
    public const string BulkStream = "bulk";
    public const string SecretArn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:seeded/db-AbCdEf";
    public const string OtherArn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:seeded/other-XyZ123";
    public const string FailedId = "0f8fad5b-d9cb-469f-a165-70867728950e";
    public const string OtherId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
    public const int BulkCount = 120;

    public static readonly DateTimeOffset T0 = new(2026, 3, 28, 9, 50, 6, 6, TimeSpan.Zero);

    public static readonly IReadOnlyDictionary<string, string> Root = new Dictionary<string, string>
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = "AKIALOGSTEST00000001",
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = "logs-test-secret-key-0001",
    };

    public string DataDirectory { get; } = TestDirectories.Create("keyturn-logs-");

    public KeyturnProcess Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Creates the schema (and WAL) as the server would; closed before the server starts.
        using var database = SqliteDatabase.Open(SqliteDatabase.PathIn(DataDirectory));

        // Each stream below is written in one call, as the engine writes one invocation; times are T0 + ms.
        var sink = database.Logs;
        await sink.AppendAsync(Group, FailedStream, Lines(0,
            $"START RequestId: {FailedId} Version: $LATEST",
            $"[INFO]\t2026-03-28T09:50:06.006Z\t{FailedId}\tsetSecret: connecting to the database for secret arn {SecretArn}.",
            $"[ERROR]\t2026-03-28T09:50:06.007Z\t{FailedId}\tsetSecret: Unable to log into database with previous, current, or pending secret of secret arn {SecretArn}",
            $"END RequestId: {FailedId}",
            $"REPORT RequestId: {FailedId}\tDuration: 12.50 ms\tBilled Duration: 13 ms\t"), default);
        await sink.AppendAsync(Group, OtherStream, Lines(100,
            $"START RequestId: {OtherId} Version: $LATEST",
            $"[INFO]\t2026-03-28T09:50:06.106Z\t{OtherId}\tcreateSecret: Successfully put secret for ARN {OtherArn} and version v2.",
            $"END RequestId: {OtherId}",
            $"REPORT RequestId: {OtherId}\tDuration: 3.00 ms\tBilled Duration: 3 ms\t"), default);
        await sink.AppendAsync(Group, BulkStream, Lines(1000, [.. Enumerable.Range(0, BulkCount).Select(i => $"event {i:D3}")]), default);
        await sink.AppendAsync(SecondGroup, "s", Lines(5000, "one line"), default);
        database.Dispose();

        Server = await KeyturnProcess.StartAsync(DataDirectory, Root.ToDictionary());
    }

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        TestDirectories.Delete(DataDirectory);
    }

    private static LogLine[] Lines(int startMs, params string[] messages) =>
        [.. messages.Select((m, i) => new LogLine(T0.AddMilliseconds(startMs + i), m))];
}
