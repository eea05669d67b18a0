using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The README's example of an unmodified AWS rotation function, run as it is written there (read from README.md
/// between its markers) in the setting the README describes: a checkout's <c>./keyturn</c> and <c>./data</c> with a
/// clone of AWS's samples beside them, <c>E</c> and the credentials set, and libpq's variables naming PostgreSQL.
/// </summary>
[Collection(AwsSamplesCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReadmeAwsSampleTests(RotationEnvironment env)
{
    private const string Marker = "readme-example: aws-postgresql-sample";

    [DatabaseFact]
    public async Task ReadmeExample_RegistersAwsPostgreSqlSampleWithHandler_AndRotatesARealSecret()
    {
        var block = ReadmeExamples.Block(Marker);
        Assert.Contains("--handler lambda_function.lambda_handler", block, StringComparison.Ordinal);
        var work = Directory.CreateTempSubdirectory("keyturn-readme-").FullName;
        try
        {
            // ./keyturn stands for the checkout's script, which builds this same CLI and runs it.
            var keyturn = Path.Combine(work, "keyturn");
            await File.WriteAllTextAsync(keyturn, $"#!/bin/sh\nexec dotnet '{KeyturnProcess.KeyturnDll}' \"$@\"\n");
            File.SetUnixFileMode(keyturn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.CreateSymbolicLink(Path.Combine(work, "aws-secrets-manager-rotation-lambdas"), AwsRotationSampleTests.SampleDirectory(""));
            await using var server = await KeyturnProcess.StartAsync(Path.Combine(work, "data"));
            var postgres = env.Databases.Postgres;

            var result = await ExternalTool.RunAsync("/bin/bash", ["-e", "-u", "-o", "pipefail", "-c", block], server, new Dictionary<string, string>
            {
                ["E"] = "--endpoint-url " + server.Endpoint,
                ["PGHOST"] = "127.0.0.1",
                ["PGPORT"] = postgres.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PGDATABASE"] = PostgresServer.Database,
                ["PGUSER"] = PostgresServer.MasterUser,
                ["PGPASSWORD"] = postgres.MasterPassword,
            }, workingDirectory: work);
            Assert.True(result.ExitCode == 0, result.ToString());

            var described = await AwsRotationSampleTests.WaitForLastRotatedAsync(server, "app/sample-db", TimeSpan.FromSeconds(60));
            var stages = described.GetProperty("VersionIdsToStages").EnumerateObject().Select(p => string.Join(',', p.Value.EnumerateArray().Select(l => l.GetString()))).Order();
            Assert.Equal(["AWSCURRENT", "AWSPREVIOUS"], stages);
            var cli = new AwsCli(server);
            var current = JsonDocument.Parse((await cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", "app/sample-db")).GetProperty("SecretString").GetString()!).RootElement;
            var rotator = PostgreSqlRotator.Create();
            DatabaseConnection As(string password) => new("postgres", "127.0.0.1", postgres.Port, "app_sample", password, PostgresServer.Database, SslMode.Disable);
            Assert.Equal(LoginOutcome.Ok, (await rotator.ProbeLoginAsync(As(current.GetProperty("password").GetString()!), TimeSpan.FromSeconds(30), default)).Outcome);
            Assert.Equal(LoginOutcome.AuthFailed, (await rotator.ProbeLoginAsync(As("first-Pw-1"), TimeSpan.FromSeconds(30), default)).Outcome);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
