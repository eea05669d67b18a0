using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Application.Security;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

/// <summary>
/// What every operation handler needs: the store, the cipher, the clock and the authorizer, plus
/// the shared steps (resolve a SecretId, seal and open values) so each lives in one place.
/// </summary>
public sealed class SecretServices(
    ISecretStore store,
    EnvelopeCipher cipher,
    Authorizer authorizer,
    KeyturnOptions options,
    TimeProvider timeProvider)
{
    public ISecretStore Store => store;

    public Authorizer Authorizer => authorizer;

    public KeyturnOptions Options => options;

    public DateTimeOffset Now => TruncateToMilliseconds(timeProvider.GetUtcNow());

    /// <summary>Today at UTC midnight: AWS reports LastAccessedDate at day resolution.</summary>
    public DateTimeOffset Today => new(timeProvider.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);

    /// <summary>
    /// Resolves a SecretId (full ARN, partial ARN without the random suffix, or name), authorizes
    /// the action on it, and rejects secrets scheduled for deletion unless <paramref name="allowDeleted"/>.
    /// </summary>
    /// <param name="conditions">The request's parameters that the action's condition keys read.</param>
    /// <remarks>
    /// This and <see cref="FindAsync"/> pool their frames: on a store that answers over the network they wait on every
    /// request, and each would otherwise allocate its frame per request. Await the result once, as every caller does.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Secret> ResolveAsync(
        ISecretSession session, string secretId, RequestContext context, string action, CancellationToken cancellationToken, bool allowDeleted = false,
        RequestConditions? conditions = null)
    {
        var secret = await FindAsync(session, secretId, context, cancellationToken).ConfigureAwait(false);
        if (secret is null)
        {
            authorizer.Authorize(context, action, ResourceFor(secretId, context), conditions: conditions);
            throw ServiceException.SecretNotFound();
        }

        authorizer.Authorize(context, action, secret.Arn, secret, conditions);
        if (secret.IsDeleted && !allowDeleted)
        {
            throw ServiceException.MarkedForDeletion();
        }

        return secret;
    }

    /// <summary>Finds a secret without authorizing; validates a non-ARN id as a name first.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Secret?> FindAsync(ISecretSession session, string secretId, RequestContext context, CancellationToken cancellationToken)
    {
        Secret? secret;
        if (SecretNames.TryGetArnResource(secretId, out var resource))
        {
            secret = await session.FindByArnAsync(secretId, cancellationToken).ConfigureAwait(false);
            if (secret is null && SecretNames.IsValidName(resource))
            {
                // A partial ARN: the full ARN without "-" and the six random characters.
                var byName = await session.FindByNameAsync(context.Region, resource, cancellationToken).ConfigureAwait(false);
                if (byName is not null
                    && byName.Arn.Length == secretId.Length + SecretNames.SuffixLength + 1
                    && byName.Arn.StartsWith(secretId + "-", StringComparison.Ordinal))
                {
                    secret = byName;
                }
            }

            if (secret is not null && secret.Region != context.Region)
            {
                secret = null;
            }
        }
        else
        {
            if (!SecretNames.IsValidName(secretId))
            {
                throw ServiceException.InvalidName();
            }

            secret = await session.FindByNameAsync(context.Region, secretId, cancellationToken).ConfigureAwait(false);
        }

        // A scheduled deletion whose date has passed is gone, even before the purge job runs.
        if (secret is { DeletionDate: { } due } && due <= Now)
        {
            return null;
        }

        return secret;
    }

    /// <summary>The resource ARN to authorize against when the secret doesn't exist (yet).</summary>
    public string ResourceFor(string secretIdOrName, RequestContext context) =>
        secretIdOrName.StartsWith("arn:", StringComparison.Ordinal)
            ? secretIdOrName
            : $"arn:{context.Partition}:secretsmanager:{context.Region}:{options.AccountId}:secret:{secretIdOrName}";

    public async ValueTask<string> NewArnAsync(ISecretSession session, string name, RequestContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            var arn = SecretNames.BuildArn(context.Partition, context.Region, options.AccountId, name, RandomSuffix());
            if (await session.FindByArnAsync(arn, cancellationToken).ConfigureAwait(false) is null)
            {
                return arn;
            }
        }
    }

    /// <summary>
    /// Seals a value for the secret's version. A string's UTF-8 bytes live only in a pooled buffer that is wiped before it
    /// goes back, and the ARN|version context is assembled on the stack.
    /// </summary>
    public StoredValue Seal(Secret secret, string versionId, string? secretString, byte[]? secretBinary)
    {
        var length = secret.Arn.Length + 1 + versionId.Length;
        Span<char> context = length <= 512 ? stackalloc char[length] : new char[length];
        WriteValueContext(context, secret.Arn, versionId);
        if (secretString is null)
        {
            return new StoredValue(SecretValueKind.Binary, cipher.Encrypt(secretBinary!, context));
        }

        var plaintext = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(secretString.Length));
        var written = 0;
        try
        {
            written = Encoding.UTF8.GetBytes(secretString, plaintext);
            return new StoredValue(SecretValueKind.String, cipher.Encrypt(plaintext.AsSpan(0, written), context));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext.AsSpan(0, written));
            ArrayPool<byte>.Shared.Return(plaintext);
        }
    }

    /// <summary>Decrypts a version's value; the version must have one.</summary>
    public async ValueTask<(string? SecretString, byte[]? SecretBinary)> OpenAsync(ISecretSession session, Secret secret, SecretVersion version, CancellationToken cancellationToken)
    {
        await LoadValueAsync(session, secret, version, cancellationToken).ConfigureAwait(false);
        var (kind, plaintext) = OpenLoaded(secret, version);
        using (plaintext)
        {
            return kind == SecretValueKind.Binary
                ? (null, plaintext.Span.ToArray())
                : (Encoding.UTF8.GetString(plaintext.Span), null);
        }
    }

    /// <summary>Makes sure the version's sealed value is loaded (in the unit that read the secret), or throws AWS's error.</summary>
    public async ValueTask LoadValueAsync(ISecretSession session, Secret secret, SecretVersion version, CancellationToken cancellationToken)
    {
        if (version.Value is null && !await session.LoadValueAsync(secret, version, cancellationToken).ConfigureAwait(false))
        {
            throw new ServiceException(ErrorKind.ResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: " + version.VersionId);
        }
    }

    /// <summary>
    /// Decrypts a loaded value into pooled memory. Called after the store unit ends, so a unit the store runs again or
    /// loses at commit never holds a plaintext that nobody disposes.
    /// </summary>
    public (SecretValueKind Kind, PooledPlaintext Plaintext) OpenLoaded(Secret secret, SecretVersion version)
    {
        var value = version.Value ?? throw new InvalidOperationException("The version's value was not loaded.");
        try
        {
            return (value.Kind, DecryptPooled(value.Ciphertext, secret.Arn, version.VersionId));
        }
        catch (CryptographicException)
        {
            throw new ServiceException(ErrorKind.DecryptionFailure,
                "Secrets Manager can't decrypt the protected secret text using the provided KMS key.");
        }
    }

    /// <summary>True when a stored version holds exactly the given value (ClientRequestToken idempotency).</summary>
    public async ValueTask<bool> HasSameValueAsync(
        ISecretSession session, Secret secret, SecretVersion version, string? secretString, byte[]? secretBinary, CancellationToken cancellationToken)
    {
        await LoadValueAsync(session, secret, version, cancellationToken).ConfigureAwait(false);
        var (kind, existing) = OpenLoaded(secret, version);
        using (existing)
        {
            if (secretString is null)
            {
                return kind == SecretValueKind.Binary && CryptographicOperations.FixedTimeEquals(existing.Span, secretBinary);
            }

            if (kind == SecretValueKind.Binary)
            {
                return false;
            }

            // The caller's string is compared in UTF-8 in a wiped pooled buffer, like the stored value it meets.
            var candidate = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(secretString.Length));
            try
            {
                var length = Encoding.UTF8.GetBytes(secretString, candidate);
                return CryptographicOperations.FixedTimeEquals(existing.Span, candidate.AsSpan(0, length));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(candidate);
                ArrayPool<byte>.Shared.Return(candidate);
            }
        }
    }

    // The ciphertext is bound to the secret and version it belongs to.
    internal static string ValueContext(string secretArn, string versionId) => secretArn + "|" + versionId;

    // The read path's context (the same ARN|version as ValueContext) assembled on the stack: no string per read.
    private PooledPlaintext DecryptPooled(byte[] ciphertext, string secretArn, string versionId)
    {
        var length = secretArn.Length + 1 + versionId.Length;
        Span<char> context = length <= 512 ? stackalloc char[length] : new char[length];
        WriteValueContext(context, secretArn, versionId);
        return cipher.DecryptPooled(ciphertext, context);
    }

    private static void WriteValueContext(Span<char> context, string secretArn, string versionId)
    {
        secretArn.CopyTo(context);
        context[secretArn.Length] = '|';
        versionId.CopyTo(context[(secretArn.Length + 1)..]);
    }

    private static string RandomSuffix() =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", SecretNames.SuffixLength);

    private static DateTimeOffset TruncateToMilliseconds(DateTimeOffset value) =>
        DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());
}
