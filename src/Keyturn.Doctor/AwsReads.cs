using System.Net.Sockets;
using Keyturn.Domain.Doctor;
using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>How a failed AWS read is told apart: AWS's error code for an answer, the transport's error for no answer.</summary>
internal static class AwsReads
{
    /// <summary>A failure of the read itself (an AWS error, no answer, an answer that can't be parsed), not the run being cancelled.</summary>
    public static bool IsReadFailure(Exception e, CancellationToken cancellationToken) =>
        e is AwsServiceException or HttpRequestException or FormatException or System.Xml.XmlException or System.Text.Json.JsonException
        || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    public static ReadFailure Failure(string action, string? resource, string skipped, Exception e) => e switch
    {
        AwsServiceException aws => new ReadFailure(action, resource, AwsReadFailures.Classify(aws.ErrorCode), $"{aws.ErrorCode}: {aws.ErrorMessage}", skipped),
        HttpRequestException http => new ReadFailure(action, resource, ReadFailureCause.Network, Describe(http), skipped),
        OperationCanceledException => new ReadFailure(action, resource, ReadFailureCause.Network, "no answer in time", skipped),
        _ => new ReadFailure(action, resource, ReadFailureCause.Other, $"the answer couldn't be read: {e.Message}", skipped),
    };

    private static string Describe(HttpRequestException e) =>
        e.InnerException is SocketException socket
            ? socket.SocketErrorCode switch
            {
                SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => $"the endpoint's name doesn't resolve ({e.Message})",
                SocketError.ConnectionRefused => $"the endpoint refuses connections ({e.Message})",
                _ => $"{socket.SocketErrorCode}: {e.Message}",
            }
            : e.Message;
}
