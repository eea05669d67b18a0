using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Keyturn.Application.Rotation;

/// <summary>
/// An external function behind a URL: the Lambda event is POSTed as JSON once per step; a 2xx answer
/// means the step succeeded. A 4xx is a permanent failure (the function rejected the event), anything
/// else is retried.
/// </summary>
public sealed class UrlRotationFunction(FunctionRecord record, HttpClient http) : IRotationFunction
{
    private const int MaxLoggedBody = 4096;

    public string Name => record.Name;

    public async Task InvokeAsync(RotationEvent rotationEvent, InvocationLog log, CancellationToken cancellationToken)
    {
        using var content = new StringContent(JsonSerializer.Serialize(rotationEvent, RotationJsonContext.Default.RotationEvent), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync(new Uri(record.Target), content, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new RotationStepException($"{rotationEvent.Step}: function {record.Name} at {record.Target} is unreachable: {e.Message}", permanent: false);
        }

        using (response)
        {
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
        }
    }
}
