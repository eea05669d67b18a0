using System.Security.Cryptography;
using System.Text.Json;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Application.Security;

namespace Keyturn.Application.Rotation;

/// <summary>
/// <c>keyturn functions register|list|remove|policy</c>. A registered function holds no standing key: each
/// invocation gets one scoped to the secret it rotates (<see cref="RotationCredentials"/>). What a function may
/// read beyond that secret (master secrets) is the administrator's <see cref="FunctionPolicy"/>.
/// </summary>
public sealed class FunctionService(ISecretStore store, AccessKeyService keys, KeyturnOptions options, TimeProvider timeProvider, EnvelopeCipher? cipher = null)
{
    public Task<FunctionRecord> RegisterAsync(string name, FunctionKind kind, string target, TimeSpan timeout, CancellationToken cancellationToken) =>
        RegisterAsync(new FunctionRegistration(name, kind, target, timeout), cancellationToken);

    /// <summary>
    /// Registers (or replaces) a function. A handler's code directory must exist and is stored as an absolute path;
    /// its environment variables are sealed by the master key like secret values (their names stay readable).
    /// </summary>
    /// <exception cref="ArgumentException">The registration is invalid; the message names the option.</exception>
    public async Task<FunctionRecord> RegisterAsync(FunctionRegistration registration, CancellationToken cancellationToken)
    {
        if (registration.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(registration));
        }

        var target = registration.Target;
        if (registration.Kind == FunctionKind.Handler)
        {
            target = Path.GetFullPath(target);
            if (!Directory.Exists(target))
            {
                throw new ArgumentException($"--code {registration.Target}: no such directory.", nameof(registration));
            }
        }

        var name = registration.Name;
        var existing = await FindAsync(name, cancellationToken).ConfigureAwait(false);
        if (existing?.AccessKeyId is { } oldKey)
        {
            // A standing key from an older Keyturn: never used again.
            await keys.RevokeAsync(oldKey, cancellationToken).ConfigureAwait(false);
        }

        var environment = registration.Environment;
        byte[]? sealedEnvironment = null;
        if (environment.Count > 0)
        {
            var sealer = cipher ?? throw new InvalidOperationException("Environment variables are sealed by the master key, which this service was not given.");
            var json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>(environment, StringComparer.Ordinal), FunctionEnvironmentJsonContext.Default.DictionaryStringString);
            try
            {
                sealedEnvironment = sealer.Encrypt(json, EnvironmentContext(name));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(json);
            }
        }

        var record = new FunctionRecord(name, registration.Kind, target, registration.Timeout, null, null, existing?.CreatedDate ?? timeProvider.GetUtcNow())
        {
            Handler = registration.Kind == FunctionKind.Handler ? registration.Handler : null,
            Runtime = registration.Kind == FunctionKind.Handler ? registration.Runtime ?? FunctionRuntimes.Python : null,
            MemorySize = registration.MemorySize ?? FunctionRegistration.DefaultMemorySize,
            EnvironmentNames = [.. environment.Keys.Order(StringComparer.Ordinal)],
            EncryptedEnvironment = sealedEnvironment,
        };
        await store.WriteAsync(async (session, ct) =>
        {
            await session.SaveFunctionAsync(record, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return record;
    }

    private Task<FunctionRecord?> FindAsync(string name, CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) => await session.FindFunctionAsync(name, ct).ConfigureAwait(false), cancellationToken).AsTask();

    /// <summary>The associated data a function's sealed environment is bound to: a blob moved to another function does not open.</summary>
    public static string EnvironmentContext(string functionName) => "function-environment|" + functionName;

    /// <summary>A function's environment variables, opened with the master key; empty when it has none.</summary>
    public static IReadOnlyDictionary<string, string> OpenEnvironment(FunctionRecord record, EnvelopeCipher? cipher)
    {
        if (record.EncryptedEnvironment is not { } blob)
        {
            return new Dictionary<string, string>();
        }

        if (cipher is null)
        {
            throw new InvalidOperationException($"Function {record.Name} has environment variables, sealed by the master key, which was not given.");
        }

        var json = cipher.Decrypt(blob, EnvironmentContext(record.Name));
        try
        {
            return JsonSerializer.Deserialize(json, FunctionEnvironmentJsonContext.Default.DictionaryStringString) ?? [];
        }
        finally
        {
            CryptographicOperations.ZeroMemory(json);
        }
    }

    public Task<IReadOnlyList<FunctionRecord>> ListAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(async (session, ct) => await session.ListFunctionsAsync(ct).ConfigureAwait(false), cancellationToken).AsTask();

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        var record = await FindAsync(name, cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return false;
        }

        if (record.AccessKeyId is { } keyId)
        {
            await keys.RevokeAsync(keyId, cancellationToken).ConfigureAwait(false);
        }

        // A function registered later under the same name starts from the default policy.
        return await store.WriteAsync(async (session, ct) =>
        {
            await session.DeleteFunctionPolicyAsync(name, ct).ConfigureAwait(false);
            return await session.DeleteFunctionAsync(name, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<FunctionPolicy> GetPolicyAsync(string name, CancellationToken cancellationToken) =>
        await store.ReadAsync(async (session, ct) => await session.FindFunctionPolicyAsync(name, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false)
            ?? FunctionPolicy.Default(name);

    /// <summary>
    /// Changes a function's policy: adds and removes allowed master secrets (ARN patterns or names), or clears them,
    /// and sets the privileged-clone allowance when given. The caller checks that the function exists.
    /// </summary>
    public async Task<FunctionPolicy> UpdatePolicyAsync(
        string name, IReadOnlyList<string> allowMasters, IReadOnlyList<string> denyMasters, bool clearMasters, bool? allowPrivilegedClone, CancellationToken cancellationToken)
    {
        foreach (var pattern in allowMasters)
        {
            if (RotationIdentity.ValidateMasterPattern(pattern, options.AccountId) is { } problem)
            {
                throw new ArgumentException(problem, nameof(allowMasters));
            }
        }

        return await store.WriteAsync(async (session, ct) =>
        {
            var current = await session.FindFunctionPolicyAsync(name, ct).ConfigureAwait(false) ?? FunctionPolicy.Default(name);
            var masters = (clearMasters ? [] : current.AllowedMasters)
                .Where(m => !denyMasters.Contains(m, StringComparer.Ordinal))
                .Concat(allowMasters)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            var updated = new FunctionPolicy(name, masters, allowPrivilegedClone ?? current.AllowPrivilegedClone, timeProvider.GetUtcNow());
            await session.SaveFunctionPolicyAsync(updated, ct).ConfigureAwait(false);
            return updated;
        }, cancellationToken).ConfigureAwait(false);
    }
}
