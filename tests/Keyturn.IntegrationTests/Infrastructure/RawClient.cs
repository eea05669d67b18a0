using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Keyturn.Protocol.SigV4;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>Signed HTTP straight to the endpoint, for what the SDKs hide (missing tokens, raw bodies, status codes).</summary>
public sealed class RawClient(KeyturnProcess server, string? accessKeyId = null, string? secretAccessKey = null, TimeProvider? clock = null) : IDisposable
{
    private readonly HttpClient _http = new(new SigV4SigningHandler(
        new SigV4Credentials(accessKeyId ?? server.AccessKeyId, secretAccessKey ?? server.SecretAccessKey),
        KeyturnProcess.Region, "secretsmanager", clock ?? TimeProvider.System)
    {
        InnerHandler = new SocketsHttpHandler(),
    });

    public sealed record Reply(int Status, string Body, HttpResponseHeaders Headers, string? ContentType)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    }

    public Task<Reply> SendAsync(string operation, string body) => SendAsync(operation, Encoding.UTF8.GetBytes(body));

    public async Task<Reply> SendAsync(string? operation, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Endpoint + "/") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        if (operation is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Amz-Target", "secretsmanager." + operation);
        }

        using var response = await _http.SendAsync(request);
        return new Reply((int)response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers, response.Content.Headers.ContentType?.MediaType);
    }

    public void Dispose() => _http.Dispose();
}
