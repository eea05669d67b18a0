using System.Text.Json;
using Keyturn.Application.Operations;
using Keyturn.Domain.Secrets;

namespace Keyturn.Server.Protocol;

/// <summary>
/// Writes GetSecretValue's response from pooled plaintext, byte for byte what the serializer writes for
/// <see cref="GetSecretValueResponse"/> (member order, omitted nulls, epoch-second CreatedDate, relaxed escaping),
/// without a string or array holding the value.
/// </summary>
public static class GetSecretValueJson
{
    public static void Write(Utf8JsonWriter writer, PooledSecretValue value)
    {
        writer.WriteStartObject();
        writer.WriteString("ARN"u8, value.ARN);
        writer.WriteString("Name"u8, value.Name);
        writer.WriteString("VersionId"u8, value.VersionId);
        if (value.Kind == SecretValueKind.Binary)
        {
            writer.WriteBase64String("SecretBinary"u8, value.Plaintext);
        }
        else
        {
            writer.WriteString("SecretString"u8, value.Plaintext);
        }

        if (value.VersionStages is { } stages)
        {
            writer.WriteStartArray("VersionStages"u8);
            foreach (var stage in stages)
            {
                writer.WriteStringValue(stage);
            }

            writer.WriteEndArray();
        }

        writer.WritePropertyName("CreatedDate"u8);
        EpochSecondsConverter.WriteValue(writer, value.CreatedDate);
        writer.WriteEndObject();
    }
}
