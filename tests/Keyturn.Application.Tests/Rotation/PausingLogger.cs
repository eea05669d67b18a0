using Keyturn.Application.Rotation;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>Blocks the first thread that logs event <paramref name="pauseAt"/> until the test resumes it: holds the engine at that point.</summary>
internal sealed class PausingLogger(int pauseAt) : ILogger<RotationEngine>, IDisposable
{
    private readonly ManualResetEventSlim _resume = new();
    private int _paused;

    public ManualResetEventSlim Reached { get; } = new();

    public void Resume() => _resume.Set();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id == pauseAt && Interlocked.Exchange(ref _paused, 1) == 0)
        {
            Reached.Set();
            _resume.Wait(TimeSpan.FromSeconds(30));
        }
    }

    public void Dispose()
    {
        _resume.Set();
        _resume.Dispose();
        Reached.Dispose();
    }
}
