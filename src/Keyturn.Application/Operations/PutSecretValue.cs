using Keyturn.Domain.Errors;

namespace Keyturn.Application.Operations;

public sealed record PutSecretValueRequest(
    string? SecretId, string? ClientRequestToken, byte[]? SecretBinary, string? SecretString,
    IReadOnlyList<string>? VersionStages, string? RotationToken);

public sealed record PutSecretValueResponse(string ARN, string Name, string VersionId, IReadOnlyList<string> VersionStages);

public sealed class PutSecretValueHandler(SecretServices services) : IOperation<PutSecretValueRequest, PutSecretValueResponse>
{
    private static readonly System.Text.RegularExpressions.Regex RotationTokenPattern = new("^[a-zA-Z0-9\\-]+$");

    public string Name => "PutSecretValue";

    public Task<PutSecretValueResponse> ExecuteAsync(PutSecretValueRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .Token(request.ClientRequestToken)
            .Value(request.SecretString, request.SecretBinary)
            .Stages(request.VersionStages)
            .Length(request.RotationToken, "rotationToken", 36, 256)
            .Pattern(request.RotationToken, "rotationToken", RotationTokenPattern, "^[a-zA-Z0-9\\-]+$")
            .ThrowIfInvalid();

        if (request.SecretString is null && request.SecretBinary is null)
        {
            throw new ServiceException(ErrorKind.InvalidRequest, "You must provide either SecretString or SecretBinary.");
        }

        if (request.ClientRequestToken is null)
        {
            throw ServiceException.MissingClientRequestToken();
        }

        ValueWriter.RequireOneValue(request.SecretString, request.SecretBinary);

        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct).ConfigureAwait(false);
            var version = await ValueWriter.WriteAsync(services, session, secret, request.ClientRequestToken, request.SecretString, request.SecretBinary, request.VersionStages, ct).ConfigureAwait(false);
            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            // The version is not changed after the unit: its labels are serialized as they are, not copied.
            return new PutSecretValueResponse(secret.Arn, secret.Name, version.VersionId, version.Stages);
        }, cancellationToken).AsTask();
    }
}
