using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;

namespace Keyturn.Rotators.Tests;

public sealed class SanitizingDatabaseRotatorTests
{
    private const string Current = "Curr'ent\\Pass";
    private const string Next = "N3xt-P@ss";

    private static readonly DatabaseConnection Connection = new("postgres", "db.example", 5432, "app", Current, "app", SslMode.Prefer);

    [Fact]
    public async Task Operations_InnerErrorsQuotePasswords_MessagesAreScrubbed()
    {
        var rotator = new SanitizingDatabaseRotator(new LeakingRotator());

        var errors = new[]
        {
            await Assert.ThrowsAsync<RotatorException>(() => rotator.SetOwnPasswordAsync(Connection, Next, CancellationToken.None)),
            await Assert.ThrowsAsync<RotatorException>(() => rotator.SetUserPasswordAsync(Connection, "other", Next, CancellationToken.None)),
            await Assert.ThrowsAsync<RotatorException>(() => rotator.CloneUserAsync(Connection, "app", "app_clone", Next, allowPrivilegedRoles: false, CancellationToken.None)),
            await Assert.ThrowsAsync<RotatorException>(() => rotator.UserExistsAsync(Connection, "app", CancellationToken.None)),
            await Assert.ThrowsAsync<RotatorException>(() => rotator.DescribePrivilegesAsync(Connection, "app", CancellationToken.None)),
            await Assert.ThrowsAsync<RotatorException>(() => rotator.DescribePrivilegeConcernsAsync(Connection, "app", CancellationToken.None)),
        };

        Assert.All(errors, error =>
        {
            Assert.DoesNotContain("ent\\Pass", error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("N3xt", error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("N3xt-P%40ss", error.ToString(), StringComparison.Ordinal);
            Assert.Contains(SanitizingDatabaseRotator.Mask, error.Message, StringComparison.Ordinal);
            Assert.Null(error.InnerException);
        });
        Assert.Equal(DatabaseReasons.PermissionDenied, errors[0].Reason);
        Assert.Equal("42501", errors[0].DriverCode);
        Assert.Equal(DatabaseReasons.ServerError, errors[1].Reason);
    }

    [Fact]
    public async Task ProbeLogin_MessageQuotesPassword_Scrubbed()
    {
        var rotator = new SanitizingDatabaseRotator(new LeakingRotator());

        var probe = await rotator.ProbeLoginAsync(Connection, TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.Equal("wrong password [REDACTED] and [REDACTED] for app", probe.Message);
        Assert.Equal(LoginOutcome.AuthFailed, probe.Outcome);
    }

    [Fact]
    public async Task ToString_NeverShowsThePassword()
    {
        Assert.DoesNotContain(Current, Connection.ToString(), StringComparison.Ordinal);
        Assert.Equal("postgres://app@db.example:5432/app (ssl=prefer)", Connection.ToString());
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData("near 'abc''def' at line 1", "abc'def", "near '[REDACTED]' at line 1")]
    [InlineData("near 'abc\\'def' at line 1", "abc'def", "near '[REDACTED]' at line 1")]
    [InlineData("value \"a\\\"b\"", "a\"b", "value \"[REDACTED]\"")]
    [InlineData("url p%40ss", "p@ss", "url [REDACTED]")]
    [InlineData("nothing here", "secret", "nothing here")]
    public void Scrub_QuotedAndEscapedForms_Masked(string message, string secret, string expected)
    {
        Assert.Equal(expected, SanitizingDatabaseRotator.Scrub(message, secret));
    }

    /// <summary>A rotator as careless as a driver: every error quotes the passwords it was given.</summary>
    private sealed class LeakingRotator : IDatabaseRotator
    {
        public DatabaseEngine Engine => PostgreSql.PostgreSqlRotator.Descriptor;

        public Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, CancellationToken cancellationToken) =>
            ProbeLoginAsync(connection, timeout, loginOnly: false, cancellationToken);

        public Task<LoginProbe> ProbeLoginAsync(DatabaseConnection connection, TimeSpan timeout, bool loginOnly, CancellationToken cancellationToken) =>
            Task.FromResult(new LoginProbe(
                LoginOutcome.AuthFailed,
                DatabaseReasons.WrongPassword,
                "28P01",
                $"wrong password {connection.Password} and {connection.Password.Replace("'", "''", StringComparison.Ordinal)} for app",
                TimeSpan.Zero));

        public Task SetOwnPasswordAsync(DatabaseConnection current, string newPassword, CancellationToken cancellationToken) =>
            throw new RotatorException(DatabaseReasons.PermissionDenied, "42501", $"ALTER ROLE app PASSWORD '{newPassword}' as {current.Password}", new InvalidOperationException(newPassword));

        public Task SetUserPasswordAsync(DatabaseConnection master, string username, string newPassword, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"syntax error near '{newPassword.Replace("\\", "\\\\", StringComparison.Ordinal)}' ({Uri.EscapeDataString(newPassword)})");

        public Task<bool> UserExistsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken) =>
            throw new IOException($"lost connection for password={master.Password}");

        public Task CloneUserAsync(DatabaseConnection master, string sourceUser, string newUser, string newPassword, bool allowPrivilegedRoles, CancellationToken cancellationToken) =>
            throw new RotatorException(DatabaseReasons.ServerError, null, $"CREATE USER x IDENTIFIED BY '{newPassword}'");

        public Task<IReadOnlyList<string>> DescribePrivilegeConcernsAsync(DatabaseConnection master, string username, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"SHOW GRANTS as '{master.Password.Replace("'", "''", StringComparison.Ordinal)}'");

        public Task<IReadOnlyList<string>> DescribePrivilegesAsync(DatabaseConnection master, string username, CancellationToken cancellationToken) =>
            throw new RotatorException(DatabaseReasons.ServerError, null, $"master {master.Password.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}");
    }
}
