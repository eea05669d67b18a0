using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>What a runner does next with a rotation, decided from what is stored only (the record and its journal).</summary>
public abstract record RotationDecision
{
    private RotationDecision()
    {
    }

    /// <summary>The rotation is closed or gone: nothing to do.</summary>
    public sealed record Stop(string Why) : RotationDecision;

    /// <summary>A retry is due at <see cref="At"/>.</summary>
    public sealed record WaitUntil(DateTimeOffset At) : RotationDecision;

    /// <summary>Every step of the mode succeeded: mark it done.</summary>
    public sealed record Complete : RotationDecision;

    /// <summary>Run <see cref="Step"/>; <see cref="Attempt"/> counts every begun attempt, including one a crashed or stale runner left without an end.</summary>
    public sealed record Run(RotationStep Step, int Attempt) : RotationDecision;

    public static RotationDecision Decide(RotationRecord? rotation, IReadOnlyList<JournalEntry> journal, DateTimeOffset now)
    {
        if (rotation is null || !rotation.Status.IsOpen())
        {
            return new Stop($"the rotation is {rotation?.Status.ToString().ToLowerInvariant() ?? "absent"}");
        }

        if (rotation.NextAttemptAt is { } next && next > now)
        {
            return new WaitUntil(next);
        }

        var step = RotationProgress.NextStep(rotation.Mode, journal.Where(j => j.Phase == JournalPhase.End).Select(j => (j.Step, j.Succeeded == true)));
        return step is { } run
            ? new Run(run, journal.Count(j => j.Step == run && j.Phase == JournalPhase.Begin) + 1)
            : new Complete();
    }
}
