using System.Net;
using System.Net.Sockets;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP load balancer on a free loopback port: each client connection goes to the next backend in turn (one that
/// refuses the connection, a killed node, is skipped), so the AWS CLI and boto3 see one endpoint for a whole cluster.
/// It does not look inside HTTP and has no health checks, so a paused node keeps getting its share and its clients
/// time out, as they would behind a balancer whose probe has not yet noticed.
/// </summary>
public sealed class RoundRobinProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IReadOnlyList<int> _backendPorts;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _next = -1;

    public RoundRobinProxy(IReadOnlyList<int> backendPorts)
    {
        _backendPorts = backendPorts;
        _listener.Start(backlog: 512);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        {
            using var backend = await ConnectAsync();
            if (backend is null)
            {
                return;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var upstream = client.GetStream();
            var downstream = backend.GetStream();
            try
            {
                // Either side closing ends both: a half-open relay would hold a client whose node died.
                await Task.WhenAny(upstream.CopyToAsync(downstream, stop.Token), downstream.CopyToAsync(upstream, stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                await stop.CancelAsync();
            }
        }
    }

    private async Task<TcpClient?> ConnectAsync()
    {
        for (var attempt = 0; attempt < _backendPorts.Count; attempt++)
        {
            var port = _backendPorts[(int)((uint)Interlocked.Increment(ref _next) % (uint)_backendPorts.Count)];
            var backend = new TcpClient();
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                await backend.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
                return backend;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                backend.Dispose();
            }
        }

        return null;
    }
}
