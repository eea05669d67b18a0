namespace Keyturn.Domain.Policies;

/// <summary>A policy document is not valid JSON or breaks the IAM policy grammar.</summary>
public sealed class PolicyParseException : Exception
{
    public PolicyParseException()
        : base("The policy document is malformed.")
    {
    }

    public PolicyParseException(string message)
        : base(message)
    {
    }

    public PolicyParseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
