using System.Buffers;
using System.Collections;
using System.Security.Cryptography;
using System.Text.Json;

namespace Keyturn.Application.Storage;

/// <summary>
/// A SHA-256 over items written in one canonical form: each item a JSON array of its fields on its own line (times as
/// Unix milliseconds, bytes as base64), so two stores holding the same data hash the same whatever their backend.
/// </summary>
internal sealed class CanonicalDigest : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly ArrayBufferWriter<byte> _buffer = new();

    public long Count { get; private set; }

    public void Add(params object?[] fields)
    {
        _buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(_buffer))
        {
            Write(writer, fields);
        }

        _hash.AppendData(_buffer.WrittenSpan);
        _hash.AppendData("\n"u8);
        Count++;
    }

    public string Hash() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public void Dispose() => _hash.Dispose();

    private static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case int number:
                writer.WriteNumberValue(number);
                break;
            case long number:
                writer.WriteNumberValue(number);
                break;
            case DateTimeOffset time:
                writer.WriteNumberValue(time.ToUnixTimeMilliseconds());
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                throw new ArgumentException($"No canonical form for {value.GetType().Name}.", nameof(value));
        }
    }
}
