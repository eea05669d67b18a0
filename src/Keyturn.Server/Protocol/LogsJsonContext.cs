using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keyturn.Application.Logs;

namespace Keyturn.Server.Protocol;

/// <summary>
/// Compile-time JSON for the CloudWatch Logs shapes Keyturn serves. Logs names members in
/// camelCase and sends times as epoch milliseconds (plain integers), unlike Secrets Manager.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DescribeLogGroupsRequest))]
[JsonSerializable(typeof(DescribeLogGroupsResponse))]
[JsonSerializable(typeof(DescribeLogStreamsRequest))]
[JsonSerializable(typeof(DescribeLogStreamsResponse))]
[JsonSerializable(typeof(GetLogEventsRequest))]
[JsonSerializable(typeof(GetLogEventsResponse))]
[JsonSerializable(typeof(FilterLogEventsRequest))]
[JsonSerializable(typeof(FilterLogEventsResponse))]
[JsonSerializable(typeof(LogsErrorBody))]
internal sealed partial class LogsJsonContext : JsonSerializerContext
{
    /// <summary>The context the server uses, with the same relaxed escaping as <see cref="AwsJsonContext.Wire"/>.</summary>
    public static LogsJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>The error body CloudWatch Logs sends: plain code in <c>__type</c>, lowercase <c>message</c>.</summary>
internal sealed record LogsErrorBody([property: JsonPropertyName("__type")] string Type, [property: JsonPropertyName("message")] string Message);
