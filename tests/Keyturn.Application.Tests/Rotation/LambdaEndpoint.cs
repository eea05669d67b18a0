using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// A loopback HTTP endpoint that answers like Lambda's Invoke API (and the Runtime Interface Emulator): 200 with
/// the handler's result, or 200 with <c>X-Amz-Function-Error: Unhandled</c> and Lambda's error body for the steps
/// told to raise.
/// </summary>
internal sealed class LambdaEndpoint : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Task _serving;

    public LambdaEndpoint()
    {
        (_listener, var endpoint) = LoopbackHttpListener.Start();
        Url = new Uri(endpoint, "2015-03-31/functions/function/invocations").ToString();
        _serving = Task.Run(ServeAsync);
    }

    public string Url { get; }

    /// <summary>Steps whose handler raises, with the errorType and errorMessage Lambda reports.</summary>
    public ConcurrentDictionary<string, (string Type, string Message)> Raises { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Steps { get; } = new();

    public ConcurrentQueue<string> InvocationTypes { get; } = new();

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _serving.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The listener was closed under a pending accept.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var step = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.GetProperty("Step").GetString()!;
            Steps.Enqueue(step);
            InvocationTypes.Enqueue(context.Request.Headers["X-Amz-Invocation-Type"] ?? "");
            context.Response.StatusCode = 200;
            context.Response.Headers["X-Amz-Request-Id"] = "lambda-request-" + Steps.Count;
            string body;
            if (Raises.TryGetValue(step, out var error))
            {
                context.Response.Headers["X-Amz-Function-Error"] = "Unhandled";
                body = JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["errorType"] = error.Type,
                    ["errorMessage"] = error.Message,
                    ["stackTrace"] = new[] { "  File \"/var/task/lambda_function.py\", line 200, in set_secret\n" },
                });
            }
            else
            {
                body = "null";
            }

            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }
}

