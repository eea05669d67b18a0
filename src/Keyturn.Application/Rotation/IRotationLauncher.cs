namespace Keyturn.Application.Rotation;

/// <summary>Starts (or resumes) the background run of a rotation that RotateSecret or the scheduler recorded.</summary>
public interface IRotationLauncher
{
    void Launch(string secretArn, string token);
}
