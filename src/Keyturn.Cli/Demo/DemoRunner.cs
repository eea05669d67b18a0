using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Keyturn.Application.Ports;
using Keyturn.Application.Security;
using Keyturn.Doctor;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;
using Keyturn.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Keyturn.Cli.Demo;

/// <summary>
/// <c>keyturn demo</c>: the field report, replayed for real. A throwaway PostgreSQL and Keyturn, the
/// report's <c>prd-db-cluster/AdminLoginInfo</c> for a real <c>postgresAdmin</c> role, a successful
/// rotation, then each failure from the report — and the doctor diagnosing and repairing it.
/// </summary>
internal sealed class DemoRunner(TextWriter output)
{
    private const string SecretName = "prd-db-cluster/AdminLoginInfo";
    private const string Function = "arn:aws:lambda:us-east-1:000000000000:function:keyturn-postgresql-single-user";

    private int _chapter;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        Title("Setting up: a throwaway PostgreSQL 15 and Keyturn with its embedded store");
        await ThrowawayPostgres.EnsureInstalledAsync(output).ConfigureAwait(false);
        await using var postgres = new ThrowawayPostgres();
        await postgres.StartAsync().ConfigureAwait(false);
        await postgres.ExecuteAsync("CREATE ROLE \"postgresAdmin\" LOGIN CREATEROLE PASSWORD 'initial-Admin-pw-1'").ConfigureAwait(false);
        Say($"PostgreSQL listens on 127.0.0.1:{postgres.Port}; role postgresAdmin created.");

        var dataDirectory = Directory.CreateTempSubdirectory("keyturn-demo-").FullName;
        WebApplication? app = null;
        try
        {
            var port = FreePort();
            var root = new RootCredentials("AKIADEMO" + Guid.NewGuid().ToString("N")[..12].ToUpperInvariant(), Guid.NewGuid().ToString("N"), Generated: false);
            var options = new ServerOptions { DataDirectory = dataDirectory, CreateMasterKey = true, Listen = $"127.0.0.1:{port}", LogLevel = "Warning", SchedulerInterval = TimeSpan.FromHours(1) };
            app = KeyturnServer.Build(options, root, await KeyturnServer.OpenStoreAsync(options, cancellationToken).ConfigureAwait(false));
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            var endpoint = new Uri($"http://127.0.0.1:{port}/");
            Say($"Keyturn listens on {endpoint} (data in {dataDirectory}).");
            using var client = new SecretsManagerClient(endpoint, new SigV4Credentials(root.AccessKeyId, root.SecretAccessKey), "us-east-1", TimeProvider.System);
            var store = app.Services.GetRequiredService<ISecretStore>();
            // The doctor runs as `keyturn doctor` does (DoctorRun, the rotation logs from Keyturn's own log groups), on this Keyturn.
            var doctorTarget = DoctorTarget.ForOwnKeyturn(endpoint, new SigV4Credentials(root.AccessKeyId, root.SecretAccessKey), "us-east-1");
            var journal = Path.Combine(dataDirectory, "doctor-journal.jsonl");
            string Value(string password) => JsonSerializer.Serialize(new { engine = "postgres", host = postgres.Host, port = postgres.Port, username = "postgresAdmin", password, dbname = "postgres" });

            Command($"aws secretsmanager create-secret --name {SecretName} --secret-string '{{\"engine\":\"postgres\",\"username\":\"postgresAdmin\",...}}'");
            await client.CallAsync("CreateSecret", new System.Text.Json.Nodes.JsonObject
            {
                ["Name"] = SecretName,
                ["ClientRequestToken"] = Guid.NewGuid().ToString(),
                ["SecretString"] = Value("initial-Admin-pw-1"),
            }, cancellationToken).ConfigureAwait(false);

            Title("A successful rotation");
            Command($"aws secretsmanager rotate-secret --secret-id {SecretName} --rotation-lambda-arn {Function} --rotation-rules AutomaticallyAfterDays=30");
            await client.CallAsync("RotateSecret", new System.Text.Json.Nodes.JsonObject
            {
                ["SecretId"] = SecretName,
                ["ClientRequestToken"] = Guid.NewGuid().ToString(),
                ["RotationLambdaARN"] = Function,
                ["RotationRules"] = new System.Text.Json.Nodes.JsonObject { ["AutomaticallyAfterDays"] = 30 },
            }, cancellationToken).ConfigureAwait(false);
            await WaitForRotationAsync(store, client, cancellationToken).ConfigureAwait(false);

            Title("Failure 1: the database is unreachable (the report's first log: setSecret can't log in)");
            await postgres.StopServerAsync().ConfigureAwait(false);
            Say("PostgreSQL stopped. Rotating now fails in setSecret; the engine retries with backoff.");
            await client.RotateSecretAsync(SecretName, cancellationToken).ConfigureAwait(false);
            await WaitForStatusAsync(store, RotationStatus.Retrying, cancellationToken).ConfigureAwait(false);
            Say("Last failure: " + await LastReasonAsync(store, cancellationToken).ConfigureAwait(false));
            await DoctorAsync(doctorTarget, dataDirectory, journal, apply: false, cancellationToken).ConfigureAwait(false);
            Say("The doctor refuses to touch labels while the database can't answer. Bringing PostgreSQL back; the next retry finishes the rotation.");
            await postgres.StartServerAsync().ConfigureAwait(false);
            await WaitForRotationAsync(store, client, cancellationToken).ConfigureAwait(false);

            Title("Failure 2: a stuck AWSPENDING that never reached the database (\"A previous rotation isn't complete\")");
            await client.CallAsync("PutSecretValue", new System.Text.Json.Nodes.JsonObject
            {
                ["SecretId"] = SecretName,
                ["ClientRequestToken"] = Guid.NewGuid().ToString(),
                ["SecretString"] = Value("never-applied-pw-2"),
                ["VersionStages"] = new System.Text.Json.Nodes.JsonArray("AWSPENDING"),
            }, cancellationToken).ConfigureAwait(false);
            try
            {
                await client.RotateSecretAsync(SecretName, cancellationToken).ConfigureAwait(false);
            }
            catch (AwsServiceException e)
            {
                Say($"rotate-secret: An error occurred ({e.ErrorCode}): {e.ErrorMessage}");
            }

            await DoctorAsync(doctorTarget, dataDirectory, journal, apply: true, cancellationToken).ConfigureAwait(false);

            Title("Failure 3: AWSPENDING and AWSCURRENT on one version, the database still on the previous password");
            var broken = Guid.NewGuid().ToString();
            var current = await HolderAsync(client, StagingLabels.Current, cancellationToken).ConfigureAwait(false);
            await client.CallAsync("PutSecretValue", new System.Text.Json.Nodes.JsonObject
            {
                ["SecretId"] = SecretName,
                ["ClientRequestToken"] = broken,
                ["SecretString"] = Value("labels-moved-db-didnt-3"),
                ["VersionStages"] = new System.Text.Json.Nodes.JsonArray("AWSPENDING"),
            }, cancellationToken).ConfigureAwait(false);
            await client.UpdateSecretVersionStageAsync(SecretName, StagingLabels.Current, current, broken, cancellationToken).ConfigureAwait(false);
            Say("finishSecret moved AWSCURRENT, but setSecret never changed the password: every client now reads a password the database rejects.");
            await DoctorAsync(doctorTarget, dataDirectory, journal, apply: true, cancellationToken).ConfigureAwait(false);

            Title("Failure 4: the lockout trap — only the AWSPENDING password works");
            var applied = Guid.NewGuid().ToString();
            await client.CallAsync("PutSecretValue", new System.Text.Json.Nodes.JsonObject
            {
                ["SecretId"] = SecretName,
                ["ClientRequestToken"] = applied,
                ["SecretString"] = Value("applied-but-not-promoted-4"),
                ["VersionStages"] = new System.Text.Json.Nodes.JsonArray("AWSPENDING"),
            }, cancellationToken).ConfigureAwait(false);
            await postgres.ExecuteAsync("ALTER ROLE \"postgresAdmin\" PASSWORD 'applied-but-not-promoted-4'").ConfigureAwait(false);
            Say("setSecret changed the password, then finishSecret never ran. The report's blanket advice — delete AWSPENDING — would now lock everyone out.");
            await DoctorAsync(doctorTarget, dataDirectory, journal, apply: true, cancellationToken).ConfigureAwait(false);

            Title("A clean rotation to finish");
            await client.RotateSecretAsync(SecretName, cancellationToken).ConfigureAwait(false);
            await WaitForRotationAsync(store, client, cancellationToken).ConfigureAwait(false);
            await DoctorAsync(doctorTarget, dataDirectory, journal, apply: false, cancellationToken).ConfigureAwait(false);

            Title($"Done in {watch.Elapsed.TotalSeconds:F0} s. Cleaning up.");
            return 0;
        }
        finally
        {
            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
            }

            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private async Task DoctorAsync(DoctorTarget target, string dataDirectory, string journal, bool apply, CancellationToken cancellationToken)
    {
        Command($"./keyturn doctor {SecretName}{(apply ? " --apply --yes" : "")}");
        var options = new DoctorRunOptions(SecretName, All: false, apply, BreakGlass: false, RotateAfter: false, journal, dataDirectory, Concurrency: 1, LogFile: null, NoLogs: false);
        var hooks = new DoctorRunHooks(
            ConfirmRepair: before =>
            {
                DoctorReport.WriteBefore(output, before);
                return true;
            },
            Repaired: repaired => DoctorReport.WriteRepair(output, repaired));
        var report = await DoctorRun.RunAsync(target, BuiltInRotators.Create(), options, hooks, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        DoctorReport.Write(output, report);
        if (report is SecretRun { Repair.AfterDiagnosis: { } after })
        {
            Say($"After the repair: {after.Verdict}");
        }
    }

    private async Task WaitForRotationAsync(ISecretStore store, SecretsManagerClient client, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var latest = await LatestAsync(store, cancellationToken).ConfigureAwait(false);
            if (latest is { Status: RotationStatus.Succeeded })
            {
                Say($"Rotation {latest.Token} succeeded in {(latest.UpdatedAt - latest.StartedAt).TotalMilliseconds:F0} ms (the report's Lambda billed ~2.8 s).");
                await ShowLabelsAsync(client, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (latest is { Status: RotationStatus.Failed or RotationStatus.Abandoned } || watch.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new InvalidOperationException($"The demo's rotation did not succeed: {latest?.Status} {latest?.Reason}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WaitForStatusAsync(ISecretStore store, RotationStatus status, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while ((await LatestAsync(store, cancellationToken).ConfigureAwait(false))?.Status != status)
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(1))
            {
                throw new InvalidOperationException($"The demo's rotation never reached {status}.");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<string> LastReasonAsync(ISecretStore store, CancellationToken cancellationToken) =>
        (await LatestAsync(store, cancellationToken).ConfigureAwait(false))?.Reason ?? "-";

    private static ValueTask<Application.Rotation.RotationRecord?> LatestAsync(ISecretStore store, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) => await session.FindByNameAsync("us-east-1", SecretName, ct).ConfigureAwait(false) is { } secret
            ? (await session.ListRotationsAsync(secret.Arn, openOnly: false, ct).ConfigureAwait(false)).FirstOrDefault()
            : null, cancellationToken);

    private async Task ShowLabelsAsync(SecretsManagerClient client, CancellationToken cancellationToken)
    {
        Command($"aws secretsmanager list-secret-version-ids --secret-id {SecretName}");
        foreach (var version in (await client.ListVersionsAsync(SecretName, cancellationToken).ConfigureAwait(false)).Where(v => v.Stages.Count > 0).OrderByDescending(v => v.CreatedDate))
        {
            Say($"  {version.VersionId}  {string.Join(",", version.Stages)}");
        }
    }

    private static async Task<string> HolderAsync(SecretsManagerClient client, string label, CancellationToken cancellationToken) =>
        (await client.ListVersionsAsync(SecretName, cancellationToken).ConfigureAwait(false)).First(v => v.Stages.Contains(label)).VersionId;

    private void Title(string text)
    {
        output.WriteLine();
        output.WriteLine(Paint($"━━ {(++_chapter).ToString(System.Globalization.CultureInfo.InvariantCulture)}. {text}", "1;34"));
    }

    private void Say(string text) => output.WriteLine(text);

    private void Command(string text) => output.WriteLine(Paint("$ " + text, "2"));

    private static string Paint(string text, string code) =>
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null ? $"\u001b[{code}m{text}\u001b[0m" : text;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
