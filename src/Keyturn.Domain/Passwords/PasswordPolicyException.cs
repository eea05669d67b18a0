namespace Keyturn.Domain.Passwords;

/// <summary>
/// A GetRandomPassword request AWS would refuse. <see cref="ErrorCode"/> is the AWS error code:
/// <c>InvalidParameterException</c> for policy problems, <c>ValidationException</c> for values
/// outside the API model's ranges.
/// </summary>
public sealed class PasswordPolicyException : Exception
{
    public const string InvalidParameter = "InvalidParameterException";
    public const string Validation = "ValidationException";

    public PasswordPolicyException(string message)
        : this(InvalidParameter, message)
    {
    }

    public PasswordPolicyException(string errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    public string ErrorCode { get; }
}
