namespace Keyturn.Domain.Rotation;

/// <summary>Where one rotation (secret + token) stands.</summary>
public enum RotationStatus
{
    /// <summary>Accepted by RotateSecret or the scheduler; no step has run yet.</summary>
    Pending,

    /// <summary>A step is executing.</summary>
    Running,

    /// <summary>A step failed with a transient error; it runs again at the recorded time.</summary>
    Retrying,

    Succeeded,

    /// <summary>Stopped: a permanent error, or the attempt budget ran out. AWSPENDING stays for the doctor or the next window.</summary>
    Failed,

    /// <summary>A value write moved AWSCURRENT during the rotation (AWS: RotationAbandoned).</summary>
    Abandoned,
}

public static class RotationStatuses
{
    public static bool IsOpen(this RotationStatus status) => status is RotationStatus.Pending or RotationStatus.Running or RotationStatus.Retrying;
}
