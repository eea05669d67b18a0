using System.Collections.Concurrent;
using System.Text;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Domain.Policies;

namespace Keyturn.Application.Security;

/// <summary>
/// Access keys beyond root: created with an IAM-style policy, listed, revoked. The server resolves
/// keys through <see cref="ResolveAsync"/>, which caches for one second so a revocation takes effect
/// within a second while the hot path avoids a database read per request.
/// </summary>
public sealed class AccessKeyService(ISecretStore store, EnvelopeCipher cipher, RootCredentials root, KeyturnOptions options, TimeProvider timeProvider)
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<string, (ResolvedKey? Key, long ExpiresAt)> _cache = new(StringComparer.Ordinal);
    private ResolvedKey? _root;

    public sealed record ResolvedKey(string SecretAccessKey, CallerIdentity Identity, DateTimeOffset? ExpiresDate = null);

    public sealed record CreatedKey(string AccessKeyId, string SecretAccessKey, string UserName);

    public string RootPrincipalArn => $"arn:aws:iam::{options.AccountId}:root";

    public Task<CreatedKey> CreateAsync(string userName, string policyJson, CancellationToken cancellationToken, DateTimeOffset? expires = null) =>
        CreateAsync(userName, policyJson, tags: null, cancellationToken, expires);

    /// <summary>
    /// Creates a key. A permanent key's user name must be a valid IAM user name that no live (unrevoked) key
    /// already carries in any case, because grants to <c>user/NAME</c> would reach both keys. Its policy must not
    /// test a condition key Keyturn cannot evaluate (the statement would silently deny or never allow), and its
    /// tags follow IAM's rules for user tags.
    /// </summary>
    /// <param name="expires">When set, the key is refused from that moment on (a temporary key), revoked or not.</param>
    public async Task<CreatedKey> CreateAsync(
        string userName, string policyJson, IReadOnlyDictionary<string, string>? tags, CancellationToken cancellationToken, DateTimeOffset? expires = null)
    {
        if (expires is null && IamUserName.Problem(userName) is { } problem)
        {
            throw new ArgumentException(problem);
        }

        if (!PolicyDocument.TryParse(policyJson, PolicyKind.Identity, out var policy, out var error))
        {
            throw new ArgumentException("The policy is not a valid IAM policy document: " + error, nameof(policyJson));
        }

        if (ConditionKeys.Unevaluable(policy) is { Count: > 0 } unevaluable)
        {
            throw new ArgumentException(
                $"The policy uses the condition key{(unevaluable.Count > 1 ? "s" : "")} {string.Join(", ", unevaluable)}, which Keyturn cannot evaluate; " +
                "remove the condition or use a key Keyturn sets (aws:SourceIp, aws:SecureTransport, aws:PrincipalTag/*, aws:ResourceTag/*, secretsmanager:*…).",
                nameof(policyJson));
        }

        if (expires is null && userName.StartsWith("assumed-role/", StringComparison.Ordinal))
        {
            // Role sessions are the rotation functions' temporary keys; a permanent key must not pose as one.
            throw new ArgumentException("User names starting with 'assumed-role/' are reserved for rotation functions.", nameof(userName));
        }

        ValidateTags(tags);
        var id = RootCredentials.NewAccessKeyId();
        var secret = RootCredentials.NewSecretAccessKey();
        var record = new AccessKeyRecord(
            id, userName, cipher.Encrypt(Encoding.UTF8.GetBytes(secret), KeyContext(id)), policyJson, timeProvider.GetUtcNow(), null,
            tags is { Count: > 0 } ? new Dictionary<string, string>(tags, StringComparer.Ordinal) : null, expires);
        var existing = await store.WriteAsync(async (session, ct) =>
        {
            // Checked in the same write transaction as the insert, so two concurrent creates cannot both pass. A rotation
            // function's per-invocation keys share their role session name by design.
            var live = expires is not null ? null
                : (await session.ListAccessKeysAsync(ct).ConfigureAwait(false))
                    .FirstOrDefault(k => k.RevokedDate is null && k.ExpiresDate is null && IamUserName.SameUser(k.UserName, userName));
            if (live is null)
            {
                await session.SaveAccessKeyAsync(record, ct).ConfigureAwait(false);
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
        store.ReadAsync(async (session, ct) => await session.ListAccessKeysAsync(ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <summary>Revokes a key; returns false if it doesn't exist.</summary>
    public async Task<bool> RevokeAsync(string accessKeyId, CancellationToken cancellationToken)
    {
        var found = await store.WriteAsync(async (session, ct) =>
        {
            var key = await session.FindAccessKeyAsync(accessKeyId, ct).ConfigureAwait(false);
            if (key is null)
            {
                return false;
            }

            if (key.RevokedDate is null)
            {
                await session.SaveAccessKeyAsync(key with { RevokedDate = timeProvider.GetUtcNow() }, ct).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);

        // Once committed: this process refuses the key at once, other processes within the cache lifetime.
        _cache.TryRemove(accessKeyId, out _);
        return found;
    }

    /// <summary>The secret key and identity for an access key id, or null when unknown or revoked.</summary>
    public async ValueTask<ResolvedKey?> ResolveAsync(string accessKeyId, CancellationToken cancellationToken)
    {
        if (string.Equals(accessKeyId, root.AccessKeyId, StringComparison.Ordinal))
        {
            // The root key is fixed for the process's life; one immutable answer instead of two objects per lookup.
            return _root ??= new ResolvedKey(root.SecretAccessKey, new CallerIdentity(root.AccessKeyId, RootPrincipalArn, IsRoot: true, IdentityPolicy: null));
        }

        var now = timeProvider.GetTimestamp();
        if (_cache.TryGetValue(accessKeyId, out var cached) && cached.ExpiresAt > now)
        {
            return Unexpired(cached.Key);
        }

        return await LoadAsync(accessKeyId, now, cancellationToken).ConfigureAwait(false);
    }

    // Apart from ResolveAsync so the store read's closure is allocated on a cache miss only, not on every request.
    private async Task<ResolvedKey?> LoadAsync(string accessKeyId, long now, CancellationToken cancellationToken)
    {
        var record = await store.ReadAsync(async (session, ct) => await session.FindAccessKeyAsync(accessKeyId, ct).ConfigureAwait(false), cancellationToken)
            .ConfigureAwait(false);
        ResolvedKey? resolved = null;
        if (record is { RevokedDate: null } && PolicyDocument.TryParse(record.PolicyDocument, PolicyKind.Identity, out var policy, out _))
        {
            var secret = Encoding.UTF8.GetString(cipher.Decrypt(record.EncryptedSecretAccessKey, KeyContext(record.AccessKeyId)));
            resolved = new ResolvedKey(secret, new CallerIdentity(
                record.AccessKeyId, PrincipalArnOf(record.UserName), IsRoot: false, policy, record.Tags), record.ExpiresDate);
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


    internal static string KeyContext(string accessKeyId) => "access-key|" + accessKeyId;

    /// <summary>IAM's limits for the tags of a user: at most 50, keys of 1-128 and values of 0-256 characters, no "aws:" prefix.</summary>
    private static void ValidateTags(IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null)
        {
            return;
        }

        if (tags.Count > 50)
        {
            throw new ArgumentException($"A key can have at most 50 tags, not {tags.Count}.", nameof(tags));
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in tags)
        {
            if (key.Length is < 1 or > 128 || value.Length > 256 || !key.All(IsTagCharacter) || !value.All(IsTagCharacter))
            {
                throw new ArgumentException(
                    $"The tag \"{key}\" is not valid: keys have 1-128 and values 0-256 letters, digits, spaces or _ . : / = + - @.", nameof(tags));
            }

            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"The tag key \"{key}\" uses the reserved prefix \"aws:\".", nameof(tags));
            }

            // Tag keys of one principal differ in more than case, since aws:PrincipalTag/* keys are case-insensitive.
            if (!seen.Add(key))
            {
                throw new ArgumentException($"The tag key \"{key}\" is given twice.", nameof(tags));
            }
        }
    }

    private static bool IsTagCharacter(char c) =>
        char.IsLetterOrDigit(c) || c == ' ' || "_.:/=+-@".Contains(c, StringComparison.Ordinal);
}
