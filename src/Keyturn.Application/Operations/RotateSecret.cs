using Keyturn.Application.Ports;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record RotateSecretRequest(
    string? SecretId, string? ClientRequestToken, string? RotationLambdaARN, RotationRulesType? RotationRules, bool? RotateImmediately);

public sealed record RotateSecretResponse(string ARN, string Name, string? VersionId);

public sealed record CancelRotateSecretRequest(string? SecretId);

/// <summary>
/// RotateSecret's validation, in AWS's order (spec §3.10). Running the four rotation steps is the
/// rotation engine's job; until a function is registered in the catalog, every function is
/// refused with AWS's AccessDeniedException and nothing is persisted.
/// </summary>
public sealed class RotateSecretHandler(SecretServices services, IRotationFunctionCatalog functions) : IOperation<RotateSecretRequest, RotateSecretResponse>
{
    public string Name => "RotateSecret";

    public Task<RotateSecretResponse> ExecuteAsync(RotateSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .Token(request.ClientRequestToken)
            .Length(request.RotationLambdaARN, "rotationLambdaARN", 0, 2048)
            .Range(request.RotationRules?.AutomaticallyAfterDays, "rotationRules.automaticallyAfterDays", 1, 1000)
            .Length(request.RotationRules?.Duration, "rotationRules.duration", 2, 3)
            .Length(request.RotationRules?.ScheduleExpression, "rotationRules.scheduleExpression", 1, 256)
            .ThrowIfInvalid();

        if (request.ClientRequestToken is null)
        {
            // RotateSecret reports the missing token as InvalidParameterException, unlike the value writes.
            throw ServiceException.MissingClientRequestToken(ErrorKind.InvalidParameter);
        }

        if (request.RotationRules is { } rules)
        {
            try
            {
                RotationRulesParser.Parse(new RotationRules(rules.AutomaticallyAfterDays, rules.ScheduleExpression, rules.Duration));
            }
            catch (RotationRulesException e)
            {
                throw new ServiceException(ErrorKinds.Parse(e.ErrorCode), e.Message);
            }
        }

        return services.Store.ReadAsync<RotateSecretResponse>(session =>
        {
            var secret = services.Resolve(session, request.SecretId!, context, Name);
            var function = string.IsNullOrEmpty(request.RotationLambdaARN) ? secret.Rotation?.LambdaArn : request.RotationLambdaARN;
            if (string.IsNullOrEmpty(function))
            {
                throw new ServiceException(ErrorKind.InvalidRequest, "No Lambda rotation function ARN is associated with this secret.");
            }

            if (!functions.CanInvoke(function))
            {
                throw new ServiceException(ErrorKind.AccessDenied,
                    "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.");
            }

            if (RotationState.InProgressVersion(secret) is not null)
            {
                throw new ServiceException(ErrorKind.InvalidRequest, "A previous rotation isn't complete. That rotation will be reattempted.");
            }

            throw new ServiceException(ErrorKind.InternalServiceError, "The rotation engine is not available in this build of Keyturn.");
        }, cancellationToken);
    }
}

public sealed class CancelRotateSecretHandler(SecretServices services) : IOperation<CancelRotateSecretRequest, RotateSecretResponse>
{
    public string Name => "CancelRotateSecret";

    public Task<RotateSecretResponse> ExecuteAsync(CancelRotateSecretRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).ThrowIfInvalid();
        return services.Store.WriteAsync(session =>
        {
            var secret = services.Resolve(session, request.SecretId!, context, Name);
            if (secret.Rotation is null)
            {
                throw new ServiceException(ErrorKind.InvalidRequest,
                    "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.");
            }

            // Labels stay as they are: a half-done rotation keeps its AWSPENDING version (spec §3.11).
            secret.Rotation = secret.Rotation with { Enabled = false };
            secret.NextRotationDate = null;
            secret.LastChangedDate = services.Now;
            session.Save(secret);
            return new RotateSecretResponse(secret.Arn, secret.Name, RotationState.InProgressVersion(secret)?.VersionId);
        }, cancellationToken);
    }
}

/// <summary>Rotation facts read off the labels.</summary>
public static class RotationState
{
    /// <summary>The version holding AWSPENDING without AWSCURRENT: a rotation that hasn't finished.</summary>
    public static SecretVersion? InProgressVersion(Secret secret) =>
        secret.HolderOf(StagingLabels.Pending) is { } pending && !pending.HasStage(StagingLabels.Current) ? pending : null;
}
