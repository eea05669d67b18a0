using System.Text.Json;
using Keyturn.Application.Logs;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keyturn.IntegrationTests;

/// <summary>
/// <c>keyturn store migrate</c> against the real process: a store populated by a running server (secrets in two regions,
/// versions, labels, a binary value, a scheduled deletion, access keys, a function and policies) plus rotation records,
/// a journal and logs is copied into an empty data directory; every kind is counted and checksummed, the copy serves the
/// same values with the same master key, a second copy into a non-empty store is refused, and a damaged copy fails verify.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class StoreMigrateTests : IDisposable
{
    /// <summary>The test's data directories (stores and their master keys), deleted after it.</summary>
    private readonly OwnedTestDirectories _directories = new();

    public void Dispose() => _directories.Dispose();

    private string NewDirectory(string prefix) => _directories.New(prefix);

    [Fact]
    public async Task Migrate_PopulatedStore_CopiesEveryKindSealedAndTheCopyServesTheSameValues()
    {
        var (source, arn, keyId, keySecret) = await PopulatedStoreAsync();
        var parent = NewDirectory("keyturn-it-copy-");
        var target = Path.Combine(parent, "copy");

        var migrated = await KeyturnProcess.RunCommandAsync(["store", "migrate", "--from", source, "--to", target]);

        Assert.True(migrated.ExitCode == 0, migrated.ToString());
        var figures = Figures(migrated.Stdout);
        Assert.Equal(12, figures.Count);
        Assert.All(figures, f => Assert.True(f.Value.Source > 0 && f.Value.Source == f.Value.Target && f.Value.Ok, $"{f.Key}: {migrated.Stdout}"));
        Assert.Equal((4, 6, 6), (figures["secrets"].Source, figures["versions"].Source, figures["sealed values"].Source));
        Assert.Equal((2, 2, 2), (figures["access keys"].Source, figures["function policies"].Source, figures["rotations"].Source));
        Assert.Equal((3, 2, 3, 7), (figures["journal entries"].Source, figures["log groups"].Source, figures["log streams"].Source, figures["log events"].Source));
        Assert.Contains("with the source's master key", migrated.Stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(target, "master.key")), "the master key is the operator's to move, not the copy's");

        // The copy's target is no longer empty: a second migrate writes nothing and says why.
        var again = await KeyturnProcess.RunCommandAsync(["store", "migrate", "--from", source, "--to", target]);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("is not empty", again.Stderr, StringComparison.Ordinal);

        // Values were never opened on the way: the copy opens them with the source's master key.
        File.Copy(Path.Combine(source, "master.key"), Path.Combine(target, "master.key"));
        File.SetUnixFileMode(Path.Combine(target, "master.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var copy = await KeyturnProcess.StartAsync(target))
        {
            var aws = new AwsCli(copy);
            Assert.Equal("db-v2", await ValueAsync(aws, "app/db"));
            Assert.Equal("db-v1", await ValueAsync(aws, "app/db", "--version-stage", "AWSPREVIOUS"));
            Assert.Equal("db-blue", await ValueAsync(aws, "app/db", "--version-stage", "blue"));
            Assert.Equal("eu-value", await ValueAsync(aws, "app/eu", "--region", "eu-west-1"));
            var binary = await aws.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "app/bin");
            Assert.Equal("AAEC/w==", binary.GetProperty("SecretBinary").GetString());
            var described = await aws.JsonAsync("secretsmanager", "describe-secret", "--secret-id", arn);
            Assert.Equal("sre", described.GetProperty("Tags")[0].GetProperty("Value").GetString());
            Assert.True((await aws.JsonAsync("secretsmanager", "describe-secret", "--secret-id", "app/gone")).TryGetProperty("DeletedDate", out _));

            // The access key made on the source signs requests to the copy (its sealed secret opened there).
            var asKey = await aws.RunAsAsync(
                new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = keyId, ["AWS_SECRET_ACCESS_KEY"] = keySecret },
                "secretsmanager", "get-secret-value", "--secret-id", "app/db");
            Assert.True(asKey.ExitCode == 0, asKey.ToString());
            Assert.Equal("db-v2", JsonDocument.Parse(asKey.Stdout).RootElement.GetProperty("SecretString").GetString());
            await copy.StopAsync();
        }

    }

    [Fact]
    public async Task Verify_CopyThatLostALogEventOrALabel_ReportsTheKindAndExitsOne()
    {
        var (source, _, _, _) = await PopulatedStoreAsync();
        var parent = NewDirectory("keyturn-it-copy-");
        var target = Path.Combine(parent, "copy");
        var migrated = await KeyturnProcess.RunCommandAsync(["store", "migrate", "--from", source, "--to", target]);
        Assert.True(migrated.ExitCode == 0, migrated.ToString());
        var clean = await KeyturnProcess.RunCommandAsync(["store", "verify", "--from", source, "--to", target]);
        Assert.True(clean.ExitCode == 0, clean.ToString());

        await using (var connection = new SqliteConnection($"Data Source={SqliteDatabase.PathIn(target)};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var damage = connection.CreateCommand();
            damage.CommandText = "DELETE FROM log_events WHERE id = (SELECT max(id) FROM log_events); DELETE FROM stages WHERE label = 'blue';";
            await damage.ExecuteNonQueryAsync();
        }

        var damaged = await KeyturnProcess.RunCommandAsync(["store", "verify", "--from", source, "--to", target]);

        Assert.Equal(1, damaged.ExitCode);
        var figures = Figures(damaged.Stdout);
        Assert.Equal((7, 6, false), (figures["log events"].Source, figures["log events"].Target, figures["log events"].Ok));
        Assert.False(figures["versions"].Ok);
        Assert.True(figures["secrets"].Ok && figures["sealed values"].Ok && figures["journal entries"].Ok);
        Assert.Contains("differs", damaged.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_ToPostgreSql_EveryKindVerified_ANodeOnItServesTheSameValues()
    {
        var (source, arn, keyId, keySecret) = await PopulatedStoreAsync();
        var postgres = new Keyturn.Rotators.Tests.Infrastructure.PostgresServer();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.StopNow();
        await postgres.StartAsync(certificates: null);
        try
        {
            // The store's own role owns its database (no superuser), as docs/cluster.md deploys it.
            var password = "Mg" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
            await postgres.ExecuteAsSuperuserAsync("postgres", $"CREATE ROLE keyturn_copy LOGIN PASSWORD '{password}'", "CREATE DATABASE keyturn_copy OWNER keyturn_copy");
            var url = $"postgresql://keyturn_copy:{password}@127.0.0.1:{postgres.Port}/keyturn_copy";

            var migrated = await KeyturnProcess.RunCommandAsync(["store", "migrate", "--from", source, "--to", url]);

            Assert.True(migrated.ExitCode == 0, migrated.ToString());
            Assert.DoesNotContain(password, migrated.Stdout + migrated.Stderr, StringComparison.Ordinal);
            var figures = Figures(migrated.Stdout);
            Assert.Equal(12, figures.Count);
            Assert.All(figures, f => Assert.True(f.Value.Source > 0 && f.Value.Source == f.Value.Target && f.Value.Ok, $"{f.Key}: {migrated.Stdout}"));
            var verified = await KeyturnProcess.RunCommandAsync(["store", "verify", "--from", source, "--to", url]);
            Assert.True(verified.ExitCode == 0, verified.ToString());

            // A node on the PostgreSQL store, given the source's master key, opens what was copied sealed.
            var node = NewDirectory("keyturn-it-pgnode-");
            File.Copy(Path.Combine(source, "master.key"), Path.Combine(node, "master.key"));
            File.SetUnixFileMode(Path.Combine(node, "master.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            await using (var served = await KeyturnProcess.StartAsync(node, arguments: ["--store", url]))
            {
                var aws = new AwsCli(served);
                Assert.Equal("db-v2", await ValueAsync(aws, "app/db"));
                Assert.Equal("db-blue", await ValueAsync(aws, "app/db", "--version-stage", "blue"));
                Assert.Equal("eu-value", await ValueAsync(aws, "app/eu", "--region", "eu-west-1"));
                var asKey = await aws.RunAsAsync(
                    new Dictionary<string, string> { ["AWS_ACCESS_KEY_ID"] = keyId, ["AWS_SECRET_ACCESS_KEY"] = keySecret },
                    "secretsmanager", "get-secret-value", "--secret-id", arn);
                Assert.True(asKey.ExitCode == 0, asKey.ToString());
                var logs = await aws.JsonAsync("logs", "filter-log-events", "--log-group-name", "/aws/lambda/ext-rotator", "--filter-pattern", "héllo");
                Assert.Equal("END héllo", logs.GetProperty("events")[0].GetProperty("message").GetString());
                await served.StopAsync();
            }
        }
        finally
        {
            await postgres.StopAsync();
        }
    }

    [Fact]
    public async Task Migrate_MissingSource_RefusesWithOneLine_WritesNothing()
    {
        var parent = NewDirectory("keyturn-it-copy-");
        var missing = await KeyturnProcess.RunCommandAsync(["store", "migrate", "--from", Path.Combine(parent, "none"), "--to", Path.Combine(parent, "copy")]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("There is no Keyturn database", missing.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(parent, "copy")));
    }

    /// <summary>Per kind: the source and target counts, and whether the checksums matched.</summary>
    private static Dictionary<string, (long Source, long Target, bool Ok)> Figures(string output)
    {
        var figures = new Dictionary<string, (long, long, bool)>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, @"^(?<kind>[a-z ]+?)\s+(?<source>\d+)\s+(?<target>\d+)\s+[0-9a-f]{64}\s+(?<verdict>ok|MISMATCH)");
            if (match.Success)
            {
                figures[match.Groups["kind"].Value] = (long.Parse(match.Groups["source"].Value, System.Globalization.CultureInfo.InvariantCulture),
                    long.Parse(match.Groups["target"].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups["verdict"].Value == "ok");
            }
        }

        return figures;
    }

    private static async Task<string?> ValueAsync(AwsCli aws, string secretId, params string[] more) =>
        (await aws.JsonAsync(["secretsmanager", "get-secret-value", "--secret-id", secretId, .. more])).GetProperty("SecretString").GetString();

    /// <summary>
    /// A store written by a running server through the AWS CLI and the admin commands, then (server stopped) rotation
    /// records, a journal and logs written through the store's own ports, as a rotation and its function would.
    /// </summary>
    private async Task<(string Directory, string Arn, string KeyId, string KeySecret)> PopulatedStoreAsync()
    {
        string arn, keyId, keySecret;
        var directory = NewDirectory("keyturn-it-source-");
        await using (var server = await KeyturnProcess.StartAsync(directory))
        {
            var aws = new AwsCli(server);
            arn = (await aws.JsonAsync("secretsmanager", "create-secret", "--name", "app/db", "--secret-string", "db-v1", "--description", "the app's database",
                "--tags", "Key=team,Value=sre")).GetProperty("ARN").GetString()!;
            await aws.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", "app/db", "--secret-string", "db-v2");
            await aws.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", "app/db", "--secret-string", "db-blue", "--version-stages", "blue");
            await aws.JsonAsync("secretsmanager", "create-secret", "--name", "app/bin", "--secret-binary", "AAEC/w==");
            await aws.JsonAsync("secretsmanager", "create-secret", "--name", "app/eu", "--secret-string", "eu-value", "--region", "eu-west-1");
            await aws.JsonAsync("secretsmanager", "create-secret", "--name", "app/gone", "--secret-string", "gone");
            await aws.JsonAsync("secretsmanager", "delete-secret", "--secret-id", "app/gone", "--recovery-window-in-days", "7");

            var created = await server.KeysAsync("create", "app");
            (keyId, keySecret) = (KeyturnProcess.KeyLine(created, "aws_access_key_id"), KeyturnProcess.KeyLine(created, "aws_secret_access_key"));
            var revoked = KeyturnProcess.KeyLine(await server.KeysAsync("create", "old"), "aws_access_key_id");
            await server.KeysAsync("revoke", revoked);
            await server.FunctionsAsync("register", "ext-rotator", "--command", "true", "--timeout", "20");
            await server.FunctionsAsync("policy", "ext-rotator", "--allow-master", "master/ext");
            await server.FunctionsAsync("policy", "keyturn-postgresql-single-user", "--allow-master", "master/pg", "--allow-privileged-clone");
            await server.StopAsync();
        }

        using var database = SqliteDatabase.Open(SqliteDatabase.PathIn(directory));
        {
            var store = database.Secrets;
            var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
            await store.WriteAsync(async (session, ct) =>
            {
                await session.SaveRotationAsync(new RotationRecord(arn, "token-done", "ext-rotator", RotationMode.Rotate, RotationStatus.Succeeded, null, 1, null, at, at.AddMinutes(1), null), ct);
                await session.SaveRotationAsync(new RotationRecord(arn, "token-open", "ext-rotator", RotationMode.Rotate, RotationStatus.Retrying, RotationStep.SetSecret, 2, "db down", at.AddHours(1), at.AddHours(1), at.AddHours(2)), ct);
                await session.AppendJournalAsync(new JournalEntry(arn, "token-done", RotationStep.CreateSecret, 1, JournalPhase.Begin, null, null, at, "node-a", 3), ct);
                await session.AppendJournalAsync(new JournalEntry(arn, "token-done", RotationStep.CreateSecret, 1, JournalPhase.End, true, null, at.AddSeconds(1), "node-a", 3), ct);
                await session.AppendJournalAsync(new JournalEntry(arn, "token-open", RotationStep.SetSecret, 2, JournalPhase.Begin, null, null, at.AddHours(1), "node-b", 4), ct);
                return true;
            }, default);
        }

        var logs = database.Logs;
        var t = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        await logs.AppendAsync("/aws/lambda/ext-rotator", "2026/12/01/[$LATEST]a", [new LogLine(t, "START createSecret"), new LogLine(t, "same millisecond"), new LogLine(t.AddSeconds(1), "END héllo")], default);
        await logs.AppendAsync("/aws/lambda/ext-rotator", "2026/12/01/[$LATEST]b", [new LogLine(t.AddSeconds(-5), "earlier stream")], default);
        await logs.AppendAsync("/aws/lambda/keyturn-postgresql-single-user", "s", [new LogLine(t, "one"), new LogLine(t.AddMilliseconds(1), "two"), new LogLine(t.AddMilliseconds(2), "three")], default);
        return (directory, arn, keyId, keySecret);
    }
}
