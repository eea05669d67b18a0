using System.Text;
using System.Text.RegularExpressions;
using Keyturn.Protocol.SigV4;
using Microsoft.Extensions.Time.Testing;

namespace Keyturn.Protocol.Tests.SigV4;

public sealed class SigV4VerifierTests
{
    private const string AccessKeyId = "AKIAKEYTURNTEST00001";
    private const string Secret = "keyturn/test+Secret0123456789abcdefghijKL";
    private static readonly DateTimeOffset SignedAt = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);
    private static readonly SigV4Credentials Credentials = new(AccessKeyId, Secret);
    private static readonly Uri Endpoint = new("http://localhost:4566/");
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"SecretId":"prod/db/password","VersionStage":"AWSCURRENT"}""");

    [Fact]
    public void Verify_SignedPostJson_Succeeds()
    {
        var result = Verifier().Verify(SignedPost());

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(SigV4Outcome.Success, result.Outcome);
        Assert.Equal((AccessKeyId, "us-east-1", "secretsmanager"), (result.AccessKeyId, result.Region, result.Service));
        Assert.Null(result.ErrorMessage);
    }

    [Fact]
    public void Verify_NoAuthentication_MissingAuthenticationToken()
    {
        var request = SigV4TestRequest.FromUri("POST", Endpoint, JsonHeaders(), Body);

        var result = Verifier().Verify(request);

        AssertFailure(result, SigV4Outcome.MissingAuthentication, "MissingAuthenticationTokenException", "Missing Authentication Token");
        Assert.Equal(400, result.HttpStatus);
    }

    [Theory]
    [InlineData("Bearer eyJhbGciOiJIUzI1NiJ9.e30.x")]
    [InlineData("AWS4")]
    [InlineData("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=")]
    [InlineData("")]
    public void Verify_NonSigV4Authorization_MissingAuthenticationToken(string authorization)
    {
        var result = Verifier().Verify(SignedPost().WithHeader("Authorization", authorization));

        AssertFailure(result, SigV4Outcome.MissingAuthentication, "MissingAuthenticationTokenException", "Missing Authentication Token");
    }

    [Fact]
    public void Verify_AuthorizationAws4DashOnlyWithoutDate_IncompleteSignatureListingEverything()
    {
        // Recorded from AWS in mhart/dynalite (test/connection.js, crc32 1828866742).
        var request = SigV4TestRequest.FromUri("POST", Endpoint, [new("Authorization", "AWS4-")], Body);

        var result = Verifier().Verify(request);

        AssertFailure(
            result,
            SigV4Outcome.IncompleteSignature,
            "IncompleteSignatureException",
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
            "Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either " +
            "a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-");
    }

    [Theory]
    [InlineData("AWS4- Signature=b Credential=a")]
    [InlineData("AWS4- Signature=b,Credential=a")]
    [InlineData("AWS4- Signature=b, Credential=a")]
    public void Verify_AuthorizationWithoutSignedHeaders_IncompleteSignature(string authorization)
    {
        var request = SigV4TestRequest.FromUri("POST", Endpoint, [new("Authorization", authorization), new("Date", "a")], Body);

        var result = Verifier().Verify(request);

        AssertFailure(
            result, SigV4Outcome.IncompleteSignature, "IncompleteSignatureException",
            "Authorization header requires 'SignedHeaders' parameter. Authorization=" + authorization);
    }

    [Fact]
    public void Verify_AuthorizationPairWithoutEqualSign_IncompleteSignature()
    {
        const string Authorization =
            "AWS4-HMAC-SHA256 Credential= AKIAKEYTURNTEST00001/20130524/us-east-1/secretsmanager/aws4_request, " +
            "SignedHeaders=host;x-amz-date, Signature=abc";
        var request = SignedPost().WithHeader("Authorization", Authorization);

        var result = Verifier().Verify(request);

        AssertFailure(
            result, SigV4Outcome.IncompleteSignature, "IncompleteSignatureException",
            "'AKIAKEYTURNTEST00001/20130524/us-east-1/secretsmanager/aws4_request' not a valid key=value pair " +
            "(missing equal-sign) in Authorization header: '" + Authorization + "'.");
    }

    [Fact]
    public void Verify_HeaderAndQueryAuthentication_InvalidSignature()
    {
        var request = SignedPost() with { QueryString = "X-Amz-Algorithm" };

        var result = Verifier().Verify(request);

        AssertFailure(
            result, SigV4Outcome.SignatureMismatch, "InvalidSignatureException",
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.");
    }

    [Fact]
    public void Verify_EmptyAlgorithmQuery_IncompleteSignatureListingEverything()
    {
        var request = SigV4TestRequest.FromUri("GET", new Uri("http://localhost:4566/?X-Amz-Algorithm"), [], []);

        var result = Verifier().Verify(request);

        AssertFailure(
            result, SigV4Outcome.IncompleteSignature, "IncompleteSignatureException",
            "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include " +
            "'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters " +
            "must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. " +
            "Re-examine the query-string parameters.");
    }

    [Fact]
    public void Verify_QueryWithoutSignedHeaders_IncompleteSignature()
    {
        var uri = new Uri("http://localhost:4566/?X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d");

        var result = Verifier().Verify(SigV4TestRequest.FromUri("GET", uri, [], []));

        AssertFailure(
            result, SigV4Outcome.IncompleteSignature, "IncompleteSignatureException",
            "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.");
    }

    [Fact]
    public void Verify_QueryWithoutAlgorithm_MissingAuthenticationToken()
    {
        var uri = new Uri("http://localhost:4566/?X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=c&X-Amz-Date=d");

        var result = Verifier().Verify(SigV4TestRequest.FromUri("GET", uri, [], []));

        Assert.Equal(SigV4Outcome.MissingAuthentication, result.Outcome);
    }

    [Theory]
    [InlineData("201")]
    [InlineData("2013-05-24T00:00:00Z")]
    [InlineData("20130524T250000Z")]
    public void Verify_MalformedAmzDate_InvalidDate(string date)
    {
        var result = Verifier().Verify(SignedPost().WithHeader("X-Amz-Date", date));

        AssertFailure(
            result, SigV4Outcome.InvalidDate, "IncompleteSignatureException",
            $"Date must be in ISO-8601 'basic format'. Got '{date}'. See http://en.wikipedia.org/wiki/ISO_8601");
    }

    [Theory]
    [InlineData(-4)]
    [InlineData(4)]
    [InlineData(-5)]
    [InlineData(5)]
    public void Verify_ClockSkewWithinFiveMinutes_Succeeds(int minutes)
    {
        var result = Verifier(SignedAt.AddMinutes(minutes)).Verify(SignedPost());

        Assert.True(result.IsSuccess, result.ErrorMessage);
    }

    [Fact]
    public void Verify_SignedFifteenMinutesAgo_ExpiredWithAwsMessage()
    {
        var result = Verifier(SignedAt.AddMinutes(15)).Verify(SignedPost());

        AssertFailure(
            result, SigV4Outcome.Expired, "InvalidSignatureException",
            "Signature expired: 20130524T000000Z is now earlier than 20130524T001000Z (20130524T001500Z - 5 min.)");
        Assert.Equal(400, result.HttpStatus);
    }

    [Fact]
    public void Verify_SignedSixMinutesAgo_Expired()
    {
        var result = Verifier(SignedAt.AddMinutes(6)).Verify(SignedPost());

        AssertFailure(
            result, SigV4Outcome.Expired, "InvalidSignatureException",
            "Signature expired: 20130524T000000Z is now earlier than 20130524T000100Z (20130524T000600Z - 5 min.)");
    }

    [Fact]
    public void Verify_SignedSixMinutesAhead_NotYetCurrent()
    {
        var result = Verifier(SignedAt.AddMinutes(-6)).Verify(SignedPost());

        AssertFailure(
            result, SigV4Outcome.NotYetValid, "InvalidSignatureException",
            "Signature not yet current: 20130524T000000Z is still later than 20130523T235900Z (20130523T235400Z + 5 min.)");
    }

    [Fact]
    public void Verify_CustomSkew_UsedInMessage()
    {
        var verifier = new SigV4Verifier(Lookup, new FakeTimeProvider(SignedAt.AddMinutes(16)), TimeSpan.FromMinutes(15));

        var result = verifier.Verify(SignedPost());

        Assert.Equal(
            "Signature expired: 20130524T000000Z is now earlier than 20130524T000100Z (20130524T001600Z - 15 min.)",
            result.ErrorMessage);
    }

    [Fact]
    public void Verify_HostNotSigned_InvalidSignature()
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization").Replace("content-type;host;", "content-type;", StringComparison.Ordinal);

        var result = Verifier().Verify(request.WithHeader("Authorization", authorization));

        AssertFailure(
            result, SigV4Outcome.SignatureMismatch, "InvalidSignatureException",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }

    [Fact]
    public void Verify_UnsupportedAlgorithm_IncompleteSignature()
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization").Replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", StringComparison.Ordinal);

        var result = Verifier().Verify(request.WithHeader("Authorization", authorization));

        AssertFailure(
            result, SigV4Outcome.IncompleteSignature, "IncompleteSignatureException",
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ");
    }

    [Fact]
    public void Verify_CredentialWithFourParts_IncompleteSignature()
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization").Replace("/aws4_request", string.Empty, StringComparison.Ordinal);

        var result = Verifier().Verify(request.WithHeader("Authorization", authorization));

        AssertFailure(
            result, SigV4Outcome.IncompleteSignature, "IncompleteSignatureException",
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, " +
            "got 'AKIAKEYTURNTEST00001/20130524/us-east-1/secretsmanager'");
    }

    [Fact]
    public void Verify_CredentialWithTrailingSlash_Succeeds()
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization").Replace("aws4_request,", "aws4_request/,", StringComparison.Ordinal);

        Assert.True(Verifier().Verify(request.WithHeader("Authorization", authorization)).IsSuccess);
    }

    [Fact]
    public void Verify_WrongScope_InvalidSignatureNamingEveryProblem()
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization")
            .Replace("/20130524/us-east-1/secretsmanager/aws4_request", "/20130523/us-east-1/logs/aws5_request", StringComparison.Ordinal);

        var result = Verifier().Verify(request.WithHeader("Authorization", authorization));

        AssertFailure(
            result, SigV4Outcome.SignatureMismatch, "InvalidSignatureException",
            "Credential should be scoped to correct service: 'secretsmanager'. " +
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. " +
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: " +
            "'20130523' != '20130524', from '20130524T000000Z'.");
        Assert.Equal("logs", result.Service);
    }

    [Fact]
    public void Verify_EmptyRegion_InvalidSignature()
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization").Replace("/us-east-1/", "//", StringComparison.Ordinal);

        var result = Verifier().Verify(request.WithHeader("Authorization", authorization));

        Assert.Equal("Credential should be scoped to a valid region, not ''.", result.ErrorMessage);
    }

    [Fact]
    public void Verify_OtherServiceWithExplicitExpectedService_Succeeds()
    {
        var request = SignedPost(service: "logs");
        var verifier = new SigV4Verifier(Lookup, new FakeTimeProvider(SignedAt), expectedServices: new HashSet<string> { "secretsmanager" });

        Assert.False(verifier.Verify(request).IsSuccess);
        Assert.True(verifier.Verify(request, "logs").IsSuccess);
    }

    [Fact]
    public void Verify_ServiceInExpectedSet_Succeeds()
    {
        var verifier = new SigV4Verifier(
            Lookup, new FakeTimeProvider(SignedAt), expectedServices: new HashSet<string> { "secretsmanager", "logs" });

        Assert.True(verifier.Verify(SignedPost(service: "logs")).IsSuccess);
        Assert.True(verifier.Verify(SignedPost()).IsSuccess);
        Assert.Equal(
            "Credential should be scoped to correct service: 'logs' or 'secretsmanager'.",
            verifier.Verify(SignedPost(service: "kms")).ErrorMessage);
    }

    [Fact]
    public void Verify_AnyServiceWhenNoneExpected_Succeeds()
    {
        var verifier = new SigV4Verifier(Lookup, new FakeTimeProvider(SignedAt));

        Assert.True(verifier.Verify(SignedPost(service: "anything")).IsSuccess);
    }

    [Fact]
    public void Verify_UnknownAccessKey_UnrecognizedClient()
    {
        var request = SignedPost(credentials: new SigV4Credentials("AKIAUNKNOWN000000000", Secret));

        var result = Verifier().Verify(request);

        AssertFailure(
            result, SigV4Outcome.UnknownAccessKey, "UnrecognizedClientException", "The security token included in the request is invalid.");
        Assert.Equal("AKIAUNKNOWN000000000", result.AccessKeyId);
        Assert.Equal(400, result.HttpStatus);
    }

    [Fact]
    public void Verify_WrongSecret_InvalidSignatureWithCanonicalRequestAndNoSecret()
    {
        var request = SignedPost(credentials: new SigV4Credentials(AccessKeyId, "not-the-right-secret"));

        var result = Verifier().Verify(request);

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
        Assert.Equal("InvalidSignatureException", result.ErrorCode);
        var expected =
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key " +
            "and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'" +
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:localhost:4566\nx-amz-date:20130524T000000Z\n" +
            "x-amz-target:secretsmanager.GetSecretValue\n\ncontent-type;host;x-amz-date;x-amz-target\n" +
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Body)) + "'\n\n" +
            "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/secretsmanager/aws4_request\n";
        Assert.StartsWith(expected, result.ErrorMessage, StringComparison.Ordinal);
        Assert.EndsWith("'\n", result.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.ErrorMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-right-secret", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Signature=zz")]
    [InlineData("Signature=0123")]
    [InlineData("Signature=ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ")]
    public void Verify_SignatureNotHex_SignatureMismatch(string signature)
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization");
        authorization = authorization[..authorization.IndexOf("Signature=", StringComparison.Ordinal)] + signature;

        var result = Verifier().Verify(request.WithHeader("Authorization", authorization));

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
    }

    [Fact]
    public void Verify_SignatureInUpperCaseHex_Succeeds()
    {
        // The comparison is on bytes, so hex case does not matter.
        var request = SignedPost();
        var authorization = request.Header("Authorization");
        var at = authorization.IndexOf("Signature=", StringComparison.Ordinal) + 10;
        authorization = authorization[..at] + authorization[at..].ToUpperInvariant();

        Assert.True(Verifier().Verify(request.WithHeader("Authorization", authorization)).IsSuccess);
    }

    [Fact]
    public void Verify_BodyTampered_SignatureMismatch()
    {
        var tampered = (byte[])Body.Clone();
        tampered[^3] ^= 1;

        var result = Verifier().Verify(SignedPost() with { Body = tampered });

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
    }

    [Fact]
    public void Verify_SignedHeaderTampered_SignatureMismatch()
    {
        var result = Verifier().Verify(SignedPost().WithHeader("X-Amz-Target", "secretsmanager.DeleteSecret"));

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
        Assert.Contains("x-amz-target:secretsmanager.DeleteSecret\n", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_UnsignedHeaderChangedOrAdded_Succeeds()
    {
        var request = SignedPost().WithHeader("User-Agent", "something-else").WithHeaders([new("X-Forwarded-For", "10.0.0.1")]);

        Assert.True(Verifier().Verify(request).IsSuccess);
    }

    [Fact]
    public void Verify_SignedHeaderRemoved_SignatureMismatch()
    {
        var result = Verifier().Verify(SignedPost().WithoutHeader("X-Amz-Target"));

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
        Assert.Contains("\nx-amz-target:\n", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_HeaderNamesInAnyCase_Succeeds()
    {
        var request = SignedPost();
        var renamed = request with { Headers = [.. request.Headers.Select(h => new KeyValuePair<string, string>(h.Key.ToUpperInvariant(), h.Value))] };

        Assert.True(Verifier().Verify(renamed).IsSuccess);
    }

    [Fact]
    public void Verify_DuplicateHeadersInSignedOrder_Succeeds()
    {
        List<KeyValuePair<string, string>> headers = [.. JsonHeaders(), new("X-Amz-Meta", "first"), new("X-Amz-Meta", "  second   value ")];
        var request = Sign(SigV4TestRequest.FromUri("POST", Endpoint, headers, Body), Credentials, "secretsmanager");

        Assert.True(Verifier().Verify(request).IsSuccess);
    }

    [Fact]
    public void Verify_DuplicateHeadersReordered_SignatureMismatch()
    {
        List<KeyValuePair<string, string>> headers = [.. JsonHeaders(), new("X-Amz-Meta", "first"), new("X-Amz-Meta", "second")];
        var signed = Sign(SigV4TestRequest.FromUri("POST", Endpoint, headers, Body), Credentials, "secretsmanager");
        var reordered = signed.WithoutHeader("X-Amz-Meta").WithHeaders([new("X-Amz-Meta", "second"), new("X-Amz-Meta", "first")]);

        var result = Verifier().Verify(reordered);

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
        Assert.Contains("x-amz-meta:second,first\n", result.ErrorMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Fri, 24 May 2013 00:00:00 GMT")]
    [InlineData("Fri, 24 May 2013 00:00:00 -0000")]
    public void Verify_DateHeaderInsteadOfAmzDate_Succeeds(string date)
    {
        // The signer always sends X-Amz-Date, so sign by hand: the string to sign carries the ISO form of the Date header.
        var request = SigV4TestRequest.FromUri("POST", Endpoint, [new("Content-Type", "application/x-amz-json-1.1"), new("Date", date)], Body);
        var canonical =
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\ndate:" + date + "\nhost:localhost:4566\n\ncontent-type;date;host\n" +
            Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Body));
        var authorization =
            "AWS4-HMAC-SHA256 Credential=AKIAKEYTURNTEST00001/20130524/us-east-1/secretsmanager/aws4_request, " +
            "SignedHeaders=content-type;date;host, Signature=" + SignCanonical(canonical, "20130524T000000Z", "secretsmanager");

        var result = Verifier().Verify(request.WithHeaders([new("Authorization", authorization)]));

        Assert.True(result.IsSuccess, result.ErrorMessage);
    }

    [Fact]
    public void Verify_MalformedDateHeader_InvalidDate()
    {
        var request = SignedPost().WithoutHeader("X-Amz-Date").WithHeaders([new("Date", "yesterday")]);

        var result = Verifier().Verify(request);

        AssertFailure(
            result, SigV4Outcome.InvalidDate, "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'. Got 'yesterday'. See http://en.wikipedia.org/wiki/ISO_8601");
    }

    [Fact]
    public void Verify_UnsignedPayloadDeclared_SignatureMismatch()
    {
        // Honouring UNSIGNED-PAYLOAD would let a captured signature carry any body.
        List<KeyValuePair<string, string>> headers = [.. JsonHeaders(), new("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")];
        var request = Sign(SigV4TestRequest.FromUri("POST", Endpoint, headers, Body), Credentials, "secretsmanager");

        Assert.Equal(SigV4Outcome.SignatureMismatch, Verifier().Verify(request).Outcome);
        Assert.Equal(SigV4Outcome.SignatureMismatch, Verifier().Verify(request with { Body = Encoding.UTF8.GetBytes("{}") }).Outcome);
    }

    [Fact]
    public void Verify_TargetAddedAfterSigning_InvalidSignatureNamingTheHeader()
    {
        // The reported replay: DescribeSecret signed over content-type;host;x-amz-date, then sent as DeleteSecret.
        var request = Sign(
            SigV4TestRequest.FromUri("POST", Endpoint, [new("Content-Type", "application/x-amz-json-1.1")], Body), Credentials, "secretsmanager");
        Assert.Contains("SignedHeaders=content-type;host;x-amz-date,", request.Header("Authorization"), StringComparison.Ordinal);

        var result = Verifier().Verify(request.WithHeaders([new("X-Amz-Target", "secretsmanager.DeleteSecret")]));

        AssertFailure(
            result, SigV4Outcome.SignatureMismatch, "InvalidSignatureException",
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.");
    }

    [Theory]
    [InlineData("x-amz-meta")]
    [InlineData("X-Amz-Security-Token")]
    [InlineData("X-Amz-Content-Sha256")]
    public void Verify_AnyAmzHeaderAddedAfterSigning_InvalidSignature(string name)
    {
        var result = Verifier().Verify(SignedPost().WithHeaders([new(name, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]));

        AssertFailure(
            result, SigV4Outcome.SignatureMismatch, "InvalidSignatureException", $"'{name}' must be a 'SignedHeader' in the AWS Authorization.");
    }

    [Fact]
    public void Verify_AmzDateNotSigned_InvalidSignature()
    {
        var request = SignedPost();
        var authorization = request.Header("Authorization").Replace(";x-amz-date;", ";", StringComparison.Ordinal);

        var result = Verifier().Verify(request.WithHeader("Authorization", authorization));

        Assert.Equal("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.", result.ErrorMessage);
    }

    [Fact]
    public void Verify_DateHeaderDatingTheRequestNotSigned_InvalidSignature()
    {
        var request = SigV4TestRequest.FromUri("POST", Endpoint, [new("Date", "Fri, 24 May 2013 00:00:00 GMT")], Body);
        var authorization =
            "AWS4-HMAC-SHA256 Credential=AKIAKEYTURNTEST00001/20130524/us-east-1/secretsmanager/aws4_request, " +
            "SignedHeaders=host, Signature=" + new string('0', 64);

        var result = Verifier().Verify(request.WithHeaders([new("Authorization", authorization)]));

        Assert.Equal("'Date' must be a 'SignedHeader' in the AWS Authorization.", result.ErrorMessage);
    }

    [Theory]
    [InlineData("us-east-1")]
    [InlineData("eu-central-2")]
    [InlineData("ap-southeast-5")]
    [InlineData("cn-northwest-1")]
    [InlineData("us-gov-west-1")]
    [InlineData("us-iso-east-1")]
    [InlineData("us-isob-east-1")]
    [InlineData("eu-isoe-west-1")]
    public void Verify_RegionOfAnyPartition_Succeeds(string region)
    {
        var request = SignedPost(region: region);

        var result = Verifier().Verify(request);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(region, result.Region);
    }

    [Theory]
    [InlineData("local")]
    [InlineData("US-EAST-1")]
    [InlineData("us-east")]
    [InlineData("us-east-1:123456789012:secret:x")]
    [InlineData("us-east-١")]
    [InlineData("us-east-1\n")]
    public void Verify_RegionNotAnAwsRegionName_InvalidSignature(string region)
    {
        var result = Verifier().Verify(SignedPost(region: region));

        AssertFailure(
            result, SigV4Outcome.SignatureMismatch, "InvalidSignatureException", $"Credential should be scoped to a valid region, not '{region}'.");
    }

    [Fact]
    public void RejectBeforeBody_UnknownKey_UnrecognizedClientWithoutTheBody()
    {
        var request = SignedPost(credentials: new SigV4Credentials("AKIAUNKNOWN000000000", Secret)) with { Body = ReadOnlyMemory<byte>.Empty };

        var result = Verifier().RejectBeforeBody(request, "secretsmanager");

        Assert.NotNull(result);
        Assert.Equal(SigV4Outcome.UnknownAccessKey, result.Outcome);
    }

    [Fact]
    public void RejectBeforeBody_WrongService_InvalidSignature()
    {
        var result = Verifier().RejectBeforeBody(SignedPost(service: "logs"), "secretsmanager");

        Assert.Equal("Credential should be scoped to correct service: 'secretsmanager'.", result?.ErrorMessage);
    }

    [Fact]
    public void RejectBeforeBody_KnownKeyAndSoundHeaders_LeavesTheSignatureToVerify()
    {
        var request = SignedPost() with { Body = ReadOnlyMemory<byte>.Empty };

        Assert.Null(Verifier().RejectBeforeBody(request, "secretsmanager"));
        Assert.Equal(SigV4Outcome.SignatureMismatch, Verifier().Verify(request, "secretsmanager").Outcome);
    }

    [Fact]
    public void Verify_PayloadHashDeclared_Succeeds()
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Body));
        List<KeyValuePair<string, string>> headers = [.. JsonHeaders(), new("X-Amz-Content-Sha256", hash)];
        var request = Sign(SigV4TestRequest.FromUri("POST", Endpoint, headers, Body), Credentials, "secretsmanager");

        Assert.True(Verifier().Verify(request).IsSuccess);
    }

    [Fact]
    public void Verify_DeclaredPayloadHashNotTheBody_SignatureMismatch()
    {
        var wrong = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("{}"u8));
        List<KeyValuePair<string, string>> headers = [.. JsonHeaders(), new("X-Amz-Content-Sha256", wrong)];
        var request = Sign(SigV4TestRequest.FromUri("POST", Endpoint, headers, Body), Credentials, "secretsmanager");

        Assert.Equal(SigV4Outcome.SignatureMismatch, Verifier().Verify(request).Outcome);
    }

    [Fact]
    public void Verify_SessionToken_Succeeds()
    {
        var request = SignedPost(credentials: Credentials with { SessionToken = "FwoGZXIvYXdzEXAMPLE//token+=" });

        Assert.Contains(request.Headers, h => h.Key == "X-Amz-Security-Token");
        Assert.True(Verifier().Verify(request).IsSuccess);
        Assert.False(Verifier().Verify(request.WithHeader("X-Amz-Security-Token", "other")).IsSuccess);
    }

    [Theory]
    [InlineData("/a b/c%2Fd", "x=1 2&y=%2F&empty=&flag")]
    [InlineData("/model/us.anthropic.claude:0/invoke", "")]
    [InlineData("/\u00e9t\u00e9/./x/../y//", "q=\u00e9&q=A&Q=b")]
    public void Verify_EncodedPathAndQuery_RoundTrips(string path, string query)
    {
        var uri = new UriBuilder("http", "localhost", 4566, path) { Query = query }.Uri;
        var request = Sign(SigV4TestRequest.FromUri("GET", uri, [], []), Credentials, "secretsmanager");

        var result = Verifier().Verify(request);

        Assert.True(result.IsSuccess, result.ErrorMessage);
    }

    [Fact]
    public void Verify_ManyDifferentSecrets_AllVerifiedBeyondCacheCapacity()
    {
        var secrets = Enumerable.Range(0, 1500).ToDictionary(i => $"AKIA{i:D16}", i => $"secret-{i}");
        var verifier = new SigV4Verifier(id => secrets.GetValueOrDefault(id), new FakeTimeProvider(SignedAt));

        foreach (var (id, secret) in secrets)
        {
            var result = verifier.Verify(SignedPost(credentials: new SigV4Credentials(id, secret)));
            Assert.True(result.IsSuccess, result.ErrorMessage);
        }

        Assert.True(verifier.Verify(SignedPost(credentials: new SigV4Credentials("AKIA0000000000000007", "secret-7"))).IsSuccess);
        Assert.False(verifier.Verify(SignedPost(credentials: new SigV4Credentials("AKIA0000000000000007", "secret-8"))).IsSuccess);
    }

    [Fact]
    public void Verify_SameSecretRotated_UsesNewSecret()
    {
        var current = "old-secret";
        var verifier = new SigV4Verifier(_ => current, new FakeTimeProvider(SignedAt));
        Assert.True(verifier.Verify(SignedPost(credentials: new SigV4Credentials(AccessKeyId, "old-secret"))).IsSuccess);

        current = "new-secret";

        Assert.False(verifier.Verify(SignedPost(credentials: new SigV4Credentials(AccessKeyId, "old-secret"))).IsSuccess);
        Assert.True(verifier.Verify(SignedPost(credentials: new SigV4Credentials(AccessKeyId, "new-secret"))).IsSuccess);
    }

    [Fact]
    public async Task Verify_ConcurrentCallers_AllSucceed()
    {
        var verifier = Verifier();
        var requests = Enumerable.Range(0, 8)
            .Select(i => SignedPost(body: Encoding.UTF8.GetBytes($$"""{"SecretId":"s{{i}}"}""")))
            .ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => verifier.Verify(requests[i % requests.Length]))));

        Assert.All(results, r => Assert.True(r.IsSuccess, r.ErrorMessage));
    }

    [Fact]
    public void Constructor_NegativeSkew_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SigV4Verifier(Lookup, TimeProvider.System, TimeSpan.FromMinutes(-1)));
    }

    [Fact]
    public void Credentials_ToString_HidesSecret()
    {
        Assert.DoesNotContain(Secret, Credentials.ToString(), StringComparison.Ordinal);
        Assert.Contains(AccessKeyId, Credentials.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a signed request is verified, its key looked up once", "signed", 0, 1)]
    [InlineData("a request signed with an unknown key is refused as unrecognized", "unknown key", 0, 1)]
    [InlineData("a request whose body changed after signing is refused", "tampered", 0, 1)]
    [InlineData("an expired request is refused before any key is looked up", "signed", 6, 0)]
    [InlineData("a request without authentication looks nothing up", "unsigned", 0, 0)]
    public async Task VerifyAsync_AnswersAsVerify_LookingUpOnlyTheKeyTheRequestNames(string because, string request, int minutesLater, int lookups)
    {
        var sent = request switch
        {
            "signed" => SignedPost(),
            "unknown key" => SignedPost(credentials: new SigV4Credentials("AKIAUNKNOWN000000000", Secret)),
            "tampered" => SignedPost() with { Body = Encoding.UTF8.GetBytes("{}") },
            _ => SigV4TestRequest.FromUri("POST", Endpoint, JsonHeaders(), Body),
        };
        var asked = new List<string>();
        var verifier = AsyncVerifier(asked, SignedAt.AddMinutes(minutesLater));

        var result = await verifier.VerifyAsync(sent, null, default);
        var expected = Verifier(SignedAt.AddMinutes(minutesLater)).Verify(sent);

        Assert.True(
            (expected.Outcome, expected.ErrorCode, expected.ErrorMessage, expected.AccessKeyId) == (result.Outcome, result.ErrorCode, result.ErrorMessage, result.AccessKeyId),
            because);
        Assert.True(lookups == asked.Count, because);
        Assert.All(asked, id => Assert.Equal(result.AccessKeyId, id));
    }

    [Fact]
    public async Task RejectBeforeBodyAsync_RefusesAnUnknownKey_AndLetsAKnownOneReadTheBody()
    {
        var verifier = AsyncVerifier([], SignedAt);
        var unknown = SignedPost(credentials: new SigV4Credentials("AKIAUNKNOWN000000000", Secret)) with { Body = ReadOnlyMemory<byte>.Empty };

        Assert.Equal(SigV4Outcome.UnknownAccessKey, (await verifier.RejectBeforeBodyAsync(unknown, "secretsmanager", default))?.Outcome);
        Assert.Null(await verifier.RejectBeforeBodyAsync(SignedPost() with { Body = ReadOnlyMemory<byte>.Empty }, "secretsmanager", default));
        Assert.Throws<InvalidOperationException>(() => verifier.Verify(SignedPost()));
    }

    [Theory]
    [InlineData("a signed request is verified with the key its headers named", "signed", false, SigV4Outcome.Success)]
    [InlineData("a body changed after the header checks fails the signature", "tampered", false, SigV4Outcome.SignatureMismatch)]
    [InlineData("a key revoked while the body arrived is refused: the key is looked up again", "signed", true, SigV4Outcome.UnknownAccessKey)]
    public async Task RememberedKey_VerifiesTheBodyInOnePass_AndStillLooksTheKeyUp(string because, string request, bool revokeAfterHeaders, SigV4Outcome expected)
    {
        var revoked = false;
        var asked = new List<string>();
        var verifier = new SigV4Verifier((id, _) =>
        {
            asked.Add(id);
            return ValueTask.FromResult(revoked ? null : Lookup(id));
        }, new FakeTimeProvider(SignedAt), expectedServices: new HashSet<string> { "secretsmanager" });
        var sent = request == "tampered" ? SignedPost() with { Body = Encoding.UTF8.GetBytes("{}") } : SignedPost();

        var (rejected, key) = await verifier.RejectBeforeBodyAsync(sent with { Body = ReadOnlyMemory<byte>.Empty }, "secretsmanager", default, rememberKey: true);
        revoked = revokeAfterHeaders;
        var result = await verifier.VerifyAsync(sent, "secretsmanager", key, default);

        Assert.Null(rejected);
        Assert.Equal(AccessKeyId, key.AccessKeyId);
        Assert.True(expected == result.Outcome, $"{because}: {result.Outcome}");
        Assert.Equal([AccessKeyId, AccessKeyId], asked);
    }

    [Fact]
    public async Task VerifyingASignedRequest_WithTheKeyOfTheLastRequest_AllocatesNothing()
    {
        // The hot path reads the Authorization header and the credential in place, and a thread keeps the key id and
        // the success of its last request. The key id as a new string or a new success (64 B each), parsed parameters
        // as strings, a lookup closure, a Regex match (192 B) or the canonical request as a string would each break
        // the budget.
        const int Budget = 16;
        var verifier = new SigV4Verifier((id, _) => ValueTask.FromResult(Lookup(id)), new FakeTimeProvider(SignedAt));
        var sent = SignedPost();
        var headersOnly = sent with { Body = ReadOnlyMemory<byte>.Empty };

        long perRequest = 0;
        for (var round = 0; round < 2; round++)
        {
            // The first round warms the thread's buffers and the caches; the second is measured.
            const int Requests = 50;
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Requests; i++)
            {
                // The lookup answers synchronously, so every await here completes in place, on this thread.
                var (rejected, key) = await verifier.RejectBeforeBodyAsync(headersOnly, "secretsmanager", default, rememberKey: true);
                var verified = await verifier.VerifyAsync(sent, "secretsmanager", key, default);
                Assert.Null(rejected);
                Assert.True(verified.IsSuccess, verified.ErrorMessage);
            }

            perRequest = (GC.GetAllocatedBytesForCurrentThread() - before) / Requests;
        }

        Assert.InRange(perRequest, 0, Budget);
    }

    [Theory]
    [InlineData("us-east-1")]
    [InlineData("cn-north-1")]
    [InlineData("us-gov-west-1")]
    [InlineData("us-iso-east-1")]
    [InlineData("us-isob-east-1")]
    [InlineData("eu-isoe-west-1")]
    [InlineData("us-gov-1")]
    [InlineData("us-east-1\n")]
    [InlineData("US-east-1")]
    [InlineData("us-isoxx-east-1")]
    [InlineData("us--1")]
    [InlineData("u-east-1")]
    [InlineData("us-east-")]
    [InlineData("us-east-1a")]
    [InlineData("us-east1")]
    [InlineData("us-gov-west")]
    [InlineData("")]
    public void IsRegion_AgreesWithTheRegionPattern(string region) =>
        Assert.Equal(Regex.IsMatch(region, SigV4Verifier.RegionPattern, RegexOptions.CultureInvariant), SigV4Verifier.IsRegion(region));

    [Fact]
    public void IsRegion_AgreesWithTheRegionPattern_OnRandomStringsOfItsAlphabet()
    {
        const string Alphabet = "abgiosvA-19\n ";
        var random = new Random(13);
        for (var i = 0; i < 50_000; i++)
        {
            var chars = new char[random.Next(0, 16)];
            for (var j = 0; j < chars.Length; j++)
            {
                // Mostly the letters and separators a region is made of, so many candidates come close to matching.
                chars[j] = j < 2 && random.Next(3) > 0 ? (char)('a' + random.Next(26)) : Alphabet[random.Next(Alphabet.Length)];
            }

            var region = new string(chars);
            Assert.True(
                Regex.IsMatch(region, SigV4Verifier.RegionPattern, RegexOptions.CultureInvariant) == SigV4Verifier.IsRegion(region),
                $"'{region}'");
        }
    }

    internal static string? Lookup(string accessKeyId) => accessKeyId == AccessKeyId ? Secret : null;

    private static SigV4Verifier Verifier(DateTimeOffset? now = null) =>
        new(Lookup, new FakeTimeProvider(now ?? SignedAt), expectedServices: new HashSet<string> { "secretsmanager" });

    // Keys looked up as a database would, each id recorded.
    private static SigV4Verifier AsyncVerifier(List<string> asked, DateTimeOffset now) =>
        new((id, _) =>
        {
            asked.Add(id);
            return ValueTask.FromResult(Lookup(id));
        }, new FakeTimeProvider(now), expectedServices: new HashSet<string> { "secretsmanager" });

    private static List<KeyValuePair<string, string>> JsonHeaders() =>
    [
        new("Content-Type", "application/x-amz-json-1.1"),
        new("X-Amz-Target", "secretsmanager.GetSecretValue"),
        new("User-Agent", "aws-cli/2.15.0"),
    ];

    private static SigV4Request SignedPost(
        SigV4Credentials? credentials = null, string service = "secretsmanager", byte[]? body = null, string region = "us-east-1") =>
        Sign(SigV4TestRequest.FromUri("POST", Endpoint, JsonHeaders(), body ?? Body), credentials ?? Credentials, service, region);

    // Signs the request as it stands (its Host header included) and adds the signing headers.
    private static SigV4Request Sign(SigV4Request request, SigV4Credentials credentials, string service, string region = "us-east-1")
    {
        var uri = new Uri("http://" + request.Header("Host") + request.Path + (request.QueryString.Length > 0 ? "?" + request.QueryString : string.Empty));
        var added = SigV4Signer.Sign(request.Method, uri, request.Headers, request.Body.Span, credentials, region, service, SignedAt);
        return request.WithHeaders(added);
    }

    private static string SignCanonical(string canonicalRequest, string amzDate, string service)
    {
        var key = SigV4SigningKeyCache.Derive(Secret, amzDate.AsSpan(0, 8), "us-east-1", service);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)));
        var stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{amzDate[..8]}/us-east-1/{service}/aws4_request\n{hash}";
        return Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
    }

    private static void AssertFailure(SigV4VerificationResult result, SigV4Outcome outcome, string code, string message)
    {
        Assert.False(result.IsSuccess);
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(code, result.ErrorCode);
        Assert.Equal(message, result.ErrorMessage);
        Assert.Equal(400, result.HttpStatus);
    }
}
