using System.Net;
using System.Net.Sockets;

namespace Keyturn.Rotators.Tests.Infrastructure;

internal static class FreePort
{
    /// <summary>A loopback port nothing listens on right now (another process may take it before the caller binds it).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>
/// A loopback port where nothing listens for as long as this lives: bound without listening (and without
/// SO_REUSEADDR), so a connection is refused and no other process can start listening on it meanwhile, as it could
/// on a port <see cref="FreePort.Next"/> only found free.
/// </summary>
internal sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public ClosedPort()
    {
        _socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, false);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    public void Dispose() => _socket.Dispose();
}

/// <summary>An <see cref="HttpListener"/> on a free loopback port (test doubles of HTTP services).</summary>
internal static class LoopbackHttpListener
{
    /// <summary>Starts the listener; returns it with its endpoint, <c>http://127.0.0.1:PORT/</c>.</summary>
    public static (HttpListener Listener, Uri Endpoint) Start()
    {
        // A port found free can be taken by another process before the listener binds it: then another one is tried.
        for (var attempt = 1; ; attempt++)
        {
            var endpoint = new Uri($"http://127.0.0.1:{FreePort.Next()}/");
            var listener = new HttpListener();
            listener.Prefixes.Add(endpoint.ToString());
            try
            {
                listener.Start();
                return (listener, endpoint);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }
}
