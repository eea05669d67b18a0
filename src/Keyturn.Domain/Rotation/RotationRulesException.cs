namespace Keyturn.Domain.Rotation;

/// <summary>
/// RotationRules AWS would refuse. <see cref="ErrorCode"/> is <c>InvalidParameterException</c> for rule
/// problems and <c>ValidationException</c> for strings breaking the API model's length or pattern.
/// </summary>
public sealed class RotationRulesException : Exception
{
    public const string InvalidParameter = "InvalidParameterException";
    public const string Validation = "ValidationException";

    public RotationRulesException(string message)
        : this(InvalidParameter, message)
    {
    }

    public RotationRulesException(string errorCode, string message)
        : base(message)
    {
        ErrorCode = errorCode;
    }

    public string ErrorCode { get; }
}
