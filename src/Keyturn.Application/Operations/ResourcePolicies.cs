using Keyturn.Domain.Errors;
using Keyturn.Domain.Policies;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Operations;

public sealed record GetResourcePolicyRequest(string? SecretId);

public sealed record GetResourcePolicyResponse(string ARN, string Name, string? ResourcePolicy);

public sealed record PutResourcePolicyRequest(string? SecretId, string? ResourcePolicy, bool? BlockPublicPolicy);

public sealed record DeleteResourcePolicyRequest(string? SecretId);

public sealed record ValidateResourcePolicyRequest(string? SecretId, string? ResourcePolicy);

public sealed record ValidateResourcePolicyResponse(bool PolicyValidationPassed, IReadOnlyList<PolicyValidationError> ValidationErrors);

public sealed class GetResourcePolicyHandler(SecretServices services) : IOperation<GetResourcePolicyRequest, GetResourcePolicyResponse>
{
    public string Name => "GetResourcePolicy";

    public Task<GetResourcePolicyResponse> ExecuteAsync(GetResourcePolicyRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).ThrowIfInvalid();
        return services.Store.ReadAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct).ConfigureAwait(false);
            return new GetResourcePolicyResponse(secret.Arn, secret.Name, secret.ResourcePolicy);
        }, cancellationToken).AsTask();
    }
}

public sealed partial class PutResourcePolicyHandler(SecretServices services, ILogger<PutResourcePolicyHandler>? logger = null)
    : IOperation<PutResourcePolicyRequest, SecretReference>
{
    private readonly ILogger _logger = logger ?? NullLogger<PutResourcePolicyHandler>.Instance;

    public string Name => "PutResourcePolicy";

    public async Task<SecretReference> ExecuteAsync(PutResourcePolicyRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .SecretId(request.SecretId)
            .Required(request.ResourcePolicy, "resourcePolicy").Length(request.ResourcePolicy, "resourcePolicy", 1, 20480)
            .ThrowIfInvalid();

        var policy = ResourcePolicyChecks.ParseOrThrow(request.ResourcePolicy!);
        var reference = await services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct,
                conditions: new RequestConditions { BlockPublicPolicy = request.BlockPublicPolicy }).ConfigureAwait(false);
            // Only structural problems block a put; public access is refused only with BlockPublicPolicy, as on AWS.
            var blocking = ResourcePolicyValidator.Validate(policy, secret.Arn)
                .FirstOrDefault(e => e.CheckName is PolicyCheckNames.SyntaxCheck or PolicyCheckNames.UnsupportedAction);
            if (blocking is not null)
            {
                throw new ServiceException(ErrorKind.MalformedPolicyDocument, blocking.ErrorMessage);
            }

            if (request.BlockPublicPolicy == true && ResourcePolicyValidator.IsPublic(policy))
            {
                throw new ServiceException(ErrorKind.PublicPolicy,
                    "This resource policy will grant public access to the secret. Update the policy, or set BlockPublicPolicy to false.");
            }

            secret.ResourcePolicy = request.ResourcePolicy;
            secret.LastChangedDate = services.Now;
            await session.SaveAsync(secret, ct).ConfigureAwait(false);
            return new SecretReference(secret.Arn, secret.Name);
        }, cancellationToken).ConfigureAwait(false);

        // AWS accepts any condition key, so the put succeeds; the operator learns which statements fail closed.
        foreach (var key in ConditionKeys.Unevaluable(policy))
        {
            LogUnevaluableKey(_logger, reference.ARN, key);
        }

        return reference;
    }

    [LoggerMessage(EventId = 2301, Level = LogLevel.Warning,
        Message = "resource policy of {SecretArn} uses the condition key {ConditionKey}, which Keyturn cannot evaluate: statements depending on it deny and never allow")]
    private static partial void LogUnevaluableKey(ILogger logger, string secretArn, string conditionKey);
}

public sealed class DeleteResourcePolicyHandler(SecretServices services) : IOperation<DeleteResourcePolicyRequest, SecretReference>
{
    public string Name => "DeleteResourcePolicy";

    public Task<SecretReference> ExecuteAsync(DeleteResourcePolicyRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator().SecretId(request.SecretId).ThrowIfInvalid();
        return services.Store.WriteAsync(async (session, ct) =>
        {
            var secret = await services.ResolveAsync(session, request.SecretId!, context, Name, ct).ConfigureAwait(false);
            if (secret.ResourcePolicy is not null)
            {
                secret.ResourcePolicy = null;
                secret.LastChangedDate = services.Now;
                await session.SaveAsync(secret, ct).ConfigureAwait(false);
            }

            return new SecretReference(secret.Arn, secret.Name);
        }, cancellationToken).AsTask();
    }
}

public sealed class ValidateResourcePolicyHandler(SecretServices services) : IOperation<ValidateResourcePolicyRequest, ValidateResourcePolicyResponse>
{
    public string Name => "ValidateResourcePolicy";

    public async Task<ValidateResourcePolicyResponse> ExecuteAsync(ValidateResourcePolicyRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .Length(request.SecretId, "secretId", 1, 2048)
            .Required(request.ResourcePolicy, "resourcePolicy").Length(request.ResourcePolicy, "resourcePolicy", 1, 20480)
            .ThrowIfInvalid();

        ResourcePolicyChecks.RequireJson(request.ResourcePolicy!);
        string? arn = null;
        if (request.SecretId is { } secretId)
        {
            arn = await services.Store.ReadAsync(
                async (session, ct) => (await services.ResolveAsync(session, secretId, context, Name, ct, allowDeleted: true).ConfigureAwait(false)).Arn,
                cancellationToken).ConfigureAwait(false);
        }
        else
        {
            services.Authorizer.Authorize(context, Name, "*");
        }

        // Well-formed JSON that isn't a valid policy is a failed validation, not an error.
        if (!PolicyDocument.TryParse(request.ResourcePolicy!, PolicyKind.Resource, out var policy, out var syntaxError))
        {
            return new ValidateResourcePolicyResponse(false, [new PolicyValidationError(PolicyCheckNames.SyntaxCheck, syntaxError)]);
        }

        var errors = ResourcePolicyValidator.Validate(policy, arn);
        return new ValidateResourcePolicyResponse(errors.Count == 0, errors);
    }
}

internal static class ResourcePolicyChecks
{
    public static void RequireJson(string text)
    {
        try
        {
            using var _ = System.Text.Json.JsonDocument.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            throw new ServiceException(ErrorKind.MalformedPolicyDocument, "This resource policy contains a syntax error: it is not valid JSON.");
        }
    }

    public static PolicyDocument ParseOrThrow(string text) =>
        PolicyDocument.TryParse(text, PolicyKind.Resource, out var policy, out var error)
            ? policy!
            : throw new ServiceException(ErrorKind.MalformedPolicyDocument, "This resource policy contains a syntax error. " + error);
}
