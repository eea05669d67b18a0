using System.Buffers;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
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
    /// <param name="pool">Where the escaped copy of a SecretString is made (and wiped before it goes back).</param>
    public static void Write(Utf8JsonWriter writer, PooledSecretValue value, ArrayPool<byte>? pool = null)
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
            writer.WritePropertyName("SecretString"u8);
            WriteEscaped(writer, value.Plaintext, pool ?? ArrayPool<byte>.Shared);
        }

        if (value.VersionStages is { } stages)
        {
            writer.WriteStartArray("VersionStages"u8);
            for (var i = 0; i < stages.Count; i++)
            {
                writer.WriteStringValue(stages[i]);
            }

            writer.WriteEndArray();
        }

        writer.WritePropertyName("CreatedDate"u8);
        EpochSecondsConverter.WriteValue(writer, value.CreatedDate);
        writer.WriteEndObject();
    }

    /// <summary>
    /// The value escaped with the writer's own encoder, as WriteString would, but into a pooled array this method wipes:
    /// Utf8JsonWriter escapes a long value into an array of the shared pool that it returns without clearing.
    /// </summary>
    private static void WriteEscaped(Utf8JsonWriter writer, ReadOnlySpan<byte> utf8, ArrayPool<byte> pool)
    {
        var encoder = writer.Options.Encoder ?? JavaScriptEncoder.Default;
        // An escape is at most six bytes (\uXXXX) per input byte, plus the quotes.
        var buffer = pool.Rent((utf8.Length * 6) + 2);
        var written = 0;
        try
        {
            buffer[0] = (byte)'"';
            var status = encoder.EncodeUtf8(utf8, buffer.AsSpan(1, buffer.Length - 2), out _, out written, isFinalBlock: true);
            if (status != OperationStatus.Done)
            {
                throw new InvalidOperationException($"The secret value could not be escaped ({status}).");
            }

            buffer[written + 1] = (byte)'"';
            writer.WriteRawValue(buffer.AsSpan(0, written + 2), skipInputValidation: true);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, Math.Min(buffer.Length, (utf8.Length * 6) + 2)));
            pool.Return(buffer);
        }
    }
}
