using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Keyturn.Application;
using Keyturn.Application.Operations;
using Keyturn.Domain.Errors;

namespace Keyturn.Server.Protocol;

/// <summary>
/// One service's actions: maps the action in <c>X-Amz-Target</c> (after the service's prefix) to its
/// handler and its compile-time JSON shapes. The constructor that takes the services builds Secrets Manager's.
/// </summary>
public sealed class OperationTable
{
    private readonly Dictionary<string, Func<ReadOnlyMemory<byte>, RequestContext, PooledBufferWriter, CancellationToken, ValueTask>> _routes = new(StringComparer.Ordinal);
    private readonly Func<string, string, byte[]> _errorBody;

    // The routes by the span of X-Amz-Target after the prefix: finding one cuts no substring per request.
    private readonly Dictionary<string, Func<ReadOnlyMemory<byte>, RequestContext, PooledBufferWriter, CancellationToken, ValueTask>>.AlternateLookup<ReadOnlySpan<char>> _routesBySpan;

    private static readonly ArrayBufferWriter<byte> Detached = new(1);

    [ThreadStatic]
    private static Utf8JsonWriter? _threadWriter;

    public const string TargetPrefix = "secretsmanager.";

    /// <param name="service">The SigV4 service name the caller's credential scope must name.</param>
    /// <param name="targetPrefix">The <c>X-Amz-Target</c> prefix, up to and including the dot.</param>
    /// <param name="errorBody">Writes the service's error body from a code and a message (services differ in the message's case).</param>
    public OperationTable(string service, string targetPrefix, Func<string, string, byte[]> errorBody)
    {
        Service = service;
        Prefix = targetPrefix;
        _errorBody = errorBody;
        _routesBySpan = _routes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public OperationTable(IServiceProvider services)
        : this("secretsmanager", TargetPrefix, (code, message) => JsonSerializer.SerializeToUtf8Bytes(new AwsErrorBody(code, message), AwsJsonContext.Wire.AwsErrorBody))
    {
        var json = AwsJsonContext.Wire;
        Add(Get<CreateSecretHandler>(services), json.CreateSecretRequest, json.CreateSecretResponse);
        Add(Get<PutSecretValueHandler>(services), json.PutSecretValueRequest, json.PutSecretValueResponse);
        Add(Get<UpdateSecretHandler>(services), json.UpdateSecretRequest, json.UpdateSecretResponse);
        AddGetSecretValue(Get<GetSecretValueHandler>(services), json.GetSecretValueRequest);
        Add(Get<BatchGetSecretValueHandler>(services), json.BatchGetSecretValueRequest, json.BatchGetSecretValueResponse);
        Add(Get<DescribeSecretHandler>(services), json.DescribeSecretRequest, json.DescribeSecretResponse);
        Add(Get<ListSecretsHandler>(services), json.ListSecretsRequest, json.ListSecretsResponse);
        Add(Get<ListSecretVersionIdsHandler>(services), json.ListSecretVersionIdsRequest, json.ListSecretVersionIdsResponse);
        Add(Get<UpdateSecretVersionStageHandler>(services), json.UpdateSecretVersionStageRequest, json.SecretReference);
        Add(Get<DeleteSecretHandler>(services), json.DeleteSecretRequest, json.DeleteSecretResponse);
        Add(Get<RestoreSecretHandler>(services), json.RestoreSecretRequest, json.SecretReference);
        Add(Get<TagResourceHandler>(services), json.TagResourceRequest, json.EmptyResponse);
        Add(Get<UntagResourceHandler>(services), json.UntagResourceRequest, json.EmptyResponse);
        Add(Get<GetRandomPasswordHandler>(services), json.GetRandomPasswordRequest, json.GetRandomPasswordResponse);
        Add(Get<GetResourcePolicyHandler>(services), json.GetResourcePolicyRequest, json.GetResourcePolicyResponse);
        Add(Get<PutResourcePolicyHandler>(services), json.PutResourcePolicyRequest, json.SecretReference);
        Add(Get<DeleteResourcePolicyHandler>(services), json.DeleteResourcePolicyRequest, json.SecretReference);
        Add(Get<ValidateResourcePolicyHandler>(services), json.ValidateResourcePolicyRequest, json.ValidateResourcePolicyResponse);
        Add(Get<RotateSecretHandler>(services), json.RotateSecretRequest, json.RotateSecretResponse);
        Add(Get<CancelRotateSecretHandler>(services), json.CancelRotateSecretRequest, json.RotateSecretResponse);

        var secrets = Get<SecretServices>(services);
        Add<ReplicateSecretToRegionsRequest, EmptyResponse>(new ReplicationHandler(secrets, "ReplicateSecretToRegions"), json.ReplicateSecretToRegionsRequest, json.EmptyResponse);
        Add<RemoveRegionsFromReplicationRequest, EmptyResponse>(new ReplicationHandler(secrets, "RemoveRegionsFromReplication"), json.RemoveRegionsFromReplicationRequest, json.EmptyResponse);
        Add<StopReplicationToReplicaRequest, EmptyResponse>(new ReplicationHandler(secrets, "StopReplicationToReplica"), json.StopReplicationToReplicaRequest, json.EmptyResponse);
    }

    public string Service { get; }

    public string Prefix { get; }

    public IEnumerable<string> Operations => _routes.Keys;

    public byte[] ErrorBody(string code, string message) => _errorBody(code, message);

    public bool TryGet(ReadOnlySpan<char> operation, out Func<ReadOnlyMemory<byte>, RequestContext, PooledBufferWriter, CancellationToken, ValueTask> route) =>
        _routesBySpan.TryGetValue(operation, out route!);

    private static T Get<T>(IServiceProvider services)
        where T : notnull => (T)(services.GetService(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not registered."));

    /// <summary>Adds an action whose response the serializer writes into the pooled response body.</summary>
    public void Add<TRequest, TResponse>(IOperation<TRequest, TResponse> operation, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType)
        where TRequest : class
    {
        _routes[operation.Name] = async (body, context, output, cancellationToken) =>
        {
            var response = await operation.ExecuteAsync(Parse(body, requestType), context, cancellationToken).ConfigureAwait(false);
            var writer = RentWriter(output, WriterOptions(responseType.Options));
            try
            {
                JsonSerializer.Serialize(writer, response, responseType);
            }
            finally
            {
                ReturnWriter(writer);
            }
        };
    }

    /// <summary>
    /// GetSecretValue writes its value from pooled plaintext straight into the pooled response body and wipes it,
    /// so the value never lives in a string or array of its own.
    /// </summary>
    private void AddGetSecretValue(GetSecretValueHandler handler, JsonTypeInfo<GetSecretValueRequest> requestType)
    {
        var options = WriterOptions(requestType.Options);
        _routes[handler.Name] = (body, context, output, cancellationToken) => GetSecretValueAsync(handler, requestType, options, body, context, output, cancellationToken);
    }

    // Pooled: on a store that answers over the network this frame waits on every GetSecretValue.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask GetSecretValueAsync(
        GetSecretValueHandler handler, JsonTypeInfo<GetSecretValueRequest> requestType, JsonWriterOptions options, ReadOnlyMemory<byte> body, RequestContext context,
        PooledBufferWriter output, CancellationToken cancellationToken)
    {
        using var value = await handler.ExecutePooledAsync(Parse(body, requestType), context, cancellationToken).ConfigureAwait(false);
        var writer = RentWriter(output, options);
        try
        {
            GetSecretValueJson.Write(writer, value);
        }
        finally
        {
            ReturnWriter(writer);
        }
    }

    /// <summary>
    /// This thread's JSON writer, reset onto <paramref name="output"/>: a new Utf8JsonWriter per response was one of
    /// the request path's larger allocations. The write between rent and return is synchronous, so no other request
    /// on this thread can take the writer meanwhile.
    /// </summary>
    private static Utf8JsonWriter RentWriter(PooledBufferWriter output, JsonWriterOptions options)
    {
        var writer = _threadWriter;
        if (writer is null || writer.Options.Indented != options.Indented || !ReferenceEquals(writer.Options.Encoder, options.Encoder))
        {
            return _threadWriter = new Utf8JsonWriter(output, options);
        }

        writer.Reset(output);
        return writer;
    }

    // Flushes, as disposing did: even after a failed write every byte the writer put in the body is counted as
    // written, so the body's wipe covers it. Then points the idle writer at an empty buffer it never writes to, so
    // it holds no reference to a response body (which may have held a value) between requests.
    private static void ReturnWriter(Utf8JsonWriter writer)
    {
        try
        {
            writer.Flush();
        }
        finally
        {
            writer.Reset(Detached);
        }
    }

    private static JsonWriterOptions WriterOptions(JsonSerializerOptions options) =>
        new() { Encoder = options.Encoder, Indented = options.WriteIndented };

    private static TRequest Parse<TRequest>(ReadOnlyMemory<byte> body, JsonTypeInfo<TRequest> requestType)
        where TRequest : class
    {
        TRequest? request;
        try
        {
            request = body.IsEmpty ? JsonSerializer.Deserialize("{}"u8, requestType) : JsonSerializer.Deserialize(body.Span, requestType);
        }
        catch (JsonException e)
        {
            throw new SerializationFailure(e.Path is { Length: > 0 } path
                ? $"Unable to parse the request body: the value at '{path}' is not of the expected type or is malformed."
                : "Unable to parse the request body: it is not a valid JSON object.");
        }

        return request ?? throw new SerializationFailure("The request body must be a JSON object.");
    }
}

/// <summary>A body that isn't the JSON the operation expects (AWS: SerializationException).</summary>
public sealed class SerializationFailure(string message) : Exception(message);

/// <summary>Maps error kinds to HTTP status: every client error is 400, service faults are 500.</summary>
public static class ErrorStatus
{
    public static int For(ErrorKind kind) => kind == ErrorKind.InternalServiceError ? 500 : 400;
}
