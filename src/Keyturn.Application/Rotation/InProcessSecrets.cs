using Keyturn.Application.Operations;
using Keyturn.Application.Security;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The Secrets Manager calls a built-in rotation function makes, going through the same operation
/// handlers (and so the same label rules, validation and authorization) as API clients, as the
/// function's own principal (<see cref="RotationIdentity"/>), never as root.
/// </summary>
internal sealed class InProcessSecrets(SecretServices services, string secretArn, CallerIdentity caller)
{
    // In-process calls never cross a network, so "deny insecure transport" policies must not stop them.
    private readonly RequestContext _context = new("rotation-" + Guid.NewGuid().ToString("N"), RegionOf(secretArn), caller, SourceIp: null, SecureTransport: true);

    public Task<DescribeSecretResponse> DescribeAsync(CancellationToken cancellationToken) =>
        new DescribeSecretHandler(services).ExecuteAsync(new DescribeSecretRequest(secretArn), _context, cancellationToken);

    public Task<GetSecretValueResponse> GetAsync(string? versionId, string? stage, CancellationToken cancellationToken) =>
        GetAsync(secretArn, versionId, stage, cancellationToken);

    public Task<GetSecretValueResponse> GetAsync(string secretId, string? versionId, string? stage, CancellationToken cancellationToken) =>
        new GetSecretValueHandler(services).ExecuteAsync(new GetSecretValueRequest(secretId, versionId, stage), _context, cancellationToken);

    public Task<PutSecretValueResponse> PutPendingAsync(string token, string value, CancellationToken cancellationToken) =>
        new PutSecretValueHandler(services).ExecuteAsync(new PutSecretValueRequest(secretArn, token, null, value, [Domain.Secrets.StagingLabels.Pending], null), _context, cancellationToken);

    public Task<SecretReference> MoveCurrentAsync(string from, string to, CancellationToken cancellationToken) =>
        new UpdateSecretVersionStageHandler(services).ExecuteAsync(
            new UpdateSecretVersionStageRequest(secretArn, Domain.Secrets.StagingLabels.Current, from, to), _context, cancellationToken);

    /// <summary>The region of a secret ARN (its fourth field), or us-east-1 when the ARN has none.</summary>
    internal static string RegionOf(string arn)
    {
        var parts = arn.Split(':');
        return parts.Length > 3 && parts[3].Length > 0 ? parts[3] : "us-east-1";
    }
}
