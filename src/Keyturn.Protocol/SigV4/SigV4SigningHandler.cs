namespace Keyturn.Protocol.SigV4;

/// <summary>
/// Signs every outgoing request with SigV4 (header form). It buffers the body to hash it, sets Host when
/// missing so the value sent is the value signed, and re-signs cleanly on retries.
/// Signed: Host, Content-Type and every <c>X-Amz-*</c> header, which is what AWS requires and what no HTTP
/// stack rewrites on the way out.
/// </summary>
public sealed class SigV4SigningHandler : DelegatingHandler
{
    private readonly SigV4Credentials _credentials;
    private readonly string _region;
    private readonly string _service;
    private readonly TimeProvider _timeProvider;

    public SigV4SigningHandler(SigV4Credentials credentials, string region, string service, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentException.ThrowIfNullOrEmpty(region);
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _credentials = credentials;
        _region = region;
        _service = service;
        _timeProvider = timeProvider;
    }

    public SigV4SigningHandler(
        SigV4Credentials credentials, string region, string service, TimeProvider timeProvider, HttpMessageHandler innerHandler)
        : this(credentials, region, service, timeProvider)
    {
        InnerHandler = innerHandler;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI to sign.");
        if (!uri.IsAbsoluteUri)
        {
            throw new InvalidOperationException("Only absolute request URIs can be signed; set HttpClient.BaseAddress.");
        }

        // Reading the content buffers it inside HttpContent, so it is still sent in full afterwards.
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);

        request.Headers.Remove("Authorization");
        request.Headers.Remove("X-Amz-Date");
        request.Headers.Remove("X-Amz-Security-Token");
        request.Headers.Host ??= SigV4Signer.HostHeader(uri);

        var toSign = new List<KeyValuePair<string, string>> { new("host", request.Headers.Host) };
        foreach (var (name, values) in request.Headers)
        {
            if (name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase))
            {
                // Several values go out on one line separated by ", ", so that is what gets signed.
                toSign.Add(new(name, string.Join(", ", values)));
            }
        }

        if (request.Content?.Headers.ContentType is { } contentType)
        {
            toSign.Add(new("content-type", contentType.ToString()));
        }

        var added = SigV4Signer.Sign(
            request.Method.Method, uri, toSign, body, _credentials, _region, _service, _timeProvider.GetUtcNow());
        foreach (var (name, value) in added)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
