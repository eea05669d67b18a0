namespace Keyturn.Application.Rotation;

/// <summary>Starts (or resumes) the background run of a rotation that RotateSecret or the scheduler recorded.</summary>
public interface IRotationLauncher
{
    void Launch(string secretArn, string token);

    /// <summary>How many more rotations this node can run now; the scheduler starts no more than that, leaving the rest to other nodes.</summary>
    int FreeSlots => int.MaxValue;
}
