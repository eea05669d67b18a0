namespace Keyturn.Protocol.Client;

/// <summary>An AWS JSON 1.1 error answer: the code from <c>__type</c>, the message, the HTTP status.</summary>
public sealed class AwsServiceException(string errorCode, string message, int status) : Exception($"{errorCode}: {message}")
{
    public string ErrorCode { get; } = errorCode;

    public string ErrorMessage { get; } = message;

    public int Status { get; } = status;
}
