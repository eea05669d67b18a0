using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
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

    [Fact]
    public async Task UnknownTarget_IsUnknownOperation()
    {
        var reply = await _client.SendAsync("StealAllSecrets", "{}");

        Assert.Equal(400, reply.Status);
        Assert.Equal("UnknownOperationException", reply.Json.GetProperty("__type").GetString());
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
}
