namespace Keyturn.Domain.Errors;

/// <summary>The AWS wire code of each error kind (the <c>__type</c> of an error body, and BatchGetSecretValue's ErrorCode).</summary>
public static class ErrorCodes
{
    public static string For(ErrorKind kind) => kind switch
    {
        ErrorKind.ResourceNotFound => "ResourceNotFoundException",
        ErrorKind.ResourceExists => "ResourceExistsException",
        ErrorKind.InvalidRequest => "InvalidRequestException",
        ErrorKind.InvalidParameter => "InvalidParameterException",
        ErrorKind.InvalidNextToken => "InvalidNextTokenException",
        ErrorKind.LimitExceeded => "LimitExceededException",
        ErrorKind.Validation => "ValidationException",
        ErrorKind.AccessDenied => "AccessDeniedException",
        ErrorKind.MalformedPolicyDocument => "MalformedPolicyDocumentException",
        ErrorKind.PublicPolicy => "PublicPolicyException",
        ErrorKind.PreconditionNotMet => "PreconditionNotMetException",
        ErrorKind.EncryptionFailure => "EncryptionFailure",
        ErrorKind.DecryptionFailure => "DecryptionFailure",
        ErrorKind.InternalServiceError => "InternalServiceError",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
