namespace Keyturn.Domain.Listing;

/// <summary>A ListSecrets request AWS would refuse: the AWS error code and an AWS-style message.</summary>
public sealed record FilterError(string Code, string Message)
{
    public const string InvalidParameter = "InvalidParameterException";
    public const string Validation = "ValidationException";
}
