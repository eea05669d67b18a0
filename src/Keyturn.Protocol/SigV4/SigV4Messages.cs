using System.Globalization;

namespace Keyturn.Protocol.SigV4;

/// <summary>
/// AWS's exact error messages for signature failures. Sources: responses recorded from AWS in mhart/dynalite
/// (tests pin each body by its x-amz-crc32), error texts quoted in issues against the AWS SDKs (Secrets Manager,
/// Kinesis, DynamoDB, SSM), and the AWS auth error ordering followed by dacut/scratchstack-aws-signature.
/// </summary>
internal static class SigV4Messages
{
    // Secrets Manager's wording (aws/aws-sdk-cpp#2407: body length 89 matches exactly this message);
    // DynamoDB alone says "Request is missing Authentication Token".
    public const string MissingAuthenticationToken = "Missing Authentication Token";

    public const string UnrecognizedClient = "The security token included in the request is invalid.";

    public const string SignatureMismatch =
        "The request signature we calculated does not match the signature you provided. " +
        "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

    public const string HostNotSigned = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";

    public const string BothAuthorizationForms =
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.";

    public const string HeaderRequiresDate =
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.";

    public const string ReexamineQuery = "Re-examine the query-string parameters.";

    // The header named as the request sent it, e.g. "'x-amz-request-id' must be a 'SignedHeader' in the AWS
    // Authorization." (the wording and error class dacut/scratchstack-aws-signature reproduces for AWS).
    public static string HeaderNotSigned(string name) => $"'{name}' must be a 'SignedHeader' in the AWS Authorization.";

    public static string HeaderRequiresParameter(string name) => $"Authorization header requires '{name}' parameter.";

    public static string QueryMustInclude(string name) => $"AWS query-string parameters must include '{name}'.";

    public static string MissingEqualSign(string pair, string header) =>
        $"'{pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'.";

    // The trailing space is AWS's (dynalite records it verbatim).
    public static string UnsupportedAlgorithm(string algorithm) =>
        $"Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). ";

    public static string InvalidDate(string value) =>
        $"Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601";

    public static string CredentialParts(string credential) =>
        $"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'";

    public static string WrongRegion(string region) => $"Credential should be scoped to a valid region, not '{region}'.";

    public static string WrongService(string expected) => $"Credential should be scoped to correct service: '{expected}'.";

    public static string WrongTerminator(string terminator) =>
        $"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'.";

    public static string WrongScopeDate(string scopeDate, string amzDate) =>
        $"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scopeDate}' != '{amzDate[..8]}', from '{amzDate}'.";

    // "Signature expired: 20130524T000000Z is now earlier than 20130524T001000Z (20130524T001500Z - 5 min.)"
    public static string Expired(DateTimeOffset requestTime, DateTimeOffset limit, DateTimeOffset now, TimeSpan window) =>
        $"Signature expired: {Format(requestTime)} is now earlier than {Format(limit)} ({Format(now)} - {Format(window)}.)";

    // "Signature not yet current: 20181017T093750Z is still later than 20181017T093639Z (20181017T093139Z + 5 min.)"
    public static string NotYetCurrent(DateTimeOffset requestTime, DateTimeOffset limit, DateTimeOffset now, TimeSpan window) =>
        $"Signature not yet current: {Format(requestTime)} is still later than {Format(limit)} ({Format(now)} + {Format(window)}.)";

    // AWS appends what it computed, which is what makes client signing bugs debuggable (aws/aws-sdk-net#3978
    // shows Secrets Manager doing it; aws/aws-sdk-cpp#17 shows the exact line breaks and the trailing newline).
    public static string SignatureMismatchWithDetails(string canonicalRequest, string stringToSign) =>
        $"{SignatureMismatch}\n\nThe Canonical String for this request should have been\n'{canonicalRequest}'\n\n" +
        $"The String-to-Sign should have been\n'{stringToSign}'\n";

    // X-Amz-Expires bounds as S3 words them; AWS documents 1..604800 seconds for every SigV4 presigned URL.
    public const string ExpiresNotNumber = "X-Amz-Expires should be a number";
    public const string ExpiresNegative = "X-Amz-Expires must be non-negative";
    public const string ExpiresTooLarge = "X-Amz-Expires must be less than a week (in seconds) that is 604800";

    public static string Format(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    // AWS writes the window as "5 min"; a window that is not whole minutes is written in seconds.
    public static string Format(TimeSpan window)
    {
        var seconds = (long)window.TotalSeconds;
        return seconds % 60 == 0
            ? (seconds / 60).ToString(CultureInfo.InvariantCulture) + " min"
            : seconds.ToString(CultureInfo.InvariantCulture) + " sec";
    }
}
