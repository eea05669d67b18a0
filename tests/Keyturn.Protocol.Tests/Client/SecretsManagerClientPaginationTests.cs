using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Protocol.Tests.Client;

/// <summary>
/// The client's three paginated reads against a raw HTTP server that paginates as the field report's did: the last page
/// says <c>"NextToken": ""</c>, and a token sent back is ignored (the first page again). Before the shared paginator,
/// ListSecretVersionIds looped on such a server until killed.
/// </summary>
public sealed class SecretsManagerClientPaginationTests
{
    [Fact]
    public async Task ListVersions_AnEmptyTokenOnTheLastPage_EndsTheListing()
    {
        await using var server = RawSecretsManager.Start(_ => """{"Versions":[{"VersionId":"v1","VersionStages":["AWSCURRENT"]}],"NextToken":""}""");
        using var client = server.Client();

        var versions = await client.ListVersionsAsync("db", CancellationToken.None);

        Assert.Equal(["v1"], versions.Select(v => v.VersionId));
        Assert.Single(server.Targets);
    }

    [Fact]
    public async Task ListVersions_TwoPagesThenAnEmptyToken_ReadsBothPagesOnce()
    {
        await using var server = RawSecretsManager.Start(body => body.Contains("\"NextToken\":\"page-2\"", StringComparison.Ordinal)
            ? """{"Versions":[{"VersionId":"v2","VersionStages":["AWSPREVIOUS"]}],"NextToken":""}"""
            : """{"Versions":[{"VersionId":"v1","VersionStages":["AWSCURRENT"]}],"NextToken":"page-2"}""");
        using var client = server.Client();

        var versions = await client.ListVersionsAsync("db", CancellationToken.None);

        Assert.Equal(["v1", "v2"], versions.Select(v => v.VersionId));
        Assert.Equal(2, server.Targets.Count);
    }

    [Fact]
    public async Task ListVersions_ARepeatedToken_StopsWithAClearError()
    {
        await using var server = RawSecretsManager.Start(_ => """{"Versions":[{"VersionId":"v1","VersionStages":["AWSCURRENT"]}],"NextToken":"same"}""");
        using var client = server.Client();

        var error = await Assert.ThrowsAsync<PaginationException>(() => client.ListVersionsAsync("db", CancellationToken.None));

        Assert.Equal("ListSecretVersionIds answered page 2 with a NextToken it had already returned; stopping instead of reading the same pages forever. The endpoint's pagination is broken.", error.Message);
        Assert.Equal(2, server.Targets.Count);
    }

    [Fact]
    public async Task ListSecrets_AnEmptyTokenOnTheLastPage_EndsTheListing()
    {
        await using var server = RawSecretsManager.Start(_ => """{"SecretList":[{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf","Name":"db"}],"NextToken":""}""");
        using var client = server.Client();

        var pages = new List<IReadOnlyList<JsonElement>>();
        await foreach (var page in client.ListSecretPagesAsync(CancellationToken.None))
        {
            pages.Add(page);
        }

        Assert.Single(pages);
        Assert.Equal(["secretsmanager.ListSecrets"], server.Targets);
    }

    [Fact]
    public async Task BatchGetSecretValue_AnEmptyTokenOnTheLastPage_EndsTheListing()
    {
        const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf";
        await using var server = RawSecretsManager.Start(_ => $$"""{"SecretValues":[{"ARN":"{{Arn}}","Name":"db","VersionId":"v1","SecretString":"x"}],"Errors":[],"NextToken":""}""");
        using var client = server.Client();

        var values = await client.BatchGetCurrentAsync([Arn], CancellationToken.None);

        Assert.Equal("v1", values[Arn].VersionId);
        Assert.Equal(["secretsmanager.BatchGetSecretValue"], server.Targets);
    }

    [Fact]
    public async Task DescribeSecret_AnAnswerLargerThanAnySecretsManagerAnswer_IsRefusedNotBuffered()
    {
        var huge = "{\"Name\":\"" + new string('x', SecretsManagerClient.MaxResponseBytes + 1) + "\"}";
        await using var server = RawSecretsManager.Start(_ => huge);
        using var client = server.Client();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.DescribeSecretAsync("db", CancellationToken.None));

        Assert.Contains("buffer", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A raw HTTP/1.1 server on a loopback port: every request gets 200 and the answer for its body.</summary>
    private sealed class RawSecretsManager : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Func<string, string> _answer;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        private RawSecretsManager(Func<string, string> answer)
        {
            _answer = answer;
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        /// <summary>The X-Amz-Target of every request received.</summary>
        public List<string> Targets { get; } = [];

        public static RawSecretsManager Start(Func<string, string> answer) => new(answer);

        public SecretsManagerClient Client() => new(
            new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/"), new SigV4Credentials("AKIDEXAMPLE", "secret"), "us-east-1", TimeProvider.System);

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
            {
                // Stopped.
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                using var connection = await _listener.AcceptTcpClientAsync(_stop.Token);
                var stream = connection.GetStream();
                while (await ReadRequestAsync(stream) is { } request)
                {
                    lock (Targets)
                    {
                        Targets.Add(request.Target);
                        // A client that loops would go on forever; the test's bound is far below this.
                        Assert.True(Targets.Count < 50, "the client kept asking for pages");
                    }

                    var body = Encoding.UTF8.GetBytes(_answer(request.Body));
                    var head = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {body.Length}\r\n\r\n");
                    await stream.WriteAsync(head, _stop.Token);
                    await stream.WriteAsync(body, _stop.Token);
                }
            }
        }

        private async Task<(string Target, string Body)?> ReadRequestAsync(NetworkStream stream)
        {
            var buffer = new List<byte>();
            var one = new byte[1];
            while (!EndsWithBlankLine(buffer))
            {
                if (await stream.ReadAsync(one, _stop.Token) == 0)
                {
                    return null;
                }

                buffer.Add(one[0]);
            }

            var headers = Encoding.ASCII.GetString([.. buffer]).Split("\r\n");
            string Header(string name) => headers.FirstOrDefault(h => h.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim() ?? "";
            var body = new byte[int.Parse(Header("Content-Length") is { Length: > 0 } length ? length : "0", System.Globalization.CultureInfo.InvariantCulture)];
            await stream.ReadExactlyAsync(body, _stop.Token);
            return (Header("X-Amz-Target"), Encoding.UTF8.GetString(body));
        }

        private static bool EndsWithBlankLine(List<byte> buffer) =>
            buffer.Count >= 4 && buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n';
    }
}
