using System.Text.Json;
using Keyturn.Application;
using Keyturn.Application.Rotation;
using Keyturn.Protocol.SigV4;
using Microsoft.AspNetCore.Http;

namespace Keyturn.Server.Protocol;

/// <summary>
/// Lambda's <c>GetFunctionConfiguration</c> (REST, <c>GET /2015-03-31/functions/NAME/configuration</c>) for
/// Keyturn's rotation functions, so that "does the rotation function exist" is asked the same way of
/// Keyturn and of AWS (<c>aws lambda get-function-configuration --endpoint-url …</c> works too). The
/// answer describes the function only; a registered command or URL is never shown.
/// </summary>
public sealed class LambdaEndpoint(RotationFunctionRegistry registry, SigV4Verifier verifier, KeyturnOptions options)
{
    public const string Route = "/2015-03-31/functions/{name}/configuration";

    public async Task HandleAsync(HttpContext http, string name)
    {
        http.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        var verification = verifier.Verify(AwsJsonEndpoint.ToSigV4Request(http, ReadOnlyMemory<byte>.Empty), "lambda");
        if (!verification.IsSuccess)
        {
            await ErrorAsync(http, verification.HttpStatus, verification.ErrorCode!, verification.ErrorMessage!).ConfigureAwait(false);
            return;
        }

        var functionName = RotationFunctionRegistry.NameOf(name);
        var arn = $"arn:aws:lambda:{verification.Region}:{options.AccountId}:function:{functionName}";
        if (registry.Resolve(name) is null)
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
