using System.CommandLine;
using Keyturn.Doctor;
using Keyturn.Domain.Doctor;
using Keyturn.Protocol.Client;
using Keyturn.Server.Hosting;

namespace Keyturn.Cli.Commands;

/// <summary>
/// <c>keyturn doctor SECRET</c>: diagnoses a stuck rotation and proposes (or, with --apply, makes) a
/// repair that can't lock anyone out. Only the options and the terminal live here: the run is <see cref="DoctorRun"/>, its one
/// report (text, --json and the exit code: 0 healthy, 1 needs attention, 2 could not diagnose) is <see cref="DoctorRunReport"/>.
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
            if (parse.GetValue(all) && parse.GetValue(logFile) is not null)
            {
                await Console.Error.WriteLineAsync("--log-file names one secret's log; it can't go with --all.").ConfigureAwait(false);
                return DoctorRunReport.CouldNotDiagnose;
            }

            if (!parse.GetValue(all) && string.IsNullOrEmpty(parse.GetValue(secret)))
            {
                await Console.Error.WriteLineAsync("Name a secret, or use --all.").ConfigureAwait(false);
                return DoctorRunReport.CouldNotDiagnose;
            }

            // Names, errors and log lines come from the server and the function: no control sequence of theirs reaches the terminal.
            var output = new TerminalSafeWriter(Console.Out);
            var errors = new TerminalSafeWriter(Console.Error);
            DoctorTarget? target = null;
            try
            {
                target = await DoctorTarget.ResolveAsync(
                    new TargetOptions(parse.GetValue(targetOption), parse.GetValue(endpoint), parse.GetValue(profile), parse.GetValue(region)),
                    parse.GetValue(dataDir)!, parse.GetValue(caBundle), cancellationToken).ConfigureAwait(false);
                var options = new DoctorRunOptions(
                    parse.GetValue(secret), parse.GetValue(all), parse.GetValue(apply), parse.GetValue(breakGlass), parse.GetValue(rotateAfter), parse.GetValue(journal),
                    parse.GetValue(dataDir)!, parse.GetValue(concurrency), parse.GetValue(logFile), parse.GetValue(noLogs));
                var asJson = parse.GetValue(json);
                var confirmed = parse.GetValue(yes);
                var progress = parse.GetValue(all) && !asJson && !Console.IsErrorRedirected;
                var hooks = new DoctorRunHooks(
                    ConfirmRepair: before =>
                    {
                        if (!asJson)
                        {
                            DoctorReport.WriteBefore(output, before);
                        }

                        return confirmed || Confirm(before.Diagnosis);
                    },
                    Repaired: asJson ? null : repaired => DoctorReport.WriteRepair(output, repaired),
                    Follow: asJson ? null : output.WriteLine,
                    Progress: progress ? Progress : null);
                var report = await DoctorRun.RunAsync(target, BuiltInRotators.Create(), options, hooks, TimeProvider.System, cancellationToken).ConfigureAwait(false);
                if (progress)
                {
                    Console.Error.WriteLine();
                }

                if (report is SecretRun { Repair.Confirmed: false })
                {
                    await Console.Error.WriteLineAsync("Nothing changed.").ConfigureAwait(false);
                }
                else if (asJson)
                {
                    Console.WriteLine(DoctorReport.Serialize(DoctorReport.ToJson(report)!));
                }
                else
                {
                    DoctorReport.Write(output, report);
                }

                return report.ExitCode;
            }
            catch (AwsServiceException e)
            {
                await errors.WriteLineAsync($"keyturn doctor: Secrets Manager refused: {e.ErrorCode}: {e.ErrorMessage}").ConfigureAwait(false);
                return DoctorRunReport.CouldNotDiagnose;
            }
            catch (HttpRequestException e) when (target is not null && CaBundleTrust.Describe(e, target.Endpoint) is { } refused)
            {
                await errors.WriteLineAsync($"keyturn doctor: {refused}").ConfigureAwait(false);
                return DoctorRunReport.CouldNotDiagnose;
            }
            catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException or PaginationException or TimeoutException or FormatException)
            {
                await errors.WriteLineAsync($"keyturn doctor: {e.Message}").ConfigureAwait(false);
                return DoctorRunReport.CouldNotDiagnose;
            }
        });
        return command;
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
