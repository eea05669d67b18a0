using Keyturn.Application.Ports;
using Keyturn.Application.Security;

namespace Keyturn.Application.Rotation;

/// <summary>
/// <c>keyturn functions register|list|remove|policy</c>. A registered function holds no standing key: each
/// invocation gets one scoped to the secret it rotates (<see cref="RotationCredentials"/>). What a function may
/// read beyond that secret (master secrets) is the administrator's <see cref="FunctionPolicy"/>.
/// </summary>
public sealed class FunctionService(ISecretStore store, AccessKeyService keys, KeyturnOptions options, TimeProvider timeProvider)
{

    public async Task<FunctionRecord> RegisterAsync(string name, FunctionKind kind, string target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > 64 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new ArgumentException("A function name is 1-64 characters of letters, digits, '-' and '_' (as Lambda allows).", nameof(name));
        }

        if (name.StartsWith("keyturn-", StringComparison.Ordinal))
        {
            throw new ArgumentException("Names starting with 'keyturn-' are reserved for the built-in functions.", nameof(name));
        }

        if (timeout < TimeSpan.FromSeconds(1) || timeout > TimeSpan.FromSeconds(900))
        {
            throw new ArgumentException("--timeout is 1-900 seconds (as Lambda allows).", nameof(timeout));
        }

        if (kind == FunctionKind.Url && (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            throw new ArgumentException("--url must be an absolute http or https URL.", nameof(target));
        }

        var existing = await store.ReadAsync(session => session.FindFunction(name), cancellationToken).ConfigureAwait(false);
        if (existing?.AccessKeyId is { } oldKey)
        {
            // A standing key from an older Keyturn: never used again.
            await keys.RevokeAsync(oldKey, cancellationToken).ConfigureAwait(false);
        }

        var record = new FunctionRecord(name, kind, target, timeout, null, null, existing?.CreatedDate ?? timeProvider.GetUtcNow());
        await store.WriteAsync(session =>
        {
            session.SaveFunction(record);
            return true;
        }, cancellationToken).ConfigureAwait(false);
        return record;
    }

    public Task<IReadOnlyList<FunctionRecord>> ListAsync(CancellationToken cancellationToken) =>
        store.ReadAsync(session => session.ListFunctions(), cancellationToken);

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        var record = await store.ReadAsync(session => session.FindFunction(name), cancellationToken).ConfigureAwait(false);
        if (record is null)
        {
            return false;
        }

        if (record.AccessKeyId is { } keyId)
        {
            await keys.RevokeAsync(keyId, cancellationToken).ConfigureAwait(false);
        }

        // A function registered later under the same name starts from the default policy.
        return await store.WriteAsync(session =>
        {
            session.DeleteFunctionPolicy(name);
            return session.DeleteFunction(name);
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<FunctionPolicy> GetPolicyAsync(string name, CancellationToken cancellationToken) =>
        await store.ReadAsync(session => session.FindFunctionPolicy(name), cancellationToken).ConfigureAwait(false) ?? FunctionPolicy.Default(name);

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

        return await store.WriteAsync(session =>
        {
            var current = session.FindFunctionPolicy(name) ?? FunctionPolicy.Default(name);
            var masters = (clearMasters ? [] : current.AllowedMasters)
                .Where(m => !denyMasters.Contains(m, StringComparer.Ordinal))
                .Concat(allowMasters)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            var updated = new FunctionPolicy(name, masters, allowPrivilegedClone ?? current.AllowPrivilegedClone, timeProvider.GetUtcNow());
            session.SaveFunctionPolicy(updated);
            return updated;
        }, cancellationToken).ConfigureAwait(false);
    }
}
