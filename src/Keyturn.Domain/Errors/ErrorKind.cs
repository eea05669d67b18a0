namespace Keyturn.Domain.Errors;

/// <summary>
/// The client-visible failure classes of the Secrets Manager contract. The wire code for each
/// (e.g. <c>ResourceNotFoundException</c>) is decided in one place, the protocol layer.
/// </summary>
public enum ErrorKind
{
    ResourceNotFound,
    ResourceExists,
    InvalidRequest,
    InvalidParameter,
    InvalidNextToken,
    LimitExceeded,
    Validation,
    AccessDenied,
    MalformedPolicyDocument,
    PublicPolicy,
    PreconditionNotMet,
    EncryptionFailure,
    DecryptionFailure,
    InternalServiceError,
}
