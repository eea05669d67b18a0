using System.Security.Cryptography;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;

namespace Keyturn.Application.Crypto;

/// <summary>
/// <c>keyturn master-key rotate</c>: a new master key goes first in the key file (running servers pick it up within a
/// second and keep reading the old one), every data key sealed by another key is re-wrapped by it in small
/// transactions, and the old keys are then retired: recorded as such in the store (which from then on refuses
/// anything they seal), copied to a backup file beside the data for restoring older backups, and dropped from the
/// key file. Every step is idempotent: run again after a crash, it resumes where it stopped.
/// </summary>
public sealed class MasterKeyRotation(ISecretStore store, EnvelopeCipher cipher, TimeProvider time)
{
    public const int DefaultBatchSize = 200;

    /// <summary>How long servers may keep sealing with the old key after the file changed (they re-read it every second).</summary>
    public static readonly TimeSpan ServerPickUp = TimeSpan.FromSeconds(2);

    public sealed record Outcome(MasterKey Key, IReadOnlyList<MasterKey> Retired, IReadOnlyList<string> Backups, long Rewrapped, bool Resumed);

    public static string BackupPath(string dataDirectory, string keyId) => Path.Combine(dataDirectory, $"{MasterKeyring.FileName}.retired-{keyId}");

    /// <param name="afterBatch">Called after each committed batch with the number re-wrapped so far.</param>
    /// <exception cref="KeyturnStartupException">The keys come from the environment, or a blob can't be opened.</exception>
    public async Task<Outcome> RunAsync(string dataDirectory, IKmsKeyService? kms, string? kmsKeyId, int batchSize, Action<string> report, Action<long>? afterBatch, CancellationToken cancellationToken)
    {
        var keyring = cipher.Keyring;
        var resumed = keyring.Keys.Count > 1;
        if (!keyring.FromFile && !resumed)
        {
            throw new KeyturnStartupException(
                $"The master key comes from {MasterKeyring.EnvironmentVariable}: set it to NEW,OLD (a new base64 key first) for every server and this command, " +
                $"run `keyturn master-key rotate` to re-wrap, then set it to NEW alone.");
        }

        if (resumed)
        {
            report($"Resuming the rotation to master key {keyring.Primary} (still read: {string.Join(", ", keyring.Keys.Skip(1))}).");
        }
        else
        {
            var fresh = MasterKeyring.NewKey(kms, kmsKeyId ?? keyring.Primary.KmsKeyId);
            keyring.Save([fresh, .. keyring.Keys]);
            report($"New master key {fresh}; running servers seal with it within a second and still read {keyring.Keys[1].Id}.");
        }

        var primary = keyring.Primary;
        var old = keyring.Keys.Skip(1).ToList();
        var backups = new List<string>();
        foreach (var key in old)
        {
            if (keyring.FromFile)
            {
                var backup = BackupPath(dataDirectory, key.Id);
                PrivateFiles.Replace(backup, $"# Keyturn master key {key.Id}, retired by `keyturn master-key rotate`: only backups taken before then need it.\n{key.Line}\n");
                backups.Add(backup);
            }
        }

        await store.WriteAsync(async (session, ct) =>
        {
            var registered = await session.ListMasterKeysAsync(ct).ConfigureAwait(false);
            if (registered.All(k => k.KeyId != primary.Id))
            {
                await session.SaveMasterKeyAsync(new MasterKeyState(primary.Id, time.GetUtcNow(), null), ct).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);

        // A server that looked at the key file just before it changed may still seal one more value with the old key.
        await Task.Delay(ServerPickUp, time, cancellationToken).ConfigureAwait(false);

        long rewrapped = 0;
        while (true)
        {
            var (count, retired) = await store.WriteAsync((session, ct) => StepAsync(session, primary, old, batchSize, ct), cancellationToken).ConfigureAwait(false);
            if (retired)
            {
                break;
            }

            rewrapped += count;
            afterBatch?.Invoke(rewrapped);
        }

        if (keyring.FromFile)
        {
            keyring.Save([primary]);
        }

        return new Outcome(primary, old, backups, rewrapped, resumed);
    }

    /// <summary>
    /// One transaction: re-wrap a batch, or, when nothing sealed by another key is left, retire the old keys. Re-wrapping
    /// is computation over the master keys, so a retried unit does it again harmlessly.
    /// </summary>
    private async ValueTask<(int Count, bool Retired)> StepAsync(ISecretSession session, MasterKey primary, IReadOnlyList<MasterKey> old, int batchSize, CancellationToken cancellationToken)
    {
        var batch = await session.ListSealedByOtherThanAsync(primary.Id, batchSize, cancellationToken).ConfigureAwait(false);
        if (batch.Count == 0)
        {
            var now = time.GetUtcNow();
            var registered = await session.ListMasterKeysAsync(cancellationToken).ConfigureAwait(false);
            foreach (var key in old)
            {
                var state = registered.FirstOrDefault(k => k.KeyId == key.Id);
                if (state?.RetiredDate is null)
                {
                    await session.SaveMasterKeyAsync(new MasterKeyState(key.Id, state?.AddedDate ?? now, now), cancellationToken).ConfigureAwait(false);
                }
            }

            return (0, true);
        }

        foreach (var blob in batch)
        {
            byte[]? replacement;
            try
            {
                replacement = cipher.Rewrap(blob.Ciphertext, ContextOf(blob));
            }
            catch (CryptographicException)
            {
                throw new KeyturnStartupException(
                    $"The {Describe(blob)} (sealed by {EnvelopeCipher.KeyIdOf(blob.Ciphertext) ?? "an unknown key"}) can't be opened with its master key: " +
                    "it was altered or copied from elsewhere. The rotation stopped with nothing lost; run it again once that row is restored or removed.");
            }

            if (replacement is not null)
            {
                await session.ReplaceSealedAsync(blob, replacement, cancellationToken).ConfigureAwait(false);
            }
        }

        return (batch.Count, false);
    }

    private static string ContextOf(SealedBlob blob) => blob.Kind switch
    {
        SealedKind.SecretValue => SecretServices.ValueContext(blob.Owner, blob.VersionId!),
        SealedKind.AccessKeySecret => AccessKeyService.KeyContext(blob.Owner),
        SealedKind.FunctionEnvironment => FunctionService.EnvironmentContext(blob.Owner),
        // Functions no longer hold a key (schema 6 cleared them); a row sealed before that keeps its old context.
        _ => "function|" + blob.Owner,
    };

    private static string Describe(SealedBlob blob) => blob.Kind switch
    {
        SealedKind.SecretValue => $"value of {blob.Owner} version {blob.VersionId}",
        SealedKind.AccessKeySecret => $"secret key of access key {blob.Owner}",
        SealedKind.FunctionEnvironment => $"environment variables of function {blob.Owner}",
        _ => $"access key of function {blob.Owner}",
    };
}
