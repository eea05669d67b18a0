using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>
/// One rotation of one secret: the token (new version id), the function, and where it stands. <see cref="Version"/>
/// is the stored row's revision: <see cref="Ports.ISecretSession.SaveRotationAsync"/> writes a record only over the
/// revision it was read at, so a copy read before a CancelRotateSecret can't undo it.
/// </summary>
public sealed record RotationRecord(
    string SecretArn,
    string Token,
    string FunctionName,
    RotationMode Mode,
    RotationStatus Status,
    RotationStep? Step,
    int Attempt,
    string? Reason,
    DateTimeOffset StartedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? NextAttemptAt)
{
    /// <summary>The stored revision this copy was read at; 0 for a record not stored yet.</summary>
    public long Version { get; init; }
}

/// <summary>
/// A rotation record was not written because it changed since it was read (a CancelRotateSecret, another runner) or,
/// for a new record, because one already exists: the writer's copy is stale and must not be acted on.
/// </summary>
public sealed class RotationConflictException(string secretArn, string token, long expectedVersion)
    : Exception($"The rotation of {secretArn} (version {token}) changed since revision {expectedVersion} was read.")
{
    public string SecretArn { get; } = secretArn;

    public string Token { get; } = token;

    /// <summary>The revision the writer had read (0: it meant to create the record).</summary>
    public long ExpectedVersion { get; } = expectedVersion;
}

/// <summary>
/// The write-ahead journal: a begin entry is committed before a step runs (and before any side
/// effect it has), an end entry after. Resuming reads it to find the first unfinished step.
/// </summary>
public sealed record JournalEntry(
    string SecretArn,
    string Token,
    RotationStep Step,
    int Attempt,
    JournalPhase Phase,
    bool? Succeeded,
    string? Reason,
    DateTimeOffset At,
    string Node,
    long Fencing);

public enum JournalPhase
{
    Begin,
    End,
}

/// <summary>
/// A registered external rotation function: a command to run, a URL to POST the event to, or a Lambda handler
/// (<see cref="Handler"/> in the code directory <see cref="Target"/>) run in a warm worker of <see cref="Runtime"/>.
/// </summary>
public sealed record FunctionRecord(
    string Name,
    FunctionKind Kind,
    string Target,
    TimeSpan Timeout,
    string? AccessKeyId,
    byte[]? EncryptedSecretAccessKey,
    DateTimeOffset CreatedDate)
{
    /// <summary>The handler, <c>module.function</c> (Python) or <c>file.export</c> (Node.js); null unless <see cref="FunctionKind.Handler"/>.</summary>
    public string? Handler { get; init; }

    /// <summary>The handler's runtime (<see cref="FunctionRuntimes"/>); null unless <see cref="FunctionKind.Handler"/>.</summary>
    public string? Runtime { get; init; }

    /// <summary>Lambda's memory setting, reported to the handler and in the REPORT line (not enforced).</summary>
    public int MemorySize { get; init; } = FunctionRegistration.DefaultMemorySize;

    /// <summary>The names of the function's environment variables, which may be shown; their values are only in <see cref="EncryptedEnvironment"/>.</summary>
    public IReadOnlyList<string> EnvironmentNames { get; init; } = [];

    /// <summary>The environment variables (a JSON object) sealed by the master key; null when there are none.</summary>
    public byte[]? EncryptedEnvironment { get; init; }
}

/// <summary>
/// What an administrator allowed a rotation function (built-in or registered) beyond its secret: the master
/// secrets (ARN patterns) it may read, and whether alternating users may clone a privileged user. The
/// default allows neither.
/// </summary>
public sealed record FunctionPolicy(string FunctionName, IReadOnlyList<string> AllowedMasters, bool AllowPrivilegedClone, DateTimeOffset? UpdatedDate)
{
    public static FunctionPolicy Default(string functionName) => new(functionName, [], false, null);
}

public enum FunctionKind
{
    Command,
    Url,
    Handler,
}
