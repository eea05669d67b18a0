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

    public sealed record ResolvedKey(string SecretAccessKey, CallerIdentity Identity, DateTimeOffset? ExpiresDate = null);

    public sealed record CreatedKey(string AccessKeyId, string SecretAccessKey, string UserName);

    public string RootPrincipalArn => $"arn:aws:iam::{options.AccountId}:root";

    /// <param name="expires">When set, the key is refused from that moment on (a temporary key), revoked or not.</param>
    public async Task<CreatedKey> CreateAsync(string userName, string policyJson, CancellationToken cancellationToken, DateTimeOffset? expires = null)
    {
        if (!PolicyDocument.TryParse(policyJson, PolicyKind.Identity, out _, out var error))
        {
            throw new ArgumentException("The policy is not a valid IAM policy document: " + error, nameof(policyJson));
        }

        if (expires is null && userName.StartsWith("assumed-role/", StringComparison.Ordinal))
        {
            // Role sessions are the rotation functions' temporary keys; a permanent key must not pose as one.
            throw new ArgumentException("User names starting with 'assumed-role/' are reserved for rotation functions.", nameof(userName));
        }

        var id = RootCredentials.NewAccessKeyId();
        var secret = RootCredentials.NewSecretAccessKey();
        var record = new AccessKeyRecord(id, userName, cipher.Encrypt(Encoding.UTF8.GetBytes(secret), KeyContext(id)), policyJson, timeProvider.GetUtcNow(), null, expires);
        await store.WriteAsync(session =>
        {
            session.SaveAccessKey(record);
            return true;
        }, cancellationToken).ConfigureAwait(false);
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
            return Unexpired(cached.Key);
        }

        var record = store.ReadAsync(session => session.FindAccessKey(accessKeyId), CancellationToken.None).GetAwaiter().GetResult();
        ResolvedKey? resolved = null;
        if (record is { RevokedDate: null } && PolicyDocument.TryParse(record.PolicyDocument, PolicyKind.Identity, out var policy, out _))
        {
            var secret = Encoding.UTF8.GetString(cipher.Decrypt(record.EncryptedSecretAccessKey, KeyContext(record.AccessKeyId)));
            resolved = new ResolvedKey(secret, new CallerIdentity(record.AccessKeyId, PrincipalArnOf(record.UserName), IsRoot: false, policy), record.ExpiresDate);
        }

        if (_cache.Count > 10_000)
        {
            // Unknown ids are cached too; don't let a flood of made-up ids grow memory.
            _cache.Clear();
        }

        _cache[accessKeyId] = (resolved, now + (long)(CacheLifetime.TotalSeconds * timeProvider.TimestampFrequency));
        return Unexpired(resolved);
    }

    // Checked on every use, cached or not: an expired key stops working at its expiry, not a cache lifetime later.
    private ResolvedKey? Unexpired(ResolvedKey? key) =>
        key is { ExpiresDate: { } expires } && expires <= timeProvider.GetUtcNow() ? null : key;

    // A rotation function's key acts as its role session (arn:aws:sts::…:assumed-role/…); other keys are IAM users.
    private string PrincipalArnOf(string userName) =>
        userName.StartsWith("assumed-role/", StringComparison.Ordinal)
            ? $"arn:aws:sts::{options.AccountId}:{userName}"
            : $"arn:aws:iam::{options.AccountId}:user/{userName}";

    private static string KeyContext(string accessKeyId) => "access-key|" + accessKeyId;
}
