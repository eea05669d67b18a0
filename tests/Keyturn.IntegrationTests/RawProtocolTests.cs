using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Protocol.SigV4;
using Microsoft.Extensions.Time.Testing;

namespace Keyturn.IntegrationTests;

/// <summary>The wire contract below the SDKs: error bodies, status codes, omitted members, authentication.</summary>
[Collection(ServerCollection.Name)]
public sealed class RawProtocolTests(ServerFixture fixture) : IDisposable
{
    private const string MissingToken = """{"__type":"InvalidRequestException","Message":"You must provide a ClientRequestToken value. We recommend a UUID-type value."}""";

    private readonly RawClient _client = new(fixture.Server);

    public void Dispose() => _client.Dispose();

    [Theory]
    [InlineData("CreateSecret", """{"Name":"raw-no-token","SecretString":"x"}""")]
    [InlineData("PutSecretValue", """{"SecretId":"raw-does-not-exist","SecretString":"x"}""")]
    [InlineData("UpdateSecret", """{"SecretId":"raw-does-not-exist","SecretString":"x"}""")]
    public async Task ValueWrite_WithoutClientRequestToken_ExactAwsBody(string operation, string body)
    {
        var reply = await _client.SendAsync(operation, body);

        Assert.Equal(400, reply.Status);
        Assert.Equal(MissingToken, reply.Body);
        Assert.Equal("application/x-amz-json-1.1", reply.ContentType);
        Assert.True(Guid.TryParse(reply.Headers.GetValues("x-amzn-RequestId").Single(), out _));
    }

    [Fact]
    public async Task RotateSecret_WithoutClientRequestToken_IsInvalidParameter()
    {
        var reply = await _client.SendAsync("RotateSecret", """{"SecretId":"raw-does-not-exist"}""");

        Assert.Equal(400, reply.Status);
        Assert.Equal("""{"__type":"InvalidParameterException","Message":"You must provide a ClientRequestToken value. We recommend a UUID-type value."}""", reply.Body);
    }

    [Fact]
    public async Task Responses_OmitAbsentMembers_AndUseEpochSeconds()
    {
        var created = await _client.SendAsync("CreateSecret", """{"Name":"raw-shape","Description":""}""");
        Assert.Equal(200, created.Status);
        Assert.Equal(["ARN", "Name"], created.Json.EnumerateObject().Select(p => p.Name));
        Assert.DoesNotContain("null", created.Body, StringComparison.Ordinal);
        Assert.Equal("application/x-amz-json-1.1", created.ContentType);

        var described = (await _client.SendAsync("DescribeSecret", """{"SecretId":"raw-shape"}""")).Json;
        Assert.Equal(["ARN", "CreatedDate", "LastChangedDate", "Name"], described.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.Number, described.GetProperty("CreatedDate").ValueKind);
        var seconds = described.GetProperty("CreatedDate").GetDouble();
        Assert.InRange(seconds, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task SecretBinary_IsBase64OnTheWire()
    {
        var token = Guid.NewGuid().ToString();
        await _client.SendAsync("CreateSecret", $$"""{"Name":"raw-binary","ClientRequestToken":"{{token}}","SecretBinary":"Zm9vdGVzdA=="}""");

        var value = (await _client.SendAsync("GetSecretValue", """{"SecretId":"raw-binary"}""")).Json;

        Assert.Equal("Zm9vdGVzdA==", value.GetProperty("SecretBinary").GetString());
        Assert.False(value.TryGetProperty("SecretString", out _));
    }

    [Fact]
    public async Task NotFound_Is400_NotA404()
    {
        var reply = await _client.SendAsync("GetSecretValue", """{"SecretId":"raw-nothing-here"}""");

        Assert.Equal(400, reply.Status);
        Assert.Equal("""{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}""", reply.Body);
    }

    [Theory]
    [InlineData("{not json", "SerializationException")]
    [InlineData("[1,2,3]", "SerializationException")]
    [InlineData("""{"SecretId":12}""", "SerializationException")]
    [InlineData("""{"SecretId":"a","VersionId":{"x":1}}""", "SerializationException")]
    [InlineData("""{}""", "ValidationException")]
    public async Task MalformedBodies_AreClientErrors(string body, string code)
    {
        var reply = await _client.SendAsync("GetSecretValue", body);

        Assert.Equal(400, reply.Status);
        Assert.Equal(code, reply.Json.GetProperty("__type").GetString());
        Assert.False(string.IsNullOrEmpty(reply.Json.GetProperty("Message").GetString()));
    }

    // The operation after the prefix must name a route exactly: same case, nothing more or less.
    [Theory]
    [InlineData("StealAllSecrets")]
    [InlineData("getsecretvalue")]
    [InlineData("GETSECRETVALUE")]
    [InlineData("GetSecretValue2")]
    [InlineData("GetSecretValue.")]
    [InlineData("GetSecret")]
    [InlineData("")]
    public async Task UnknownTarget_IsUnknownOperation(string operation)
    {
        var reply = await _client.SendAsync(operation, "{}");

        Assert.Equal(400, reply.Status);
        Assert.Equal("UnknownOperationException", reply.Json.GetProperty("__type").GetString());
        Assert.Equal("The operation in X-Amz-Target is not supported.", reply.Json.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task MissingTarget_IsUnknownOperation()
    {
        var reply = await _client.SendAsync(null, "{}"u8.ToArray());

        Assert.Equal(400, reply.Status);
        Assert.Equal("UnknownOperationException", reply.Json.GetProperty("__type").GetString());
        Assert.Equal("The X-Amz-Target header is missing.", reply.Json.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task OversizedBody_Is413Json()
    {
        var huge = "{\"SecretId\":\"x\",\"SecretString\":\"" + new string('a', 600_000) + "\"}";

        var reply = await _client.SendAsync("PutSecretValue", huge);

        Assert.Equal(413, reply.Status);
        Assert.Equal("RequestEntityTooLargeException", reply.Json.GetProperty("__type").GetString());
    }

    [Fact]
    public async Task OversizedSecretString_IsValidationException()
    {
        var body = "{\"Name\":\"raw-too-big\",\"ClientRequestToken\":\"" + Guid.NewGuid() + "\",\"SecretString\":\"" + new string('a', 65537) + "\"}";

        var reply = await _client.SendAsync("CreateSecret", body);

        Assert.Equal(400, reply.Status);
        Assert.Equal("ValidationException", reply.Json.GetProperty("__type").GetString());
    }

    [Fact]
    public async Task Unsigned_IsMissingAuthenticationToken()
    {
        using var http = new HttpClient();
        using var content = new StringContent("{}", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        content.Headers.Add("X-Amz-Target", "secretsmanager.ListSecrets");

        using var response = await http.PostAsync(new Uri(fixture.Server.Endpoint + "/"), content);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("MissingAuthenticationTokenException", body.GetProperty("__type").GetString());
    }

    [Fact]
    public async Task UnknownKey_IsUnrecognizedClient()
    {
        using var client = new RawClient(fixture.Server, "AKIANOTAREALKEY00000", "whatever");

        var reply = await client.SendAsync("ListSecrets", "{}");

        Assert.Equal(400, reply.Status);
        Assert.Equal("""{"__type":"UnrecognizedClientException","Message":"The security token included in the request is invalid."}""", reply.Body);
    }

    [Fact]
    public async Task WrongSecretKey_IsInvalidSignature()
    {
        using var client = new RawClient(fixture.Server, fixture.Server.AccessKeyId, "not-the-secret");

        var reply = await client.SendAsync("ListSecrets", "{}");

        Assert.Equal(400, reply.Status);
        Assert.Equal("InvalidSignatureException", reply.Json.GetProperty("__type").GetString());
        Assert.DoesNotContain(fixture.Server.SecretAccessKey, reply.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClockSkewBeyondFiveMinutes_IsRejected()
    {
        using var past = new RawClient(fixture.Server, clock: new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-6)));
        using var future = new RawClient(fixture.Server, clock: new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(6)));

        var expired = await past.SendAsync("ListSecrets", "{}");
        var early = await future.SendAsync("ListSecrets", "{}");

        Assert.Equal(400, expired.Status);
        Assert.StartsWith("Signature expired:", expired.Json.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, early.Status);
        Assert.StartsWith("Signature not yet current:", early.Json.GetProperty("Message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_AnswersWithoutAuthentication()
    {
        using var http = new HttpClient();
        var body = JsonDocument.Parse(await http.GetStringAsync(new Uri(fixture.Server.Endpoint + "/health"))).RootElement;

        Assert.Equal("ok", body.GetProperty("Status").GetString());
    }

    [Fact]
    public async Task TargetNotSigned_ReplayedAsDeleteSecret_IsRefusedAndTheSecretStays()
    {
        // Reproduced before the fix: DescribeSecret signed over content-type;host;x-amz-date, replayed as DeleteSecret.
        await CreateAsync("raw-replay-header");
        var body = Encoding.UTF8.GetBytes("""{"SecretId":"raw-replay-header"}""");
        var uri = new Uri(fixture.Server.Endpoint + "/");
        var signing = SigV4Signer.Sign(
            "POST", uri, [new("Content-Type", "application/x-amz-json-1.1")], body,
            new SigV4Credentials(fixture.Server.AccessKeyId, fixture.Server.SecretAccessKey), KeyturnProcess.Region, "secretsmanager", DateTimeOffset.UtcNow);
        Assert.Contains("SignedHeaders=content-type;host;x-amz-date,", signing.Single(h => h.Key == "Authorization").Value, StringComparison.Ordinal);

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        foreach (var (name, value) in signing)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.TryAddWithoutValidation("X-Amz-Target", "secretsmanager.DeleteSecret");
        using var response = await http.SendAsync(request);

        await AssertTargetNotSignedAsync(response);
        await AssertNotScheduledForDeletionAsync("raw-replay-header");
    }

    [Fact]
    public async Task PresignedUrlOverHostOnly_RetargetedAsDeleteSecret_IsRefusedAndTheSecretStays()
    {
        // Reproduced before the fix: a presigned URL (host signed, UNSIGNED-PAYLOAD) sent with X-Amz-Target: DeleteSecret.
        await CreateAsync("raw-replay-presigned");
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, PresignOverHostOnly(DateTimeOffset.UtcNow))
        {
            Content = new StringContent("""{"SecretId":"raw-replay-presigned","ForceDeleteWithoutRecovery":true}"""),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        request.Headers.TryAddWithoutValidation("X-Amz-Target", "secretsmanager.DeleteSecret");

        using var response = await http.SendAsync(request);

        await AssertTargetNotSignedAsync(response);
        await AssertNotScheduledForDeletionAsync("raw-replay-presigned");
    }

    [Theory]
    [InlineData("logs", "us-east-1", "Credential should be scoped to correct service: 'secretsmanager'.")]
    [InlineData("secretsmanager", "local", "Credential should be scoped to a valid region, not 'local'.")]
    public async Task CredentialScope_WrongServiceOrNotARegion_IsInvalidSignature(string service, string region, string message)
    {
        var body = "{}"u8.ToArray();
        var uri = new Uri(fixture.Server.Endpoint + "/");
        List<KeyValuePair<string, string>> headers =
            [new("Content-Type", "application/x-amz-json-1.1"), new("X-Amz-Target", "secretsmanager.ListSecrets")];
        var signing = SigV4Signer.Sign(
            "POST", uri, headers, body, new SigV4Credentials(fixture.Server.AccessKeyId, fixture.Server.SecretAccessKey), region, service, DateTimeOffset.UtcNow);

        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-amz-json-1.1");
        foreach (var (name, value) in signing.Concat(headers.Skip(1)))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("InvalidSignatureException", error.GetProperty("__type").GetString());
        Assert.Equal(message, error.GetProperty("Message").GetString());
    }

    [Fact]
    public async Task MalformedChunkedBody_Unauthenticated_Is400BeforeTheBodyIsRead()
    {
        var head = RawSocket.PostHead(fixture.Server.Endpoint, "X-Amz-Target: secretsmanager.ListSecrets", "Transfer-Encoding: chunked");

        var response = await RawSocket.SendAsync(fixture.Server.Endpoint, head, Write("zz\r\n{}\r\n0\r\n\r\n"), TimeSpan.FromSeconds(20));

        AssertAwsError(response, 400, "MissingAuthenticationTokenException");
    }

    [Fact]
    public async Task MalformedChunkedBody_WithAKnownKey_Is400Json()
    {
        var head = RawSocket.PostHead(fixture.Server.Endpoint,
            [.. RawSocket.PlausibleAuthorization(fixture.Server.AccessKeyId, "secretsmanager.ListSecrets"), "Transfer-Encoding: chunked"]);

        var response = await RawSocket.SendAsync(fixture.Server.Endpoint, head, Write("zz\r\n{}\r\n0\r\n\r\n"), TimeSpan.FromSeconds(20));

        AssertAwsError(response, 400, "SerializationException");
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Is413Json()
    {
        var head = RawSocket.PostHead(fixture.Server.Endpoint,
            [.. RawSocket.PlausibleAuthorization(fixture.Server.AccessKeyId, "secretsmanager.ListSecrets"), "Transfer-Encoding: chunked"]);
        var chunk = "10000\r\n" + new string('a', 0x10000) + "\r\n";

        var response = await RawSocket.SendAsync(
            fixture.Server.Endpoint, head, Write(string.Concat(Enumerable.Repeat(chunk, 6)) + "0\r\n\r\n"), TimeSpan.FromSeconds(20));

        AssertAwsError(response, 413, "RequestEntityTooLargeException");
    }

    [Fact]
    public async Task ContentLengthOverTheLimit_Unauthenticated_IsRefusedWithoutWaitingForTheBody()
    {
        var head = RawSocket.PostHead(fixture.Server.Endpoint, "X-Amz-Target: secretsmanager.ListSecrets", "Content-Length: 100000000");

        var response = await RawSocket.SendAsync(fixture.Server.Endpoint, head, (_, _) => Task.Delay(Timeout.Infinite), TimeSpan.FromSeconds(10));

        AssertAwsError(response, 400, "MissingAuthenticationTokenException");
        Assert.True(response.Elapsed < TimeSpan.FromSeconds(5), $"answered after {response.Elapsed}");
    }

    [Fact]
    public async Task BodyTrickledAtOneBytePerSecond_Is408AndTheServerStaysUp()
    {
        var head = RawSocket.PostHead(fixture.Server.Endpoint,
            [.. RawSocket.PlausibleAuthorization(fixture.Server.AccessKeyId, "secretsmanager.ListSecrets"), "Content-Length: 200"]);

        var response = await RawSocket.SendAsync(fixture.Server.Endpoint, head, async (stream, cancellationToken) =>
        {
            for (var i = 0; i < 200; i++)
            {
                await stream.WriteAsync("{"u8.ToArray(), cancellationToken);

                // Not a wait: the slow client is the case under test.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }, TimeSpan.FromSeconds(30));

        AssertAwsError(response, 408, "RequestTimeoutException");
        Assert.True(response.Elapsed < TimeSpan.FromSeconds(20), $"answered after {response.Elapsed}");
        Assert.Equal(200, (await _client.SendAsync("ListSecrets", "{}")).Status);
    }

    private static Func<Stream, CancellationToken, Task> Write(string text) =>
        async (stream, cancellationToken) => await stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken);

    private static void AssertAwsError(RawSocket.Response response, int status, string code)
    {
        Assert.True(status == response.Status, $"{response.Status}: {response.Body}");
        Assert.Equal(code, JsonDocument.Parse(response.Body).RootElement.GetProperty("__type").GetString());
        Assert.Equal(code, response.Headers["x-amzn-ErrorType"]);
        Assert.StartsWith("application/x-amz-json-1.1", response.Headers["Content-Type"], StringComparison.Ordinal);
    }

    private async Task CreateAsync(string name)
    {
        var reply = await _client.SendAsync("CreateSecret", $$"""{"Name":"{{name}}","SecretString":"v","ClientRequestToken":"{{Guid.NewGuid()}}"}""");
        Assert.True(reply.Status == 200, reply.Body);
    }

    private static async Task AssertTargetNotSignedAsync(HttpResponseMessage response)
    {
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("InvalidSignatureException", body.GetProperty("__type").GetString());
        Assert.Equal("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.", body.GetProperty("Message").GetString());
    }

    private async Task AssertNotScheduledForDeletionAsync(string name)
    {
        var described = await _client.SendAsync("DescribeSecret", $$"""{"SecretId":"{{name}}"}""");
        Assert.Equal(200, described.Status);
        Assert.False(described.Json.TryGetProperty("DeletedDate", out _), described.Body);
    }

    // An attacker's presigned URL, built by hand because no SDK presigns with UNSIGNED-PAYLOAD for this service.
    private Uri PresignOverHostOnly(DateTimeOffset now)
    {
        var date = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var scope = $"{date[..8]}/{KeyturnProcess.Region}/secretsmanager/aws4_request";
        var query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD" +
            $"&X-Amz-Credential={Uri.EscapeDataString(fixture.Server.AccessKeyId + "/" + scope)}&X-Amz-Date={date}&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
        var canonical = $"POST\n/\n{query}\nhost:{new Uri(fixture.Server.Endpoint).Authority}\n\nhost\nUNSIGNED-PAYLOAD";
        var stringToSign = $"AWS4-HMAC-SHA256\n{date}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Encoding.UTF8.GetBytes("AWS4" + fixture.Server.SecretAccessKey);
        foreach (var part in new[] { date[..8], KeyturnProcess.Region, "secretsmanager", "aws4_request" })
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return new Uri($"{fixture.Server.Endpoint}/?{query}&X-Amz-Signature={signature}");
    }
}
