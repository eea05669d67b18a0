using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keyturn.Application.Operations;

namespace Keyturn.Server.Protocol;

/// <summary>
/// Compile-time JSON for every Secrets Manager shape. Member names are AWS's (case-sensitive), and
/// absent members are omitted rather than sent as null.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(EpochSecondsConverter)])]
[JsonSerializable(typeof(CreateSecretRequest))]
[JsonSerializable(typeof(CreateSecretResponse))]
[JsonSerializable(typeof(PutSecretValueRequest))]
[JsonSerializable(typeof(PutSecretValueResponse))]
[JsonSerializable(typeof(UpdateSecretRequest))]
[JsonSerializable(typeof(UpdateSecretResponse))]
[JsonSerializable(typeof(GetSecretValueRequest))]
[JsonSerializable(typeof(GetSecretValueResponse))]
[JsonSerializable(typeof(BatchGetSecretValueRequest))]
[JsonSerializable(typeof(BatchGetSecretValueResponse))]
[JsonSerializable(typeof(DescribeSecretRequest))]
[JsonSerializable(typeof(DescribeSecretResponse))]
[JsonSerializable(typeof(ListSecretsRequest))]
[JsonSerializable(typeof(ListSecretsResponse))]
[JsonSerializable(typeof(ListSecretVersionIdsRequest))]
[JsonSerializable(typeof(ListSecretVersionIdsResponse))]
[JsonSerializable(typeof(UpdateSecretVersionStageRequest))]
[JsonSerializable(typeof(SecretReference))]
[JsonSerializable(typeof(DeleteSecretRequest))]
[JsonSerializable(typeof(DeleteSecretResponse))]
[JsonSerializable(typeof(RestoreSecretRequest))]
[JsonSerializable(typeof(TagResourceRequest))]
[JsonSerializable(typeof(UntagResourceRequest))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(GetRandomPasswordRequest))]
[JsonSerializable(typeof(GetRandomPasswordResponse))]
[JsonSerializable(typeof(GetResourcePolicyRequest))]
[JsonSerializable(typeof(GetResourcePolicyResponse))]
[JsonSerializable(typeof(PutResourcePolicyRequest))]
[JsonSerializable(typeof(DeleteResourcePolicyRequest))]
[JsonSerializable(typeof(ValidateResourcePolicyRequest))]
[JsonSerializable(typeof(ValidateResourcePolicyResponse))]
[JsonSerializable(typeof(RotateSecretRequest))]
[JsonSerializable(typeof(RotateSecretResponse))]
[JsonSerializable(typeof(CancelRotateSecretRequest))]
[JsonSerializable(typeof(ReplicateSecretToRegionsRequest))]
[JsonSerializable(typeof(RemoveRegionsFromReplicationRequest))]
[JsonSerializable(typeof(StopReplicationToReplicaRequest))]
[JsonSerializable(typeof(AwsErrorBody))]
[JsonSerializable(typeof(HealthStatus))]
[JsonSerializable(typeof(ProbeStatus))]
[JsonSerializable(typeof(KeyturnInfo))]
internal sealed partial class AwsJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context the server uses. AWS writes apostrophes and other characters literally
    /// ("can't", not "can\u0027t"); this is an API body, never HTML, so relaxed escaping is safe.
    /// </summary>
    public static AwsJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new EpochSecondsConverter() },
    });
}

/// <summary>The error body AWS sends for Secrets Manager: plain code in <c>__type</c>, capital <c>Message</c>.</summary>
internal sealed record AwsErrorBody([property: JsonPropertyName("__type")] string Type, string Message);

internal sealed record HealthStatus(string Status, string Version);

/// <summary>
/// What <c>/health/live</c> and <c>/health/ready</c> answer a load balancer: "live", "ready" or "not ready" and, when not
/// ready, why. Unauthenticated, so no version, host or connection detail.
/// </summary>
internal sealed record ProbeStatus(string Status, string? Reason = null);

/// <summary>
/// What <c>GET /keyturn/info</c> answers: a client (the doctor) asks an endpoint whether it is Keyturn rather than
/// guessing from its host name. Unauthenticated like <c>/health</c>, so it says nothing <c>/health</c> doesn't.
/// </summary>
internal sealed record KeyturnInfo(string Product, string Version);
