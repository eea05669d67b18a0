using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Keyturn.Doctor;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The doctor's hand-written AWS clients (for the services whose SDK packages our feed lacks: Secrets Manager, Lambda,
/// RDS, CloudWatch Logs) against botocore, the signer of boto3 and the AWS CLI: each client sends its real request to a
/// local listener that records it, and botocore signs the same request (method, URL, signed headers, body, credentials,
/// region, service, at the request's own X-Amz-Date). The Authorization headers must be equal, byte for byte.
/// </summary>
public sealed class DoctorSigningTests
{
    private const string Region = "eu-west-3";

    public static TheoryData<string, bool> Shapes => new()
    {
        { "secretsmanager:ListSecretVersionIds", false },
        { "secretsmanager:ListSecretVersionIds", true },
        { "lambda:GetFunctionConfiguration by name", false },
        { "lambda:GetFunctionConfiguration by ARN", false },
        { "lambda:GetFunctionConfiguration by ARN", true },
        { "rds:DescribeDBInstances", false },
        { "logs:FilterLogEvents", false },
        { "logs:FilterLogEvents", true },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public async Task HandWrittenClient_SignsItsRequest_AsBotocoreDoes(string shape, bool sessionToken)
    {
        var credentials = new SigV4Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", sessionToken ? "FwoGZXIvYXdzEJr//////////wEaDH+session/token=" : null);
        await using var capture = new Capture(Answer(shape));
        await SendAsync(shape, capture.Endpoint, credentials);

        var request = Assert.Single(capture.Requests);
        var service = shape.Split(':')[0];
        var authorization = request.Headers["Authorization"];
        var signed = authorization.Split("SignedHeaders=")[1].Split(',')[0].Split(';');
        var spec = new JsonObject
        {
            ["method"] = request.Method,
            ["url"] = capture.Endpoint.GetLeftPart(UriPartial.Authority) + request.RawUrl,
            ["headers"] = new JsonObject(signed.Select(name => KeyValuePair.Create(name, (JsonNode?)JsonValue.Create(request.Headers[name])))),
            ["body"] = Convert.ToBase64String(request.Body),
            ["region"] = Region,
            ["service"] = service,
            ["access_key"] = credentials.AccessKeyId,
            ["secret_key"] = credentials.SecretAccessKey,
            ["token"] = credentials.SessionToken,
        };
        var botocore = await BotocoreSignAsync(spec.ToJsonString());

        Assert.True(authorization == botocore.GetProperty("authorization").GetString(),
            $"{shape}: ours {authorization}\nbotocore's canonical request:\n{botocore.GetProperty("canonical_request").GetString()}");
        Assert.Contains($"/{Region}/{service}/aws4_request", authorization, StringComparison.Ordinal);
        if (sessionToken)
        {
            Assert.Contains("x-amz-security-token", signed);
        }
    }

    private static async Task SendAsync(string shape, Uri endpoint, SigV4Credentials credentials)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var inspector = new AwsInspector(credentials, Region, null, null, _ => endpoint);
        switch (shape)
        {
            case "secretsmanager:ListSecretVersionIds":
                using (var client = new SecretsManagerClient(endpoint, credentials, Region, TimeProvider.System))
                {
                    await client.ListVersionsAsync("prod/db/app ü+=", timeout.Token);
                }

                break;
            case "lambda:GetFunctionConfiguration by name":
                await inspector.GetFunctionConfigurationAsync("db-rotation", timeout.Token);
                break;
            case "lambda:GetFunctionConfiguration by ARN":
                // The ARN's colons are escaped in the path: the shape whose canonical URI differs most between signers.
                await inspector.GetFunctionConfigurationAsync("arn:aws:lambda:eu-west-3:123456789012:function:db-rotation", timeout.Token);
                break;
            case "rds:DescribeDBInstances":
                await inspector.RdsAsync("DescribeDBInstances", [("Filters.Filter.1.Name", "engine"), ("Filters.Filter.1.Values.Value.1", "aurora-postgresql")], timeout.Token);
                break;
            case "logs:FilterLogEvents":
                await inspector.FilterLogEventsAsync("/aws/lambda/db-rotation", DateTimeOffset.FromUnixTimeSeconds(1_764_900_000), "\"arn:aws:secretsmanager:eu-west-3:123456789012:secret:prod/db-AbCdEf\"", ["2026/12/05/[$LATEST]abc"], timeout.Token);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(shape), shape, null);
        }
    }

    /// <summary>A last page of each service's answer, so each client finishes its read.</summary>
    private static (string ContentType, string Body) Answer(string shape) => shape.Split(':')[0] switch
    {
        "secretsmanager" => ("application/x-amz-json-1.1", """{"ARN":"arn:aws:secretsmanager:eu-west-3:123456789012:secret:x","Name":"x","Versions":[]}"""),
        "lambda" => ("application/json", """{"FunctionName":"db-rotation"}"""),
        "rds" => ("text/xml", "<DescribeDBInstancesResponse><DescribeDBInstancesResult><DBInstances/></DescribeDBInstancesResult></DescribeDBInstancesResponse>"),
        "logs" => ("application/x-amz-json-1.1", """{"events":[]}"""),
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    private static async Task<JsonElement> BotocoreSignAsync(string spec)
    {
        var start = new ProcessStartInfo("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "Scripts", "botocore_sign.py")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(spec);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await stderr);
        return JsonDocument.Parse(await stdout).RootElement.Clone();
    }

    private sealed record Recorded(string Method, string RawUrl, IReadOnlyDictionary<string, string> Headers, byte[] Body);

    /// <summary>A loopback HTTP listener that records each request as it arrived and answers it with one fixed answer.</summary>
    private sealed class Capture : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _serving;

        public Capture((string ContentType, string Body) answer)
        {
            (_listener, Endpoint) = LoopbackHttpListener.Start();
            _serving = ServeAsync(answer);
        }

        public Uri Endpoint { get; }

        public List<Recorded> Requests { get; } = [];

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _serving.ConfigureAwait(false);
            _listener.Close();
        }

        private async Task ServeAsync((string ContentType, string Body) answer)
        {
            while (true)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body).ConfigureAwait(false);
                var headers = context.Request.Headers.AllKeys.OfType<string>()
                    .ToDictionary(k => k, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
                lock (Requests)
                {
                    Requests.Add(new Recorded(context.Request.HttpMethod, context.Request.RawUrl!, headers, body.ToArray()));
                }

                var bytes = Encoding.UTF8.GetBytes(answer.Body);
                context.Response.ContentType = answer.ContentType;
                context.Response.ContentLength64 = bytes.Length;
                await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
                context.Response.Close();
            }
        }
    }
}
