using System.Text;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Application.Security;

namespace Keyturn.Application.Rotation;

/// <summary>
/// <c>keyturn functions register|list|remove</c>. Each external function gets its own access key
/// (user <c>function-NAME</c>) limited to Secrets Manager, which it uses to call back into the API.
/// </summary>
public sealed class FunctionService(ISecretStore store, AccessKeyService keys, EnvelopeCipher cipher, TimeProvider timeProvider)
{
    private const string FunctionPolicy = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}""";

    public static string KeyContext(string functionName) => "function|" + functionName;

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

        if (kind == FunctionKind.Url && (!Uri.TryCreate(target, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            throw new ArgumentException("--url must be an absolute http or https URL.", nameof(target));
        }

        var existing = await store.ReadAsync(session => session.FindFunction(name), cancellationToken).ConfigureAwait(false);
        if (existing?.AccessKeyId is { } oldKey)
        {
            await keys.RevokeAsync(oldKey, cancellationToken).ConfigureAwait(false);
        }

        var key = await keys.CreateAsync("function-" + name, FunctionPolicy, cancellationToken).ConfigureAwait(false);
        var record = new FunctionRecord(name, kind, target, timeout, key.AccessKeyId,
            cipher.Encrypt(Encoding.UTF8.GetBytes(key.SecretAccessKey), KeyContext(name)), existing?.CreatedDate ?? timeProvider.GetUtcNow());
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

        return await store.WriteAsync(session => session.DeleteFunction(name), cancellationToken).ConfigureAwait(false);
    }
}
