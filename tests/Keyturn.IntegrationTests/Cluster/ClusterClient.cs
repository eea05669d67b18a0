using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keyturn.Protocol.SigV4;

namespace Keyturn.IntegrationTests.Cluster;

/// <summary>
/// Signed Secrets Manager calls through the cluster's proxy, each on a new connection (so calls spread over the nodes),
/// with a short timeout (a paused node must not hold a client), every call classified as an <see cref="Outcome"/>.
/// </summary>
public sealed class ClusterClient(string endpoint, string accessKeyId, string secretAccessKey) : IDisposable
{
    private static readonly Stopwatch Clock = Stopwatch.StartNew();

    private readonly HttpClient _http = new(new SigV4SigningHandler(new SigV4Credentials(accessKeyId, secretAccessKey), "us-east-1", "secretsmanager", TimeProvider.System)
    {
        InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero, ConnectTimeout = TimeSpan.FromSeconds(3) },
    })
    {
        Timeout = TimeSpan.FromSeconds(8),
    };

    /// <summary>Monotonic milliseconds since the test process started: the history's clock.</summary>
    public static long Now => Clock.ElapsedMilliseconds;

    public sealed record Reply(Outcome Outcome, JsonElement Body, string? Error);

    // Operations whose ClientRequestToken the SDKs fill in when the caller gives none (botocore's idempotency tokens).
    private static readonly HashSet<string> IdempotentOperations = new(StringComparer.Ordinal) { "CreateSecret", "PutSecretValue", "RotateSecret", "UpdateSecret" };

    public async Task<Reply> CallAsync(string operation, object request)
    {
        var json = JsonSerializer.SerializeToNode(request)!.AsObject();
        if (IdempotentOperations.Contains(operation) && !json.ContainsKey("ClientRequestToken"))
        {
            json["ClientRequestToken"] = Guid.NewGuid().ToString();
        }

        using var message = new HttpRequestMessage(HttpMethod.Post, endpoint + "/")
        {
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(json)),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        message.Headers.TryAddWithoutValidation("X-Amz-Target", "secretsmanager." + operation);
        try
        {
            using var response = await _http.SendAsync(message);
            var text = await response.Content.ReadAsStringAsync();
            var body = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
            var status = (int)response.StatusCode;
            var error = status == 200 ? null : body.ValueKind == JsonValueKind.Object && body.TryGetProperty("__type", out var type) ? type.GetString() : $"HTTP {status}";

            // A 4xx is a definite refusal made before anything was written; anything else may or may not have been applied.
            return new Reply(status == 200 ? Outcome.Ok : status is >= 400 and < 500 ? Outcome.Failed : Outcome.Unknown, body, error);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or JsonException)
        {
            return new Reply(Outcome.Unknown, default, e.GetType().Name);
        }
    }

    /// <summary>A value's SHA-256, what the history keeps instead of the value.</summary>
    public static string Hash(string value) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..16];

    public void Dispose() => _http.Dispose();
}
