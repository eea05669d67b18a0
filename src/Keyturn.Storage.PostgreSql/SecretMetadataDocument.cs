using System.Text.Json.Serialization;
using Keyturn.Domain.Secrets;

namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// A secret's metadata as one JSON column, in the same shape as the embedded store's document (same property names), so a
/// whole-store copy can move it as it is. <see cref="FormatVersion"/> lets it evolve.
/// </summary>
internal sealed class SecretMetadataDocument
{
    public int FormatVersion { get; set; } = 1;
    public string? Description { get; set; }
    public string? KmsKeyId { get; set; }
    public string? Type { get; set; }
    public long LastChangedMs { get; set; }
    public long? LastAccessedMs { get; set; }
    public long? DeletedMs { get; set; }
    public List<SecretTag>? Tags { get; set; }
    public RotationConfiguration? Rotation { get; set; }
    public long? LastRotatedMs { get; set; }
    public long? NextRotationMs { get; set; }
    public string? ResourcePolicy { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SecretMetadataDocument))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class PostgreSqlJsonContext : JsonSerializerContext;
