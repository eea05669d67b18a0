using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// Stands in for AWS's Lambda, EC2, RDS and CloudWatch Logs endpoints (which CI can't reach), answering
/// with recorded documents in AWS's shapes. Every call must be SigV4-signed for its service; the calls
/// are recorded as "service:Action" so a test can see what the doctor read.
/// </summary>
internal sealed class RecordedAws : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _loop;

    public RecordedAws()
    {
        (_listener, var endpoint) = LoopbackHttpListener.Start();
        Endpoint = endpoint.ToString();
        _loop = Task.Run(LoopAsync);
    }

    public string Endpoint { get; }

    /// <summary>Answers by "service:Action" (e.g. "ec2:DescribeRouteTables", "lambda:GetFunctionConfiguration"); a missing one is a 400 in that service's error shape.</summary>
    public ConcurrentDictionary<string, (int Status, string Body)> Answers { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>The environment that points the AWS SDK-style endpoint overrides here.</summary>
    public Dictionary<string, string> EndpointVariables => new()
    {
        ["AWS_ENDPOINT_URL_LAMBDA"] = Endpoint,
        ["AWS_ENDPOINT_URL_EC2"] = Endpoint,
        ["AWS_ENDPOINT_URL_RDS"] = Endpoint,
        ["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = Endpoint,
        ["AWS_ENDPOINT_URL_STS"] = Endpoint,
    };

    /// <summary>STS AssumeRole's answer handing out the given credentials for an hour.</summary>
    public static string AssumeRoleAnswer(string accessKeyId, string secretAccessKey, string sessionToken) => $"""
        <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleResult>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::123456789012:assumed-role/keyturn-doctor/doctor-session</Arn>
              <AssumedRoleId>AROA3XFRBF535PLBIFPI4:doctor-session</AssumedRoleId>
            </AssumedRoleUser>
            <Credentials>
              <AccessKeyId>{accessKeyId}</AccessKeyId>
              <SecretAccessKey>{secretAccessKey}</SecretAccessKey>
              <SessionToken>{sessionToken}</SessionToken>
              <Expiration>{DateTime.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}</Expiration>
            </Credentials>
          </AssumeRoleResult>
          <ResponseMetadata>
            <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
          </ResponseMetadata>
        </AssumeRoleResponse>
        """;

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _ = _loop.Exception;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            try
            {
                await AnswerAsync(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // The client went away; nothing to answer.
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        var authorization = request.Headers["Authorization"] ?? "";
        var service = authorization.Split("Credential=", 2) is [_, var credential] ? credential.Split('/') is { Length: > 3 } parts ? parts[3] : "" : "";
        string key;
        if (request.HttpMethod == "GET" && request.Url!.AbsolutePath.StartsWith("/2015-03-31/functions/", StringComparison.Ordinal))
        {
            key = "lambda:GetFunctionConfiguration";
        }
        else if (request.Headers["X-Amz-Target"] is { } target)
        {
            key = service + ":" + target.Split('.')[^1];
        }
        else
        {
            key = service + ":" + (System.Web.HttpUtility.ParseQueryString(body)["Action"] ?? "");
        }

        Calls.Enqueue(key);
        var (status, answer) = !authorization.StartsWith("AWS4-HMAC-SHA256 ", StringComparison.Ordinal)
            ? (403, Error(service, "MissingAuthenticationToken", "Missing Authentication Token"))
            : Answers.TryGetValue(key, out var recorded) ? recorded : (400, Error(service, "InvalidAction", $"No recorded answer for {key}"));
        var bytes = Encoding.UTF8.GetBytes(answer);
        context.Response.StatusCode = status;
        context.Response.ContentType = answer.StartsWith('<') ? "text/xml" : "application/json";
        if (service == "lambda" && status >= 400)
        {
            // Lambda names the error in a header; its body's Type is only "User" or "Service".
            context.Response.Headers["x-amzn-ErrorType"] = JsonDocument.Parse(answer).RootElement.GetProperty("ErrorType").GetString();
        }

        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private static string Error(string service, string code, string message) => service switch
    {
        "ec2" => $"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>r-1</RequestID></Response>",
        "rds" => $"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>",
        "lambda" => JsonSerializer.Serialize(new { Type = "User", message, ErrorType = code }),
        _ => JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = code, ["message"] = message }),
    };

    /// <summary>Lambda's 404 for a function that doesn't exist.</summary>
    public static (int, string) FunctionNotFound(string function) =>
        (404, Error("lambda", "ResourceNotFoundException", $"Function not found: {function}"));
}
