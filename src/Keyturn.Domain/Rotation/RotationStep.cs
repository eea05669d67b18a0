namespace Keyturn.Domain.Rotation;

/// <summary>The four steps every rotation function runs, in order.</summary>
public enum RotationStep
{
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

public static class RotationSteps
{
    public static readonly IReadOnlyList<RotationStep> All = [RotationStep.CreateSecret, RotationStep.SetSecret, RotationStep.TestSecret, RotationStep.FinishSecret];

    /// <summary>The camelCase names on the wire (the Lambda event's <c>Step</c>).</summary>
    public static string WireName(this RotationStep step) => step switch
    {
        RotationStep.CreateSecret => "createSecret",
        RotationStep.SetSecret => "setSecret",
        RotationStep.TestSecret => "testSecret",
        RotationStep.FinishSecret => "finishSecret",
        _ => throw new ArgumentOutOfRangeException(nameof(step), step, null),
    };

    public static bool TryParse(string? wireName, out RotationStep step)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.WireName(), wireName, StringComparison.Ordinal))
            {
                step = candidate;
                return true;
            }
        }

        step = default;
        return false;
    }

    /// <summary>The steps a run performs: all four, or only testSecret for RotateImmediately=false.</summary>
    public static IReadOnlyList<RotationStep> For(RotationMode mode) => mode == RotationMode.TestOnly ? [RotationStep.TestSecret] : All;
}

/// <summary>A real rotation, or the configuration test RotateImmediately=false asks for.</summary>
public enum RotationMode
{
    Rotate,
    TestOnly,
}
