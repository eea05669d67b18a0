using System.Text.Json;
using Keyturn.Application;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Domain.Errors;
using Keyturn.Protocol.SigV4;
using Microsoft.AspNetCore.Http;

namespace Keyturn.Server.Protocol;

/// <summary>
/// Lambda's <c>GetFunctionConfiguration</c> (REST, <c>GET /2015-03-31/functions/NAME/configuration</c>) for
/// Keyturn's rotation functions, so that "does the rotation function exist" is asked the same way of
/// Keyturn and of AWS (<c>aws lambda get-function-configuration --endpoint-url …</c> works too). The
/// answer describes the function only; a registered command or URL is never shown. The caller needs
/// <c>lambda:GetFunctionConfiguration</c> on the function's ARN, as on AWS.
/// </summary>
public sealed class LambdaEndpoint(RotationFunctionRegistry registry, SigV4Verifier verifier, AccessKeyService accessKeys, Authorizer authorizer, KeyturnOptions options)
{
    public const string Route = "/2015-03-31/functions/{name}/configuration";

    public async Task HandleAsync(HttpContext http, string name)
    {
        var requestId = RequestIds.Next();
        http.Response.Headers["x-amzn-RequestId"] = requestId;
        var headers = RequestHeaderList.Rent(http.Request);
        SigV4VerificationResult verification;
        try
        {
            verification = await verifier.VerifyAsync(AwsJsonEndpoint.ToSigV4Request(http, headers, ReadOnlyMemory<byte>.Empty), "lambda", http.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            RequestHeaderList.Return(headers);
        }
        if (!verification.IsSuccess)
        {
            await ErrorAsync(http, verification.HttpStatus, verification.ErrorCode!, verification.ErrorMessage!).ConfigureAwait(false);
            return;
        }

        var functionName = RotationFunctionRegistry.NameOf(name);
        var caller = (await accessKeys.ResolveAsync(verification.AccessKeyId!, http.RequestAborted).ConfigureAwait(false))?.Identity;
        var context = new RequestContext(requestId, verification.Region!, caller!);
        var arn = RotationIdentity.FunctionArn(context.Partition, context.Region, options.AccountId, functionName);
        try
        {
            if (caller is null)
            {
                throw new ServiceException(ErrorKind.AccessDenied, "The security token included in the request is invalid.");
            }

            authorizer.AuthorizeAction(context, RotationIdentity.GetConfigurationAction, arn);
        }
        catch (ServiceException e) when (e.Kind == ErrorKind.AccessDenied)
        {
            await ErrorAsync(http, 403, "AccessDeniedException", e.Message).ConfigureAwait(false);
            return;
        }

        // A full ARN must name this endpoint's region and account; Keyturn has no functions anywhere else.
        var elsewhere = name.StartsWith("arn:", StringComparison.Ordinal) && !(name + ":").StartsWith(arn + ":", StringComparison.Ordinal);
        if (elsewhere || await registry.ResolveAsync(functionName, http.RequestAborted).ConfigureAwait(false) is null)
        {
            await ErrorAsync(http, 404, "ResourceNotFoundException", $"Function not found: {arn}").ConfigureAwait(false);
            return;
        }

        var builtIn = registry.BuiltInNames.Contains(functionName, StringComparer.Ordinal);
        var body = new Dictionary<string, object>
        {
            ["FunctionName"] = functionName,
            ["FunctionArn"] = arn,
            ["Runtime"] = builtIn ? "keyturn-builtin" : "keyturn-external",
            ["Description"] = builtIn ? "Keyturn built-in rotation function" : "Rotation function registered with keyturn functions register",
            ["Version"] = "$LATEST",
            ["State"] = "Active",
            ["LastUpdateStatus"] = "Successful",
            ["PackageType"] = "Zip",
        };
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(JsonSerializer.Serialize(body), http.RequestAborted).ConfigureAwait(false);
    }

    // Lambda names the error in a header; the body carries the message and the fault side.
    private static async Task ErrorAsync(HttpContext http, int status, string code, string message)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.Headers["x-amzn-ErrorType"] = code;
        await http.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["Type"] = "User", ["message"] = message }), http.RequestAborted).ConfigureAwait(false);
    }
}
