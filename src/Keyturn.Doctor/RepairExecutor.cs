using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Passwords;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>
/// Carries out a repair plan. Each step first checks that the labels are still as diagnosed (and the
/// API call itself is a compare-and-swap through RemoveFromVersionId), then probes the version that
/// should now work, and is recorded in the doctor journal. A concurrent change aborts the repair.
/// </summary>
internal sealed class RepairExecutor(SecretsManagerClient client, DoctorGatherer gatherer, string journalPath, TimeProvider timeProvider)
{
    public sealed record StepResult(RepairAction Action, bool Succeeded, string Detail);

    public async Task<IReadOnlyList<StepResult>> ApplyAsync(DoctorGatherer.Gathered gathered, Diagnosis diagnosis, CancellationToken cancellationToken)
    {
        // A journal that can't be written must stop the repair before its first change, not after it.
        PrivateFiles.RefuseSymbolicLink(journalPath);
        var results = new List<StepResult>();
        var arn = gathered.Snapshot.SecretArn;
        var expected = LabelMap(gathered.Snapshot.Versions.Select(v => (v.VersionId, v.Stages)));
        foreach (var action in diagnosis.Plan)
        {
            // The whole label map must still be the one diagnosed (or left by the previous step).
            var now = LabelMap((await client.ListVersionsAsync(arn, cancellationToken).ConfigureAwait(false)).Select(v => (v.VersionId, v.Stages)));
            StepResult result;
            if (now != expected)
            {
                result = new StepResult(action, false, $"Aborted: the labels changed since the diagnosis (expected {expected}; now {now}). Run the doctor again.");
            }
            else
            {
                result = await ApplyOneAsync(arn, gathered, action, cancellationToken).ConfigureAwait(false);
                expected = LabelMap((await client.ListVersionsAsync(arn, cancellationToken).ConfigureAwait(false)).Select(v => (v.VersionId, v.Stages)));
            }

            results.Add(result);
            await RecordAsync(arn, result, cancellationToken).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                break;
            }
        }

        return results;
    }

    private async Task<StepResult> ApplyOneAsync(string arn, DoctorGatherer.Gathered gathered, RepairAction action, CancellationToken cancellationToken)
    {
        var versions = await client.ListVersionsAsync(arn, cancellationToken).ConfigureAwait(false);
        string? Holder(string label) => versions.FirstOrDefault(v => v.Stages.Contains(label))?.VersionId;
        try
        {
            switch (action)
            {
                case RemoveLabel remove:
                    if (Holder(remove.Label) != remove.VersionId)
                    {
                        return new StepResult(action, false, $"Aborted: {remove.Label} is no longer on version {remove.VersionId} (now: {Holder(remove.Label) ?? "none"}); the secret changed since it was diagnosed.");
                    }

                    await client.UpdateSecretVersionStageAsync(arn, remove.Label, remove.VersionId, null, cancellationToken).ConfigureAwait(false);
                    return new StepResult(action, true, $"Removed {remove.Label} from {remove.VersionId}.");

                case MoveCurrent move:
                    if (Holder(StagingLabels.Current) != move.FromVersionId)
                    {
                        return new StepResult(action, false, $"Aborted: AWSCURRENT is now on {Holder(StagingLabels.Current) ?? "no version"}, not {move.FromVersionId ?? "no version"} as diagnosed.");
                    }

                    await client.UpdateSecretVersionStageAsync(arn, StagingLabels.Current, move.FromVersionId, move.ToVersionId, cancellationToken).ConfigureAwait(false);
                    return await VerifyAsync(action, gathered.Secrets.GetValueOrDefault(move.ToVersionId), $"AWSCURRENT moved to {move.ToVersionId}", cancellationToken).ConfigureAwait(false);

                case BreakGlassReset reset:
                    return await BreakGlassAsync(arn, gathered, reset, Holder(StagingLabels.Current), cancellationToken).ConfigureAwait(false);

                default:
                    return new StepResult(action, false, $"Unknown action {action.GetType().Name}.");
            }
        }
        catch (AwsServiceException e)
        {
            return new StepResult(action, false, $"Refused by Secrets Manager: {e.ErrorCode}: {e.ErrorMessage}");
        }
    }

    private async Task<StepResult> BreakGlassAsync(string arn, DoctorGatherer.Gathered gathered, BreakGlassReset reset, string? currentHolder, CancellationToken cancellationToken)
    {
        if (currentHolder != reset.FromVersionId)
        {
            return new StepResult(reset, false, $"Aborted: AWSCURRENT moved to {currentHolder ?? "no version"} since the diagnosis.");
        }

        var current = reset.FromVersionId is null ? null : gathered.Secrets.GetValueOrDefault(reset.FromVersionId);
        if (current is null || gathered.Master is null)
        {
            return new StepResult(reset, false, "Aborted: the current secret or the master secret couldn't be read.");
        }

        var password = RandomPasswordGenerator.Generate(new PasswordRequest(32, current.Descriptor.ExcludedCharacters), CryptoRandomSource.Instance);
        var master = DatabaseConnection.FromSecret(gathered.Master) with { DbName = current.DbName };
        var token = Guid.NewGuid().ToString();

        // Store first, then change the database, then promote: a crash in between leaves the new
        // password on a labelled version (AWSPENDING), never only in the database.
        await client.CallAsync("PutSecretValue", new System.Text.Json.Nodes.JsonObject
        {
            ["SecretId"] = arn,
            ["ClientRequestToken"] = token,
            ["SecretString"] = current.WithPassword(password).ToJson(),
            ["VersionStages"] = new System.Text.Json.Nodes.JsonArray("AWSPENDING"),
        }, cancellationToken).ConfigureAwait(false);
        await gatherer.RotatorFor(current).SetUserPasswordAsync(master, current.Username, password, cancellationToken).ConfigureAwait(false);
        await client.UpdateSecretVersionStageAsync(arn, StagingLabels.Current, reset.FromVersionId, token, cancellationToken).ConfigureAwait(false);
        await client.UpdateSecretVersionStageAsync(arn, StagingLabels.Pending, token, null, cancellationToken).ConfigureAwait(false);
        return await VerifyAsync(reset, current.WithPassword(password), $"password reset through the master secret; new version {token} is AWSCURRENT", cancellationToken).ConfigureAwait(false);
    }

    private async Task<StepResult> VerifyAsync(RepairAction action, DatabaseSecret? expected, string done, CancellationToken cancellationToken)
    {
        if (expected is null)
        {
            return new StepResult(action, true, done + " (no credentials to verify).");
        }

        var probe = await gatherer.ProbeAsync(expected, cancellationToken).ConfigureAwait(false);
        return probe.Outcome == ProbeOutcome.Ok
            ? new StepResult(action, true, $"{done}; verified: its credentials log in ({probe}).")
            : new StepResult(action, false, $"{done}, but verification failed: {probe}.");
    }

    private static string LabelMap(IEnumerable<(string VersionId, IReadOnlyList<string> Stages)> versions) =>
        string.Join(" ", versions.Where(v => v.Stages.Count > 0).OrderBy(v => v.VersionId, StringComparer.Ordinal)
            .Select(v => v.VersionId + ":" + string.Join(",", v.Stages.Order(StringComparer.Ordinal))));

    private async Task RecordAsync(string arn, StepResult result, CancellationToken cancellationToken)
    {
        var line = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["time"] = timeProvider.GetUtcNow().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["secret"] = arn,
            ["action"] = result.Action.Description,
            ["succeeded"] = result.Succeeded ? "true" : "false",
            ["detail"] = result.Detail,
        });
        if (Path.GetDirectoryName(Path.GetFullPath(journalPath)) is { } directory && !Directory.Exists(directory))
        {
            // The user's state directory may not exist yet; it is theirs alone (XDG: 0700).
            PrivateFiles.CreateDirectory(directory);
        }

        // Owner-only, and never through a link planted in a directory others can write (a data directory shared with the server's user).
        await PrivateFiles.AppendAsync(journalPath, line + Environment.NewLine, cancellationToken).ConfigureAwait(false);
    }
}
