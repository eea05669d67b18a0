using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// HTTP/1.1 written byte by byte on a loopback socket, for what no HTTP client will send: malformed chunks,
/// bodies larger than announced, bodies trickled a byte at a time.
/// </summary>
public static class RawSocket
{
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, string Body, TimeSpan Elapsed);

    /// <summary>
    /// Sends <paramref name="head"/> (request line and headers, without the blank line), lets
    /// <paramref name="writeBody"/> write the body, and reads the response; the whole exchange is bounded by
    /// <paramref name="timeout"/>. The body writer may be cut off when the server answers and closes early.
    /// </summary>
    public static async Task<Response> SendAsync(string endpoint, string head, Func<Stream, CancellationToken, Task> writeBody, TimeSpan timeout)
    {
        var uri = new Uri(endpoint);
        using var cancel = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        var started = DateTime.UtcNow;
        await client.ConnectAsync(uri.Host, uri.Port, cancel.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.TrimEnd() + "\r\n\r\n"), cancel.Token);

        var reading = ReadResponseAsync(stream, cancel.Token);
        try
        {
            var writing = writeBody(stream, cancel.Token);
            await Task.WhenAny(reading, writing);
        }
        catch (IOException)
        {
            // The server closed the connection while the body was being written: its answer is what counts.
        }

        var (status, headers, body) = await reading;
        return new Response(status, headers, body, DateTime.UtcNow - started);
    }

    /// <summary>The head of a POST / to Keyturn with these extra header lines.</summary>
    public static string PostHead(string endpoint, params string[] headers) =>
        $"POST / HTTP/1.1\r\nHost: {new Uri(endpoint).Authority}\r\nContent-Type: application/x-amz-json-1.1\r\n" + string.Join("\r\n", headers);

    /// <summary>
    /// A well-formed Authorization for a key that exists, signed over every x-amz-* header: it passes every check
    /// made before the body is read, so the server goes on to read the body (the signature itself is wrong).
    /// </summary>
    public static string[] PlausibleAuthorization(string accessKeyId, string target)
    {
        var now = DateTimeOffset.UtcNow;
        var date = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        return
        [
            "X-Amz-Target: " + target,
            "X-Amz-Date: " + date,
            $"Authorization: AWS4-HMAC-SHA256 Credential={accessKeyId}/{date[..8]}/{KeyturnProcess.Region}/secretsmanager/aws4_request, " +
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + new string('0', 64),
        ];
    }

    private static async Task<(int, Dictionary<string, string>, string)> ReadResponseAsync(Stream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int headerEnd;
        while ((headerEnd = IndexOfBlankLine(received)) < 0)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                throw new IOException("The connection closed before a response head: " + Encoding.ASCII.GetString(received.ToArray()));
            }

            received.Write(buffer, 0, read);
        }

        var all = received.ToArray();
        var lines = Encoding.ASCII.GetString(all, 0, headerEnd).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = new MemoryStream();
        body.Write(all, headerEnd + 4, all.Length - headerEnd - 4);
        var length = headers.TryGetValue("Content-Length", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
        while (body.Length < length)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                break;
            }

            body.Write(buffer, 0, read);
        }

        return (status, headers, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static int IndexOfBlankLine(MemoryStream received)
    {
        var bytes = received.GetBuffer().AsSpan(0, (int)received.Length);
        return bytes.IndexOf("\r\n\r\n"u8);
    }
}
