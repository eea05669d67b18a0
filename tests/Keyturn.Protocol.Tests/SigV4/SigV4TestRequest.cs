using System.Text;
using Keyturn.Protocol.SigV4;

namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>Builds <see cref="SigV4Request"/>s for tests, from raw HTTP text or from parts.</summary>
internal static class SigV4TestRequest
{
    /// <summary>
    /// Parses the test-suite format: "METHOD target HTTP/1.1", "Name:value" lines, a blank line, the body.
    /// The target may contain spaces (get-space), so the protocol is cut from the end.
    /// </summary>
    public static SigV4Request Parse(string raw)
    {
        var normalized = raw.Replace("\r\n", "\n", StringComparison.Ordinal);
        var split = normalized.IndexOf("\n\n", StringComparison.Ordinal);
        var head = split < 0 ? normalized : normalized[..split];
        var body = split < 0 ? string.Empty : normalized[(split + 2)..];
        var lines = head.Split('\n');

        var requestLine = lines[0];
        var method = requestLine[..requestLine.IndexOf(' ', StringComparison.Ordinal)];
        var target = requestLine[(method.Length + 1)..requestLine.LastIndexOf(" HTTP/", StringComparison.Ordinal)];
        var question = target.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? string.Empty : target[(question + 1)..];

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers.Add(new(line[..colon], line[(colon + 1)..]));
        }

        return new SigV4Request(method, path, query, headers, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>A request for <paramref name="uri"/> as the server would see it: raw path and query, Host set.</summary>
    public static SigV4Request FromUri(string method, Uri uri, IEnumerable<KeyValuePair<string, string>> headers, byte[] body)
    {
        var all = new List<KeyValuePair<string, string>>();
        if (!headers.Any(h => h.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)))
        {
            all.Add(new("Host", SigV4Signer.HostHeader(uri)));
        }

        all.AddRange(headers);
        return new SigV4Request(method, uri.AbsolutePath, uri.Query.TrimStart('?'), all, body);
    }

    /// <summary>Splits an absolute URL by hand, keeping the path and query exactly as written.</summary>
    public static (string Path, string Query) SplitUrl(string url)
    {
        var afterScheme = url.IndexOf("://", StringComparison.Ordinal) + 3;
        var pathStart = url.IndexOf('/', afterScheme);
        var target = pathStart < 0 ? "/" : url[pathStart..];
        var question = target.IndexOf('?', StringComparison.Ordinal);
        return question < 0 ? (target, string.Empty) : (target[..question], target[(question + 1)..]);
    }

    public static SigV4Request WithHeader(this SigV4Request request, string name, string value) =>
        request with { Headers = [.. request.Headers.Where(h => !h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)), new(name, value)] };

    public static SigV4Request WithHeaders(this SigV4Request request, IEnumerable<KeyValuePair<string, string>> added) =>
        request with { Headers = [.. request.Headers, .. added] };

    public static SigV4Request WithoutHeader(this SigV4Request request, string name) =>
        request with { Headers = [.. request.Headers.Where(h => !h.Key.Equals(name, StringComparison.OrdinalIgnoreCase))] };

    public static string Header(this SigV4Request request, string name) =>
        request.Headers.First(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Flips the lowest bit of the last hex digit of the signature.</summary>
    public static string FlipLastSignatureBit(string authorizationOrUrl)
    {
        var last = authorizationOrUrl[^1];
        var flipped = Convert.ToHexStringLower([(byte)(Convert.FromHexString("0" + last)[0] ^ 1)])[1];
        return authorizationOrUrl[..^1] + flipped;
    }
}
