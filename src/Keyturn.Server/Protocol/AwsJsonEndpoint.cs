using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Keyturn.Application;
using Keyturn.Application.Security;
using Keyturn.Domain.Errors;
using Keyturn.Protocol.SigV4;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Keyturn.Server.Protocol;

/// <summary>
/// <c>POST /</c> for AWS JSON 1.1: checks the signature's headers and access key, reads the body (bounded in
/// size and time), verifies SigV4, dispatches on <c>X-Amz-Target</c> (to the service its prefix names) and
/// writes AWS-shaped results. Every failure becomes a JSON error with a 4xx status (5xx only for genuine
/// faults); no body content is ever logged.
/// </summary>
public sealed partial class AwsJsonEndpoint(
    ServiceDirectory directory,
    SigV4Verifier verifier,
    AccessKeyService accessKeys,
    TimeProvider timeProvider,
    ILogger<AwsJsonEndpoint> logger)
{
    /// <summary>The largest request accepted: a 64 KiB binary value is ~88 KiB as base64, plus room for the rest.</summary>
    public const int MaxBodyBytes = 256 * 1024;

    /// <summary>
    /// How long a whole body may take to arrive. Kestrel's minimum data rate stops a client that trickles bytes;
    /// this stops one that sends just above that rate and would hold a request open for many minutes.
    /// </summary>
    public static readonly TimeSpan BodyReadTimeout = TimeSpan.FromSeconds(30);

    private const string ContentType = "application/x-amz-json-1.1";

    public Task HandleAsync(HttpContext http)
    {
        var handled = HandlePooledAsync(http);
        if (handled.IsCompletedSuccessfully)
        {
            handled.GetAwaiter().GetResult();
            return Task.CompletedTask;
        }

        return handled.AsTask();
    }

    // Pooled: when the store answers over the network this frame waits on every request, and as an ordinary async
    // method it was one of the request's larger allocations; what remains per such request is the Task Kestrel awaits.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HandlePooledAsync(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var requestId = RequestIds.Next();
        http.Response.Headers["x-amzn-RequestId"] = requestId;
        var target = http.Request.Headers["X-Amz-Target"].ToString();
        var table = directory.For(target);
        string? accessKeyId = null;
        int status;
        string? errorCode = null;
        var body = default(BodyRead);
        using var output = new PooledBufferWriter();
        var headers = RequestHeaderList.Rent(http.Request);

        try
        {
            // Everything but the signature is checked before the body is read, so a caller without a known key and
            // a well-formed, fully signed Authorization never makes Keyturn buffer (or wait for) a body.
            // Credentials must be scoped to the service named by X-Amz-Target (AWS says so in its own words).
            var service = table?.Service;
            var headersOnly = ToSigV4Request(http, headers, ReadOnlyMemory<byte>.Empty);
            var (rejected, key) = await verifier.RejectBeforeBodyAsync(headersOnly, service, http.RequestAborted, rememberKey: true).ConfigureAwait(false);
            if (rejected is not null)
            {
                accessKeyId = rejected.AccessKeyId;
                (status, errorCode) = await WriteErrorAsync(http, table, rejected.HttpStatus, rejected.ErrorCode!, rejected.ErrorMessage!).ConfigureAwait(false);
                return;
            }

            body = await ReadBodyAsync(http.Request, timeProvider, http.RequestAborted).ConfigureAwait(false);
            if (body.Failure is { } failure)
            {
                (status, errorCode) = await WriteErrorAsync(http, table, failure.Status, failure.Code, failure.Message).ConfigureAwait(false);
                return;
            }

            var sigV4Request = headersOnly with { Body = body.Bytes };
            var verification = await verifier.VerifyAsync(sigV4Request, service, key, http.RequestAborted).ConfigureAwait(false);
            accessKeyId = verification.AccessKeyId;
            if (!verification.IsSuccess)
            {
                (status, errorCode) = await WriteErrorAsync(http, table, verification.HttpStatus, verification.ErrorCode!, verification.ErrorMessage!).ConfigureAwait(false);
                return;
            }

            if (table is null || !table.TryGet(target.AsSpan(table.Prefix.Length), out var route))
            {
                (status, errorCode) = await WriteErrorAsync(http, table, 400, "UnknownOperationException",
                    target.Length == 0 ? "The X-Amz-Target header is missing." : "The operation in X-Amz-Target is not supported.").ConfigureAwait(false);
                return;
            }

            if (await accessKeys.ResolveAsync(verification.AccessKeyId!, http.RequestAborted).ConfigureAwait(false) is not { } resolved)
            {
                // Revoked or expired since the signature was checked (the key cache turned over in between): refused as
                // an unknown key, as the next request will be, not a fault.
                (status, errorCode) = await WriteErrorAsync(http, table, 400, SigV4ErrorCodes.UnrecognizedClient, "The security token included in the request is invalid.").ConfigureAwait(false);
                return;
            }

            var context = new RequestContext(
                requestId, verification.Region!, resolved.Identity, ClientAddress(http), http.Request.IsHttps);
            await route(body.Bytes, context, output, http.RequestAborted).ConfigureAwait(false);

            http.Response.StatusCode = status = 200;
            http.Response.ContentType = ContentType;
            http.Response.ContentLength = output.WrittenCount;
            await http.Response.Body.WriteAsync(output.WrittenMemory, http.RequestAborted).ConfigureAwait(false);
        }
        catch (ServiceException e)
        {
            (status, errorCode) = await WriteErrorAsync(http, table, ErrorStatus.For(e.Kind), ErrorCodes.For(e.Kind), e.Message).ConfigureAwait(false);
        }
        catch (SerializationFailure e)
        {
            (status, errorCode) = await WriteErrorAsync(http, table, 400, "SerializationException", e.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            status = 499;
        }
        catch (Exception e)
        {
            // Our exceptions never carry secret values; log the type and message for the operator.
            LogFault(logger, requestId, target, e.GetType().Name, e.Message);
            (status, errorCode) = await WriteErrorAsync(http, table, 500, "InternalServiceError",
                $"An error occurred on the server side (request id {requestId}).").ConfigureAwait(false);
        }
        finally
        {
            // The body may hold a secret value (PutSecretValue, CreateSecret): wiped before the pool hands it on.
            body.Return();
            RequestHeaderList.Return(headers);
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (status < 400)
        {
            LogRequest(logger, requestId, target, accessKeyId ?? "-", status, elapsed);
        }
        else
        {
            LogRejected(logger, requestId, target, accessKeyId ?? "-", status, errorCode ?? "-", elapsed);
        }
    }

    /// <summary>
    /// Reads the whole body, or says which client error stops it: too large (413), too slow (408) or not valid
    /// HTTP framing, such as a malformed chunk (400). Kestrel reports its own limits as
    /// <see cref="BadHttpRequestException"/>, which must never surface as a 500.
    /// </summary>
    private static async ValueTask<BodyRead> ReadBodyAsync(HttpRequest request, TimeProvider timeProvider, CancellationToken aborted)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return BodyRead.Failed(TooLarge);
        }

        if (TryTakeBuffered(request) is { } buffered)
        {
            return buffered;
        }

        using var deadline = new CancellationTokenSource(BodyReadTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, deadline.Token);

        // Pooled: a fresh buffer per request was the largest allocation on the GetSecretValue path.
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max((int)(request.ContentLength ?? 0) + 1, 4096));
        var written = 0;
        try
        {
            while (true)
            {
                if (written == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, written).CopyTo(larger);
                    Wipe(buffer, written);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(written), linked.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    var body = new BodyRead(buffer, written, null);
                    buffer = null;
                    return body;
                }

                written += read;
                if (written > MaxBodyBytes)
                {
                    return BodyRead.Failed(TooLarge);
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            return BodyRead.Failed(TimedOut);
        }
        catch (BadHttpRequestException e)
        {
            return BodyRead.Failed(e.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => TooLarge,
                StatusCodes.Status408RequestTimeout => TimedOut,
                _ => new ClientError(400, "SerializationException", "The request body could not be read: " + e.Message),
            });
        }
        finally
        {
            if (buffer is not null)
            {
                Wipe(buffer, written);
            }
        }
    }

    /// <summary>
    /// A small body usually arrives with its headers: when Kestrel already holds all of it, it is taken at once, with
    /// no deadline to arm (two cancellation sources and a timer per request otherwise). Null when more is to come.
    /// </summary>
    private static BodyRead? TryTakeBuffered(HttpRequest request)
    {
        if (request.ContentLength is not { } length)
        {
            return null;
        }

        try
        {
            var reader = request.BodyReader;
            if (!reader.TryRead(out var result))
            {
                return null;
            }

            var buffered = result.Buffer;
            if (buffered.Length != length)
            {
                // Nothing consumed or examined: the read loop starts from the same bytes.
                reader.AdvanceTo(buffered.Start);
                return null;
            }

            var array = ArrayPool<byte>.Shared.Rent(Math.Max((int)length + 1, 4096));
            buffered.CopyTo(array);
            reader.AdvanceTo(buffered.End);
            return new BodyRead(array, (int)length, null);
        }
        catch (BadHttpRequestException)
        {
            // Kestrel refused the body (its size limit, a broken connection): the read loop meets the same refusal and answers it.
            return null;
        }
    }

    private static void Wipe(byte[] buffer, int written)
    {
        CryptographicOperations.ZeroMemory(buffer.AsSpan(0, Math.Min(written, buffer.Length)));
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private static readonly ClientError TooLarge =
        new(413, "RequestEntityTooLargeException", $"The request body is larger than the {MaxBodyBytes} bytes Keyturn accepts.");

    private static readonly ClientError TimedOut =
        new(408, "RequestTimeoutException", "The request body did not arrive in time.");

    private sealed record ClientError(int Status, string Code, string Message);

    /// <summary>A body in a pooled array (or the failure that stopped it); <see cref="Return"/> wipes and returns the array.</summary>
    private readonly record struct BodyRead(byte[]? Array, int Length, ClientError? Failure)
    {
        public ReadOnlyMemory<byte> Bytes => Array.AsMemory(0, Length);

        public static BodyRead Failed(ClientError failure) => new(null, 0, failure);

        public void Return()
        {
            if (Array is not null)
            {
                Wipe(Array, Length);
            }
        }
    }

    /// <summary>The request as SigV4 reads it, over <paramref name="headers"/> (from <see cref="RequestHeaderList.Rent"/>).</summary>
    internal static SigV4Request ToSigV4Request(HttpContext http, RequestHeaderList headers, ReadOnlyMemory<byte> body)
    {
        var request = http.Request;

        // Clients sign the path as sent (still percent-encoded), so use the raw request target.
        var rawTarget = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "/";
        var queryStart = rawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = queryStart >= 0 ? rawTarget[..queryStart] : rawTarget;
        var query = queryStart >= 0 ? rawTarget[(queryStart + 1)..] : "";
        return new SigV4Request(request.Method, path.Length == 0 ? "/" : path, query, headers, body);
    }

    /// <summary>aws:SourceIp: the peer's address, with an IPv4 client on a dual-stack socket shown as IPv4.</summary>
    private static string? ClientAddress(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } address
            ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString()
            : null;

    private static async Task<(int, string)> WriteErrorAsync(HttpContext http, OperationTable? table, int status, string code, string message)
    {
        if (http.Response.HasStarted)
        {
            return (status, code);
        }

        http.Response.StatusCode = status;
        http.Response.ContentType = ContentType;
        http.Response.Headers["x-amzn-ErrorType"] = code;
        var bytes = table?.ErrorBody(code, message) ?? JsonSerializer.SerializeToUtf8Bytes(new AwsErrorBody(code, message), AwsJsonContext.Wire.AwsErrorBody);
        http.Response.ContentLength = bytes.Length;
        await http.Response.Body.WriteAsync(bytes, http.RequestAborted).ConfigureAwait(false);
        return (status, code);
    }

    // Successful requests log at Debug: at thousands of requests a second, Information would cost more than the work.
    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug,
        Message = "request {RequestId} target={Target} key={AccessKeyId} status={Status} duration_ms={DurationMs:F2}")]
    private static partial void LogRequest(ILogger logger, string requestId, string target, string accessKeyId, int status, double durationMs);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information,
        Message = "request {RequestId} target={Target} key={AccessKeyId} status={Status} error={ErrorCode} duration_ms={DurationMs:F2}")]
    private static partial void LogRejected(ILogger logger, string requestId, string target, string accessKeyId, int status, string errorCode, double durationMs);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "request {RequestId} target={Target} failed with {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogFault(ILogger logger, string requestId, string target, string exceptionType, string exceptionMessage);
}
