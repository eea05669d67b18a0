namespace Keyturn.Domain.Rotation;

/// <summary>
/// Reads a rotation's journal to decide where to resume. A step whose begin entry has no successful
/// end entry runs again: every step is idempotent, so re-running is the safe choice after a crash.
/// </summary>
public static class RotationProgress
{
    public static RotationStep? NextStep(RotationMode mode, IEnumerable<(RotationStep Step, bool Succeeded)> completed)
    {
        var done = completed.Where(c => c.Succeeded).Select(c => c.Step).ToHashSet();
        foreach (var step in RotationSteps.For(mode))
        {
            if (!done.Contains(step))
            {
                return step;
            }
        }

        return null;
    }
}
