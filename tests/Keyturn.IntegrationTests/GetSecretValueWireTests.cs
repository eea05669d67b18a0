using System.Buffers;
using System.Text;
using System.Text.Json;
using Keyturn.Application.Crypto;
using Keyturn.Application.Operations;
using Keyturn.Domain.Secrets;
using Keyturn.Server.Protocol;

namespace Keyturn.IntegrationTests;

/// <summary>
/// GetSecretValue writes its value from pooled plaintext instead of through the serializer: the bytes on the wire
/// must stay exactly the serializer's, and every pooled array that held the value must be wiped when it goes back.
/// </summary>
public sealed class GetSecretValueWireTests
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";
    private static readonly EnvelopeCipher Cipher = new(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    public static TheoryData<string, string?, bool> Values => new()
    {
        { "a plain string", """{"username":"app","password":"p4ss"}""", true },
        { "quotes, backslashes and control characters are escaped", "say \"hi\"\\ \n\t\r\u0001\u001f end", true },
        { "HTML-significant characters and apostrophes stay literal (relaxed escaping)", "<a href='x'>&amp;</a> + can't", true },
        { "non-ASCII text and a surrogate pair", "pässwörd 密码 😀 \u2028", true },
        { "an empty string", "", true },
        { "a value without staging labels", "orphan", false },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void SecretString_IsTheSerializersBytes(string because, string? value, bool staged)
    {
        var stages = staged ? new[] { "AWSCURRENT", "custom-label" } : null;
        var created = DateTimeOffset.FromUnixTimeMilliseconds(1_764_892_800_123);
        var expected = JsonSerializer.SerializeToUtf8Bytes(
            new GetSecretValueResponse(Arn, "prod/db", "v-1", null, value, stages, created), AwsJsonContext.Wire.GetSecretValueResponse);

        var actual = WritePooled(SecretValueKind.String, Encoding.UTF8.GetBytes(value!), stages, created, ArrayPool<byte>.Shared);

        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{because}: {Encoding.UTF8.GetString(actual)}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4096)]
    public void SecretBinary_IsTheSerializersBytes(int length)
    {
        var value = Enumerable.Range(0, length).Select(i => (byte)(i * 7 + 250)).ToArray();
        var created = DateTimeOffset.FromUnixTimeSeconds(1_764_892_800);
        var expected = JsonSerializer.SerializeToUtf8Bytes(
            new GetSecretValueResponse(Arn, "prod/db", "v-2", value, null, ["AWSPREVIOUS"], created), AwsJsonContext.Wire.GetSecretValueResponse);

        var actual = WritePooled(SecretValueKind.Binary, value, ["AWSPREVIOUS"], created, ArrayPool<byte>.Shared);

        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(SecretValueKind.String, 40)]
    [InlineData(SecretValueKind.String, 60_000)]
    [InlineData(SecretValueKind.Binary, 60_000)]
    public void EveryPooledArrayThatHeldTheValue_IsWipedBeforeItGoesBack(SecretValueKind kind, int length)
    {
        // Quotes make the value need escaping, which is where an escaped copy of it is made.
        var value = Enumerable.Range(0, length).Select(i => i % 10 == 0 ? (byte)'"' : (byte)'s').ToArray();
        var pool = new RecordingPool();

        var written = WritePooled(kind, value, ["AWSCURRENT"], DateTimeOffset.UnixEpoch, pool);

        Assert.Contains(kind == SecretValueKind.Binary ? "InNzc3Nz" : "sssssssss\\\"", Encoding.ASCII.GetString(written), StringComparison.Ordinal);
        Assert.True(pool.Rented >= 2, "the plaintext and the response body come from the pool");
        Assert.Equal(pool.Rented, pool.Returned.Count);
        Assert.All(pool.Returned, returned => Assert.True(returned.All(b => b == 0), "an array went back to the pool with bytes left in it"));
    }

    [Fact]
    public void AnEscapedSecretString_LeavesNoCopyInTheSharedPool()
    {
        // Utf8JsonWriter.WriteString escapes a long value into an array of ArrayPool<byte>.Shared and returns it uncleared;
        // renting that size again on this thread hands back the same array, so a copy left there would show.
        const string Marker = "Zq9-unique-password-marker";
        var value = Encoding.UTF8.GetBytes("{\"username\":\"app\",\"password\":\"" + Marker + new string('x', 200) + "\\\"}");

        var written = WritePooled(SecretValueKind.String, value, ["AWSCURRENT"], DateTimeOffset.UnixEpoch, ArrayPool<byte>.Shared);

        Assert.Contains(Marker, Encoding.UTF8.GetString(written), StringComparison.Ordinal);
        foreach (var size in new[] { value.Length * 6, (value.Length * 6) + 2, 1 + (6 * (value.Length - 1)) })
        {
            var probe = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                Assert.DoesNotContain(Marker, Encoding.UTF8.GetString(probe), StringComparison.Ordinal);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(probe);
            }
        }
    }

    /// <summary>The server's path: decrypt into the pool, write the response into a pooled body, dispose both.</summary>
    private static byte[] WritePooled(SecretValueKind kind, byte[] value, string[]? stages, DateTimeOffset created, ArrayPool<byte> pool)
    {
        var blob = Cipher.Encrypt(value, "context");
        using var body = new PooledBufferWriter(pool, initialCapacity: 256);
        using (var secret = new PooledSecretValue(Arn, "prod/db", kind == SecretValueKind.Binary ? "v-2" : "v-1", kind,
            Cipher.DecryptPooled(blob, "context", pool), stages, created))
        {
            using var writer = new Utf8JsonWriter(body, new JsonWriterOptions { Encoder = AwsJsonContext.Wire.Options.Encoder });
            GetSecretValueJson.Write(writer, secret, pool);
        }

        return body.WrittenMemory.ToArray();
    }

    /// <summary>A pool that hands out fresh arrays and keeps a snapshot of each one as it comes back.</summary>
    private sealed class RecordingPool : ArrayPool<byte>
    {
        public int Rented { get; private set; }

        public List<byte[]> Returned { get; } = [];

        public override byte[] Rent(int minimumLength)
        {
            Rented++;
            return new byte[minimumLength];
        }

        public override void Return(byte[] array, bool clearArray = false) => Returned.Add((byte[])array.Clone());
    }
}
