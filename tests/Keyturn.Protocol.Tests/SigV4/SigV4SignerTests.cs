using System.Net;
using System.Text;
using Keyturn.Protocol.SigV4;
using Microsoft.Extensions.Time.Testing;

namespace Keyturn.Protocol.Tests.SigV4;

public sealed class SigV4SignerTests
{
    private static readonly SigV4Credentials Example = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    private static readonly DateTimeOffset Now = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    [Fact]
    public void Sign_IamListUsersDocumentationExample_MatchesPublishedSignature()
    {
        // AWS General Reference, "Create a signed AWS API request" example for IAM ListUsers.
        var uri = new Uri("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08");
        List<KeyValuePair<string, string>> headers = [new("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")];

        var parts = SigV4Signer.CreateSignature("GET", uri, headers, [], Example, "us-east-1", "iam", Now);
        var added = SigV4Signer.Sign("GET", uri, headers, [], Example, "us-east-1", "iam", Now);

        Assert.Equal(
            "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; charset=utf-8\n" +
            "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n" +
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            parts.CanonicalRequest);
        Assert.Equal(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n" +
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59",
            parts.StringToSign);
        Assert.Equal(
            [
                new("X-Amz-Date", "20150830T123600Z"),
                new("Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " +
                    "SignedHeaders=content-type;host;x-amz-date, " +
                    "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"),
            ],
            added);
    }

    [Fact]
    public void Derive_DocumentationExample_MatchesPublishedSigningKey()
    {
        // AWS General Reference, "Examples of how to derive a signing key": 20120215, us-east-1, iam.
        var key = SigV4SigningKeyCache.Derive("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");

        Assert.Equal("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d", Convert.ToHexStringLower(key));
    }

    [Fact]
    public void Sign_SessionToken_AddsAndSignsSecurityToken()
    {
        var added = SigV4Signer.Sign(
            "POST", new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), [], [], Example with { SessionToken = "token/+=" },
            "us-east-1", "secretsmanager", Now);

        Assert.Equal(["X-Amz-Date", "X-Amz-Security-Token", "Authorization"], added.Select(h => h.Key));
        Assert.Equal("token/+=", added[1].Value);
        Assert.Contains("SignedHeaders=host;x-amz-date;x-amz-security-token,", added[2].Value, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_NonDefaultPort_SignsHostWithPort()
    {
        var parts = SigV4Signer.CreateSignature("POST", new Uri("http://localhost:4566/"), [], [], Example, "us-east-1", "secretsmanager", Now);

        Assert.Contains("\nhost:localhost:4566\n", parts.CanonicalRequest, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_HeadersStacksRewrite_NotSigned()
    {
        List<KeyValuePair<string, string>> headers = [new("User-Agent", "x"), new("Expect", "100-continue"), new("X-Amzn-Trace-Id", "t")];

        var parts = SigV4Signer.CreateSignature("POST", new Uri("https://example.com/"), headers, [], Example, "us-east-1", "svc", Now);

        Assert.Contains("SignedHeaders=host;x-amz-date,", parts.Authorization, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_PathWithEscapes_DoubleEncodesAsBotocore()
    {
        var parts = SigV4Signer.CreateSignature(
            "GET", new Uri("https://example.com/model/a%3A0/x y"), [], [], Example, "us-east-1", "svc", Now);

        Assert.StartsWith("GET\n/model/a%253A0/x%2520y\n", parts.CanonicalRequest, StringComparison.Ordinal);
    }

    [Fact]
    public void Presign_ThenVerify_Succeeds()
    {
        var url = Presign(new Uri("https://secretsmanager.us-east-1.amazonaws.com/?Action=ListSecrets&Version=2017-10-17"), TimeSpan.FromMinutes(10));

        var result = Verifier(Now.AddMinutes(9)).Verify(PresignedRequest(url));

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.StartsWith(
            "https://secretsmanager.us-east-1.amazonaws.com/?Action=ListSecrets&Version=2017-10-17&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
            "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsecretsmanager%2Faws4_request&X-Amz-Date=20150830T123600Z" +
            "&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Signature=",
            url.AbsoluteUri,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Presign_RetargetedWithAnUnsignedHeader_InvalidSignature()
    {
        // The reported replay: a presigned URL signed over host only, sent with X-Amz-Target: DeleteSecret.
        var url = SigV4Signer.Presign(
            "POST", new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), [], Example, "us-east-1", "secretsmanager", Now, TimeSpan.FromMinutes(10));
        Assert.True(Verifier(Now).Verify(SigV4TestRequest.FromUri("POST", url, [], [])).IsSuccess);
        var retargeted = SigV4TestRequest.FromUri("POST", url, [new("X-Amz-Target", "secretsmanager.DeleteSecret")], []);

        var result = Verifier(Now).Verify(retargeted);

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
        Assert.Equal("'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.", result.ErrorMessage);
    }

    [Fact]
    public void Presign_SessionToken_SignsTokenAsQueryParameter()
    {
        var url = SigV4Signer.Presign(
            "GET", new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), [], Example with { SessionToken = "tok/+=" },
            "us-east-1", "secretsmanager", Now, TimeSpan.FromHours(1));

        Assert.Contains("&X-Amz-Security-Token=tok%2F%2B%3D&", url.AbsoluteUri, StringComparison.Ordinal);
        Assert.True(Verifier(Now).Verify(PresignedRequest(url)).IsSuccess);
        var tampered = new Uri(url.AbsoluteUri.Replace("tok%2F%2B%3D", "tok%2F%2B%3E", StringComparison.Ordinal));
        Assert.Equal(SigV4Outcome.SignatureMismatch, Verifier(Now).Verify(PresignedRequest(tampered)).Outcome);
    }

    [Fact]
    public void Presign_UsedAfterExpiry_Expired()
    {
        var url = Presign(new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), TimeSpan.FromMinutes(10));

        var result = Verifier(Now.AddMinutes(10).AddSeconds(1)).Verify(PresignedRequest(url));

        Assert.Equal(SigV4Outcome.Expired, result.Outcome);
        Assert.Equal("InvalidSignatureException", result.ErrorCode);
        Assert.Equal(
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124601Z - 10 min.)", result.ErrorMessage);
    }

    [Fact]
    public void Presign_LongerThanSkew_StillValidWithinExpiry()
    {
        var url = Presign(new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), TimeSpan.FromDays(7));

        Assert.True(Verifier(Now.AddDays(6)).Verify(PresignedRequest(url)).IsSuccess);
    }

    [Fact]
    public void Presign_UsedBeforeSigningTimeBeyondSkew_NotYetValid()
    {
        var url = Presign(new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), TimeSpan.FromMinutes(10));

        Assert.Equal(SigV4Outcome.NotYetValid, Verifier(Now.AddMinutes(-6)).Verify(PresignedRequest(url)).Outcome);
    }

    [Fact]
    public void Presign_QueryTampered_SignatureMismatch()
    {
        var url = Presign(new Uri("https://secretsmanager.us-east-1.amazonaws.com/?Action=ListSecrets"), TimeSpan.FromMinutes(10));
        var tampered = new Uri(url.AbsoluteUri.Replace("Action=ListSecrets", "Action=DeleteSecret", StringComparison.Ordinal));

        Assert.Equal(SigV4Outcome.SignatureMismatch, Verifier(Now).Verify(PresignedRequest(tampered)).Outcome);
    }

    [Fact]
    public void Presign_SignatureBitFlipped_SignatureMismatch()
    {
        var url = Presign(new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), TimeSpan.FromMinutes(10));
        var tampered = new Uri(SigV4TestRequest.FlipLastSignatureBit(url.AbsoluteUri));

        Assert.Equal(SigV4Outcome.SignatureMismatch, Verifier(Now).Verify(PresignedRequest(tampered)).Outcome);
    }

    [Theory]
    [InlineData("abc", "X-Amz-Expires should be a number")]
    [InlineData("-1", "X-Amz-Expires must be non-negative")]
    [InlineData("604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800")]
    public void Verify_BadExpires_IncompleteSignature(string expires, string message)
    {
        var url = Presign(new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), TimeSpan.FromMinutes(10));
        var changed = new Uri(url.AbsoluteUri.Replace("X-Amz-Expires=600", "X-Amz-Expires=" + expires, StringComparison.Ordinal));

        var result = Verifier(Now).Verify(PresignedRequest(changed));

        Assert.Equal(SigV4Outcome.IncompleteSignature, result.Outcome);
        Assert.Equal("IncompleteSignatureException", result.ErrorCode);
        Assert.Equal(message, result.ErrorMessage);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(604801)]
    public void Presign_ExpiresOutOfRange_Throws(int seconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(
            () => SigV4Signer.Presign("GET", new Uri("https://example.com/"), [], Example, "us-east-1", "svc", Now, TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public async Task SigningHandler_PostJson_ServerVerifiesAndBodyArrives()
    {
        var time = new FakeTimeProvider(Now);
        var capture = new CapturingHandler();
        using var handler = new SigV4SigningHandler(Example, "us-east-1", "secretsmanager", time, capture);
        using var client = new HttpClient(handler) { BaseAddress = new Uri("http://localhost:4566/") };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/")
        {
            Content = new StringContent("""{"SecretId":"app"}""", Encoding.UTF8, "application/x-amz-json-1.1"),
        };
        request.Headers.Add("X-Amz-Target", "secretsmanager.GetSecretValue");
        request.Headers.UserAgent.ParseAdd("keyturn-bench/1.0");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"SecretId":"app"}""", Encoding.UTF8.GetString(capture.Body!));
        var result = Verifier(Now).Verify(capture.Request!);
        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal("localhost:4566", capture.Request!.Header("Host"));
        Assert.Contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target,", capture.Request!.Header("Authorization"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningHandler_SameRequestSentTwice_ReSignsWithoutDuplicates()
    {
        var time = new FakeTimeProvider(Now);
        var capture = new CapturingHandler();
        using var handler = new SigV4SigningHandler(Example with { SessionToken = "tok" }, "us-east-1", "logs", time, capture);
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://logs.us-east-1.amazonaws.com/") { Content = new ByteArrayContent([1, 2, 3]) };

        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();
        time.Advance(TimeSpan.FromSeconds(30));
        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();

        Assert.Single(request.Headers.GetValues("Authorization"));
        Assert.Single(request.Headers.GetValues("X-Amz-Security-Token"));
        Assert.Equal("20150830T123630Z", Assert.Single(request.Headers.GetValues("X-Amz-Date")));
        Assert.True(Verifier(time.GetUtcNow()).Verify(capture.Request!).IsSuccess);
    }

    [Fact]
    public async Task SigningHandler_NoContent_SignsEmptyPayload()
    {
        var capture = new CapturingHandler();
        using var handler = new SigV4SigningHandler(Example, "us-east-1", "secretsmanager", new FakeTimeProvider(Now), capture);
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://secretsmanager.us-east-1.amazonaws.com/ping?a=b c");

        (await invoker.SendAsync(request, CancellationToken.None)).Dispose();

        Assert.True(Verifier(Now).Verify(capture.Request!).IsSuccess);
    }

    private static Uri Presign(Uri uri, TimeSpan expires) =>
        SigV4Signer.Presign("GET", uri, [], Example, "us-east-1", "secretsmanager", Now, expires);

    private static SigV4Request PresignedRequest(Uri url) => SigV4TestRequest.FromUri("GET", url, [], []);

    private static SigV4Verifier Verifier(DateTimeOffset now) =>
        new(id => id == Example.AccessKeyId ? Example.SecretAccessKey : null, new FakeTimeProvider(now));

    // Stands in for the server: turns the outgoing HttpRequestMessage into what Kestrel would hand the verifier.
    private sealed class CapturingHandler : HttpMessageHandler
    {
        public SigV4Request? Request { get; private set; }

        public byte[]? Body { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
            var headers = new List<KeyValuePair<string, string>>();
            foreach (var (name, values) in request.Headers)
            {
                headers.Add(new(name, string.Join(", ", values)));
            }

            if (request.Content is not null)
            {
                foreach (var (name, values) in request.Content.Headers)
                {
                    headers.Add(new(name, string.Join(", ", values)));
                }
            }

            var uri = request.RequestUri!;
            Request = new SigV4Request(request.Method.Method, uri.AbsolutePath, uri.Query.TrimStart('?'), headers, Body);
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }
}
