using System.Text.Json;
using System.Text.Json.Serialization;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Ports;

/// <summary>
/// A secret's metadata as every backend stores it: one JSON document beside the secret's key columns, in the same shape
/// everywhere (so a whole-store copy moves it as it is). <see cref="Document.FormatVersion"/> lets it evolve. Access keys'
/// tags are stored as one JSON object the same way.
/// </summary>
public static class StoredSecretMetadata
{
    public static string Serialize(Secret secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        return JsonSerializer.Serialize(new Document
        {
            Description = secret.Description,
            KmsKeyId = secret.KmsKeyId,
            Type = secret.Type,
            LastChangedMs = secret.LastChangedDate.ToUnixTimeMilliseconds(),
            LastAccessedMs = secret.LastAccessedDate?.ToUnixTimeMilliseconds(),
            DeletedMs = secret.DeletedDate?.ToUnixTimeMilliseconds(),
            Tags = secret.Tags,
            Rotation = secret.Rotation,
            LastRotatedMs = secret.LastRotatedDate?.ToUnixTimeMilliseconds(),
            NextRotationMs = secret.NextRotationDate?.ToUnixTimeMilliseconds(),
            ResourcePolicy = secret.ResourcePolicy,
        }, StoredMetadataJsonContext.Default.Document);
    }

    /// <summary>The secret a stored row describes: its key columns and its metadata document.</summary>
    public static Secret Deserialize(long storeId, string arn, string region, string name, DateTimeOffset created, DateTimeOffset? deletion, string metadata) =>
        FromDocument(storeId, arn, region, name, created, deletion, JsonSerializer.Deserialize(metadata, StoredMetadataJsonContext.Default.Document));

    /// <summary>The same from the document's UTF-8 bytes, as a backend that reads them raw has them: no string, no transcoding.</summary>
    public static Secret Deserialize(long storeId, string arn, string region, string name, DateTimeOffset created, DateTimeOffset? deletion, ReadOnlySpan<byte> utf8Metadata) =>
        FromDocument(storeId, arn, region, name, created, deletion, JsonSerializer.Deserialize(utf8Metadata, StoredMetadataJsonContext.Default.Document));

    private static Secret FromDocument(long storeId, string arn, string region, string name, DateTimeOffset created, DateTimeOffset? deletion, Document? document)
    {
        var d = document ?? throw new InvalidDataException("A secret's metadata is empty.");
        return new Secret(arn, name, region, created)
        {
            StoreId = storeId,
            Description = d.Description,
            KmsKeyId = d.KmsKeyId,
            Type = d.Type,
            LastChangedDate = DateTimeOffset.FromUnixTimeMilliseconds(d.LastChangedMs),
            LastAccessedDate = FromMs(d.LastAccessedMs),
            DeletedDate = FromMs(d.DeletedMs),
            DeletionDate = deletion,
            Tags = d.Tags,
            Rotation = d.Rotation,
            LastRotatedDate = FromMs(d.LastRotatedMs),
            NextRotationDate = FromMs(d.NextRotationMs),
            ResourcePolicy = d.ResourcePolicy,
        };
    }

    public static string? SerializeTags(IReadOnlyDictionary<string, string>? tags) =>
        tags is null ? null : JsonSerializer.Serialize(new Dictionary<string, string>(tags, StringComparer.Ordinal), StoredMetadataJsonContext.Default.DictionaryStringString);

    public static Dictionary<string, string>? DeserializeTags(string? json) =>
        json is null ? null : JsonSerializer.Deserialize(json, StoredMetadataJsonContext.Default.DictionaryStringString);

    private static DateTimeOffset? FromMs(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;

    internal sealed class Document
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
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StoredSecretMetadata.Document))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class StoredMetadataJsonContext : JsonSerializerContext;
