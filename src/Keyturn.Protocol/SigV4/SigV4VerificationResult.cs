namespace Keyturn.Protocol.SigV4;

/// <summary>The outcome of <see cref="SigV4Verifier.Verify(SigV4Request)"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="AccessKeyId">The access key id from the credential scope, when it could be read.</param>
/// <param name="Region">The region from the credential scope, when it could be read.</param>
/// <param name="Service">The service from the credential scope, when it could be read.</param>
/// <param name="ErrorCode">The AWS error code (see <see cref="SigV4ErrorCodes"/>), null on success.</param>
/// <param name="ErrorMessage">AWS's message for the error, null on success.</param>
public sealed record SigV4VerificationResult(
    SigV4Outcome Outcome,
    string? AccessKeyId,
    string? Region,
    string? Service,
    string? ErrorCode,
    string? ErrorMessage)
{
    public bool IsSuccess => Outcome == SigV4Outcome.Success;

    /// <summary>
    /// The HTTP status AWS answers with. Every signature error of the JSON-protocol services is a 400, including
    /// the missing token: Secrets Manager answered an unsigned GetSecretValue with "HTTP response code: 400",
    /// "MissingAuthenticationTokenException", "Missing Authentication Token", content-length 89
    /// (aws/aws-sdk-cpp#2407); UnrecognizedClientException from secretsmanager is "400 Bad Request"
    /// (aws/aws-sdk-php-laravel#228, spring-attic/spring-cloud-aws#492); InvalidSignatureException for expired and
    /// not-yet-current signatures is "status code: 400" (remind101/logspout-kinesis#21, aws/aws-sdk-go#2194) and
    /// DynamoDB's unsigned request is a 400 (mhart/dynalite tests, recorded against AWS). The 403 seen in the
    /// wild comes from API Gateway fronted REST services, which Keyturn does not imitate.
    /// </summary>
    public int HttpStatus => Outcome == SigV4Outcome.Success ? 200 : 400;

    internal static SigV4VerificationResult Success(string accessKeyId, string region, string service) =>
        new(SigV4Outcome.Success, accessKeyId, region, service, null, null);

    internal static SigV4VerificationResult Failure(
        SigV4Outcome outcome, string code, string message, string? accessKeyId = null, string? region = null, string? service = null) =>
        new(outcome, accessKeyId, region, service, code, message);
}
