using System.Security.Cryptography;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The master key is never silently replaced (issue 9 §3), against the real <c>keyturn</c> process: a store with data
/// refuses a missing or different key with one line, only <c>serve</c> on an empty directory creates a key, a rotation
/// killed mid-pass resumes while a server keeps serving, and every file is the owner's alone whatever the umask.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MasterKeyTests : IDisposable
{
    private const string KeyFile = "master.key";

    /// <summary>The test's directories (a store and its master key among them), deleted after it.</summary>
    private readonly OwnedTestDirectories _directories = new();

    public void Dispose() => _directories.Dispose();

    private string NewDirectory(string prefix) => _directories.New(prefix);

    [Fact]
    public async Task Serve_KeyMovedAwayFromAStoreWithData_RefusesWithOneLineAndCreatesNoKey()
    {
        var (directory, keyId) = await StoreWithDataAsync();
        File.Move(Path.Combine(directory, KeyFile), Path.Combine(directory, "..", Path.GetFileName(directory) + ".saved-key"));

        var refused = await ServeExpectingRefusalAsync(directory);

        Assert.Contains(directory, refused, StringComparison.Ordinal);
        Assert.Contains(keyId, refused, StringComparison.Ordinal);
        Assert.Contains("Restore the master key file", refused, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory, KeyFile)), "serve created a new master key for a store that holds data");
    }

    [Theory]
    [InlineData("in the key file")]
    [InlineData("in KEYTURN_MASTER_KEY")]
    public async Task Serve_AnotherKeyThanTheOneSealingTheData_IsRefused(string where)
    {
        var (directory, keyId) = await StoreWithDataAsync();
        var other = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var environment = new Dictionary<string, string>();
        if (where == "in the key file")
        {
            await File.WriteAllTextAsync(Path.Combine(directory, KeyFile), other + "\n");
        }
        else
        {
            environment["KEYTURN_MASTER_KEY"] = other;
        }

        var refused = await ServeExpectingRefusalAsync(directory, environment);

        Assert.Contains(keyId, refused, StringComparison.Ordinal);
        Assert.Contains("refuses to start", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandsOtherThanServe_OnAnEmptyDirectory_CreateNothing()
    {
        var parent = NewDirectory("keyturn-it-empty-");
        var empty = Directory.CreateDirectory(Path.Combine(parent, "empty")).FullName;
        var missing = Path.Combine(parent, "missing");
        string[][] commands =
        [
            ["keys", "list"], ["keys", "create", "app"], ["functions", "list"], ["rotations"], ["master-key", "status"], ["master-key", "rotate"],
        ];
        foreach (var directory in new[] { empty, missing })
        {
            foreach (var command in commands)
            {
                var result = await KeyturnProcess.RunCommandAsync([.. command, "--data-dir", directory]);
                Assert.True(result.ExitCode == 2, $"keyturn {string.Join(' ', command)}: {result}");
                Assert.Contains("never creates one", result.Stderr, StringComparison.Ordinal);
                Assert.Single(result.Stderr.Trim().Split('\n'));
            }
        }

        Assert.Empty(Directory.GetFileSystemEntries(empty));
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task Rotate_KilledMidPassWhileServing_ResumesAndLosesNothing()
    {
        await using var server = await KeyturnProcess.StartAsync();
        using var root = new RawClient(server);
        for (var i = 0; i < 20; i++)
        {
            await Ok(root, "CreateSecret", new { Name = $"app/s{i}", SecretString = $"value-{i}-a", ClientRequestToken = Token() });
            await Ok(root, "PutSecretValue", new { SecretId = $"app/s{i}", SecretString = $"value-{i}-b", ClientRequestToken = Token() });
        }

        var created = await server.KeysAsync("create", "app-reader");
        using var app = new RawClient(server, KeyturnProcess.KeyLine(created, "aws_access_key_id"), KeyturnProcess.KeyLine(created, "aws_secret_access_key"));
        var oldId = KeyIds(server.DataDirectory).Single();

        // Killed (SIGKILL) after three committed batches of five: half-way, with the server still running.
        var crashed = await KeyturnProcess.RunCommandAsync(["master-key", "rotate", "--data-dir", server.DataDirectory, "--batch-size", "5"],
            new Dictionary<string, string> { ["KEYTURN_TEST_KILL_AFTER_REWRAP_BATCHES"] = "3" });
        Assert.True(crashed.ExitCode == 137, crashed.ToString());
        Assert.Contains("re-wrapped 15 data keys", crashed.Stdout, StringComparison.Ordinal);
        var ids = KeyIds(server.DataDirectory);
        Assert.Equal(2, ids.Length);
        var newId = ids[0];

        // Half-way, the running server reads both keys' data and seals new values with the new key.
        await AssertAllReadableAsync(root, app);
        await Ok(root, "PutSecretValue", new { SecretId = "app/s0", SecretString = "value-0-c", ClientRequestToken = Token() });
        await Ok(root, "CreateSecret", new { Name = "app/during", SecretString = "during", ClientRequestToken = Token() });

        var resumed = await KeyturnProcess.RunCommandAsync(["master-key", "rotate", "--data-dir", server.DataDirectory, "--batch-size", "5"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains("Resuming the rotation to master key " + newId, resumed.Stdout, StringComparison.Ordinal);
        var backup = Path.Combine(server.DataDirectory, $"{KeyFile}.retired-{oldId}");
        Assert.Contains(backup, resumed.Stdout, StringComparison.Ordinal);
        Assert.Equal([newId], KeyIds(server.DataDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backup));

        await AssertAllReadableAsync(root, app, "value-0-c");
        await Ok(root, "CreateSecret", new { Name = "app/after", SecretString = "after", ClientRequestToken = Token() });
        Assert.Equal(0, await server.StopAsync());

        // Restarted on the new key alone: nothing is sealed by the retired key any more, and nothing was lost.
        await using var restarted = await KeyturnProcess.StartAsync(server.DataDirectory,
            new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = server.SecretAccessKey });
        using var root2 = new RawClient(restarted);
        using var app2 = new RawClient(restarted, KeyturnProcess.KeyLine(created, "aws_access_key_id"), KeyturnProcess.KeyLine(created, "aws_secret_access_key"));
        await AssertAllReadableAsync(root2, app2, "value-0-c");
        foreach (var (name, value) in new[] { ("app/during", "during"), ("app/after", "after") })
        {
            Assert.Equal(value, (await Ok(root2, "GetSecretValue", new { SecretId = name })).GetProperty("SecretString").GetString());
        }

        var status = await KeyturnProcess.RunCommandAsync(["master-key", "status", "--data-dir", server.DataDirectory]);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Matches($@"{oldId}\s+\S+\s+\S+\s+0\n", status.Stdout);
    }

    [Fact]
    public async Task DataDirectory_UnderUmask000_IsOwnerOnly_AndAKeyFileOpenToOthersIsRefused()
    {
        var parent = NewDirectory("keyturn-it-umask-");
        var directory = Path.Combine(parent, "data");
        await using (var server = await KeyturnProcess.StartAsync(directory, umask: "000"))
        {
            using var root = new RawClient(server);
            await Ok(root, "CreateSecret", new { Name = "app/umask", SecretString = "v", ClientRequestToken = Token() });
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            var files = Directory.GetFiles(directory);
            Assert.Contains(Path.Combine(directory, KeyFile), files);
            foreach (var file in files)
            {
                Assert.True(File.GetUnixFileMode(file) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{file} is {File.GetUnixFileMode(file)}");
            }

            Assert.Equal(0, await server.StopAsync());
        }

        var keyFile = Path.Combine(directory, KeyFile);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var refused = await ServeExpectingRefusalAsync(directory);
        Assert.Contains("chmod 600 " + keyFile, refused, StringComparison.Ordinal);
    }

    /// <summary>
    /// A data directory whose store holds a value and an access key; returns it with the id of the key sealing them.
    /// It is alone in a directory of the test's, where a test may set its key file aside.
    /// </summary>
    private async Task<(string Directory, string KeyId)> StoreWithDataAsync()
    {
        await using var server = await KeyturnProcess.StartAsync(Path.Combine(NewDirectory("keyturn-it-store-"), "data"));
        using (var root = new RawClient(server))
        {
            await Ok(root, "CreateSecret", new { Name = "app/db", SecretString = "s3cret", ClientRequestToken = Token() });
        }

        await server.KeysAsync("create", "app");
        Assert.Equal(0, await server.StopAsync());
        return (server.DataDirectory, KeyIds(server.DataDirectory).Single());
    }

    /// <summary>
    /// Runs serve, which must exit by itself (non-zero, one line on stderr, no stack trace) and leave the data
    /// directory as it found it: no root credentials generated (the test servers take theirs from the environment,
    /// this run does not), no certificate, no other new, missing or changed file. Returns that line.
    /// </summary>
    private static async Task<string> ServeExpectingRefusalAsync(string directory, Dictionary<string, string>? environment = null)
    {
        CheckpointDatabase(directory);
        var before = Snapshot(directory);
        var result = await KeyturnProcess.RunCommandAsync(["serve", "--data-dir", directory, "--listen", "127.0.0.1:0", "--tls", "self-signed"], environment, TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode != 0, result.ToString());
        var lines = result.Stderr.Trim().Split('\n');
        Assert.True(lines.Length == 1, result.ToString());
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(directory, "root-credentials")), "a refused start generated root credentials");
        Assert.Equal(before, Snapshot(directory));
        return lines[0];
    }

    /// <summary>
    /// Folds the write-ahead log a stopped server left into the database file (and removes it), as opening the store
    /// does, so that the snapshot compares the data rather than SQLite's own housekeeping.
    /// </summary>
    private static void CheckpointDatabase(string directory)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "keyturn.db")};Mode=ReadWrite;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        command.ExecuteNonQuery();
    }

    /// <summary>Every file under the directory with its SHA-256, in path order.</summary>
    private static string[] Snapshot(string directory) =>
        [.. Directory.GetFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(file => $"{Path.GetRelativePath(directory, file)} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)))}")];

    private static string[] KeyIds(string directory) =>
        [.. File.ReadAllLines(Path.Combine(directory, KeyFile)).Where(l => l.StartsWith("mk-", StringComparison.Ordinal)).Select(l => l.Split(' ')[0])];

    private static async Task AssertAllReadableAsync(RawClient root, RawClient app, string? firstCurrent = null)
    {
        for (var i = 0; i < 20; i++)
        {
            var current = await Ok(root, "GetSecretValue", new { SecretId = $"app/s{i}" });
            Assert.Equal(i == 0 && firstCurrent is not null ? firstCurrent : $"value-{i}-b", current.GetProperty("SecretString").GetString());
            var previous = await Ok(root, "GetSecretValue", new { SecretId = $"app/s{i}", VersionStage = "AWSPREVIOUS" });
            Assert.Equal(i == 0 && firstCurrent is not null ? $"value-{i}-b" : $"value-{i}-a", previous.GetProperty("SecretString").GetString());
        }

        // A non-root key's secret is sealed too: it still authenticates.
        Assert.Equal("value-5-b", (await Ok(app, "GetSecretValue", new { SecretId = "app/s5" })).GetProperty("SecretString").GetString());
    }

    private static string Token() => Guid.NewGuid().ToString();

    private static async Task<JsonElement> Ok(RawClient client, string operation, object body)
    {
        var reply = await client.SendAsync(operation, JsonSerializer.Serialize(body));
        Assert.True(reply.Status == 200, $"{operation}: {reply.Status} {reply.Body}");
        return reply.Json;
    }
}
