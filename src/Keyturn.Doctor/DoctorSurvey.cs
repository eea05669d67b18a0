using System.Text.Json;
using Keyturn.Domain.Doctor;
using Keyturn.Domain.Secrets;
using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>
/// <c>doctor --all</c>: every secret with rotation enabled, checked while the listing is still being read. A secret
/// whose listed labels show no unfinished rotation (<see cref="RotationDoctor.QuickCheckVersion"/>) gets the quick
/// check: its AWSCURRENT value, read 20 secrets at a time with BatchGetSecretValue, and one login. Every other
/// secret, and every quick check that doesn't come out healthy, gets the full diagnosis of <c>doctor SECRET</c>.
/// </summary>
internal sealed class DoctorSurvey(SecretsManagerClient client, DoctorGatherer gatherer, int concurrency)
{
    private const int BatchSize = 20;

    // Value reads run ahead of the logins, a couple at a time: enough to keep the logins fed without a
    // connection per batch.
    private readonly SemaphoreSlim _reads = new(2);

    private readonly SemaphoreSlim _slots = new(concurrency);

    private int _listed;
    private int _done;
    private volatile bool _batchRefused;
    private volatile bool _listingDone;

    /// <summary>A secret's diagnosis, or why it couldn't be diagnosed; the AWS reads that failed for it (for --all's one IAM policy).</summary>
    public sealed record Result(string Name, Diagnosis? Diagnosis, string? Error, IReadOnlyList<ReadFailure> ReadFailures);

    /// <summary>A listed secret: its ListSecrets entry, its labels, and the AWSCURRENT version the quick check would read (null: full diagnosis).</summary>
    private sealed record Listed(JsonElement Entry, string Arn, IReadOnlyDictionary<string, IReadOnlyList<string>> Labels, string? QuickCheckVersion);

    /// <summary>Checks every rotation-enabled secret; <paramref name="progress"/> gets (checked, listed so far, whether the listing is complete).</summary>
    public async Task<IReadOnlyList<Result>> RunAsync(Action<int, int, bool>? progress, CancellationToken cancellationToken)
    {
        var checks = new List<Task<Result>>();
        await foreach (var page in client.ListSecretPagesAsync(cancellationToken).ConfigureAwait(false))
        {
            var enabled = page.Where(e => e.TryGetProperty("RotationEnabled", out var on) && on.ValueKind == JsonValueKind.True)
                .Select(e => (Entry: e, Labels: DoctorGatherer.ListedLabels(e)))
                .Select(e => new Listed(e.Entry, e.Entry.GetProperty("ARN").GetString()!, e.Labels, RotationDoctor.QuickCheckVersion(e.Labels)))
                .ToList();
            Interlocked.Add(ref _listed, enabled.Count);
            foreach (var chunk in enabled.Chunk(BatchSize))
            {
                var values = ReadCurrentAsync(chunk, cancellationToken);
                checks.AddRange(chunk.Select(entry => CheckAsync(entry, values, progress, cancellationToken)));
            }
        }

        _listingDone = true;
        progress?.Invoke(_done, _listed, true);
        return await Task.WhenAll(checks).ConfigureAwait(false);
    }

    private async Task<Result> CheckAsync(Listed listed, Task<IReadOnlyDictionary<string, SecretsManagerClient.SecretValue>> values, Action<int, int, bool>? progress, CancellationToken cancellationToken)
    {
        var name = listed.Entry.GetProperty("Name").GetString()!;
        var current = (await values.ConfigureAwait(false)).GetValueOrDefault(listed.Arn);
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (current is null && _batchRefused && listed.QuickCheckVersion is not null)
            {
                current = await client.GetValueAsync(listed.Arn, null, StagingLabels.Current, cancellationToken).ConfigureAwait(false);
            }

            var gathered = current is null || current.VersionId != listed.QuickCheckVersion
                ? null
                : await gatherer.QuickCheckAsync(listed.Entry, listed.Labels, current, cancellationToken).ConfigureAwait(false);
            gathered ??= await gatherer.GatherAsync(listed.Arn, cancellationToken).ConfigureAwait(false);
            return new Result(name, RotationDoctor.Diagnose(gathered.Snapshot), null, gathered.Snapshot.ReadFailures);
        }
        catch (Exception e) when (e is AwsServiceException or HttpRequestException)
        {
            return new Result(name, null, e.Message, []);
        }
        finally
        {
            _slots.Release();
            progress?.Invoke(Interlocked.Increment(ref _done), _listed, _listingDone);
        }
    }

    /// <summary>
    /// AWSCURRENT of the quick-checkable secrets of one chunk. Once a call is refused or fails as a whole (say,
    /// no secretsmanager:BatchGetSecretValue permission) it isn't asked again this run, and each quick check reads
    /// its value with GetSecretValue instead.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, SecretsManagerClient.SecretValue>> ReadCurrentAsync(Listed[] chunk, CancellationToken cancellationToken)
    {
        var arns = chunk.Where(e => e.QuickCheckVersion is not null).Select(e => e.Arn).ToList();
        if (arns.Count == 0 || _batchRefused)
        {
            return new Dictionary<string, SecretsManagerClient.SecretValue>();
        }

        await _reads.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await client.BatchGetCurrentAsync(arns, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AwsServiceException or HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Refused, unreachable, or an answer without the expected members: the per-secret reads take over.
            _batchRefused = true;
            return new Dictionary<string, SecretsManagerClient.SecretValue>();
        }
        finally
        {
            _reads.Release();
        }
    }
}
