namespace Keyturn.Application.Logs;

/// <summary>
/// Where rotation-function output goes: CloudWatch-style log groups (<c>/aws/lambda/NAME</c>) and
/// streams. Lines must already be free of secret values.
/// </summary>
public interface ILogSink
{
    Task AppendAsync(string logGroupName, string logStreamName, IReadOnlyList<LogLine> lines, CancellationToken cancellationToken);
}

public sealed record LogLine(DateTimeOffset Timestamp, string Message);
