using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Wraps any <see cref="IDatabaseRotator"/> so that no password handed to it comes back in an error: every
/// exception becomes a <see cref="RotatorException"/> whose message has each password (and its common quoted
/// and escaped forms) replaced by <see cref="Mask"/>, and probe messages are scrubbed the same way. The inner
/// exception is dropped, because a driver exception's own text or data may still hold the value. Modelled on
/// Vault's <c>DatabaseErrorSanitizerMiddleware</c>.
/// </summary>
public sealed class SanitizingDatabaseRotator : IDatabaseRotator
{
    public const string Mask = "[REDACTED]";

    private readonly IDatabaseRotator _inner;

    public SanitizingDatabaseRotator(IDatabaseRotator inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner is SanitizingDatabaseRotator sanitizing ? sanitizing._inner : inner;
    }

    public DatabaseEngine Engine => _inner.Engine;

    public Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProbeLoginAsync(connection, timeout, loginOnly: false, cancellationToken);

    public async Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, bool loginOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var probe = await Guard(() => _inner.ProbeLoginAsync(connection, timeout, loginOnly, cancellationToken), cancellationToken, connection.Password)
            .ConfigureAwait(false);
        return probe with { Message = Scrub(probe.Message, connection.Password) };
    }

    public Task SetOwnPasswordAsync(DatabaseConnection current, string newPassword, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        return Guard(() => _inner.SetOwnPasswordAsync(current, newPassword, cancellationToken), cancellationToken, current.Password, newPassword);
    }

    public Task SetUserPasswordAsync(DatabaseConnection master, string username, string newPassword, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(master);
        return Guard(() => _inner.SetUserPasswordAsync(master, username, newPassword, cancellationToken), cancellationToken, master.Password, newPassword);
    }

    public Task<bool> UserExistsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(master);
        return Guard(() => _inner.UserExistsAsync(master, username, cancellationToken), cancellationToken, master.Password);
    }

    public Task CloneUserAsync(DatabaseConnection master, string sourceUser, string newUser, string newPassword, bool allowPrivilegedRoles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(master);
        return Guard(() => _inner.CloneUserAsync(master, sourceUser, newUser, newPassword, allowPrivilegedRoles, cancellationToken), cancellationToken, master.Password, newPassword);
    }

    public Task<IReadOnlyList<string>> DescribePrivilegeConcernsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(master);
        return Guard(() => _inner.DescribePrivilegeConcernsAsync(master, username, cancellationToken), cancellationToken, master.Password);
    }

    public Task<IReadOnlyList<string>> DescribePrivilegesAsync(DatabaseConnection master, string username, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(master);
        return Guard(() => _inner.DescribePrivilegesAsync(master, username, cancellationToken), cancellationToken, master.Password);
    }

    /// <summary>
    /// Replaces every occurrence of each secret in <paramref name="message"/>, including the forms drivers and
    /// servers echo (SQL-quoted, backslash-escaped, JSON-escaped, URL-encoded, base64, hex; see
    /// <see cref="SecretMasker"/>). Any non-empty password counts here, however short: the message is about it.
    /// </summary>
    public static string Scrub(string message, params ReadOnlySpan<string?> secrets)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SecretMasker.Create(secrets.ToArray(), minimumLength: 1).Mask(message, Mask);
    }

    private static async Task Guard(Func<Task> action, CancellationToken cancellationToken, params string?[] secrets)
    {
        await Guard(
            async () =>
            {
                await action().ConfigureAwait(false);
                return true;
            },
            cancellationToken,
            secrets).ConfigureAwait(false);
    }

    private static async Task<T> Guard<T>(Func<Task<T>> action, CancellationToken cancellationToken, params string?[] secrets)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (RotatorException e)
        {
            throw new RotatorException(e.Reason, e.DriverCode, Scrub(e.Message, secrets));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(Scrub(e.Message, secrets), e.ParamName);
        }
        catch (Exception e)
        {
            throw new RotatorException(
                DatabaseReasons.ServerError,
                null,
                Scrub($"{e.GetType().Name}: {e.Message}", secrets));
        }
    }
}
