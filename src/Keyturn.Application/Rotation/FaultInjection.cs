using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>
/// <b>Test-only</b> fault injection, so crash tests can stop a real server at an exact point of a rotation
/// and kill it there. Off unless both variables are set:
/// <list type="bullet">
/// <item><c>KEYTURN_FAULT_PAUSE=&lt;point&gt;:&lt;step&gt;</c>, where point is <c>invoked</c> (the function
/// returned, so the step's effect happened, but its end entry is not yet written) or <c>end</c> (the end entry is
/// committed, the next step not begun), and step is a wire name such as <c>setSecret</c>;</item>
/// <item><c>KEYTURN_FAULT_PAUSE_FILE=&lt;path&gt;</c>: on reaching the point the engine creates this file and
/// waits for as long as it exists; deleting it lets the rotation go on.</item>
/// </list>
/// Not for production use; nothing else in the engine reads these variables.
/// </summary>
internal static class FaultInjection
{
    private static readonly string? Point = Environment.GetEnvironmentVariable("KEYTURN_FAULT_PAUSE");
    private static readonly string? PauseFile = Environment.GetEnvironmentVariable("KEYTURN_FAULT_PAUSE_FILE");

    public static async Task PauseAsync(string point, RotationStep step, CancellationToken cancellationToken)
    {
        if (Point is null || PauseFile is null || !string.Equals(Point, $"{point}:{step.WireName()}", StringComparison.Ordinal))
        {
            return;
        }

        await File.WriteAllTextAsync(PauseFile, $"{point}:{step.WireName()}", cancellationToken).ConfigureAwait(false);
        while (File.Exists(PauseFile))
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }
}
