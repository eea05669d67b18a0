using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Cli.Doctor;

/// <summary>
/// The raw AWS reads the doctor's network and log checks need, signed with SigV4: Lambda
/// GetFunctionConfiguration (REST), EC2 Describe* (query protocol, XML answers) and CloudWatch Logs
/// FilterLogEvents (JSON 1.1). The documents go to the pure analyzers unchanged, so the same analyzers
/// run on recorded documents in tests. For Keyturn, the logs endpoint is Keyturn itself.
/// </summary>
internal sealed class AwsInspector(SigV4Credentials credentials, string region, Uri? logsEndpoint) : IDisposable
{
    private readonly Dictionary<string, HttpClient> _clients = [];

    public async Task<string> GetFunctionConfigurationAsync(string functionArnOrName, CancellationToken cancellationToken)
    {
        var uri = new Uri($"https://lambda.{region}.amazonaws.com/2015-03-31/functions/{Uri.EscapeDataString(functionArnOrName)}/configuration");
        using var response = await Client("lambda").GetAsync(uri, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, "lambda:GetFunctionConfiguration", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An EC2 query-protocol call, e.g. ("DescribeSecurityGroups", [("GroupId.1", "sg-1")]); returns the XML answer.</summary>
    public async Task<string> Ec2Async(string action, IEnumerable<(string Name, string Value)> parameters, CancellationToken cancellationToken)
    {
        var form = new List<KeyValuePair<string, string>> { new("Action", action), new("Version", "2016-11-15") };
        form.AddRange(parameters.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));
        using var content = new FormUrlEncodedContent(form);
        using var response = await Client("ec2").PostAsync(new Uri($"https://ec2.{region}.amazonaws.com/"), content, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, "ec2:" + action, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The messages of a log group's events since <paramref name="since"/>, oldest first (all pages).</summary>
    public async Task<IReadOnlyList<string>> FilterLogEventsAsync(string logGroupName, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var endpoint = logsEndpoint ?? new Uri($"https://logs.{region}.amazonaws.com/");
        var messages = new List<string>();
        string? next = null;
        do
        {
            var body = new JsonObject { ["logGroupName"] = logGroupName, ["startTime"] = since.ToUnixTimeMilliseconds() };
            if (next is not null)
            {
                body["nextToken"] = next;
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
            request.Headers.TryAddWithoutValidation("X-Amz-Target", "Logs_20140328.FilterLogEvents");
            using var response = await Client("logs").SendAsync(request, cancellationToken).ConfigureAwait(false);
            using var page = JsonDocument.Parse(await ReadAsync(response, "logs:FilterLogEvents", cancellationToken).ConfigureAwait(false));
            messages.AddRange(page.RootElement.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString() ?? ""));
            next = page.RootElement.TryGetProperty("nextToken", out var token) ? token.GetString() : null;
        }
        while (next is not null && messages.Count < 100_000);

        return messages;
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }
    }

    private HttpClient Client(string service)
    {
        if (!_clients.TryGetValue(service, out var client))
        {
            client = new HttpClient(new SigV4SigningHandler(credentials, region, service, TimeProvider.System) { InnerHandler = new SocketsHttpHandler() })
            {
                Timeout = TimeSpan.FromSeconds(20),
            };
            _clients[service] = client;
        }

        return client;
    }

    private static async Task<string> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode
            ? text
            : throw new HttpRequestException($"{what} answered HTTP {(int)response.StatusCode}: {(text.Length > 300 ? text[..300] : text)}");
    }
}
