using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Keyturn.Application.Rotation;

/// <summary>
/// An external function behind a URL, called with Lambda's Invoke contract (what the Lambda Runtime Interface
/// Emulator serves at <c>/2015-03-31/functions/function/invocations</c>): the Lambda event is POSTed as JSON once per
/// step. Lambda answers 200 even when the handler raised, so a 2xx only means success when it carries no
/// <c>X-Amz-Function-Error</c> header and no <c>{"errorType","errorMessage"}</c> body; such an error stops the rotation or
/// is retried as <see cref="ExternalFailures"/> reads it. A 4xx is a permanent failure (the function rejected the
/// event), any other status is retried.
/// </summary>
public sealed class UrlRotationFunction(FunctionRecord record, HttpClient http) : IRotationFunction
{
    private const int MaxLoggedBody = 4096;

    public string Name => record.Name;

    public TimeSpan? Timeout => record.Timeout > TimeSpan.Zero ? record.Timeout : null;

    public async Task InvokeAsync(RotationEvent rotationEvent, InvocationLog log, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(record.Target));
        request.Content = new StringContent(JsonSerializer.Serialize(rotationEvent, RotationJsonContext.Default.RotationEvent), Encoding.UTF8);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-Amz-Invocation-Type", "RequestResponse");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new RotationStepException($"{rotationEvent.Step}: function {record.Name} at {record.Target} is unreachable: {e.Message}", permanent: false);
        }

        using (response)
        {
            if ((Header(response, "X-Amz-Request-Id") ?? Header(response, "Lambda-Runtime-Aws-Request-Id")) is { } functionRequestId)
            {
                log.Info($"{rotationEvent.Step}: function {record.Name} answered as request {functionRequestId}");
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            foreach (var line in (body.Length > MaxLoggedBody ? body[..MaxLoggedBody] : body).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                log.Raw(line.TrimEnd('\r'));
            }

            var status = (int)response.StatusCode;
            if (status is < 200 or > 299)
            {
                throw new RotationStepException($"{rotationEvent.Step}: function {record.Name} answered HTTP {status}.", permanent: status is >= 400 and < 500);
            }

            var functionError = Header(response, "X-Amz-Function-Error");
            var (errorType, errorMessage) = LambdaError(body);
            if (functionError is not null || errorType is not null || errorMessage is not null)
            {
                throw ExternalFailures.StepFailed(rotationEvent.Step, errorType ?? functionError, errorMessage ?? $"function {record.Name} reported a {functionError} error without a message.", exitCode: null);
            }
        }
    }

    /// <summary>Lambda's error payload, <c>{"errorType": "...", "errorMessage": "...", "stackTrace": [...]}</c>; nulls for any other body.</summary>
    public static (string? ErrorType, string? ErrorMessage) LambdaError(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            return (Text(document.RootElement, "errorType"), Text(document.RootElement, "errorMessage"));
        }
        catch (JsonException)
        {
            return (null, null);
        }

        static string? Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault(v => v.Length > 0) : null;
}
