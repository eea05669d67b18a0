using Keyturn.Application.Ports;
using Keyturn.Application.Security;

namespace Keyturn.Application.Crypto;

/// <summary>
/// Start-up check: the configured master keys must open everything the store holds. A missing or different key is
/// refused with one line naming the store (its directory, or a shared store by its URL without password), the key ids the data needs and what to do; only an empty store
/// may get a new key, and only from a caller allowed to create one (<c>keyturn serve</c>). The keys held are then
/// recorded in the store.
/// </summary>
public static class MasterKeyGuard
{
    /// <param name="dataDirectory">Where this node's master key file and its backups are.</param>
    /// <param name="storeName">How messages name the store, e.g. "the PostgreSQL store postgresql://keyturn@db:5432/keyturn"; the store in <paramref name="dataDirectory"/> when null.</param>
    /// <exception cref="KeyturnStartupException">The keys don't match the store, or there is none and none may be created.</exception>
    public static async Task<MasterKeyring> OpenAsync(
        ISecretStore store, string dataDirectory, MasterKeyring? configured, Func<MasterKeyring>? create, TimeProvider time, CancellationToken cancellationToken, string? storeName = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);
        storeName ??= $"the store in {dataDirectory}";
        var (holdsData, sealing, registered) = await store.ReadAsync(
            async (s, ct) => (await s.HoldsDataAsync(ct).ConfigureAwait(false), await s.SealingKeyIdsAsync(ct).ConfigureAwait(false), await s.ListMasterKeysAsync(ct).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
        var required = sealing.Union(registered.Where(k => k.RetiredDate is null).Select(k => k.KeyId), StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (configured is null)
        {
            if (holdsData || create is null)
            {
                throw new KeyturnStartupException(Missing(dataDirectory, storeName, holdsData ? required : null));
            }

            configured = create();
        }

        var missing = required.Where(id => configured.Keys.All(k => k.Id != id)).ToList();
        if (missing.Count > 0)
        {
            var retired = registered.Where(k => k.RetiredDate is not null && missing.Contains(k.KeyId)).Select(k => k.KeyId).ToList();
            var hint = retired.Count == 0 ? "" : $" ({string.Join(", ", retired)} was retired by `keyturn master-key rotate`: its backup is {string.Join(", ", retired.Select(id => MasterKeyRotation.BackupPath(dataDirectory, id)))})";
            throw new KeyturnStartupException(
                $"Keyturn refuses to start: {storeName} holds data sealed by master key {string.Join(", ", missing)}{hint}, " +
                $"but {configured.Source} holds {string.Join(", ", configured.Keys.Select(k => k.Id))}. " +
                $"Configure the master key file or {MasterKeyring.EnvironmentVariable} that holds {string.Join(", ", missing)}; starting with another key would leave every value unreadable.");
        }

        var now = time.GetUtcNow();
        var unregistered = configured.Keys.Where(k => registered.All(r => r.KeyId != k.Id)).ToList();
        if (unregistered.Count > 0)
        {
            await store.WriteAsync(async (session, ct) =>
            {
                foreach (var key in unregistered)
                {
                    await session.SaveMasterKeyAsync(new MasterKeyState(key.Id, now, null), ct).ConfigureAwait(false);
                }

                return true;
            }, cancellationToken).ConfigureAwait(false);
        }

        return configured;
    }

    public static string Missing(string dataDirectory, string storeName, IReadOnlyList<string>? required) =>
        required is null
            ? $"There is no master key in {dataDirectory} ({MasterKeyring.FileName}) and {MasterKeyring.EnvironmentVariable} is not set; this command never creates one. " +
              $"Run `keyturn serve --data-dir {dataDirectory}` once to create a data directory, or point --data-dir at an existing one."
            : $"Keyturn refuses to start: {storeName} holds data{(required.Count > 0 ? " sealed by master key " + string.Join(", ", required) : "")}, " +
              $"but there is no {MasterKeyring.PathIn(dataDirectory)} and {MasterKeyring.EnvironmentVariable} is not set. " +
              "Restore the master key file from your backup (or set the variable); a new key would leave every value unreadable.";
}
