namespace Keyturn.Domain.Errors;

/// <summary>
/// A failure the caller should see as an AWS-style error. Messages are part of the contract and
/// must never contain a secret value.
/// </summary>
public sealed class ServiceException(ErrorKind kind, string message) : Exception(message)
{
    public ErrorKind Kind { get; } = kind;

    public static ServiceException SecretNotFound() =>
        new(ErrorKind.ResourceNotFound, "Secrets Manager can't find the specified secret.");

    public static ServiceException MarkedForDeletion() =>
        new(ErrorKind.InvalidRequest, "You can't perform this operation on the secret because it was marked for deletion.");

    public static ServiceException InvalidName() =>
        new(ErrorKind.Validation, "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");

    public static ServiceException MissingClientRequestToken(ErrorKind kind = ErrorKind.InvalidRequest) =>
        new(kind, "You must provide a ClientRequestToken value. We recommend a UUID-type value.");

    public static ServiceException TokenInUse(string token, string arn) =>
        new(ErrorKind.ResourceExists, $"You can't use ClientRequestToken {token} because that value is already in use for a version of secret {arn}.");
}
