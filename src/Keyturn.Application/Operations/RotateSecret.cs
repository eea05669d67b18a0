using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

public sealed record RotateSecretRequest(
    string? SecretId, string? ClientRequestToken, string? RotationLambdaARN, RotationRulesType? RotationRules, bool? RotateImmediately);

public sealed record RotateSecretResponse(string ARN, string Name, string? VersionId);

public sealed record CancelRotateSecretRequest(string? SecretId);

/// <summary>
/// RotateSecret (spec §3.10, §5.2): validates in AWS's order, persists the rotation settings, creates
/// the new AWSPENDING version without a value and records the rotation in the same transaction, then
/// hands it to the engine and returns at once; the four steps run in the background.
/// </summary>
public sealed class RotateSecretHandler(SecretServices services, IRotationFunctionCatalog functions, IRotationLauncher launcher) : IOperation<RotateSecretRequest, RotateSecretResponse>
{
    public string Name => "RotateSecret";

    public async Task<RotateSecretResponse> ExecuteAsync(RotateSecretRequest request, RequestContext context, CancellationToken cancellationToken)
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

        var token = request.ClientRequestToken;
        var response = await services.Store.WriteAsync(session =>
        {
            var secret = services.Resolve(session, request.SecretId!, context, Name, conditions: new RequestConditions
            {
                RotationLambdaArn = string.IsNullOrEmpty(request.RotationLambdaARN) ? null : request.RotationLambdaARN,
                RotateImmediately = request.RotateImmediately,
                ModifyRotationRules = request.RotationRules is not null,
            });
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

            if (RotationState.InProgressVersion(secret) is not null || session.ListRotations(secret.Arn, openOnly: true).Count > 0)
            {
                throw new ServiceException(ErrorKind.InvalidRequest, "A previous rotation isn't complete. That rotation will be reattempted.");
            }

            if (secret.FindVersion(token) is not null)
            {
                throw ServiceException.TokenInUse(token, secret.Arn);
            }

            var now = services.Now;
            var newRules = request.RotationRules;
            secret.Rotation = new RotationConfiguration(
                Enabled: true,
                function,
                newRules is null ? secret.Rotation?.AutomaticallyAfterDays : newRules.AutomaticallyAfterDays ?? DerivedDays(newRules),
                newRules is null ? secret.Rotation?.ScheduleExpression : newRules.ScheduleExpression,
                newRules is null ? secret.Rotation?.Duration : newRules.Duration);

            var mode = request.RotateImmediately == false ? RotationMode.TestOnly : RotationMode.Rotate;
            var version = new SecretVersion(token, now);
            secret.AddVersion(version);
            if (mode == RotationMode.TestOnly)
            {
                // The configuration test runs testSecret against a copy of the current value.
                var current = secret.HolderOf(StagingLabels.Current) is { HasValue: true } holder
                    ? holder
                    : throw new ServiceException(ErrorKind.InvalidRequest, "The secret has no AWSCURRENT value to test rotation with.");
                var (text, binary) = services.Open(session, secret, current);
                version.SetValue(services.Seal(secret, token, text, binary));
            }

            StageRules.Attach(secret, StagingLabels.Pending, version);
            StageRules.EnsureLabelQuota(secret);
            VersionRetention.Enforce(secret, now);
            secret.NextRotationDate = RotationSchedules.NextRotationDate(secret, secret.LastRotatedDate ?? now);
            secret.LastChangedDate = now;
            session.Save(secret);
            session.SaveRotation(new RotationRecord(secret.Arn, token, function, mode, RotationStatus.Pending, null, 0, null, now, now, null));
            return new RotateSecretResponse(secret.Arn, secret.Name, token);
        }, cancellationToken).ConfigureAwait(false);

        launcher.Launch(response.ARN, token);
        return response;
    }

    // DescribeSecret shows AutomaticallyAfterDays derived from a schedule expression, as AWS does.
    private static long? DerivedDays(RotationRulesType rules) =>
        rules.ScheduleExpression is null
            ? null
            : RotationScheduleCalculator.DerivedAutomaticallyAfterDays(RotationRulesParser.Parse(new RotationRules(null, rules.ScheduleExpression, rules.Duration)));
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

            // Labels stay as they are: a half-done rotation keeps its AWSPENDING version (spec §3.11),
            // but the engine stops working on it.
            foreach (var open in session.ListRotations(secret.Arn, openOnly: true))
            {
                session.SaveRotation(open with { Status = RotationStatus.Abandoned, Reason = "Rotation was cancelled with CancelRotateSecret.", UpdatedAt = services.Now, NextAttemptAt = null });
            }

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
