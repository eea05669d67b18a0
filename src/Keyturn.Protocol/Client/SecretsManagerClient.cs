using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Protocol.Client;

/// <summary>
/// A small typed Secrets Manager client over AWS JSON 1.1 with SigV4, for Keyturn or real AWS alike
/// (AWSSDK.SecretsManager isn't available here). Only what the doctor needs.
/// </summary>
public sealed class SecretsManagerClient : IDisposable
{
    // A secret has at most about a hundred versions and BatchGetSecretValue asks for 20 secrets: a few pages each.
    // ListSecrets may walk a large account (100 a page), so its cap is higher.
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most an answer may hold. Secrets Manager's largest (a BatchGetSecretValue page of 20 values of 64 KiB) is a
    /// few MiB; an endpoint that sends more (a hostile or broken one the operator pointed us at) is refused, not buffered.
    /// </summary>
    public const int MaxResponseBytes = 16 * 1024 * 1024;
    private static readonly PageLimits VersionPages = new(100, CallTimeout);
    private static readonly PageLimits BatchPages = new(20, CallTimeout);
    private static readonly PageLimits SecretPages = new(10_000, CallTimeout);

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly TimeProvider _timeProvider;

    /// <param name="caBundle">PEM CA certificates to trust for an HTTPS endpoint instead of the system's, as <c>AWS_CA_BUNDLE</c> does.</param>
    public SecretsManagerClient(Uri endpoint, SigV4Credentials credentials, string region, TimeProvider timeProvider, string? caBundle = null)
    {
        _endpoint = endpoint;
        _timeProvider = timeProvider;
        Region = region;
        _http = new HttpClient(new SigV4SigningHandler(credentials, region, "secretsmanager", timeProvider) { InnerHandler = CaBundleTrust.CreateHandler(caBundle) })
        {
            Timeout = CallTimeout,
            MaxResponseContentBufferSize = MaxResponseBytes,
        };
    }

    public string Region { get; }

    public Uri Endpoint => _endpoint;

    public sealed record VersionEntry(string VersionId, IReadOnlyList<string> Stages, DateTimeOffset CreatedDate);

    public Task<JsonElement> DescribeSecretAsync(string secretId, CancellationToken cancellationToken) =>
        CallAsync("DescribeSecret", new JsonObject { ["SecretId"] = secretId }, cancellationToken);

    /// <summary>Every version, deprecated ones included, across pages.</summary>
    public async Task<IReadOnlyList<VersionEntry>> ListVersionsAsync(string secretId, CancellationToken cancellationToken) =>
        await Paginator.AllAsync<VersionEntry>("ListSecretVersionIds", async (next, ct) =>
        {
            var page = await CallAsync("ListSecretVersionIds", WithToken(new JsonObject { ["SecretId"] = secretId, ["IncludeDeprecated"] = true, ["MaxResults"] = 100 }, next), ct).ConfigureAwait(false);
            var versions = page.GetProperty("Versions").EnumerateArray().Select(version => new VersionEntry(
                version.GetProperty("VersionId").GetString()!,
                version.TryGetProperty("VersionStages", out var stages) ? stages.EnumerateArray().Select(s => s.GetString()!).ToList() : [],
                version.TryGetProperty("CreatedDate", out var created) ? Timestamp(created) : DateTimeOffset.MinValue)).ToList();
            return new Paginator.Page<IReadOnlyList<VersionEntry>>(versions, NextToken(page));
        }, VersionPages, _timeProvider, cancellationToken).ConfigureAwait(false);

    /// <summary>The SecretString of a version, or null when the version has no value (a rotation placeholder).</summary>
    public async Task<string?> GetSecretStringAsync(string secretId, string? versionId, string? versionStage, CancellationToken cancellationToken) =>
        (await GetValueAsync(secretId, versionId, versionStage, cancellationToken).ConfigureAwait(false))?.SecretString;

    /// <summary>
    /// GetSecretValue of a version (by id or stage; AWSCURRENT without either), or null when no version answers to
    /// it; a missing secret still throws.
    /// </summary>
    public async Task<SecretValue?> GetValueAsync(string secretId, string? versionId, string? versionStage, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["SecretId"] = secretId };
        if (versionId is not null)
        {
            body["VersionId"] = versionId;
        }

        if (versionStage is not null)
        {
            body["VersionStage"] = versionStage;
        }

        try
        {
            return Value(await CallAsync("GetSecretValue", body, cancellationToken).ConfigureAwait(false));
        }
        catch (AwsServiceException e) when (e.ErrorCode == "ResourceNotFoundException" && (versionId is not null || versionStage is not null))
        {
            return null;
        }
    }

    public Task<JsonElement> UpdateSecretVersionStageAsync(string secretId, string stage, string? removeFromVersionId, string? moveToVersionId, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["SecretId"] = secretId, ["VersionStage"] = stage };
        if (removeFromVersionId is not null)
        {
            body["RemoveFromVersionId"] = removeFromVersionId;
        }

        if (moveToVersionId is not null)
        {
            body["MoveToVersionId"] = moveToVersionId;
        }

        return CallAsync("UpdateSecretVersionStage", body, cancellationToken);
    }

    public Task<JsonElement> PutSecretValueAsync(string secretId, string secretString, string clientRequestToken, CancellationToken cancellationToken) =>
        CallAsync("PutSecretValue", new JsonObject { ["SecretId"] = secretId, ["SecretString"] = secretString, ["ClientRequestToken"] = clientRequestToken }, cancellationToken);

    public Task<JsonElement> RotateSecretAsync(string secretId, CancellationToken cancellationToken) =>
        CallAsync("RotateSecret", new JsonObject { ["SecretId"] = secretId, ["ClientRequestToken"] = Guid.NewGuid().ToString() }, cancellationToken);

    /// <summary>
    /// ListSecrets page by page as each arrives, every entry as the API returned it (DescribeSecret's fields,
    /// labels in SecretVersionsToStages), so a caller can work on a page while the next one is asked for.
    /// </summary>
    public IAsyncEnumerable<IReadOnlyList<JsonElement>> ListSecretPagesAsync(CancellationToken cancellationToken) =>
        Paginator.PagesAsync<IReadOnlyList<JsonElement>>("ListSecrets", async (next, ct) =>
        {
            var page = await CallAsync("ListSecrets", WithToken(new JsonObject { ["MaxResults"] = 100 }, next), ct).ConfigureAwait(false);
            return new(page.GetProperty("SecretList").EnumerateArray().ToList(), NextToken(page));
        }, SecretPages, _timeProvider, cancellationToken);

    /// <summary>A version's value as GetSecretValue and BatchGetSecretValue return it.</summary>
    public sealed record SecretValue(string Arn, string VersionId, string? SecretString, DateTimeOffset CreatedDate);

    /// <summary>
    /// AWSCURRENT of up to 20 secrets in one BatchGetSecretValue call. Secrets the call reports under Errors
    /// (not found, scheduled for deletion, access denied) are missing from the answer; a call refused as a
    /// whole throws, so the caller can fall back to GetSecretValue.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, SecretValue>> BatchGetCurrentAsync(IReadOnlyList<string> arns, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(arns.Count, 20);
        var values = await Paginator.AllAsync<SecretValue>("BatchGetSecretValue", async (next, ct) =>
        {
            var body = WithToken(new JsonObject { ["SecretIdList"] = new JsonArray([.. arns.Select(a => (JsonNode)a)]) }, next);
            var page = await CallAsync("BatchGetSecretValue", body, ct).ConfigureAwait(false);
            return new(page.GetProperty("SecretValues").EnumerateArray().Select(Value).ToList(), NextToken(page));
        }, BatchPages, _timeProvider, cancellationToken).ConfigureAwait(false);
        var byArn = new Dictionary<string, SecretValue>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            byArn[value.Arn] = value;
        }

        return byArn;
    }

    public async Task<JsonElement> CallAsync(string operation, JsonObject body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "secretsmanager." + operation);
        HttpResponseMessage response;
        try
        {
            // SendAsync buffers the whole answer, so the client's timeout bounds reading the body too.
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The HTTP client's own timeout: say which call, instead of a bare "task was canceled".
            throw new TimeoutException($"{operation} did not answer within {CallTimeout.TotalSeconds:0} s from {_endpoint}.");
        }

        using var disposeResponse = response;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        JsonElement json;
        try
        {
            using var document = text.Length == 0 ? null : JsonDocument.Parse(text);
            json = document is null ? default : document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new AwsServiceException("InvalidResponse", $"{operation} answered HTTP {(int)response.StatusCode} with a body that isn't JSON.", (int)response.StatusCode);
        }

        if (!response.IsSuccessStatusCode)
        {
            var code = json.ValueKind == JsonValueKind.Object && json.TryGetProperty("__type", out var type) ? type.GetString() ?? "Unknown" : "Unknown";
            code = code[(code.LastIndexOf('#') + 1)..];
            var message = json.ValueKind == JsonValueKind.Object && (json.TryGetProperty("Message", out var m) || json.TryGetProperty("message", out m)) ? m.GetString() ?? "" : "";
            throw new AwsServiceException(code, message, (int)response.StatusCode);
        }

        return json;
    }

    public void Dispose() => _http.Dispose();

    private static JsonObject WithToken(JsonObject body, string? next)
    {
        if (next is not null)
        {
            body["NextToken"] = next;
        }

        return body;
    }

    private static string? NextToken(JsonElement page) =>
        page.TryGetProperty("NextToken", out var token) && token.ValueKind == JsonValueKind.String ? token.GetString() : null;

    private static SecretValue Value(JsonElement value) => new(
        value.GetProperty("ARN").GetString()!,
        value.GetProperty("VersionId").GetString()!,
        value.TryGetProperty("SecretString", out var text) ? text.GetString() : null,
        value.TryGetProperty("CreatedDate", out var created) ? Timestamp(created) : DateTimeOffset.MinValue);

    private static DateTimeOffset Timestamp(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(value.GetDecimal() * 1000m))
            : DateTimeOffset.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
}
