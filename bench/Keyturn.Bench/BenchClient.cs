using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Bench;

/// <summary>
/// An HttpClient over exactly <c>connections</c> HTTP/1.1 connections with every request freshly signed
/// by Keyturn.Protocol's <see cref="SigV4SigningHandler"/>, the same client for every server measured.
/// </summary>
internal sealed class BenchClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonType = new("application/x-amz-json-1.1");

    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private int _connectionsOpened;

    public BenchClient(Uri endpoint, int connections, SigV4Credentials credentials, string region)
    {
        _endpoint = endpoint;
        var sockets = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(new SigV4SigningHandler(credentials, region, "secretsmanager", TimeProvider.System, sockets))
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>TCP connections opened so far; a steady run opens exactly as many as it was given.</summary>
    public int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    public static SigV4Credentials Credentials(Flags flags) => new(
        flags.Text("access-key-id") ?? Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID")
            ?? throw new ArgumentException("Give --access-key-id or set AWS_ACCESS_KEY_ID."),
        flags.Text("secret-access-key") ?? Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY")
            ?? throw new ArgumentException("Give --secret-access-key or set AWS_SECRET_ACCESS_KEY."));

    /// <summary>One signed AWS JSON 1.1 call; returns the status and, for a failure, the error code.</summary>
    public async Task<(int Status, string? ErrorCode)> CallAsync(string operation, byte[] body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body) { Headers = { ContentType = JsonType } },
        };
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "secretsmanager." + operation);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var content = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        var status = (int)response.StatusCode;
        return status == 200 ? (status, null) : (status, ErrorCode(content) ?? "HTTP" + status);
    }

    public void Dispose() => _http.Dispose();

    private static string? ErrorCode(byte[] content)
    {
        try
        {
            using var json = JsonDocument.Parse(content);
            return json.RootElement.TryGetProperty("__type", out var type) && type.GetString() is { } code ? code[(code.LastIndexOf('#') + 1)..] : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _connectionsOpened);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
