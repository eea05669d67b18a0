using System.Text.Json.Serialization;

namespace Keyturn.Bench;

/// <summary>What one <c>load</c> process measured; printed as one JSON object on stdout.</summary>
internal sealed record LoadResult(
    string Operation,
    int Connections,
    int ConnectionsOpened,
    double DurationS,
    long Requests,
    double Rps,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double MaxMs,
    double MeanMs,
    long Errors,
    long WarmupErrors,
    long TotalRequests,
    int PutSecrets,
    Dictionary<string, long> ErrorCodes,
    double ProcessCpuS);

/// <summary>What one <c>seed</c> process did.</summary>
internal sealed record SeedResult(string Mode, int Count, double Seconds, double Rate, long Errors, long Existing, Dictionary<string, long> ErrorCodes);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(LoadResult))]
[JsonSerializable(typeof(SeedResult))]
internal sealed partial class ResultJson : JsonSerializerContext;

internal sealed record CreateSecretBody(string Name, string SecretString, string ClientRequestToken);

internal sealed record PutSecretValueBody(string SecretId, string SecretString, string ClientRequestToken);

internal sealed record GetSecretValueBody(string SecretId);

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateSecretBody))]
[JsonSerializable(typeof(PutSecretValueBody))]
[JsonSerializable(typeof(GetSecretValueBody))]
internal sealed partial class WireJson : JsonSerializerContext;

/// <summary>The request bodies every command sends.</summary>
internal static class Bodies
{
    /// <summary>A typical database credential, about 100 bytes.</summary>
    public const string SecretValue = """{"engine":"postgres","host":"db.internal","port":5432,"username":"app","password":"Zs8#kq2LmW9vXe4RtY7uPo1A"}""";

    public static byte[] Get(string secretId) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new GetSecretValueBody(secretId), WireJson.Default.GetSecretValueBody);

    public static byte[] Put(string secretId) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new PutSecretValueBody(secretId, SecretValue, Guid.NewGuid().ToString()), WireJson.Default.PutSecretValueBody);

    public static byte[] Create(string name) =>
        System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new CreateSecretBody(name, SecretValue, Guid.NewGuid().ToString()), WireJson.Default.CreateSecretBody);

    public static string Name(string prefix, int index) => prefix + index.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
}
