using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>
/// The database side of rotating a credential, one implementation per engine family. It knows nothing of
/// versions, labels or journals (the rotation engine owns those): it only logs in, changes passwords and
/// creates and inspects users. Like Vault's dbplugin v5 contract, it is small on purpose.
/// </summary>
/// <remarks>
/// Implementations are handed out wrapped in <see cref="SanitizingDatabaseRotator"/>, so no exception or probe
/// message ever carries one of the passwords passed in. Every method that acts as a user opens its own
/// unpooled connection: a rotator must never reuse a session that logged in with a password it just replaced.
/// </remarks>
public interface IDatabaseRotator
{
    /// <summary>The engine this rotator serves: its <c>engine</c> values (for example <c>postgres</c> and <c>aurora-postgresql</c>), defaults and limits.</summary>
    DatabaseEngine Engine { get; }

    /// <summary>
    /// Logs in as <paramref name="connection"/> and runs <c>SELECT 1</c>. Changes nothing. Never throws for a
    /// failed login, a network problem or a timeout: those are classified in the result. Throws
    /// <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <param name="timeout">The whole probe (connect, authenticate, query) ends within this time.</param>
    Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="ProbeLoginAsync(DatabaseConnection, TimeSpan, CancellationToken)"/>; with <paramref name="loginOnly"/>
    /// the probe ends when the server says the session is ready (PostgreSQL's ReadyForQuery, MySQL's OK to the
    /// handshake) and runs no statement: the doctor's probes, one per secret in <c>doctor --all</c>, where the query
    /// would add nothing to "this password logs in" but a round trip and the server's work. testSecret keeps the query.
    /// </summary>
    Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, bool loginOnly, CancellationToken cancellationToken);

    /// <summary>Single-user rotation: logs in as <paramref name="current"/> and changes that user's own password.</summary>
    Task SetOwnPasswordAsync(DatabaseConnection current, string newPassword, CancellationToken cancellationToken);

    /// <summary>Logs in as <paramref name="master"/> and sets <paramref name="username"/>'s password.</summary>
    Task SetUserPasswordAsync(DatabaseConnection master, string username, string newPassword, CancellationToken cancellationToken);

    /// <summary>
    /// Whether the name is taken: on PostgreSQL by any role, on MySQL/MariaDB by an account on any host (MariaDB
    /// roles are not accounts and don't count).
    /// </summary>
    Task<bool> UserExistsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken);

    /// <summary>
    /// Alternating users: creates <paramref name="newUser"/> with <paramref name="newPassword"/> and the same
    /// privileges as <paramref name="sourceUser"/>. Fails with reason <c>user-exists</c> if the new user is already
    /// there, and leaves nothing behind when it fails part-way.
    /// </summary>
    /// <param name="allowPrivilegedRoles">
    /// Without it, a source that is privileged (a superuser or a member of one, role administration, server
    /// files and programs, replication, GRANT OPTION, admin privileges, the system schema: each engine's rules
    /// say exactly what) is refused with reason <c>privileged-user</c>, naming what made it privileged, before
    /// anything is created. Only an administrator's explicit per-function setting may pass <see langword="true"/>.
    /// </param>
    Task CloneUserAsync(DatabaseConnection master, string sourceUser, string newUser, string newPassword, bool allowPrivilegedRoles, CancellationToken cancellationToken);

    /// <summary>
    /// What makes <paramref name="username"/> privileged, by the same rules and in the same words as the
    /// <c>privileged-user</c> refusal of <see cref="CloneUserAsync"/>; empty when the user is ordinary. Changes
    /// nothing. Fails with reason <c>unknown-user</c> when no such user exists. Alternating users asks before
    /// setting the password of an alternate user that already exists, which the master could otherwise hand to
    /// whoever reads AWSPENDING.
    /// </summary>
    Task<IReadOnlyList<string>> DescribePrivilegeConcernsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken);

    /// <summary>
    /// The user's effective privileges as normalized, sorted lines in which the user's own name is replaced by
    /// <see cref="UserPlaceholder"/>, so a user and its clone can be compared line by line. Any difference means
    /// the two users can't stand in for each other.
    /// </summary>
    Task<IReadOnlyList<string>> DescribePrivilegesAsync(DatabaseConnection master, string username, CancellationToken cancellationToken);

    /// <summary>Stands for the described user in <see cref="DescribePrivilegesAsync"/> lines.</summary>
    public const string UserPlaceholder = "{user}";
}
