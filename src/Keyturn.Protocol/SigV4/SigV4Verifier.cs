using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Keyturn.Protocol.SigV4;

/// <summary>
/// Verifies AWS Signature Version 4 requests (Authorization header or presigned query) and answers with AWS's
/// own error codes and messages. Checks run in the order AWS applies them, so a request with several faults
/// gets the same error AWS would give: authentication form, required parameters, date format, clock skew or
/// expiry, Host and every x-amz-* header signed, algorithm, credential shape, credential scope, access key, signature.
/// </summary>
public sealed partial class SigV4Verifier
{
    private const int SigningKeyCacheCapacity = 1024;
    private static readonly TimeSpan DefaultSkew = TimeSpan.FromMinutes(5);

    private readonly Func<string, string?>? _secretLookup;
    private readonly Func<string, CancellationToken, ValueTask<string?>>? _secretLookupAsync;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _allowedSkew;
    private readonly IReadOnlySet<string>? _expectedServices;
    private readonly string? _expectedServicesText;
    private readonly SigV4SigningKeyCache _signingKeys = new(SigningKeyCacheCapacity);

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
        Verify(request, null, _expectedServices, _expectedServicesText, checkSignature: true, SyncLookup());

    /// <summary>Verifies the request, requiring its credential scope to name <paramref name="expectedService"/>.</summary>
    public SigV4VerificationResult Verify(SigV4Request request, string expectedService)
    {
        ArgumentException.ThrowIfNullOrEmpty(expectedService);
        return Verify(request, expectedService, null, expectedService, checkSignature: true, SyncLookup());
    }

    /// <summary>
    /// Verifies the request, requiring its credential scope to name <paramref name="expectedService"/> (or, when null, one
    /// of the constructor's services), with the key looked up asynchronously.
    /// </summary>
    public async ValueTask<SigV4VerificationResult> VerifyAsync(SigV4Request request, string? expectedService, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return await VerifyAsync(request, expectedService, checkSignature: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="RejectBeforeBody"/> with the key looked up asynchronously: every check but the signature. Returns the
    /// failure, or null when the request may go on to <see cref="VerifyAsync"/>; null never means authenticated.
    /// </summary>
    public async ValueTask<SigV4VerificationResult?> RejectBeforeBodyAsync(SigV4Request request, string? expectedService, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var result = await VerifyAsync(request, expectedService, checkSignature: false, cancellationToken).ConfigureAwait(false);
        return result.IsSuccess ? null : result;
    }

    /// <summary>
    /// <see cref="RejectBeforeBodyAsync"/> that also remembers which access key the request names, so
    /// <see cref="VerifyAsync(SigV4Request, string?, SigV4KeyRequest, CancellationToken)"/> after the body needs one
    /// pass over the request instead of two. The key is still looked up again then, so a revocation in between counts.
    /// </summary>
    public async ValueTask<(SigV4VerificationResult? Rejected, SigV4KeyRequest Key)> RejectBeforeBodyAsync(
        SigV4Request request, string? expectedService, CancellationToken cancellationToken, bool rememberKey)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (result, asked) = await CheckAsync(request, expectedService, checkSignature: false, cancellationToken).ConfigureAwait(false);
        return (result.IsSuccess ? null : result, rememberKey ? new SigV4KeyRequest(asked) : default);
    }

    /// <summary>
    /// The full verification (signature included) of a request that passed
    /// <see cref="RejectBeforeBodyAsync(SigV4Request, string?, CancellationToken, bool)"/>, for the key it named.
    /// </summary>
    public async ValueTask<SigV4VerificationResult> VerifyAsync(SigV4Request request, string? expectedService, SigV4KeyRequest key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (key.AccessKeyId is not { } asked)
        {
            return await VerifyAsync(request, expectedService, checkSignature: true, cancellationToken).ConfigureAwait(false);
        }

        var lookup = _secretLookupAsync ?? throw new InvalidOperationException("This verifier was given a synchronous key lookup: use Verify.");
        var secret = await lookup(asked, cancellationToken).ConfigureAwait(false);
        return Verify(request, expectedService, checkSignature: true, id => string.Equals(id, asked, StringComparison.Ordinal) ? secret : null);
    }

    /// <summary>
    /// Runs every check except the signature itself, which needs the body: the authentication form, dates, signed
    /// headers, credential scope and the access key's existence. A server calls it before reading a body so an
    /// unauthenticated caller cannot make it buffer one. Returns the failure, or null when the request may go on to
    /// <see cref="Verify(SigV4Request, string)"/>; null never means authenticated.
    /// </summary>
    /// <param name="request">The request; its body is ignored.</param>
    /// <param name="expectedService">The service the scope must name, or null for the constructor's services.</param>
    public SigV4VerificationResult? RejectBeforeBody(SigV4Request request, string? expectedService)
    {
        var result = Verify(request, expectedService, checkSignature: false, SyncLookup());
        return result.IsSuccess ? null : result;
    }

    /// <summary>
    /// Two passes over the request: the first runs every check that comes before the access key (in AWS's order) and
    /// finds which key is asked for; the key is then looked up, and the second pass runs the checks with it.
    /// </summary>
    private async ValueTask<SigV4VerificationResult> VerifyAsync(SigV4Request request, string? expectedService, bool checkSignature, CancellationToken cancellationToken) =>
        (await CheckAsync(request, expectedService, checkSignature, cancellationToken).ConfigureAwait(false)).Result;

    private async ValueTask<(SigV4VerificationResult Result, string? Asked)> CheckAsync(
        SigV4Request request, string? expectedService, bool checkSignature, CancellationToken cancellationToken)
    {
        var lookup = _secretLookupAsync ?? throw new InvalidOperationException("This verifier was given a synchronous key lookup: use Verify.");
        string? asked = null;
        var first = Verify(request, expectedService, checkSignature: false, id =>
        {
            asked = id;
            return null;
        });
        if (asked is null)
        {
            return (first, null);
        }

        var secret = await lookup(asked, cancellationToken).ConfigureAwait(false);
        return (Verify(request, expectedService, checkSignature, id => string.Equals(id, asked, StringComparison.Ordinal) ? secret : null), asked);
    }

    private Func<string, string?> SyncLookup() =>
        _secretLookup ?? throw new InvalidOperationException("This verifier looks keys up asynchronously: use VerifyAsync.");

    private SigV4VerificationResult Verify(SigV4Request request, string? expectedService, bool checkSignature, Func<string, string?> secretLookup) =>
        expectedService is null
            ? Verify(request, null, _expectedServices, _expectedServicesText, checkSignature, secretLookup)
            : Verify(request, expectedService, null, expectedService, checkSignature, secretLookup);

    private SigV4VerificationResult Verify(
        SigV4Request request, string? expectedService, IReadOnlySet<string>? expectedServices, string? expectedServicesText,
        bool checkSignature, Func<string, string?> secretLookup)
    {
        ArgumentNullException.ThrowIfNull(request);
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
        AuthParameters auth;
        if (hasHeaderAuth)
        {
            var parsed = ParseHeader(headers, authorization!, amzDateHeader, dateHeader, now, out auth);
            if (parsed is not null)
            {
                return parsed;
            }
        }
        else
        {
            var parsed = ParseQuery(headers, query, now, out auth);
            if (parsed is not null)
            {
                return parsed;
            }
        }

        return VerifyCredentialAndSignature(request, auth, expectedService, expectedServices, expectedServicesText, checkSignature, secretLookup);
    }

    private SigV4VerificationResult? ParseHeader(
        IReadOnlyList<KeyValuePair<string, string>> headers,
        string authorization, string? amzDateHeader, string? dateHeader, DateTimeOffset now, out AuthParameters auth)
    {
        auth = default;
        var trimmed = authorization.AsSpan().Trim();

        // Anything that is not an AWS4 scheme (Bearer tokens, SigV2 "AWS key:sig") counts as no AWS
        // authentication at all; AWS answers "AWS4" alone with the missing-token error too (dynalite).
        if (!trimmed.StartsWith("AWS4-", StringComparison.Ordinal))
        {
            return Missing();
        }

        var space = trimmed.IndexOfAny(' ', '\t');
        var algorithm = space < 0 ? trimmed : trimmed[..space];
        ReadOnlySpan<char> parameters = space < 0 ? [] : trimmed[(space + 1)..];

        string? credential = null, signedHeaders = null, signature = null;
        while (!parameters.IsEmpty)
        {
            var end = parameters.IndexOfAny(',', ' ', '\t');
            var token = end < 0 ? parameters : parameters[..end];
            parameters = end < 0 ? [] : parameters[(end + 1)..];
            if (token.IsEmpty)
            {
                continue;
            }

            var equals = token.IndexOf('=');
            if (equals < 0)
            {
                return Incomplete(SigV4Messages.MissingEqualSign(token.ToString(), authorization));
            }

            // When a parameter repeats, the last one wins (as AWS does).
            var key = token[..equals];
            if (key.SequenceEqual("Credential"))
            {
                credential = token[(equals + 1)..].ToString();
            }
            else if (key.SequenceEqual("SignedHeaders"))
            {
                signedHeaders = token[(equals + 1)..].ToString();
            }
            else if (key.SequenceEqual("Signature"))
            {
                signature = token[(equals + 1)..].ToString();
            }
        }

        var dateText = amzDateHeader ?? dateHeader;
        if (string.IsNullOrEmpty(credential) || string.IsNullOrEmpty(signature) || signedHeaders is null || dateText is null)
        {
            var messages = new List<string>(5);
            if (string.IsNullOrEmpty(credential))
            {
                messages.Add(SigV4Messages.HeaderRequiresParameter("Credential"));
            }

            if (string.IsNullOrEmpty(signature))
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

        if (!SignsHost(signedHeaders))
        {
            return Invalid(SigV4Messages.HostNotSigned);
        }

        var unsigned = FirstUnsignedHeader(headers, signedHeaders, datedByDateHeader: amzDateHeader is null);
        if (unsigned is not null)
        {
            return Invalid(SigV4Messages.HeaderNotSigned(unsigned));
        }

        if (!algorithm.SequenceEqual(SigV4Canonicalizer.Algorithm))
        {
            return Incomplete(SigV4Messages.UnsupportedAlgorithm(algorithm.ToString()));
        }

        var amzDate = amzDateHeader is not null ? dateText : SigV4Messages.Format(requestTime);
        auth = new AuthParameters(credential, signedHeaders, signature, amzDate, IsQuery: false);
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

        auth = new AuthParameters(credential, signedHeaders, signature, amzDate, IsQuery: true);
        return null;
    }

    private SigV4VerificationResult VerifyCredentialAndSignature(
        SigV4Request request,
        AuthParameters auth,
        string? expectedService,
        IReadOnlySet<string>? expectedServices,
        string? expectedServicesText,
        bool checkSignature,
        Func<string, string?> secretLookup)
    {
        // AWS ignores trailing slashes on the credential.
        var credential = auth.Credential.AsSpan().TrimEnd('/');
        Span<Range> parts = stackalloc Range[6];
        if (credential.Split(parts, '/') != 5)
        {
            return Incomplete(SigV4Messages.CredentialParts(auth.Credential));
        }

        var accessKeyId = credential[parts[0]].ToString();
        var scopeDate = credential[parts[1]];
        var region = credential[parts[2]].ToString();
        var service = credential[parts[3]].ToString();
        var terminator = credential[parts[4]];

        var serviceOk = expectedService is not null ? service == expectedService : expectedServices is null || expectedServices.Contains(service);
        var regionOk = RegionPattern().IsMatch(region);
        var terminatorOk = terminator.SequenceEqual(SigV4Canonicalizer.Terminator);
        var dateOk = scopeDate.SequenceEqual(auth.AmzDate.AsSpan(0, 8));
        if (!(serviceOk && regionOk && terminatorOk && dateOk))
        {
            var messages = new List<string>(4);
            if (!regionOk)
            {
                messages.Add(SigV4Messages.WrongRegion(region));
            }

            if (!serviceOk)
            {
                messages.Add(SigV4Messages.WrongService(expectedServicesText!));
            }

            if (!terminatorOk)
            {
                messages.Add(SigV4Messages.WrongTerminator(terminator.ToString()));
            }

            if (!dateOk)
            {
                messages.Add(SigV4Messages.WrongScopeDate(scopeDate.ToString(), auth.AmzDate));
            }

            return Failure(
                SigV4Outcome.SignatureMismatch, SigV4ErrorCodes.InvalidSignature, string.Join(' ', messages), accessKeyId, region, service);
        }

        var secret = secretLookup(accessKeyId);
        if (secret is null)
        {
            return Failure(
                SigV4Outcome.UnknownAccessKey, SigV4ErrorCodes.UnrecognizedClient, SigV4Messages.UnrecognizedClient, accessKeyId, region, service);
        }

        if (!checkSignature)
        {
            return SigV4VerificationResult.Success(accessKeyId, region, service);
        }

        Span<byte> provided = stackalloc byte[32];
        var signatureIsHex = auth.Signature.Length == 64
            && Convert.FromHexString(auth.Signature, provided, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == 32;

        var buffer = SigV4TextBuffer.Rent();
        try
        {
            Span<char> bodyHash = stackalloc char[64];
            var payloadHash = PayloadHash(request.Body.Span, bodyHash);
            SigV4Canonicalizer.AppendCanonicalRequest(
                buffer, request.Method, request.Path, request.QueryString ?? string.Empty, auth.IsQuery, request.Headers,
                auth.SignedHeaders, payloadHash);
            var canonicalLength = buffer.Length;
            Span<byte> hash = stackalloc byte[32];
            buffer.HashUtf8(0, hash);

            buffer.Append(SigV4Canonicalizer.Algorithm);
            buffer.Append('\n');
            buffer.Append(auth.AmzDate);
            buffer.Append('\n');
            buffer.Append(credential[(parts[0].End.Value + 1)..]);
            buffer.Append('\n');
            Span<char> hashHex = stackalloc char[64];
            Convert.TryToHexStringLower(hash, hashHex, out _);
            buffer.Append(hashHex);

            var signingKey = _signingKeys.Get(secret, scopeDate, region, service);
            Span<byte> expected = stackalloc byte[32];
            buffer.HmacUtf8(signingKey, canonicalLength, expected);

            // Constant time, so response timing reveals nothing about how much of the signature was right.
            if (signatureIsHex && CryptographicOperations.FixedTimeEquals(expected, provided))
            {
                return SigV4VerificationResult.Success(accessKeyId, region, service);
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

    private static bool SignsHost(string signedHeaders)
    {
        foreach (var range in signedHeaders.AsSpan().Split(';'))
        {
            var name = signedHeaders.AsSpan(range);
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
    private static string? FirstUnsignedHeader(IReadOnlyList<KeyValuePair<string, string>> headers, string signedHeaders, bool datedByDateHeader)
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

    private static bool IsSigned(string signedHeaders, string name)
    {
        foreach (var range in signedHeaders.AsSpan().Split(';'))
        {
            if (signedHeaders.AsSpan(range).Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    // The union of the AWS partitions' region patterns (aws, aws-cn, aws-us-gov, aws-iso, -iso-b, -iso-e, -iso-f):
    // us-east-1, cn-north-1, us-gov-west-1, us-isob-east-1, eu-isoe-west-1. The region becomes part of every ARN.
    // \z, not $: $ also matches before a final newline, which a presigned URL's credential can carry (%0A).
    [GeneratedRegex(@"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex RegionPattern();

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

    private readonly record struct AuthParameters(string Credential, string SignedHeaders, string Signature, string AmzDate, bool IsQuery);
}
