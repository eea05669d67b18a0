using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// A raw HTTP proxy in front of a Keyturn that paginates ListSecretVersionIds as a broken server does: every answer
/// carries <see cref="Token"/> as its NextToken (<c>""</c> on the last page, as the field report's server sent, or a
/// fixed token that repeats), and a request that sends a token back gets the first page again, since that server
/// ignored tokens. Everything else is forwarded unchanged, Host header included, so SigV4 signatures still verify.
/// </summary>
internal sealed class PaginationProxy : IDisposable
{
    private readonly HttpListener _listener;
    private readonly HttpClient _upstream = new();
    private readonly Uri _target;
    private readonly Task _loop;
    private string? _firstPage;
    private int _listings;

    public PaginationProxy(string target, string token)
    {
        _target = new Uri(target);
        Token = token;
        (_listener, var endpoint) = LoopbackHttpListener.Start();
        Endpoint = endpoint.ToString();
        _loop = Task.Run(LoopAsync);
    }

    public string Endpoint { get; }

    public string Token { get; }

    /// <summary>ListSecretVersionIds requests seen.</summary>
    public int Listings => Volatile.Read(ref _listings);

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _upstream.Dispose();
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
            catch (Exception e) when (e is HttpListenerException or IOException or HttpRequestException)
            {
                // The client went away, or the upstream did; nothing to answer.
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var request = context.Request;
        byte[] body;
        using (var buffer = new MemoryStream())
        {
            await request.InputStream.CopyToAsync(buffer);
            body = buffer.ToArray();
        }

        var listing = request.Headers["X-Amz-Target"] == "secretsmanager.ListSecretVersionIds";
        if (listing && Interlocked.Increment(ref _listings) > 1 && JsonNode.Parse(body)?["NextToken"] is not null && _firstPage is not null)
        {
            await WriteAsync(context.Response, 200, "application/x-amz-json-1.1", Encoding.UTF8.GetBytes(_firstPage));
            return;
        }

        using var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod), new Uri(_target, request.RawUrl));
        if (body.Length > 0 || request.HttpMethod == "POST")
        {
            forward.Content = new ByteArrayContent(body);
        }

        foreach (var name in request.Headers.AllKeys.OfType<string>())
        {
            var value = request.Headers[name]!;
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                forward.Content?.Headers.TryAddWithoutValidation(name, value);
            }
            else if (!name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && !name.Equals("Expect", StringComparison.OrdinalIgnoreCase))
            {
                forward.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var answer = await _upstream.SendAsync(forward);
        var bytes = await answer.Content.ReadAsByteArrayAsync();
        if (listing && answer.IsSuccessStatusCode && JsonNode.Parse(bytes) is JsonObject page)
        {
            page["NextToken"] = Token;
            _firstPage = page.ToJsonString();
            bytes = Encoding.UTF8.GetBytes(_firstPage);
        }

        foreach (var header in answer.Headers.Where(h => h.Key.StartsWith("x-amz", StringComparison.OrdinalIgnoreCase)))
        {
            context.Response.Headers[header.Key] = string.Join(",", header.Value);
        }

        await WriteAsync(context.Response, (int)answer.StatusCode, answer.Content.Headers.ContentType?.ToString(), bytes);
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string? contentType, byte[] bytes)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }
}
