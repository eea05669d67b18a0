using System.Collections.Concurrent;
using System.Text;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Domain.Policies;

namespace Keyturn.Application.Security;

/// <summary>
/// Access keys beyond root: created with an IAM-style policy, listed, revoked. The server resolves
/// keys through <see cref="Resolve"/>, which caches for one second so a revocation takes effect
/// within a second while the hot path avoids a database read per request.
/// </summary>
public sealed class AccessKeyService(ISecretStore store, EnvelopeCipher cipher, RootCredentials root, KeyturnOptions options, TimeProvider timeProvider)
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, (ResolvedKey? Key, long ExpiresAt)> _cache = new(StringComparer.Ordinal);

    public sealed record ResolvedKey(string SecretAccessKey, CallerIdentity Identity);

    public sealed record CreatedKey(string AccessKeyId, string SecretAccessKey, string UserName);

    public string RootPrincipalArn => $"arn:aws:iam::{options.AccountId}:root";

    /// <summary>
    /// Creates a key for a new user name. The name must be a valid IAM user name, and no live (unrevoked) key may
    /// already carry it in any case, because grants to <c>user/NAME</c> would reach both keys.
    /// </summary>
    public async Task<CreatedKey> CreateAsync(string userName, string policyJson, CancellationToken cancellationToken)
    {
        if (IamUserName.Problem(userName) is { } problem)
        {
            throw new ArgumentException(problem);
        }

        if (!PolicyDocument.TryParse(policyJson, PolicyKind.Identity, out _, out var error))
        {
            throw new ArgumentException("The policy is not a valid IAM policy document: " + error, nameof(policyJson));
        }

        var id = RootCredentials.NewAccessKeyId();
        var secret = RootCredentials.NewSecretAccessKey();
        var record = new AccessKeyRecord(id, userName, cipher.Encrypt(Encoding.UTF8.GetBytes(secret), KeyContext(id)), policyJson, timeProvider.GetUtcNow(), null);
        var existing = await store.WriteAsync(session =>
        {
            // Checked in the same write transaction as the insert, so two concurrent creates cannot both pass.
            var live = session.ListAccessKeys().FirstOrDefault(k => k.RevokedDate is null && IamUserName.SameUser(k.UserName, userName));
            if (live is null)
            {
                session.SaveAccessKey(record);
            }

            return live;
        }, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            throw new ArgumentException(
                $"{IamUserName.AlreadyExists(existing.UserName)} Revoke its key {existing.AccessKeyId} first (keyturn keys revoke {existing.AccessKeyId}).");
        }

        return new CreatedKey(id, secret, userName);
    }

    public Task<IReadOnlyList<AccessKeyRecord>> ListAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(session => session.ListAccessKeys(), cancellationToken);

    /// <summary>Revokes a key; returns false if it doesn't exist.</summary>
    public Task<bool> RevokeAsync(string accessKeyId, CancellationToken cancellationToken) =>
        store.WriteAsync(session =>
        {
            var key = session.FindAccessKey(accessKeyId);
            if (key is null)
            {
                return false;
            }

            if (key.RevokedDate is null)
            {
                session.SaveAccessKey(key with { RevokedDate = timeProvider.GetUtcNow() });
            }

            _cache.TryRemove(accessKeyId, out _);
            return true;
        }, cancellationToken);

    /// <summary>The secret key and identity for an access key id, or null when unknown or revoked.</summary>
    public ResolvedKey? Resolve(string accessKeyId)
    {
        if (string.Equals(accessKeyId, root.AccessKeyId, StringComparison.Ordinal))
        {
            return new ResolvedKey(root.SecretAccessKey, new CallerIdentity(accessKeyId, RootPrincipalArn, IsRoot: true, IdentityPolicy: null));
        }

        var now = timeProvider.GetTimestamp();
        if (_cache.TryGetValue(accessKeyId, out var cached) && cached.ExpiresAt > now)
        {
            return cached.Key;
        }

        var record = store.ReadAsync(session => session.FindAccessKey(accessKeyId), CancellationToken.None).GetAwaiter().GetResult();
        ResolvedKey? resolved = null;
        if (record is { RevokedDate: null } && PolicyDocument.TryParse(record.PolicyDocument, PolicyKind.Identity, out var policy, out _))
        {
            var secret = Encoding.UTF8.GetString(cipher.Decrypt(record.EncryptedSecretAccessKey, KeyContext(record.AccessKeyId)));
            resolved = new ResolvedKey(secret, new CallerIdentity(
                record.AccessKeyId, $"arn:aws:iam::{options.AccountId}:user/{record.UserName}", IsRoot: false, policy));
        }

        if (_cache.Count > 10_000)
        {
            // Unknown ids are cached too; don't let a flood of made-up ids grow memory.
            _cache.Clear();
        }

        _cache[accessKeyId] = (resolved, now + (long)(CacheLifetime.TotalSeconds * timeProvider.TimestampFrequency));
        return resolved;
    }

    private static string KeyContext(string accessKeyId) => "access-key|" + accessKeyId;
}
