using System.Text;
using Keyturn.Protocol.SigV4;
using Microsoft.Extensions.Time.Testing;

namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>The verifier must accept what the AWS CLI and boto3 send; these sign with the real botocore.</summary>
public sealed class BotocoreInteropTests
{
    private const string AccessKeyId = "AKIAKEYTURNBOTOCORE1";
    private const string Secret = "botocore/Secret+Key0123456789abcdefghijk";
    private const string Body = """{"SecretId": "prod/db/password", "VersionStage": "AWSCURRENT"}""";

    private static readonly Dictionary<string, string> JsonHeaders = new()
    {
        ["Content-Type"] = "application/x-amz-json-1.1",
        ["X-Amz-Target"] = "secretsmanager.GetSecretValue",
        ["User-Agent"] = "aws-cli/2.15.0 botocore",
    };

    [BotocoreFact]
    public void Verify_BotocoreSignedPostJson_Succeeds()
    {
        var signed = Botocore.Sign(Case("http://localhost:4566/"))[0];

        var result = Verify(signed, "localhost:4566", Body);

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(("secretsmanager", "us-east-1"), (result.Service, result.Region));
    }

    [BotocoreFact]
    public void Sign_SameRequestAndTimeAsBotocore_SameAuthorization()
    {
        var signed = Botocore.Sign(Case("https://secretsmanager.us-east-1.amazonaws.com/"))[0];
        var headers = JsonHeaders.ToList();

        var ours = SigV4Signer.Sign(
            "POST", new Uri("https://secretsmanager.us-east-1.amazonaws.com/"), headers, Encoding.UTF8.GetBytes(Body),
            new SigV4Credentials(AccessKeyId, Secret), "us-east-1", "secretsmanager", Botocore.ParseTimestamp(signed.Timestamp));

        Assert.Equal(Header(signed, "Authorization"), ours.Single(h => h.Key == "Authorization").Value);
        Assert.Equal(Header(signed, "X-Amz-Date"), ours.Single(h => h.Key == "X-Amz-Date").Value);
    }

    [BotocoreFact]
    public void Verify_BotocoreSignedWithSessionTokenAndDefaultPort_Succeeds()
    {
        var signed = Botocore.Sign(Case("https://secretsmanager.us-east-1.amazonaws.com/") with { Token = "FwoGZXIvYXdzE//botocore+token=" })[0];

        var result = Verify(signed, "secretsmanager.us-east-1.amazonaws.com", Body);

        Assert.True(result.IsSuccess, result.ErrorMessage);
    }

    [BotocoreFact]
    public void Verify_BotocoreSignedWithDateHeader_Succeeds()
    {
        // With a Date header botocore signs "date" instead of sending X-Amz-Date, written like "Sat, 28 Nov 2026 15:25:15 -0000".
        var headers = new Dictionary<string, string>(JsonHeaders) { ["Date"] = "placeholder", ["X-Amz-Target"] = "Logs_20140328.DescribeLogGroups" };
        var signed = Botocore.Sign(Case("http://127.0.0.1:4566/") with { Headers = headers, Service = "logs", Body = "{}" })[0];

        Assert.DoesNotContain(signed.Headers, h => h[0] == "X-Amz-Date");
        var result = Verify(signed, "127.0.0.1:4566", "{}", "logs");

        Assert.True(result.IsSuccess, result.ErrorMessage);
    }

    [BotocoreFact]
    public void Verify_BotocorePresignedUrlWithEscapedPathAndQuery_Succeeds()
    {
        var signed = Botocore.Sign(
            Case("http://localhost:4566/a%20b/c/?x=1 2&y=%2F&z=") with
            {
                Method = "GET",
                Headers = null,
                Body = null,
                Token = "tok/+=",
                PresignExpires = 300,
            })[0];
        var (path, query) = SigV4TestRequest.SplitUrl(signed.Url);
        var request = new SigV4Request("GET", path, query, [new("Host", "localhost:4566")], Array.Empty<byte>());
        var signedAt = Botocore.ParseTimestamp(signed.Timestamp);

        var result = Verifier(signedAt.AddMinutes(4)).Verify(request, "secretsmanager");
        var expired = Verifier(signedAt.AddMinutes(6)).Verify(request, "secretsmanager");

        Assert.True(result.IsSuccess, result.ErrorMessage);
        Assert.Equal(SigV4Outcome.Expired, expired.Outcome);
    }

    [BotocoreFact]
    public void Verify_BotocoreSignedThenBodyChanged_SignatureMismatch()
    {
        var signed = Botocore.Sign(Case("http://localhost:4566/"))[0];

        var result = Verify(signed, "localhost:4566", Body.Replace("prod", "dev", StringComparison.Ordinal));

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
    }

    [BotocoreFact]
    public void Verify_BotocoreSignedWithOtherSecret_SignatureMismatch()
    {
        var signed = Botocore.Sign(Case("http://localhost:4566/") with { SecretKey = "some-other-secret" })[0];

        var result = Verify(signed, "localhost:4566", Body);

        Assert.Equal(SigV4Outcome.SignatureMismatch, result.Outcome);
    }

    public static TheoryData<string, string[][]> TrickyHeaderSets => new()
    {
        { "a header sent twice is signed as its values joined with a comma, in order", [["X-Amz-Meta-Tag", "first"], ["X-Amz-Meta-Tag", "second"]] },
        { "one name sent in two cases is one header", [["X-Custom", "a"], ["x-custom", "b"]] },
        { "runs of spaces and tabs inside a value fold to one space", [["X-Custom", "a   b \t\t c  d"]] },
        { "whitespace around a value is trimmed", [["X-Custom", "   padded value\t "]] },
        { "an upper-case name is signed in lower case", [["X-UPPER-CASE", "Value With CAPS"]] },
        { "an empty value is signed empty", [["X-Empty", ""]] },
        { "repeated values are each folded, an empty one kept between commas", [["X-Amz-Meta-List", "  a   b "], ["X-Amz-Meta-List", ""], ["X-Amz-Meta-List", "c"]] },
        { "a value of commas and equal signs is signed as it is", [["X-Custom", "k=v, k2=v2,,"]] },
    };

    [BotocoreTheory]
    [MemberData(nameof(TrickyHeaderSets))]
    public void Verify_BotocoreSignedTrickyHeaders_SucceedsAndCoversTheirValues(string because, string[][] extra)
    {
        var signed = Botocore.Sign(Case("http://localhost:4566/") with { HeaderList = [.. extra.Select(h => h.ToList())] })[0];
        var last = extra[^1][0];

        var result = Verify(signed, "localhost:4566", Body);
        var changed = Verify(
            signed with { Headers = [.. signed.Headers.Select(h => h[0] == last ? [h[0], h[1] + "x"] : h)] }, "localhost:4566", Body);

        Assert.True(result.IsSuccess, $"{because}: {result.ErrorMessage}");
        Assert.True(changed.Outcome == SigV4Outcome.SignatureMismatch, $"{because}: a changed value must fail, got {changed.Outcome}");
    }

    private static BotocoreCase Case(string url) =>
        new("POST", url, new Dictionary<string, string>(JsonHeaders), Body, AccessKeyId, Secret, "us-east-1", "secretsmanager");

    // Replays botocore's request the way Kestrel presents it: the Host header the HTTP client sends, the raw target.
    private static SigV4VerificationResult Verify(BotocoreSigned signed, string host, string body, string service = "secretsmanager")
    {
        var (path, query) = SigV4TestRequest.SplitUrl(signed.Url);
        List<KeyValuePair<string, string>> headers = [new("Host", host), .. signed.Headers.Select(h => new KeyValuePair<string, string>(h[0], h[1]))];
        var request = new SigV4Request("POST", path, query, headers, Encoding.UTF8.GetBytes(body));
        return Verifier(Botocore.ParseTimestamp(signed.Timestamp)).Verify(request, service);
    }

    private static SigV4Verifier Verifier(DateTimeOffset now) => new(id => id == AccessKeyId ? Secret : null, new FakeTimeProvider(now));

    private static string Header(BotocoreSigned signed, string name) => signed.Headers.Single(h => h[0] == name)[1];
}
