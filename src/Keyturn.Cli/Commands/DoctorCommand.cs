using System.CommandLine;
using System.Diagnostics;
using Keyturn.Application.Logs;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Doctor;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Secrets;
using Keyturn.Protocol.Client;
using Keyturn.Server.Hosting;

namespace Keyturn.Cli.Commands;

/// <summary>
/// <c>keyturn doctor SECRET</c>: diagnoses a stuck rotation and proposes (or, with --apply, makes) a
/// repair that can't lock anyone out. Exit codes: 0 healthy, 1 problems found, 2 the doctor failed.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var secret = new Argument<string?>("secret") { Description = "Secret name or ARN.", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Check every secret with rotation enabled (diagnosis only)." };
        var apply = new Option<bool>("--apply") { Description = "Carry out the repair plan (after a confirmation)." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Don't ask for confirmation." };
        var json = new Option<bool>("--json") { Description = "Machine-readable output." };
        var breakGlass = new Option<bool>("--break-glass") { Description = "Allow resetting the password through the master secret when nothing else works." };
        var rotateAfter = new Option<bool>("--rotate-after") { Description = "Start a rotation after a successful repair and follow it to the end." };
        var endpoint = new Option<string?>("--endpoint-url") { Description = "Secrets Manager endpoint, as the AWS CLI's --endpoint-url (default: resolved as the AWS CLI does; a Keyturn at KEYTURN_ENDPOINT or " + DoctorTargetResolver.LocalKeyturnEndpoint + " only when nothing AWS-like is configured)." };
        var targetOption = new Option<string?>("--target") { Description = "aws or keyturn: what the endpoint is, instead of asking it (an endpoint that isn't AWS's is Keyturn only if it says so)." };
        targetOption.AcceptOnlyFromAmong("aws", "keyturn");
        var caBundle = new Option<string?>("--ca-bundle") { Description = "PEM CA certificates to verify an HTTPS endpoint with, instead of the system's (default: AWS_CA_BUNDLE), as the AWS CLI's --ca-bundle." };
        var profile = new Option<string?>("--profile") { Description = "AWS profile (real AWS, standard credential chain)." };
        var region = new Option<string?>("--region") { Description = "AWS region." };
        var journal = new Option<string?>("--journal")
        {
            Description = "Where applied repairs are recorded (JSON lines; default: doctor-journal.jsonl in Keyturn's data directory for a local Keyturn, "
                + "else in $XDG_STATE_HOME/keyturn, ~/.local/state/keyturn).",
        };
        var concurrency = new Option<int>("--concurrency") { Description = "Secrets checked at once with --all (default: 4 per core, at least 8).", DefaultValueFactory = _ => Math.Max(8, 4 * Environment.ProcessorCount) };
        var logFile = new Option<string?>("--log-file") { Description = "Read the rotation function's log from this file (- for stdin) instead of its log group." };
        var noLogs = new Option<bool>("--no-logs") { Description = "Skip reading the rotation function's logs." };
        var dataDir = CommonOptions.DataDir();

        var command = new Command("doctor", "Diagnose and safely repair stuck rotations, on Keyturn or on AWS.")
        {
            secret, all, apply, yes, json, breakGlass, rotateAfter, targetOption, endpoint, caBundle, profile, region, journal, concurrency, logFile, noLogs, dataDir,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            DoctorTarget? target = null;
            try
            {
                target = await DoctorTarget.ResolveAsync(
                    new TargetOptions(parse.GetValue(targetOption), parse.GetValue(endpoint), parse.GetValue(profile), parse.GetValue(region)),
                    parse.GetValue(dataDir)!, parse.GetValue(caBundle), cancellationToken).ConfigureAwait(false);
                using var client = target.CreateClient();
                if (parse.GetValue(all) && parse.GetValue(logFile) is not null)
                {
                    await Console.Error.WriteLineAsync("--log-file names one secret's log; it can't go with --all.").ConfigureAwait(false);
                    return 2;
                }

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

                var logCheck = parse.GetValue(noLogs) ? null : new RotationLogCheck(inspector, parse.GetValue(logFile), TimeProvider.System);
                if (logCheck is not null && parse.GetValue(logFile) is null && target.UnconfiguredServices("logs").Count > 0)
                {
                    logCheck = null;
                    skipped.Add($"Log check: {target.Endpoint} is an AWS-compatible service, and no endpoint is configured for CloudWatch Logs (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS); pass --log-file to read a saved log.");
                }

                var gatherer = new DoctorGatherer(client, BuiltInRotators.Create(), TimeProvider.System)
                {
                    Extra = new DoctorGatherer.Checks(logCheck, networkCheck, LogsOnlyWhenUnhealthy: parse.GetValue(all))
                    {
                        Functions = target.IsKeyturn ? new FunctionCheck(inspector) : null,
                    },
                    Platform = target.IsKeyturn ? RotationPlatform.Keyturn : RotationPlatform.Aws,
                    DeprecatedValuesOnDemand = parse.GetValue(all),
                    SharedChecksOncePerRun = parse.GetValue(all),
                };
                var account = await target.AccountAsync(inspector, cancellationToken).ConfigureAwait(false);
                var mode = parse.GetValue(all) ? "diagnose" : parse.GetValue(apply) ? "apply" : "dry-run";
                var header = ReportHeader.For(target, account, mode, skipped);
                if (parse.GetValue(all))
                {
                    return await AllAsync(client, gatherer, header, parse.GetValue(json), Math.Max(1, parse.GetValue(concurrency)), cancellationToken).ConfigureAwait(false);
                }

                var id = parse.GetValue(secret);
                if (string.IsNullOrEmpty(id))
                {
                    await Console.Error.WriteLineAsync("Name a secret, or use --all.").ConfigureAwait(false);
                    return 2;
                }

                return await OneAsync(client, gatherer, inspector, id, new Options(parse.GetValue(apply), parse.GetValue(yes), parse.GetValue(json), parse.GetValue(breakGlass), parse.GetValue(rotateAfter), parse.GetValue(journal) ?? DefaultJournal(target, parse.GetValue(dataDir)!), header), cancellationToken).ConfigureAwait(false);
            }
            catch (AwsServiceException e)
            {
                await Console.Error.WriteLineAsync($"keyturn doctor: Secrets Manager refused: {e.ErrorCode}: {e.ErrorMessage}").ConfigureAwait(false);
                return 2;
            }
            catch (HttpRequestException e) when (target is not null && CaBundleTrust.Describe(e, target.Endpoint) is { } refused)
            {
                await Console.Error.WriteLineAsync($"keyturn doctor: {refused}").ConfigureAwait(false);
                return 2;
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException or PaginationException or TimeoutException or FormatException)
            {
                await Console.Error.WriteLineAsync($"keyturn doctor: {e.Message}").ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    private sealed record Options(bool Apply, bool Yes, bool Json, bool BreakGlass, bool RotateAfter, string Journal, ReportHeader Header);

    private static async Task<int> OneAsync(SecretsManagerClient client, DoctorGatherer gatherer, AwsInspector inspector, string id, Options options, CancellationToken cancellationToken)
    {
        var gathered = await gatherer.GatherAsync(id, cancellationToken).ConfigureAwait(false);
        var diagnosis = RotationDoctor.Diagnose(gathered.Snapshot, options.BreakGlass);

        if (options.Apply && diagnosis.Plan.Count > 0)
        {
            if (!options.Json)
            {
                DoctorReport.Write(Console.Out, gathered.Snapshot, diagnosis, null, apply: true, options.Header);
            }

            if (!options.Yes && !Confirm(diagnosis))
            {
                await Console.Error.WriteLineAsync("Nothing changed.").ConfigureAwait(false);
                return 1;
            }

            var applied = await new RepairExecutor(client, gatherer, options.Journal, TimeProvider.System).ApplyAsync(gathered, diagnosis, cancellationToken).ConfigureAwait(false);
            if (!options.Json)
            {
                Console.WriteLine();
                Console.WriteLine("Applying the repair:");
                for (var i = 0; i < applied.Count; i++)
                {
                    Console.WriteLine($"  {i + 1}. {applied[i].Action.Description}");
                    Console.WriteLine(applied[i].Succeeded ? $"     ✔ {applied[i].Detail}" : $"     ✘ {applied[i].Detail}");
                }

                Console.WriteLine($"Repair journal: {options.Journal}");
                Console.WriteLine();
            }

            // Diagnose again, whatever the steps did: the report ends with the state they left.
            var after = await gatherer.GatherAsync(gathered.Snapshot.SecretArn, cancellationToken).ConfigureAwait(false);
            var afterDiagnosis = RotationDoctor.Diagnose(after.Snapshot, options.BreakGlass);
            if (!options.Json)
            {
                Console.WriteLine("After the repair:");
                DoctorReport.Write(Console.Out, after.Snapshot, afterDiagnosis, null, apply: false,
                    planHeader: "Repair plan left after this run (run the doctor with --apply again once its cause is fixed)");
            }

            if (options.RotateAfter && applied.All(a => a.Succeeded) && afterDiagnosis.State == LabelState.Healthy)
            {
                await RotateAndFollowAsync(client, inspector, gathered.Snapshot, options.Json, cancellationToken).ConfigureAwait(false);
            }

            if (options.Json)
            {
                Console.WriteLine(DoctorReport.Serialize(DoctorReport.ToJson(gathered.Snapshot, diagnosis, applied, after.Snapshot, afterDiagnosis, options.Journal, options.Header)));
            }

            // Healthy labels and nothing above Info left, except the log's findings: those describe invocations
            // from before the repair, which a plain run made later reports until the next rotation succeeds.
            return applied.All(a => a.Succeeded) && afterDiagnosis.State == LabelState.Healthy
                && afterDiagnosis.Findings.All(f => f.Severity <= Severity.Info || f.Code.StartsWith("LOG", StringComparison.Ordinal)) ? 0 : 1;
        }
        else if (options.RotateAfter && diagnosis.State == LabelState.Healthy)
        {
            await RotateAndFollowAsync(client, inspector, gathered.Snapshot, options.Json, cancellationToken).ConfigureAwait(false);
        }

        if (options.Json)
        {
            Console.WriteLine(DoctorReport.Serialize(DoctorReport.ToJson(gathered.Snapshot, diagnosis, null, options.Header)));
        }
        else
        {
            DoctorReport.Write(Console.Out, gathered.Snapshot, diagnosis, null, options.Apply, options.Header);
        }

        return diagnosis.Healthy ? 0 : 1;
    }

    /// <summary>
    /// The repair journal's home: the data directory of the local Keyturn being repaired (beside its database), else the
    /// user's state directory ($XDG_STATE_HOME/keyturn, by default ~/.local/state/keyturn), never the working directory.
    /// </summary>
    private static string DefaultJournal(DoctorTarget target, string dataDirectory)
    {
        const string FileName = "doctor-journal.jsonl";
        if (target.IsKeyturn && (File.Exists(Path.Combine(dataDirectory, Keyturn.Storage.Sqlite.SqliteSecretStore.FileName)) || File.Exists(Path.Combine(dataDirectory, RootCredentials.FileName))))
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

    private static bool Confirm(Diagnosis diagnosis)
    {
        if (Console.IsInputRedirected)
        {
            Console.Error.WriteLine("Refusing to change labels without a terminal to confirm on; add --yes.");
            return false;
        }

        Console.Write($"Apply these {diagnosis.Plan.Count} change(s)? [y/N] ");
        return Console.ReadLine()?.Trim().ToLowerInvariant() is "y" or "yes";
    }

    /// <summary>
    /// Starts a rotation and follows it to the end: each step's lines as the function logs them (its log group,
    /// Keyturn's or CloudWatch's), and the labels, until the new version holds AWSCURRENT alone or the rotation stalls.
    /// </summary>
    private static async Task RotateAndFollowAsync(SecretsManagerClient client, AwsInspector inspector, RotationSnapshot snapshot, bool json, CancellationToken cancellationToken)
    {
        var arn = snapshot.SecretArn;
        var since = DateTimeOffset.UtcNow - TimeSpan.FromSeconds(5);
        var token = (await client.RotateSecretAsync(arn, cancellationToken).ConfigureAwait(false)).GetProperty("VersionId").GetString()!;
        var group = snapshot.RotationFunction is { } function ? RotationLogHistory.GroupOf(RotationFunctionRegistry.NameOf(function)) : null;
        var shown = new HashSet<(string, long, string)>();
        var watch = Stopwatch.StartNew();
        if (!json)
        {
            Console.WriteLine($"Rotation {token} started{(group is null ? "" : $"; following {group}")}:");
        }

        while (watch.Elapsed < TimeSpan.FromMinutes(2))
        {
            var versions = await client.ListVersionsAsync(arn, cancellationToken).ConfigureAwait(false);
            var version = versions.FirstOrDefault(v => v.VersionId == token);
            var finished = version is null || (version.Stages.Contains(StagingLabels.Current) && !versions.Any(v => v.Stages.Contains(StagingLabels.Pending)));
            if (group is not null && !json)
            {
                await ShowStepLinesAsync(inspector, group, arn, token, since, shown, watch.Elapsed, cancellationToken).ConfigureAwait(false);
            }

            if (finished)
            {
                if (!json)
                {
                    Console.WriteLine(version is null
                        ? $"  the rotation's version {token} is gone ({watch.Elapsed.TotalSeconds:F1} s)."
                        : $"  ✔ version {token} is AWSCURRENT ({watch.Elapsed.TotalSeconds:F1} s).");
                }

                return;
            }

            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }

        Console.WriteLine($"  rotation {token} did not finish within 2 minutes; run the doctor again.");
    }

    /// <summary>Prints the step lines (INFO and ERROR) of this rotation not shown yet; a log that can't be read just isn't followed.</summary>
    private static async Task ShowStepLinesAsync(
        AwsInspector inspector, string group, string arn, string token, DateTimeOffset since, HashSet<(string, long, string)> shown, TimeSpan elapsed, CancellationToken cancellationToken)
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
            Console.WriteLine($"  {(error ? "✘" : "▸")} {message} ({elapsed.TotalSeconds:F1} s)");
        }
    }

    private static async Task<int> AllAsync(SecretsManagerClient client, DoctorGatherer gatherer, ReportHeader header, bool json, int concurrency, CancellationToken cancellationToken)
    {
        if (header.Target == "keyturn")
        {
            // Keyturn's account is the one its ARNs name: one secret's is enough.
            var first = await client.CallAsync("ListSecrets", new System.Text.Json.Nodes.JsonObject { ["MaxResults"] = 1 }, cancellationToken).ConfigureAwait(false);
            header = header.WithAccountFrom(first.GetProperty("SecretList").EnumerateArray().Select(s => s.GetProperty("ARN").GetString()).FirstOrDefault());
        }

        if (!json)
        {
            header.Write(Console.Out);
        }

        var progress = !json && !Console.IsErrorRedirected;
        var survey = new DoctorSurvey(client, gatherer, concurrency);
        var results = await survey.RunAsync(progress ? Progress : null, cancellationToken).ConfigureAwait(false);
        if (progress)
        {
            Console.Error.WriteLine();
        }

        if (json)
        {
            Console.WriteLine(DoctorReport.Serialize(new Dictionary<string, object?>
            {
                ["target"] = header,
                ["secrets"] = results.Select(r => new Dictionary<string, object?>
                {
                    ["secret"] = r.Name,
                    ["state"] = r.Diagnosis?.State.ToString(),
                    ["healthy"] = r.Diagnosis?.Healthy,
                    ["verdict"] = r.Diagnosis?.Verdict,
                    ["error"] = r.Error,
                    ["codes"] = r.Diagnosis?.Findings.Where(f => f.Severity > Severity.Info).Select(f => f.Code).ToList(),
                }).ToList(),
            }));
        }
        else
        {
            Console.WriteLine($"{"SECRET",-40} {"STATE",-18} VERDICT");
            foreach (var (name, diagnosis, error) in results.OrderBy(r => r.Diagnosis?.Healthy ?? false).ThenBy(r => r.Name, StringComparer.Ordinal))
            {
                Console.WriteLine($"{name,-40} {diagnosis?.State.ToString() ?? "error",-18} {diagnosis?.Verdict ?? error}");
            }

            var healthy = results.Count(r => r.Diagnosis?.Healthy == true);
            Console.WriteLine($"{results.Count} secrets with rotation enabled: {healthy} healthy, {results.Count - healthy} need attention.");
        }

        return results.Any(r => r.Error is not null) ? 2 : results.All(r => r.Diagnosis?.Healthy == true) ? 0 : 1;
    }

    /// <summary>The progress bar on stderr; while the listing goes on, its total is what has been listed so far.</summary>
    private static void Progress(int done, int listed, bool finished)
    {
        const int Width = 30;
        var filled = listed == 0 ? Width : done * Width / listed;
        lock (Console.Error)
        {
            Console.Error.Write($"\r  [{new string('#', filled)}{new string('.', Width - filled)}] {done}/{listed}{(finished ? "" : "+")} ");
        }
    }
}
