namespace Keyturn.Protocol.SigV4;

/// <summary>
/// The AWS error codes (the JSON <c>__type</c>) that signature verification produces. Secrets Manager sends them
/// without a namespace, e.g. <c>{"__type":"UnrecognizedClientException","message":"..."}</c>.
/// </summary>
public static class SigV4ErrorCodes
{
    public const string MissingAuthenticationToken = "MissingAuthenticationTokenException";
    public const string IncompleteSignature = "IncompleteSignatureException";
    public const string InvalidSignature = "InvalidSignatureException";
    public const string UnrecognizedClient = "UnrecognizedClientException";
}
