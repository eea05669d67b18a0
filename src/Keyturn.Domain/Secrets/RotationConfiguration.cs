namespace Keyturn.Domain.Secrets;

/// <summary>Rotation settings as stored on a secret (the RotationRules members AWS returns).</summary>
public sealed record RotationConfiguration(
    bool Enabled,
    string? LambdaArn,
    long? AutomaticallyAfterDays,
    string? ScheduleExpression,
    string? Duration);
