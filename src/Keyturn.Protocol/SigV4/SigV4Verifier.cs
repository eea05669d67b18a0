using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;

namespace Keyturn.Protocol.SigV4;

/// <summary>
/// Verifies AWS Signature Version 4 requests (Authorization header or presigned query) and answers with AWS's
/// own error codes and messages. Checks run in the order AWS applies them, so a request with several faults
/// gets the same error AWS would give: authentication form, required parameters, date format, clock skew or
/// expiry, Host and every x-amz-* header signed, algorithm, credential shape, credential scope, access key, signature.
/// </summary>
public sealed class SigV4Verifier
{
    private const int SigningKeyCacheCapacity = 1024;
    private const int RegionCacheCapacity = 64;
    private static readonly TimeSpan DefaultSkew = TimeSpan.FromMinutes(5);

    private readonly Func<string, string?>? _secretLookup;
    private readonly Func<string, CancellationToken, ValueTask<string?>>? _secretLookupAsync;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _allowedSkew;
    private readonly IReadOnlySet<string>? _expectedServices;
    private readonly string? _expectedServicesText;
    private readonly SigV4SigningKeyCache _signingKeys = new(SigningKeyCacheCapacity);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _regions =
        new ConcurrentDictionary<string, string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();

    /// <param name="secretLookup">Returns the secret access key for an access key id, or null when unknown.</param>
    /// <param name="timeProvider">The clock requests are checked against.</param>
    /// <param name="allowedSkew">How far the request time may be from now either way; AWS's 5 minutes by default.</param>
    /// <param name="expectedServices">Services a credential scope may name; null accepts any.</param>
    public SigV4Verifier(
        Func<string, string?> secretLookup,
        TimeProvider timeProvider,
        TimeSpan? allowedSkew = null,
        IReadOnlySet<string>? expectedServices = null)
        : this(timeProvider, allowedSkew, expectedServices)
    {
        ArgumentNullException.ThrowIfNull(secretLookup);
        _secretLookup = secretLookup;
    }

    /// <summary>
    /// A verifier whose keys are looked up asynchronously (in a database): it verifies with <see cref="VerifyAsync"/> and
    /// <see cref="RejectBeforeBodyAsync"/> only.
    /// </summary>
    /// <param name="secretLookup">Returns the secret access key for an access key id, or null when unknown.</param>
    /// <param name="timeProvider">The clock requests are checked against.</param>
    /// <param name="allowedSkew">How far the request time may be from now either way; AWS's 5 minutes by default.</param>
    /// <param name="expectedServices">Services a credential scope may name; null accepts any.</param>
    public SigV4Verifier(
        Func<string, CancellationToken, ValueTask<string?>> secretLookup,
        TimeProvider timeProvider,
        TimeSpan? allowedSkew = null,
        IReadOnlySet<string>? expectedServices = null)
        : this(timeProvider, allowedSkew, expectedServices)
    {
        ArgumentNullException.ThrowIfNull(secretLookup);
        _secretLookupAsync = secretLookup;
    }

    private SigV4Verifier(TimeProvider timeProvider, TimeSpan? allowedSkew, IReadOnlySet<string>? expectedServices)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
        _allowedSkew = allowedSkew ?? DefaultSkew;
        if (_allowedSkew < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(allowedSkew), "The allowed skew cannot be negative.");
        }

        if (expectedServices is not null)
        {
            if (expectedServices.Count == 0)
            {
                throw new ArgumentException("Give at least one service, or null to accept any.", nameof(expectedServices));
            }

            _expectedServices = expectedServices;
            _expectedServicesText = string.Join("' or '", expectedServices.Order(StringComparer.Ordinal));
        }
    }

    /// <summary>Verifies the request against the services given to the constructor.</summary>
    public SigV4VerificationResult Verify(SigV4Request request) =>
        Check(request, null, checkSignature: true)!;

    /// <summary>Verifies the request, requiring its credential scope to name <paramref name="expectedService"/>.</summary>
    public SigV4VerificationResult Verify(SigV4Request request, string expectedService)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedService);
        return Check(request, expectedService, checkSignature: true)!;
    }

    /// <summary>
    /// Verifies the request, requiring its credential scope to name <paramref name="expectedService"/> (or, when null, one
    /// of the constructor's services), with the key looked up asynchronously.
    /// </summary>
    public async ValueTask<SigV4VerificationResult> VerifyAsync(SigV4Request request, string? expectedService, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await CheckAsync(request, expectedService, rememberedKey: null, checkSignature: true, cancellationToken).ConfigureAwait(false)).Result!;
    }

    /// <summary>
    /// <see cref="RejectBeforeBody"/> with the key looked up asynchronously: every check but the signature. Returns the
    /// failure, or null when the request may go on to <see cref="VerifyAsync"/>; null never means authenticated.
    /// </summary>
    public async ValueTask<SigV4VerificationResult?> RejectBeforeBodyAsync(SigV4Request request, string? expectedService, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await CheckAsync(request, expectedService, rememberedKey: null, checkSignature: false, cancellationToken).ConfigureAwait(false)).Result;
    }

    /// <summary>
    /// <see cref="RejectBeforeBodyAsync"/> that also remembers which access key the request names, so
    /// <see cref="VerifyAsync(SigV4Request, string?, SigV4KeyRequest, CancellationToken)"/> after the body needs no new
    /// string for it. The key is still looked up again then, so a revocation in between counts.
    /// </summary>
    public async ValueTask<(SigV4VerificationResult? Rejected, SigV4KeyRequest Key)> RejectBeforeBodyAsync(
        SigV4Request request, string? expectedService, CancellationToken cancellationToken, bool rememberKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (result, asked) = await CheckAsync(request, expectedService, rememberedKey: null, checkSignature: false, cancellationToken).ConfigureAwait(false);
        return (result, rememberKey ? new SigV4KeyRequest(asked) : default);
    }

    /// <summary>
    /// The full verification (signature included) of a request that passed
    /// <see cref="RejectBeforeBodyAsync(SigV4Request, string?, CancellationToken, bool)"/>, for the key it named: a
    /// request that now names another key is refused as naming an unknown one.
    /// </summary>
    public async ValueTask<SigV4VerificationResult> VerifyAsync(SigV4Request request, string? expectedService, SigV4KeyRequest key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return (await CheckAsync(request, expectedService, key.AccessKeyId, checkSignature: true, cancellationToken).ConfigureAwait(false)).Result!;
    }

    /// <summary>
    /// Runs every check except the signature itself, which needs the body: the authentication form, dates, signed
    /// headers, credential scope and the access key's existence. A server calls it before reading a body so an
    /// unauthenticated caller cannot make it buffer one. Returns the failure, or null when the request may go on to
    /// <see cref="Verify(SigV4Request, string)"/>; null never means authenticated.
    /// </summary>
    /// <param name="request">The request; its body is ignored.</param>
    /// <param name="expectedService">The service the scope must name, or null for the constructor's services.</param>
    public SigV4VerificationResult? RejectBeforeBody(SigV4Request request, string? expectedService) =>
        Check(request, expectedService, checkSignature: false);

    /// <summary>
    /// One pass over the request: the checks that come before the access key (in AWS's order), the key's lookup, then
    /// the rest. Returns the failure, else the success when the signature was checked, else null; and the access key
    /// id asked for, when the request got that far.
    /// </summary>
    /// <param name="rememberedKey">The key the same request named before its body; one it no longer names is unknown.</param>
    private async ValueTask<(SigV4VerificationResult? Result, string? Asked)> CheckAsync(
        SigV4Request request, string? expectedService, string? rememberedKey, bool checkSignature, CancellationToken cancellationToken)
    {
        var lookup = _secretLookupAsync ?? throw new InvalidOperationException("This verifier was given a synchronous key lookup: use Verify.");
        var expected = Expect(expectedService);
        var rejected = CheckBeforeKey(request, expected, out var scope);
        if (rejected is not null)
        {
            return (rejected, null);
        }

        string accessKeyId;
        string? secret;
        if (rememberedKey is null || scope.AccessKeyId.Span.SequenceEqual(rememberedKey))
        {
            accessKeyId = rememberedKey ?? AccessKeyIdText(scope.AccessKeyId.Span);
            secret = await lookup(accessKeyId, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            accessKeyId = AccessKeyIdText(scope.AccessKeyId.Span);
            secret = null;
        }

        return (CheckKeyAndSignature(request, scope, expected, accessKeyId, secret, checkSignature), accessKeyId);
    }

    private SigV4VerificationResult? Check(SigV4Request request, string? expectedService, bool checkSignature)
    {
        var lookup = _secretLookup ?? throw new InvalidOperationException("This verifier looks keys up asynchronously: use VerifyAsync.");
        var expected = Expect(expectedService);
        var rejected = CheckBeforeKey(request, expected, out var scope);
        if (rejected is not null)
        {
            return rejected;
        }

        var accessKeyId = AccessKeyIdText(scope.AccessKeyId.Span);
        return CheckKeyAndSignature(request, scope, expected, accessKeyId, lookup(accessKeyId), checkSignature);
    }

    private Expectation Expect(string? expectedService) =>
        expectedService is null
            ? new Expectation(null, _expectedServices, _expectedServicesText)
            : new Expectation(expectedService, null, expectedService);

    /// <summary>
    /// Every check that comes before the access key, in AWS's order. Returns the failure, or null with the parsed
    /// parameters and the credential's parts (slices of the request's own strings: nothing is copied).
    /// </summary>
    private SigV4VerificationResult? CheckBeforeKey(SigV4Request request, in Expectation expected, out CredentialScope scope)
    {
        ArgumentNullException.ThrowIfNull(request);
        scope = default;
        var headers = request.Headers ?? throw new ArgumentException("Headers are required.", nameof(request));
        var query = request.QueryString ?? string.Empty;

        // One pass over the headers for the few the verifier reads itself.
        string? authorization = null, amzDateHeader = null, dateHeader = null;
        for (var i = 0; i < headers.Count; i++)
        {
            var (name, value) = headers[i];
            switch (name.Length)
            {
                case 13 when authorization is null && name.Equals("Authorization", StringComparison.OrdinalIgnoreCase):
                    authorization = value;
                    break;
                case 10 when amzDateHeader is null && name.Equals("X-Amz-Date", StringComparison.OrdinalIgnoreCase):
                    amzDateHeader = value;
                    break;
                case 4 when dateHeader is null && name.Equals("Date", StringComparison.OrdinalIgnoreCase):
                    dateHeader = value;
                    break;
            }
        }

        var hasHeaderAuth = !string.IsNullOrEmpty(authorization);
        var hasQueryAuth = query.Length > 0 && TryGetQueryParameter(query, "X-Amz-Algorithm", out _);
        if (hasHeaderAuth && hasQueryAuth)
        {
            return Invalid(SigV4Messages.BothAuthorizationForms);
        }

        if (!hasHeaderAuth && !hasQueryAuth)
        {
            return Missing();
        }

        var now = _timeProvider.GetUtcNow();
        var parsed = hasHeaderAuth
            ? ParseHeader(headers, authorization!, amzDateHeader, dateHeader, now, out var auth)
            : ParseQuery(headers, query, now, out auth);
        return parsed ?? CheckCredential(auth, expected, out scope);
    }

    private SigV4VerificationResult? ParseHeader(
        IReadOnlyList<KeyValuePair<string, string>> headers,
        string authorization, string? amzDateHeader, string? dateHeader, DateTimeOffset now, out AuthParameters auth)
    {
        auth = default;
        var span = authorization.AsSpan();
        var start = span.Length - span.TrimStart().Length;
        var trimmed = authorization.AsMemory(start, span.Trim().Length);

        // Anything that is not an AWS4 scheme (Bearer tokens, SigV2 "AWS key:sig") counts as no AWS
        // authentication at all; AWS answers "AWS4" alone with the missing-token error too (dynalite).
        if (!trimmed.Span.StartsWith("AWS4-", StringComparison.Ordinal))
        {
            return Missing();
        }

        var space = trimmed.Span.IndexOfAny(' ', '\t');
        var algorithm = space < 0 ? trimmed : trimmed[..space];
        var parameters = space < 0 ? ReadOnlyMemory<char>.Empty : trimmed[(space + 1)..];

        // Slices of the header itself: the parameters are read in place, never copied.
        ReadOnlyMemory<char>? credential = null, signedHeaders = null, signature = null;
        while (!parameters.IsEmpty)
        {
            var end = parameters.Span.IndexOfAny(',', ' ', '\t');
            var token = end < 0 ? parameters : parameters[..end];
            parameters = end < 0 ? ReadOnlyMemory<char>.Empty : parameters[(end + 1)..];
            if (token.IsEmpty)
            {
                continue;
            }

            var equals = token.Span.IndexOf('=');
            if (equals < 0)
            {
                return Incomplete(SigV4Messages.MissingEqualSign(token.ToString(), authorization));
            }

            // When a parameter repeats, the last one wins (as AWS does).
            var key = token.Span[..equals];
            if (key.SequenceEqual("Credential"))
            {
                credential = token[(equals + 1)..];
            }
            else if (key.SequenceEqual("SignedHeaders"))
            {
                signedHeaders = token[(equals + 1)..];
            }
            else if (key.SequenceEqual("Signature"))
            {
                signature = token[(equals + 1)..];
            }
        }

        var dateText = amzDateHeader ?? dateHeader;
        if (credential is not { IsEmpty: false } || signature is not { IsEmpty: false } || signedHeaders is null || dateText is null)
        {
            var messages = new List<string>(5);
            if (credential is not { IsEmpty: false })
            {
                messages.Add(SigV4Messages.HeaderRequiresParameter("Credential"));
            }

            if (signature is not { IsEmpty: false })
            {
                messages.Add(SigV4Messages.HeaderRequiresParameter("Signature"));
            }

            if (signedHeaders is null)
            {
                messages.Add(SigV4Messages.HeaderRequiresParameter("SignedHeaders"));
            }

            if (dateText is null)
            {
                messages.Add(SigV4Messages.HeaderRequiresDate);
            }

            messages.Add("Authorization=" + authorization);
            return Incomplete(string.Join(' ', messages));
        }

        dateText = dateText.Trim();
        if (!TryParseAmzDate(dateText, out var requestTime) && (amzDateHeader is not null || !TryParseHttpDate(dateText, out requestTime)))
        {
            return Failure(SigV4Outcome.InvalidDate, SigV4ErrorCodes.IncompleteSignature, SigV4Messages.InvalidDate(dateText));
        }

        var skewFailure = CheckSkew(requestTime, now, expires: null);
        if (skewFailure is not null)
        {
            return skewFailure;
        }

        var signed = signedHeaders.Value.Span;
        if (!SignsHost(signed))
        {
            return Invalid(SigV4Messages.HostNotSigned);
        }

        var unsigned = FirstUnsignedHeader(headers, signed, datedByDateHeader: amzDateHeader is null);
        if (unsigned is not null)
        {
            return Invalid(SigV4Messages.HeaderNotSigned(unsigned));
        }

        if (!algorithm.Span.SequenceEqual(SigV4Canonicalizer.Algorithm))
        {
            return Incomplete(SigV4Messages.UnsupportedAlgorithm(algorithm.ToString()));
        }

        var amzDate = amzDateHeader is not null ? dateText : SigV4Messages.Format(requestTime);
        auth = new AuthParameters(credential.Value, signedHeaders.Value, signature.Value, amzDate.AsMemory(), IsQuery: false);
        return null;
    }

    private SigV4VerificationResult? ParseQuery(
        IReadOnlyList<KeyValuePair<string, string>> headers, string query, DateTimeOffset now, out AuthParameters auth)
    {
        auth = default;
        TryGetQueryParameter(query, "X-Amz-Algorithm", out var algorithm);
        TryGetQueryParameter(query, "X-Amz-Credential", out var credential);
        TryGetQueryParameter(query, SigV4Canonicalizer.SignatureParameter, out var signature);
        TryGetQueryParameter(query, "X-Amz-SignedHeaders", out var signedHeaders);
        TryGetQueryParameter(query, "X-Amz-Date", out var amzDate);

        if (string.IsNullOrEmpty(algorithm) || string.IsNullOrEmpty(credential) || string.IsNullOrEmpty(signature)
            || string.IsNullOrEmpty(signedHeaders) || string.IsNullOrEmpty(amzDate))
        {
            var messages = new List<string>(6);
            AddIfMissing(messages, algorithm, "X-Amz-Algorithm");
            AddIfMissing(messages, credential, "X-Amz-Credential");
            AddIfMissing(messages, signature, SigV4Canonicalizer.SignatureParameter);
            AddIfMissing(messages, signedHeaders, "X-Amz-SignedHeaders");
            AddIfMissing(messages, amzDate, "X-Amz-Date");
            messages.Add(SigV4Messages.ReexamineQuery);
            return Incomplete(string.Join(' ', messages));
        }

        if (algorithm != SigV4Canonicalizer.Algorithm)
        {
            return Missing();
        }

        if (!TryParseAmzDate(amzDate, out var requestTime))
        {
            return Failure(SigV4Outcome.InvalidDate, SigV4ErrorCodes.IncompleteSignature, SigV4Messages.InvalidDate(amzDate));
        }

        TimeSpan? expires = null;
        if (TryGetQueryParameter(query, "X-Amz-Expires", out var expiresText))
        {
            if (!long.TryParse(expiresText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
            {
                return Incomplete(SigV4Messages.ExpiresNotNumber);
            }

            if (seconds < 0)
            {
                return Incomplete(SigV4Messages.ExpiresNegative);
            }

            if (seconds > 604800)
            {
                return Incomplete(SigV4Messages.ExpiresTooLarge);
            }

            expires = TimeSpan.FromSeconds(seconds);
        }

        var skewFailure = CheckSkew(requestTime, now, expires);
        if (skewFailure is not null)
        {
            return skewFailure;
        }

        if (!SignsHost(signedHeaders))
        {
            return Invalid(SigV4Messages.HostNotSigned);
        }

        // A presigned URL's X-Amz-* parameters are in the canonical query; headers sent with it must still be signed.
        var unsigned = FirstUnsignedHeader(headers, signedHeaders, datedByDateHeader: false);
        if (unsigned is not null)
        {
            return Invalid(SigV4Messages.HeaderNotSigned(unsigned));
        }

        auth = new AuthParameters(credential.AsMemory(), signedHeaders.AsMemory(), signature.AsMemory(), amzDate.AsMemory(), IsQuery: true);
        return null;
    }

    /// <summary>The credential's shape and scope: five parts, a valid region, the expected service, the terminator and the date.</summary>
    private static SigV4VerificationResult? CheckCredential(in AuthParameters auth, in Expectation expected, out CredentialScope scope)
    {
        scope = default;

        // AWS ignores trailing slashes on the credential.
        var credential = auth.Credential[..auth.Credential.Span.TrimEnd('/').Length];
        Span<Range> parts = stackalloc Range[6];
        if (credential.Span.Split(parts, '/') != 5)
        {
            return Incomplete(SigV4Messages.CredentialParts(auth.Credential.ToString()));
        }

        var accessKeyId = credential[parts[0]];
        var scopeDate = credential[parts[1]];
        var region = credential[parts[2]];
        var service = credential[parts[3]];
        var terminator = credential[parts[4]].Span;

        var serviceOk = expected.Service is not null
            ? service.Span.SequenceEqual(expected.Service)
            : expected.Services is null || expected.Services.Contains(service.ToString());
        var regionOk = IsRegion(region.Span);
        var terminatorOk = terminator.SequenceEqual(SigV4Canonicalizer.Terminator);
        var dateOk = scopeDate.Span.SequenceEqual(auth.AmzDate.Span[..8]);
        if (!(serviceOk && regionOk && terminatorOk && dateOk))
        {
            var messages = new List<string>(4);
            if (!regionOk)
            {
                messages.Add(SigV4Messages.WrongRegion(region.ToString()));
            }

            if (!serviceOk)
            {
                messages.Add(SigV4Messages.WrongService(expected.ServicesText!));
            }

            if (!terminatorOk)
            {
                messages.Add(SigV4Messages.WrongTerminator(terminator.ToString()));
            }

            if (!dateOk)
            {
                messages.Add(SigV4Messages.WrongScopeDate(scopeDate.ToString(), auth.AmzDate.ToString()));
            }

            return Failure(
                SigV4Outcome.SignatureMismatch, SigV4ErrorCodes.InvalidSignature, string.Join(' ', messages),
                accessKeyId.ToString(), region.ToString(), service.ToString());
        }

        scope = new CredentialScope(auth, accessKeyId, scopeDate, region, service, credential[(parts[0].End.Value + 1)..]);
        return null;
    }

    /// <summary>
    /// The access key's existence, then (when <paramref name="checkSignature"/>) the signature. Returns the failure,
    /// else the success when the signature was checked, else null.
    /// </summary>
    // A client sends request after request with one key: each thread keeps the last key id it read and the last
    // success it answered (both immutable, neither secret), so a verification allocates neither again.
    [ThreadStatic]
    private static string? _threadLastAccessKeyId;

    [ThreadStatic]
    private static SigV4VerificationResult? _threadLastSuccess;

    private static string AccessKeyIdText(ReadOnlySpan<char> accessKeyId)
    {
        var last = _threadLastAccessKeyId;
        return last is not null && accessKeyId.SequenceEqual(last) ? last : _threadLastAccessKeyId = accessKeyId.ToString();
    }

    private static SigV4VerificationResult SuccessFor(string accessKeyId, string region, string service)
    {
        var last = _threadLastSuccess;
        return last is not null && ReferenceEquals(last.AccessKeyId, accessKeyId) && ReferenceEquals(last.Region, region)
            && ReferenceEquals(last.Service, service)
            ? last
            : _threadLastSuccess = SigV4VerificationResult.Success(accessKeyId, region, service);
    }

    private SigV4VerificationResult? CheckKeyAndSignature(
        SigV4Request request, in CredentialScope scope, in Expectation expected, string accessKeyId, string? secret, bool checkSignature)
    {
        if (secret is null)
        {
            return Failure(
                SigV4Outcome.UnknownAccessKey, SigV4ErrorCodes.UnrecognizedClient, SigV4Messages.UnrecognizedClient,
                accessKeyId, scope.Region.ToString(), scope.Service.ToString());
        }

        if (!checkSignature)
        {
            return null;
        }

        var auth = scope.Auth;
        Span<byte> provided = stackalloc byte[32];
        var signatureIsHex = auth.Signature.Length == 64
            && Convert.FromHexString(auth.Signature.Span, provided, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == 32;

        // The region comes from a small cache of the ones seen and the service is the expected one's string, so a
        // success allocates nothing but its result.
        var region = RegionText(scope.Region.Span);
        var service = expected.Service ?? scope.Service.ToString();
        var buffer = SigV4TextBuffer.Rent();
        try
        {
            Span<char> bodyHash = stackalloc char[64];
            var payloadHash = PayloadHash(request.Body.Span, bodyHash);
            SigV4Canonicalizer.AppendCanonicalRequest(
                buffer, request.Method, request.Path, request.QueryString ?? string.Empty, auth.IsQuery, request.Headers,
                auth.SignedHeaders.Span, payloadHash);
            var canonicalLength = buffer.Length;
            Span<byte> hash = stackalloc byte[32];
            buffer.HashUtf8(0, hash);

            buffer.Append(SigV4Canonicalizer.Algorithm);
            buffer.Append('\n');
            buffer.Append(auth.AmzDate.Span);
            buffer.Append('\n');
            buffer.Append(scope.Scope.Span);
            buffer.Append('\n');
            Span<char> hashHex = stackalloc char[64];
            Convert.TryToHexStringLower(hash, hashHex, out _);
            buffer.Append(hashHex);

            var signingKey = _signingKeys.Get(secret, scope.Date.Span, region, service);
            Span<byte> expectedSignature = stackalloc byte[32];
            buffer.HmacUtf8(signingKey, canonicalLength, expectedSignature);

            // Constant time, so response timing reveals nothing about how much of the signature was right.
            if (signatureIsHex && CryptographicOperations.FixedTimeEquals(expectedSignature, provided))
            {
                return SuccessFor(accessKeyId, region, service);
            }

            var message = SigV4Messages.SignatureMismatchWithDetails(
                buffer.ToString(0, canonicalLength), buffer.ToString(canonicalLength, buffer.Length - canonicalLength));
            return Failure(SigV4Outcome.SignatureMismatch, SigV4ErrorCodes.InvalidSignature, message, accessKeyId, region, service);
        }
        finally
        {
            SigV4TextBuffer.Return(buffer);
        }
    }

    // Regions are few (and must match the region pattern to get here); past the cap a region is simply copied.
    private string RegionText(ReadOnlySpan<char> region)
    {
        if (_regions.TryGetValue(region, out var cached))
        {
            return cached;
        }

        var text = region.ToString();
        if (_regions.Dictionary.Count < RegionCacheCapacity)
        {
            _regions.TryAdd(text, text);
        }

        return text;
    }

    // Always the body's own hash: neither UNSIGNED-PAYLOAD nor a declared X-Amz-Content-Sha256 is trusted, so a
    // signature can never be lifted onto a different body (a declared hash that differs just fails the signature).
    private static ReadOnlySpan<char> PayloadHash(ReadOnlySpan<byte> body, Span<char> destination)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        Convert.TryToHexStringLower(hash, destination, out _);
        return destination;
    }

    private SigV4VerificationResult? CheckSkew(DateTimeOffset requestTime, DateTimeOffset now, TimeSpan? expires)
    {
        var latest = now + _allowedSkew;
        if (requestTime > latest)
        {
            return Failure(
                SigV4Outcome.NotYetValid, SigV4ErrorCodes.InvalidSignature,
                SigV4Messages.NotYetCurrent(requestTime, latest, now, _allowedSkew));
        }

        // A presigned URL lives for X-Amz-Expires; anything else for the allowed skew.
        var window = expires ?? _allowedSkew;
        var earliest = now - window;
        if (requestTime < earliest)
        {
            return Failure(
                SigV4Outcome.Expired, SigV4ErrorCodes.InvalidSignature, SigV4Messages.Expired(requestTime, earliest, now, window));
        }

        return null;
    }

    private static bool SignsHost(ReadOnlySpan<char> signedHeaders)
    {
        foreach (var range in signedHeaders.Split(';'))
        {
            var name = signedHeaders[range];
            if (name.Equals("host", StringComparison.OrdinalIgnoreCase) || name.Equals(":authority", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The first header that AWS requires signed but SignedHeaders leaves out: every x-amz-* header sent (an unsigned
    /// X-Amz-Target would let a captured request be replayed as another operation) and the Date header when it is what
    /// dates the request. Names are compared in any case; the name is returned as sent, for AWS's message.
    /// </summary>
    private static string? FirstUnsignedHeader(IReadOnlyList<KeyValuePair<string, string>> headers, ReadOnlySpan<char> signedHeaders, bool datedByDateHeader)
    {
        for (var i = 0; i < headers.Count; i++)
        {
            var name = headers[i].Key;
            var mustBeSigned = name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)
                || (datedByDateHeader && name.Equals("Date", StringComparison.OrdinalIgnoreCase));
            if (mustBeSigned && !IsSigned(signedHeaders, name))
            {
                return name;
            }
        }

        return null;
    }

    private static bool IsSigned(ReadOnlySpan<char> signedHeaders, string name)
    {
        foreach (var range in signedHeaders.Split(';'))
        {
            if (signedHeaders[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // The union of the AWS partitions' region patterns (aws, aws-cn, aws-us-gov, aws-iso, -iso-b, -iso-e, -iso-f):
    // us-east-1, cn-north-1, us-gov-west-1, us-isob-east-1, eu-isoe-west-1. The region becomes part of every ARN.
    // It is the regular expression in RegionPattern, matched by hand because Regex.IsMatch allocates on every call.
    internal const string RegionPattern = @"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+\z";

    /// <summary>Whether the whole of <paramref name="region"/> matches <see cref="RegionPattern"/>.</summary>
    internal static bool IsRegion(ReadOnlySpan<char> region)
    {
        if (region.Length < 2 || !IsLower(region[0]) || !IsLower(region[1]))
        {
            return false;
        }

        // Every way the optional group can match, as the regular expression would backtrack through them.
        var rest = region[2..];
        return IsRegionTail(rest)
            || (HasInfix(rest, 'g', 'o', 'v') && IsRegionTail(rest[4..]))
            || (HasInfix(rest, 'i', 's', 'o') && (IsRegionTail(rest[4..]) || (rest.Length > 4 && IsLower(rest[4]) && IsRegionTail(rest[5..]))));
    }

    private static bool IsLower(char c) => c is >= 'a' and <= 'z';

    // "-" and the three letters.
    private static bool HasInfix(ReadOnlySpan<char> text, char a, char b, char c) =>
        text.Length >= 4 && text[0] == '-' && text[1] == a && text[2] == b && text[3] == c;

    // "-[a-z]+-[0-9]+" to the very end (\z: no final newline).
    private static bool IsRegionTail(ReadOnlySpan<char> tail)
    {
        if (tail.IsEmpty || tail[0] != '-')
        {
            return false;
        }

        var i = 1;
        while (i < tail.Length && IsLower(tail[i]))
        {
            i++;
        }

        if (i == 1 || i == tail.Length || tail[i] != '-')
        {
            return false;
        }

        var digitsStart = ++i;
        while (i < tail.Length && tail[i] is >= '0' and <= '9')
        {
            i++;
        }

        return i == tail.Length && i > digitsStart;
    }

    /// <summary>Parses <c>yyyyMMddTHHmmssZ</c> (ISO-8601 basic, UTC) without allocating.</summary>
    internal static bool TryParseAmzDate(ReadOnlySpan<char> text, out DateTimeOffset value)
    {
        value = default;
        if (text.Length != 16 || text[8] != 'T' || text[15] != 'Z')
        {
            return false;
        }

        if (!TryDigits(text[..4], out var year) || !TryDigits(text[4..6], out var month) || !TryDigits(text[6..8], out var day)
            || !TryDigits(text[9..11], out var hour) || !TryDigits(text[11..13], out var minute) || !TryDigits(text[13..15], out var second))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        value = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);
        return true;
    }

    /// <summary>
    /// Parses an HTTP <c>Date</c> header (RFC 1123). botocore writes the zone as "-0000" (email.utils.formatdate),
    /// so numeric UTC zones are accepted as well as "GMT".
    /// </summary>
    internal static bool TryParseHttpDate(string text, out DateTimeOffset value)
    {
        foreach (var utc in (ReadOnlySpan<string>)[" -0000", " +0000", " UTC"])
        {
            if (text.EndsWith(utc, StringComparison.Ordinal))
            {
                text = string.Concat(text.AsSpan(0, text.Length - utc.Length), " GMT");
                break;
            }
        }

        return DateTimeOffset.TryParseExact(text, "r", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out value);
    }

    private static bool TryDigits(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }

    /// <summary>Finds the first parameter with this exact (raw) name and decodes its value.</summary>
    internal static bool TryGetQueryParameter(string query, string name, out string? value)
    {
        value = null;
        var rest = query.AsSpan();
        while (!rest.IsEmpty)
        {
            var amp = rest.IndexOf('&');
            var segment = amp < 0 ? rest : rest[..amp];
            rest = amp < 0 ? [] : rest[(amp + 1)..];
            if (segment.StartsWith(name, StringComparison.Ordinal)
                && (segment.Length == name.Length || segment[name.Length] == '='))
            {
                value = segment.Length == name.Length ? string.Empty : SigV4Canonicalizer.DecodeQueryComponent(segment[(name.Length + 1)..]);
                return true;
            }
        }

        return false;
    }

    private static void AddIfMissing(List<string> messages, string? value, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            messages.Add(SigV4Messages.QueryMustInclude(name));
        }
    }

    private static SigV4VerificationResult Missing() =>
        Failure(SigV4Outcome.MissingAuthentication, SigV4ErrorCodes.MissingAuthenticationToken, SigV4Messages.MissingAuthenticationToken);

    private static SigV4VerificationResult Incomplete(string message) =>
        Failure(SigV4Outcome.IncompleteSignature, SigV4ErrorCodes.IncompleteSignature, message);

    private static SigV4VerificationResult Invalid(string message) =>
        Failure(SigV4Outcome.SignatureMismatch, SigV4ErrorCodes.InvalidSignature, message);

    private static SigV4VerificationResult Failure(
        SigV4Outcome outcome, string code, string message, string? accessKeyId = null, string? region = null, string? service = null) =>
        SigV4VerificationResult.Failure(outcome, code, message, accessKeyId, region, service);

    private readonly record struct Expectation(string? Service, IReadOnlySet<string>? Services, string? ServicesText);

    // Slices of the request's own strings (the Authorization header, or the decoded query parameters).
    private readonly record struct AuthParameters(
        ReadOnlyMemory<char> Credential, ReadOnlyMemory<char> SignedHeaders, ReadOnlyMemory<char> Signature, ReadOnlyMemory<char> AmzDate, bool IsQuery);

    // What the checks before the key lookup found; Scope is date/region/service/aws4_request.
    private readonly record struct CredentialScope(
        AuthParameters Auth, ReadOnlyMemory<char> AccessKeyId, ReadOnlyMemory<char> Date, ReadOnlyMemory<char> Region,
        ReadOnlyMemory<char> Service, ReadOnlyMemory<char> Scope);
}
