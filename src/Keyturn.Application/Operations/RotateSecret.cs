using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging;

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
public sealed partial class RotateSecretHandler(SecretServices services, IRotationFunctionCatalog functions, IRotationLauncher launcher, ILogger<RotateSecretHandler>? logger = null)
    : IOperation<RotateSecretRequest, RotateSecretResponse>
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

        // Everything that reads beyond the secret (the function catalog, the master secret) is settled before the
        // write transaction opens.
        var (function, master) = await services.Store.ReadAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, conditions: Conditions(request)).ConfigureAwait(false);
            var function = FunctionOf(request, secret);
            AuthorizeInvoke(context, function);
            return (function, await AuthorizeMasterAsync(session, context, secret, ct).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);

        var functionName = RotationFunctionRegistry.NameOf(function);
        if (!await functions.ExistsAsync(functionName, cancellationToken).ConfigureAwait(false))
        {
            // The answer stays AWS's (clients match on it); the operator's log says what is actually wrong.
            if (logger is not null)
            {
                var names = await functions.NamesAsync(cancellationToken).ConfigureAwait(false);
                LogUnknownFunction(logger, functionName, names.Count == 0 ? "(none)" : string.Join(", ", names));
            }

            throw CannotInvoke();
        }

        var token = request.ClientRequestToken;
        var response = await services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct, conditions: Conditions(request)).ConfigureAwait(false);
            if (!string.Equals(FunctionOf(request, secret), function, StringComparison.Ordinal)
                || !string.Equals(await MasterSecrets.MasterArnOfAsync(services, session, secret, ct).ConfigureAwait(false), master, StringComparison.Ordinal))
            {
                // The function or the master changed between the checks and this transaction.
                throw new ServiceException(ErrorKind.InvalidRequest, "The secret's rotation function or master secret changed while this request ran. Retry the request.");
            }

            if (RotationState.InProgressVersion(secret) is not null || (await session.ListRotationsAsync(secret.Arn, openOnly: true, ct).ConfigureAwait(false)).Count > 0)
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
                var (text, binary) = await services.OpenAsync(session, secret, current, ct).ConfigureAwait(false);
                version.SetValue(services.Seal(secret, token, text, binary));
            }

            StageRules.Attach(secret, StagingLabels.Pending, version);
            StageRules.EnsureLabelQuota(secret);
            VersionRetention.Enforce(secret, now);
            secret.NextRotationDate = RotationSchedules.NextRotationDate(secret, secret.LastRotatedDate ?? now);
            secret.LastChangedDate = now;
            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            try
            {
                await session.SaveRotationAsync(new RotationRecord(secret.Arn, token, function, mode, RotationStatus.Pending, null, 0, null, now, now, null), ct).ConfigureAwait(false);
            }
            catch (RotationConflictException)
            {
                // An earlier rotation used this token (its version is gone since): its journal must not count for this one.
                throw ServiceException.TokenInUse(token, secret.Arn);
            }

            return new RotateSecretResponse(secret.Arn, secret.Name, token);
        }, cancellationToken).ConfigureAwait(false);

        launcher.Launch(response.ARN, token);
        return response;
    }

    // The request's condition keys (secretsmanager:RotationLambdaARN, RotateImmediately, ModifyRotationRules).
    private static RequestConditions Conditions(RotateSecretRequest request) => new()
    {
        RotationLambdaArn = string.IsNullOrEmpty(request.RotationLambdaARN) ? null : request.RotationLambdaARN,
        RotateImmediately = request.RotateImmediately,
        ModifyRotationRules = request.RotationRules is not null,
    };

    private static string FunctionOf(RotateSecretRequest request, Secret secret)
    {
        var function = string.IsNullOrEmpty(request.RotationLambdaARN) ? secret.Rotation?.LambdaArn : request.RotationLambdaARN;
        return string.IsNullOrEmpty(function)
            ? throw new ServiceException(ErrorKind.InvalidRequest, "No Lambda rotation function ARN is associated with this secret.")
            : function;
    }

    /// <summary>
    /// Rotating with a function is invoking it: the caller needs lambda:InvokeFunction on the function's ARN (a bare
    /// name stands for the function in the request's region and account), and a full ARN must name that region and account.
    /// </summary>
    private void AuthorizeInvoke(RequestContext context, string function)
    {
        var name = RotationFunctionRegistry.NameOf(function);
        var arn = RotationIdentity.FunctionArn(context.Partition, context.Region, services.Options.AccountId, name);
        if (function.StartsWith("arn:", StringComparison.Ordinal))
        {
            var parts = function.Split(':');
            if (parts.Length is not (7 or 8) || parts[1] != context.Partition || parts[2] != "lambda" || parts[3] != context.Region
                || parts[4] != services.Options.AccountId || parts[5] != "function" || name.Length == 0)
            {
                // AWS answers a function of another region or account with the same words as one it may not invoke.
                throw CannotInvoke();
            }
        }

        services.Authorizer.AuthorizeAction(context, RotationIdentity.InvokeAction, arn);
    }

    /// <summary>
    /// A rotation reads the <c>masterarn</c> its secret names, so configuring one requires that the caller itself may
    /// read that master (identity and resource policy); otherwise a key could have a function use a master it can't see.
    /// </summary>
    private async ValueTask<string?> AuthorizeMasterAsync(Ports.ISecretSession session, RequestContext context, Secret secret, CancellationToken cancellationToken)
    {
        if (await MasterSecrets.MasterArnOfAsync(services, session, secret, cancellationToken).ConfigureAwait(false) is not { } master)
        {
            return null;
        }

        Secret? masterSecret = null;
        try
        {
            masterSecret = await services.FindAsync(session, master, context, cancellationToken).ConfigureAwait(false);
        }
        catch (ServiceException)
        {
            // Not a valid secret name: authorize against it as written, which no Allow for a real secret matches.
        }

        services.Authorizer.Authorize(context, "GetSecretValue", masterSecret?.Arn ?? services.ResourceFor(master, context), masterSecret);
        return master;
    }

    [LoggerMessage(EventId = 2401, Level = LogLevel.Warning,
        Message = "RotateSecret: no rotation function named {FunctionName} is registered (keyturn functions register); registered functions: {Registered}. The caller gets AWS's AccessDeniedException for a Lambda it cannot invoke.")]
    private static partial void LogUnknownFunction(ILogger logger, string functionName, string registered);

    private static ServiceException CannotInvoke() =>
        new(ErrorKind.AccessDenied,
            "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.");

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
        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct).ConfigureAwait(false);
            if (secret.Rotation is null)
            {
                throw new ServiceException(ErrorKind.InvalidRequest,
                    "You tried to enable rotation on a secret that doesn't already have a Lambda function ARN configured and you didn't include such an ARN as a parameter in this call.");
            }

            // Labels stay as they are: a half-done rotation keeps its AWSPENDING version (spec §3.11),
            // but the engine stops working on it.
            // Each a compare-and-swap on the copy just read, in this transaction: the engine's stale copies lose to it.
            foreach (var open in await session.ListRotationsAsync(secret.Arn, openOnly: true, ct).ConfigureAwait(false))
            {
                try
                {
                    await session.SaveRotationAsync(
                        open with { Status = RotationStatus.Abandoned, Reason = "Rotation was cancelled with CancelRotateSecret.", UpdatedAt = services.Now, NextAttemptAt = null },
                        ct).ConfigureAwait(false);
                }
                catch (RotationConflictException)
                {
                    // Changed between the read and the write of this transaction: nothing is kept; the caller's SDK retries.
                    throw new ServiceException(ErrorKind.InternalServiceError, "The rotation changed while CancelRotateSecret ran. Retry the request.");
                }
            }

            secret.Rotation = secret.Rotation with { Enabled = false };
            secret.NextRotationDate = null;
            secret.LastChangedDate = services.Now;
            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            return new RotateSecretResponse(secret.Arn, secret.Name, RotationState.InProgressVersion(secret)?.VersionId);
        }, cancellationToken).AsTask();
    }
}
