namespace Keyturn.Domain.Doctor;

public enum Severity
{
    Info,
    Warning,
    Error,
    Critical,
}

/// <summary>One thing the doctor found: a stable code to search for, the evidence, and the fix.</summary>
public sealed record Finding(string Code, Severity Severity, string Title, string Evidence, string Fix);
