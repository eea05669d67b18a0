using Keyturn.Application.Operations;
using Keyturn.Application.Security;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The access key an external function calls back with, minted for one invocation: its policy covers the
/// secret being rotated and, when the function's administrator policy allows that master, GetSecretValue on
/// the <c>masterarn</c> the secret names, nothing else. The caller revokes it when the invocation ends; its
/// expiry (the function's step timeout plus a minute) ends it even if the process dies before that.
/// </summary>
public sealed class RotationCredentials(AccessKeyService keys, SecretServices services, RotationOptions options, TimeProvider timeProvider)
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    public sealed record Issued(string AccessKeyId, string SecretAccessKey, DateTimeOffset Expires);

    /// <param name="timeout">The function's registered step timeout; null for the engine's default.</param>
    public async Task<Issued> IssueAsync(string functionName, string secretArn, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var accountId = services.Options.AccountId;
        var (policy, masterArn) = await services.Store.ReadAsync(async (session, ct) =>
        {
            var policy = await session.FindFunctionPolicyAsync(functionName, ct).ConfigureAwait(false) ?? FunctionPolicy.Default(functionName);
            var secret = await session.FindByArnAsync(secretArn, ct).ConfigureAwait(false);
            if (secret is null || await MasterSecrets.MasterArnOfAsync(services, session, secret, ct).ConfigureAwait(false) is not { } master)
            {
                return (policy, (string?)null);
            }

            var context = new RequestContext("rotation", InProcessSecrets.RegionOf(secretArn),
                new CallerIdentity("rotation-" + functionName, RotationIdentity.PrincipalArn(accountId, functionName), IsRoot: false, IdentityPolicy: null));
            try
            {
                return (policy, (await services.FindAsync(session, master, context, ct).ConfigureAwait(false))?.Arn);
            }
            catch (ServiceException)
            {
                return (policy, null);
            }
        }, cancellationToken).ConfigureAwait(false);

        string[] masters = masterArn is not null && RotationIdentity.AllowsMaster(policy, accountId, masterArn) ? [masterArn] : [];
        var expires = timeProvider.GetUtcNow() + (timeout ?? options.DefaultFunctionTimeout) + Grace;
        var key = await keys.CreateAsync(RotationIdentity.KeyUserName(functionName), RotationIdentity.PolicyJson(secretArn, masters), cancellationToken, expires).ConfigureAwait(false);
        return new Issued(key.AccessKeyId, key.SecretAccessKey, expires);
    }

    /// <summary>Ends the key at once (not cancellable: it must run even when the invocation was cancelled).</summary>
    public Task RevokeAsync(Issued key) => keys.RevokeAsync(key.AccessKeyId, CancellationToken.None);
}
