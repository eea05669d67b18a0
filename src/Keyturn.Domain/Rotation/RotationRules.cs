namespace Keyturn.Domain.Rotation;

/// <summary>The RotationRules members of RotateSecret, as sent.</summary>
public sealed record RotationRules(long? AutomaticallyAfterDays, string? ScheduleExpression, string? Duration);
