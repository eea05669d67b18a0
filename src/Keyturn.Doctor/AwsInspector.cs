using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Doctor;

/// <summary>
/// The AWS reads the doctor's network and log checks need. EC2 and STS go through AWSSDK.EC2 and
/// AWSSDK.SecurityToken; the services whose SDK packages our feed lacks are small hand-written clients
/// signed with SigV4: Lambda GetFunctionConfiguration (REST), RDS Describe* (query protocol, XML answers)
/// and CloudWatch Logs FilterLogEvents (JSON 1.1), whose documents go to the pure analyzers unchanged, so
/// the same analyzers run on recorded documents in tests. Endpoints follow the SDKs' service-specific overrides
/// (<c>AWS_ENDPOINT_URL_EC2</c>, <c>AWS_ENDPOINT_URL</c>, …); for Keyturn, which serves its own functions'
/// configuration and logs, the Lambda and Logs endpoint is Keyturn itself.
/// </summary>
/// <param name="endpointOf">Each service's endpoint as the doctor's target resolved it (service key: ec2, lambda, rds, logs, sts); when null, the environment variables are read here.</param>
internal sealed partial class AwsInspector(SigV4Credentials credentials, string region, Uri? keyturnEndpoint, string? caBundle = null, Func<string, Uri>? endpointOf = null) : IDisposable
{
    // A log read stops here: enough for weeks of one secret's rotations, bounded for a noisy shared function.
    private const int MaxLogEvents = 50_000;

    // FilterLogEvents may answer many empty pages while it scans; EC2 and RDS listings here are a few pages.
    private static readonly PageLimits LogPages = new(2_000, TimeSpan.FromSeconds(20));
    private static readonly PageLimits QueryPages = new(MaxPages, TimeSpan.FromSeconds(20));

    private readonly Dictionary<string, HttpClient> _clients = [];

    /// <summary>One event of a log group: its stream, time and message.</summary>
    public sealed record LogEvent(string Stream, long Timestamp, string Message);

    public async Task<string> GetFunctionConfigurationAsync(string functionArnOrName, CancellationToken cancellationToken)
    {
        var uri = new Uri(keyturnEndpoint ?? Endpoint("lambda", "LAMBDA"), $"2015-03-31/functions/{Uri.EscapeDataString(functionArnOrName)}/configuration");
        using var response = await Client("lambda").GetAsync(uri, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, "lambda:GetFunctionConfiguration", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The most pages an EC2 or RDS listing follows.</summary>
    public const int MaxPages = 100;

    /// <summary>Every page of an RDS query-protocol call (DescribeDBInstances, DescribeDBClusters): the XML answers.</summary>
    public Task<IReadOnlyList<string>> RdsAsync(string action, IEnumerable<(string Name, string Value)> parameters, CancellationToken cancellationToken) =>
        QueryAsync("rds", "RDS", "2014-10-31", action, parameters, "Marker", "Marker", MaxPages, cancellationToken);

    /// <summary>
    /// A log group's events since <paramref name="since"/>, oldest first, all pages up to a bound; null when the group
    /// doesn't exist (the function never logged). <paramref name="pattern"/> and <paramref name="streams"/> narrow the read.
    /// </summary>
    public async Task<IReadOnlyList<LogEvent>?> FilterLogEventsAsync(
        string logGroupName, DateTimeOffset since, string? pattern, IReadOnlyList<string>? streams, CancellationToken cancellationToken)
    {
        var endpoint = keyturnEndpoint ?? Endpoint("logs", "CLOUDWATCH_LOGS");
        var events = new List<LogEvent>();
        try
        {
            await foreach (var page in Paginator.PagesAsync<IReadOnlyList<LogEvent>>("logs:FilterLogEvents", async (next, ct) =>
            {
                var body = new JsonObject { ["logGroupName"] = logGroupName, ["startTime"] = since.ToUnixTimeMilliseconds() };
                if (pattern is not null)
                {
                    body["filterPattern"] = pattern;
                }

                if (streams is { Count: > 0 })
                {
                    body["logStreamNames"] = new JsonArray([.. streams.Select(s => JsonValue.Create(s))]);
                }

                if (next is not null)
                {
                    body["nextToken"] = next;
                }

                using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
                request.Headers.TryAddWithoutValidation("X-Amz-Target", "Logs_20140328.FilterLogEvents");
                using var response = await Client("logs").SendAsync(request, ct).ConfigureAwait(false);
                var text = await ReadAsync(response, "logs:FilterLogEvents", ct).ConfigureAwait(false);
                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                var read = root.GetProperty("events").EnumerateArray().Select(e => new LogEvent(
                    e.TryGetProperty("logStreamName", out var stream) ? stream.GetString() ?? "" : "",
                    e.TryGetProperty("timestamp", out var timestamp) ? timestamp.GetInt64() : 0,
                    e.GetProperty("message").GetString() ?? "")).ToList();
                return new(read, root.TryGetProperty("nextToken", out var token) && token.ValueKind == JsonValueKind.String ? token.GetString() : null);
            }, LogPages, TimeProvider.System, cancellationToken).ConfigureAwait(false))
            {
                events.AddRange(page);
                if (events.Count >= MaxLogEvents)
                {
                    break;
                }
            }
        }
        catch (AwsServiceException e) when (e.ErrorCode == "ResourceNotFoundException")
        {
            return null;
        }
        catch (Exception e) when (e is PaginationException or TimeoutException)
        {
            throw ReadFailed(e);
        }

        return events;
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        foreach (var client in _sdkClients.Values)
        {
            client.Dispose();
        }
    }

    /// <summary>The service's endpoint: the SDKs' <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>, then <c>AWS_ENDPOINT_URL</c>, then AWS's regional one.</summary>
    internal Uri Endpoint(string hostPrefix, string environmentSuffix)
    {
        if (endpointOf is not null)
        {
            var resolved = endpointOf(hostPrefix).ToString();
            return new Uri(resolved.EndsWith('/') ? resolved : resolved + "/");
        }

        var configured = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_" + environmentSuffix) ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        var text = string.IsNullOrWhiteSpace(configured) ? $"https://{hostPrefix}.{region}.amazonaws.com/" : configured;
        return new Uri(text.EndsWith('/') ? text : text + "/");
    }

    private async Task<IReadOnlyList<string>> QueryAsync(
        string service, string environmentSuffix, string version, string action, IEnumerable<(string Name, string Value)> parameters,
        string tokenParameter, string tokenElement, int maxPages, CancellationToken cancellationToken)
    {
        try
        {
            return await Paginator.AllAsync<string>($"{service}:{action}", async (next, ct) =>
            {
                var form = new List<KeyValuePair<string, string>> { new("Action", action), new("Version", version) };
                form.AddRange(parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));
                if (next is not null)
                {
                    form.Add(new(tokenParameter, next));
                }

                using var content = new FormUrlEncodedContent(form);
                using var response = await Client(service).PostAsync(Endpoint(service, environmentSuffix), content, ct).ConfigureAwait(false);
                var page = await ReadAsync(response, $"{service}:{action}", ct).ConfigureAwait(false);
                var token = XDocument.Parse(page).Descendants().FirstOrDefault(e => e.Name.LocalName == tokenElement)?.Value;
                return new([page], token);
            }, QueryPages with { MaxPages = maxPages }, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PaginationException or TimeoutException)
        {
            throw ReadFailed(e);
        }
    }

    /// <summary>
    /// A read that could not finish (a pagination loop, too many pages, a timeout) fails as a transport error,
    /// which every check already reports as a read that did not succeed, with the paginator's own message.
    /// </summary>
    private static HttpRequestException ReadFailed(Exception e) => new(e.Message, e);

    private HttpClient Client(string service)
    {
        // doctor --all reads for several secrets at once.
        lock (_clients)
        {
            if (!_clients.TryGetValue(service, out var client))
            {
                client = new HttpClient(new SigV4SigningHandler(credentials, region, service, TimeProvider.System) { InnerHandler = CaBundleTrust.CreateHandler(caBundle) })
                {
                    Timeout = TimeSpan.FromSeconds(20),

                    // A FilterLogEvents page is at most 1 MB; EC2/RDS pages are smaller.
                    MaxResponseContentBufferSize = SecretsManagerClient.MaxResponseBytes,
                };
                _clients[service] = client;
            }

            return client;
        }
    }

    /// <summary>The answer's text, or an <see cref="AwsServiceException"/> with the code from a JSON (<c>__type</c>), REST (<c>x-amzn-ErrorType</c>) or XML (<c>&lt;Code&gt;</c>) error.</summary>
    private static async Task<string> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return text;
        }

        var (code, message) = ErrorOf(response, text);
        throw new AwsServiceException(code, $"{what}: {message}", (int)response.StatusCode);
    }

    private static (string Code, string Message) ErrorOf(HttpResponseMessage response, string text)
    {
        var shortText = text.Length > 300 ? text[..300] : text;
        var header = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.First().Split(':')[0] : null;
        try
        {
            if (text.TrimStart().StartsWith('<'))
            {
                var xml = XDocument.Parse(text);
                string? Element(string name) => xml.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
                return (Element("Code") ?? header ?? $"HTTP{(int)response.StatusCode}", Element("Message") ?? shortText);
            }

            using var json = JsonDocument.Parse(text);
            var type = json.RootElement.TryGetProperty("__type", out var t) ? t.GetString()?.Split('#')[^1] : null;
            var message = json.RootElement.TryGetProperty("message", out var m) || json.RootElement.TryGetProperty("Message", out m) ? m.GetString() : null;
            return (type ?? header ?? $"HTTP{(int)response.StatusCode}", message ?? shortText);
        }
        catch (Exception e) when (e is JsonException or System.Xml.XmlException)
        {
            return (header ?? $"HTTP{(int)response.StatusCode}", shortText);
        }
    }
}
