using System.Diagnostics;
using Keyturn.Application.Logs;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Secrets;
using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>What <c>keyturn doctor</c> was asked to do, its options resolved (the target comes separately).</summary>
/// <param name="Secret">The secret's name or ARN; null with <paramref name="All"/>.</param>
/// <param name="Journal">Where applied repairs are recorded; null: <see cref="DoctorRun.DefaultJournal"/>.</param>
/// <param name="LogFile">The rotation function's log read from this file (- for stdin) instead of its log group.</param>
internal sealed record DoctorRunOptions(
    string? Secret, bool All, bool Apply, bool BreakGlass, bool RotateAfter, string? Journal, string DataDirectory, int Concurrency, string? LogFile, bool NoLogs);

/// <summary>
/// The run's hooks into the caller's terminal: all optional, none changes what the run finds or the report it returns.
/// </summary>
/// <param name="ConfirmRepair">Called with the report so far (before and its plan) just before the first change; false: nothing changes.</param>
/// <param name="Repaired">Called once the repair ran and the secret was diagnosed again, before --rotate-after's rotation.</param>
/// <param name="Follow">Each line of a rotation followed with --rotate-after, as it is logged.</param>
/// <param name="Progress">--all's progress: secrets done, secrets listed so far, listing finished.</param>
internal sealed record DoctorRunHooks(
    Func<SecretRun, bool>? ConfirmRepair = null, Action<SecretRun>? Repaired = null, Action<string>? Follow = null, Action<int, int, bool>? Progress = null);

/// <summary>
/// One doctor run against a resolved target: gathers, diagnoses, repairs with --apply (then diagnoses again), follows a rotation
/// with --rotate-after, or surveys every rotating secret with --all; the outcome is one <see cref="DoctorRunReport"/>.
/// </summary>
internal static class DoctorRun
{
    public static async Task<DoctorRunReport> RunAsync(
        DoctorTarget target, DatabaseRotators rotators, DoctorRunOptions options, DoctorRunHooks hooks, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var client = target.CreateClient();
        using var inspector = target.CreateInspector();
        var skipped = new List<string>();
        var networkCheck = target.IsKeyturn ? null : new AwsNetworkCheck(inspector);
        if (target.UnconfiguredServices("lambda", "ec2") is { Count: > 0 } noNetwork)
        {
            networkCheck = null;
            skipped.Add($"VPC checks: {target.Endpoint} is an AWS-compatible service, and no endpoint is configured for {string.Join(", ", noNetwork)} " +
                $"(AWS_ENDPOINT_URL, {string.Join(", ", noNetwork.Select(s => "AWS_ENDPOINT_URL_" + DoctorTargetResolver.Services[s].EnvironmentSuffix))} or the profile's services section); " +
                "AWS's own would describe another account's network.");
        }

        var logCheck = options.NoLogs ? null : new RotationLogCheck(inspector, options.LogFile, timeProvider);
        if (logCheck is not null && options.LogFile is null && target.UnconfiguredServices("logs").Count > 0)
        {
            logCheck = null;
            skipped.Add($"Log check: {target.Endpoint} is an AWS-compatible service, and no endpoint is configured for CloudWatch Logs (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS); pass --log-file to read a saved log.");
        }

        var gatherer = new DoctorGatherer(client, rotators, timeProvider)
        {
            Extra = new DoctorGatherer.Checks(logCheck, networkCheck, LogsOnlyWhenUnhealthy: options.All)
            {
                Functions = target.IsKeyturn ? new FunctionCheck(inspector) : null,
            },
            Platform = target.IsKeyturn ? RotationPlatform.Keyturn : RotationPlatform.Aws,
            DeprecatedValuesOnDemand = options.All,
            SharedChecksOncePerRun = options.All,
        };
        var account = await target.AccountAsync(inspector, cancellationToken).ConfigureAwait(false);
        var mode = options.All ? "diagnose" : options.Apply ? "apply" : "dry-run";
        var header = ReportHeader.For(target, account, mode, skipped);
        if (options.All)
        {
            return await SurveyAsync(client, gatherer, header, options.Concurrency, hooks.Progress, cancellationToken).ConfigureAwait(false);
        }

        var journal = options.Journal ?? DefaultJournal(target, options.DataDirectory);
        var gathered = await gatherer.GatherAsync(options.Secret!, cancellationToken).ConfigureAwait(false);
        var before = new SecretRun(header.WithAccountFrom(gathered.Snapshot.SecretArn), gathered.Snapshot, RotationDoctor.Diagnose(gathered.Snapshot, options.BreakGlass), options.Apply, null);
        if (!options.Apply || before.Diagnosis.Plan.Count == 0)
        {
            if (options.RotateAfter && before.Diagnosis.State == LabelState.Healthy)
            {
                await RotateAndFollowAsync(client, inspector, before.Snapshot, hooks.Follow, timeProvider, cancellationToken).ConfigureAwait(false);
            }

            return before;
        }

        if (hooks.ConfirmRepair?.Invoke(before) == false)
        {
            return before with { Repair = new RepairRun(Confirmed: false, [], null, null, journal) };
        }

        var applied = await new RepairExecutor(client, gatherer, journal, timeProvider).ApplyAsync(gathered, before.Diagnosis, cancellationToken).ConfigureAwait(false);

        // Diagnose again, whatever the steps did: the report ends with the state they left.
        var after = await gatherer.GatherAsync(gathered.Snapshot.SecretArn, cancellationToken).ConfigureAwait(false);
        var repaired = before with { Repair = new RepairRun(Confirmed: true, applied, after.Snapshot, RotationDoctor.Diagnose(after.Snapshot, options.BreakGlass), journal) };
        hooks.Repaired?.Invoke(repaired);
        if (options.RotateAfter && applied.All(a => a.Succeeded) && repaired.Repair.AfterDiagnosis!.State == LabelState.Healthy)
        {
            await RotateAndFollowAsync(client, inspector, gathered.Snapshot, hooks.Follow, timeProvider, cancellationToken).ConfigureAwait(false);
        }

        return repaired;
    }

    /// <summary>
    /// The repair journal's home: the data directory of the local Keyturn being repaired (beside its database), else the
    /// user's state directory ($XDG_STATE_HOME/keyturn, by default ~/.local/state/keyturn), never the working directory.
    /// </summary>
    public static string DefaultJournal(DoctorTarget target, string dataDirectory)
    {
        const string FileName = "doctor-journal.jsonl";
        if (target.IsKeyturn && IsNodeDataDirectory(dataDirectory))
        {
            return Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        }

        // The XDG base directory rules: a relative XDG_STATE_HOME is invalid and ignored.
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        var root = string.IsNullOrWhiteSpace(state) || !Path.IsPathRooted(state)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state")
            : state;
        return Path.Combine(root, "keyturn", FileName);
    }

    /// <summary>
    /// A directory some Keyturn node uses: the embedded database, the root credentials or master key file, or the records
    /// of its running functions (every node creates them at start, whatever its store and wherever its keys come from).
    /// </summary>
    private static bool IsNodeDataDirectory(string dataDirectory) =>
        File.Exists(Keyturn.Storage.Sqlite.SqliteDatabase.PathIn(dataDirectory))
        || File.Exists(Path.Combine(dataDirectory, RootCredentials.FileName))
        || File.Exists(Keyturn.Application.Crypto.MasterKeyring.PathIn(dataDirectory))
        || Directory.Exists(FunctionProcessRecords.DirectoryIn(dataDirectory));

    private static async Task<SurveyRun> SurveyAsync(
        SecretsManagerClient client, DoctorGatherer gatherer, ReportHeader header, int concurrency, Action<int, int, bool>? progress, CancellationToken cancellationToken)
    {
        if (header.Target == "keyturn")
        {
            // Keyturn's account is the one its ARNs name: one secret's is enough.
            var first = await client.CallAsync("ListSecrets", new System.Text.Json.Nodes.JsonObject { ["MaxResults"] = 1 }, cancellationToken).ConfigureAwait(false);
            header = header.WithAccountFrom(first.GetProperty("SecretList").EnumerateArray().Select(s => s.GetProperty("ARN").GetString()).FirstOrDefault());
        }

        var results = await new DoctorSurvey(client, gatherer, Math.Max(1, concurrency)).RunAsync(progress, cancellationToken).ConfigureAwait(false);
        return new SurveyRun(header, results.Select(r => new SurveyEntry(
            r.Name,
            r.Diagnosis?.State.ToString(),
            r.Diagnosis?.Healthy,
            r.Diagnosis?.Verdict,
            r.Error,
            r.Diagnosis?.Findings.Where(f => f.Severity > Severity.Info).Select(f => f.Code).ToList())).ToList())
        {
            MissingPermissions = MissingPermissions.Of(results.SelectMany(r => r.ReadFailures)),
        };
    }

    /// <summary>
    /// Starts a rotation and follows it to the end: each step's lines as the function logs them (its log group,
    /// Keyturn's or CloudWatch's), and the labels, until the new version holds AWSCURRENT alone or the rotation stalls.
    /// </summary>
    private static async Task RotateAndFollowAsync(
        SecretsManagerClient client, AwsInspector inspector, RotationSnapshot snapshot, Action<string>? follow, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var arn = snapshot.SecretArn;
        var since = timeProvider.GetUtcNow() - TimeSpan.FromSeconds(5);
        var token = (await client.RotateSecretAsync(arn, cancellationToken).ConfigureAwait(false)).GetProperty("VersionId").GetString()!;
        var group = snapshot.RotationFunction is { } function ? RotationLogHistory.GroupOf(RotationFunctionRegistry.NameOf(function)) : null;
        var shown = new HashSet<(string, long, string)>();
        var watch = Stopwatch.StartNew();
        follow?.Invoke($"Rotation {token} started{(group is null ? "" : $"; following {group}")}:");
        while (watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            var versions = await client.ListVersionsAsync(arn, cancellationToken).ConfigureAwait(false);
            var version = versions.FirstOrDefault(v => v.VersionId == token);
            var finished = version is null || (version.Stages.Contains(StagingLabels.Current) && !versions.Any(v => v.Stages.Contains(StagingLabels.Pending)));
            if (group is not null && follow is not null)
            {
                await ShowStepLinesAsync(inspector, group, arn, token, since, shown, watch.Elapsed, follow, cancellationToken).ConfigureAwait(false);
            }

            if (finished)
            {
                follow?.Invoke(version is null
                    ? $"  the rotation's version {token} is gone ({watch.Elapsed.TotalSeconds:F1} s)."
                    : $"  ✔ version {token} is AWSCURRENT ({watch.Elapsed.TotalSeconds:F1} s).");
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), timeProvider, cancellationToken).ConfigureAwait(false);
        }

        follow?.Invoke($"  rotation {token} did not finish within 2 minutes; run the doctor again.");
    }

    /// <summary>Passes on the step lines (INFO and ERROR) of this rotation not shown yet; a log that can't be read just isn't followed.</summary>
    private static async Task ShowStepLinesAsync(
        AwsInspector inspector, string group, string arn, string token, DateTimeOffset since, HashSet<(string, long, string)> shown, TimeSpan elapsed, Action<string> follow,
        CancellationToken cancellationToken)
    {
        IReadOnlyList<AwsInspector.LogEvent>? events;
        try
        {
            events = await inspector.FilterLogEventsAsync(group, since, $"\"{arn}\"", null, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AwsServiceException or HttpRequestException)
        {
            return;
        }

        // The rotation begins with the first line naming its version (Keyturn's "invoking" line, or createSecret's):
        // what the secret logged before belongs to earlier rotations.
        var begun = events?.Where(e => e.Message.Contains(token, StringComparison.Ordinal)).Select(e => (long?)e.Timestamp).Min();
        foreach (var e in events?.Where(e => e.Timestamp >= begun) ?? [])
        {
            var message = e.Message.Split('\t')[^1].Trim();
            if (message.Contains(" invoking ", StringComparison.Ordinal) || !shown.Add((e.Stream, e.Timestamp, e.Message)))
            {
                continue;
            }

            var error = e.Message.StartsWith("[ERROR]", StringComparison.Ordinal);
            follow($"  {(error ? "✘" : "▸")} {message} ({elapsed.TotalSeconds:F1} s)");
        }
    }
}
