using System.Collections.Concurrent;
using Keyturn.Application.Logs;

namespace Keyturn.Application.Tests.Rotation;

internal sealed class CapturingLogSink : ILogSink
{
    public ConcurrentQueue<(string Group, string Stream, string Message)> Lines { get; } = new();

    public Task AppendAsync(string logGroupName, string logStreamName, IReadOnlyList<LogLine> lines, CancellationToken cancellationToken)
    {
        foreach (var line in lines)
        {
            Lines.Enqueue((logGroupName, logStreamName, line.Message));
        }

        return Task.CompletedTask;
    }
}
