using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Keyturn.Application.Ports;
using Keyturn.Domain.Secrets;
using Npgsql;

namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// Decodes the columns of a secret lookup's rows, reusing what an earlier read of this store decoded from the same bytes:
/// an identifier string (ARN, name, region, version id, label), a secret's metadata document, a version's sealed value.
/// Each column's bytes are copied out of the row just read (<see cref="NpgsqlDataReader.GetBytes(int, long, byte[], int, int)"/>, into a pooled array)
/// and compared with the bytes the reused object was decoded from, so a reuse is exactly what decoding that row would
/// have produced: nothing is served that the statement did not just return, whichever node committed it, and a read sees
/// the latest commit as it did without this. What it saves is the allocation, per read, of the strings, the metadata's
/// bytes and document, and the ciphertext array. Values stay sealed; no plaintext is kept.
/// <para>
/// Bounded: past <see cref="MaxEntries"/> strings, past <see cref="MaxEntries"/> secrets or <see cref="MaxBytes"/> of
/// metadata documents, past <see cref="MaxEntries"/> values or <see cref="MaxBytes"/> of ciphertext, that part starts over
/// empty (a resource policy alone may be 20 KB).
/// </para>
/// </summary>
internal sealed class PostgreSqlRowDecoder
{
    internal const int MaxEntries = 16_384;
    internal const long MaxBytes = 32L * 1024 * 1024;

    // Identifiers this long or shorter are decoded on the stack.
    private const int StackChars = 512;

    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _stringsBySpan;
    private readonly ConcurrentDictionary<long, DecodedMetadata> _metadata = new();
    private readonly ConcurrentDictionary<(long StoreId, string VersionId), StoredValue> _values = new();
    private int _stringCount;
    private int _metadataCount;
    private int _valueCount;
    private long _metadataBytes;
    private long _valueBytes;

    public PostgreSqlRowDecoder() => _stringsBySpan = _strings.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>A text column (not null) as a string: the one decoded before from the same characters, or a new one.</summary>
    public string String(NpgsqlDataReader reader, int ordinal)
    {
        var buffer = Read(reader, ordinal, out var length);
        try
        {
            return Intern(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// A text[] column (not null) as an array of strings, each interned; falls back to Npgsql's decoding for any format
    /// but a one-dimensional binary array without nulls.
    /// </summary>
    public string[] Labels(NpgsqlDataReader reader, int ordinal)
    {
        var buffer = Read(reader, ordinal, out var length);
        try
        {
            return TryLabels(buffer.AsSpan(0, length)) ?? reader.GetFieldValue<string[]>(ordinal);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The secret a row's key columns and metadata document (a jsonb column, not null) describe: a copy of the one decoded
    /// before from the same document and key columns, or a newly decoded one.
    /// </summary>
    public Secret Secret(
        NpgsqlDataReader reader, int metadataOrdinal, long storeId, string arn, string region, string name, DateTimeOffset created, DateTimeOffset? deletion)
    {
        var buffer = Read(reader, metadataOrdinal, out var length);
        try
        {
            var raw = buffer.AsSpan(0, length);

            // jsonb's binary format is a version byte, then the document as text; JSON text never starts with byte 1.
            var document = raw.Length > 0 && raw[0] == 1 ? raw[1..] : raw;
            Secret secret;
            if (_metadata.TryGetValue(storeId, out var cached) && cached.Matches(document, arn, region, name, created))
            {
                secret = cached.Template.CopyWithoutVersions();
            }
            else
            {
                var template = StoredSecretMetadata.Deserialize(storeId, arn, region, name, created, null, document);
                Admit(_metadata, ref _metadataCount, ref _metadataBytes, document.Length);
                _metadata[storeId] = new DecodedMetadata(document.ToArray(), template);
                secret = template.CopyWithoutVersions();
            }

            secret.DeletionDate = deletion;
            return secret;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A bytea column (not null) as a sealed value: the one read before for this version with the same bytes, or a new one.</summary>
    public StoredValue Value(NpgsqlDataReader reader, int ordinal, long storeId, string versionId, SecretValueKind kind)
    {
        var buffer = Read(reader, ordinal, out var length);
        try
        {
            var raw = buffer.AsSpan(0, length);
            var key = (storeId, versionId);
            if (_values.TryGetValue(key, out var cached) && cached.Kind == kind && raw.SequenceEqual(cached.Ciphertext))
            {
                return cached;
            }

            var value = new StoredValue(kind, raw.ToArray());
            Admit(_values, ref _valueCount, ref _valueBytes, length);
            _values[key] = value;
            return value;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Counts one more entry of <paramref name="size"/> bytes; past either bound, that part starts over empty with it.</summary>
    private static void Admit<TKey, TValue>(ConcurrentDictionary<TKey, TValue> entries, ref int count, ref long bytes, long size)
        where TKey : notnull
    {
        if (Interlocked.Increment(ref count) > MaxEntries || Interlocked.Add(ref bytes, size) > MaxBytes)
        {
            entries.Clear();
            Volatile.Write(ref count, 1);
            Volatile.Write(ref bytes, size);
        }
    }

    /// <summary>A column's bytes as the row holds them, in a pooled array the caller returns.</summary>
    private static byte[] Read(NpgsqlDataReader reader, int ordinal, out int length)
    {
        length = checked((int)reader.GetBytes(ordinal, 0, null, 0, 0));
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        var read = reader.GetBytes(ordinal, 0, buffer, 0, length);
        if (read != length)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new InvalidDataException($"Column {ordinal} returned {read} of its {length} bytes.");
        }

        return buffer;
    }

    private string Intern(ReadOnlySpan<byte> utf8)
    {
        var count = Encoding.UTF8.GetCharCount(utf8);
        char[]? rented = null;
        var chars = count <= StackChars ? stackalloc char[count] : (rented = ArrayPool<char>.Shared.Rent(count)).AsSpan(0, count);
        try
        {
            Encoding.UTF8.GetChars(utf8, chars);
            if (_stringsBySpan.TryGetValue(chars, out var known))
            {
                return known;
            }

            var fresh = new string(chars);
            if (Interlocked.Increment(ref _stringCount) > MaxEntries)
            {
                _strings.Clear();
                Volatile.Write(ref _stringCount, 1);
            }

            return _strings.GetOrAdd(fresh, fresh);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    // PostgreSQL's binary array: dimensions, a has-nulls flag, the element type, then per dimension its length and lower
    // bound, then each element as a length and its bytes (all integers big-endian).
    private string[]? TryLabels(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < 12 || BinaryPrimitives.ReadInt32BigEndian(raw) is not (0 or 1) || BinaryPrimitives.ReadInt32BigEndian(raw[4..]) != 0)
        {
            return null;
        }

        if (BinaryPrimitives.ReadInt32BigEndian(raw) == 0)
        {
            return [];
        }

        if (raw.Length < 20)
        {
            return null;
        }

        var count = BinaryPrimitives.ReadInt32BigEndian(raw[12..]);
        var rest = raw[20..];
        if (count < 0 || count > rest.Length / 4)
        {
            return null;
        }

        var labels = new string[count];
        for (var i = 0; i < count; i++)
        {
            var length = rest.Length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(rest) : -1;
            if (length < 0 || length > rest.Length - 4)
            {
                return null;
            }

            labels[i] = Intern(rest.Slice(4, length));
            rest = rest[(4 + length)..];
        }

        return rest.IsEmpty ? labels : null;
    }

    /// <summary>A metadata document's bytes and the secret decoded from them with the row's key columns (never handed out).</summary>
    private sealed class DecodedMetadata(byte[] document, Secret template)
    {
        public Secret Template => template;

        public bool Matches(ReadOnlySpan<byte> current, string arn, string region, string name, DateTimeOffset created) =>
            current.SequenceEqual(document)
            && string.Equals(template.Arn, arn, StringComparison.Ordinal)
            && string.Equals(template.Region, region, StringComparison.Ordinal)
            && string.Equals(template.Name, name, StringComparison.Ordinal)
            && template.CreatedDate == created;
    }
}
