using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Rotators.Tests;

/// <summary>
/// The contract every <see cref="IDatabaseRotator"/> must meet, run once per engine against a real server (in the
/// manner of Vault's dbplugin conformance kit). Each test works on users of its own, so order does not matter.
/// </summary>
public abstract class DatabaseRotatorConformanceTests
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);
    private static int _sequence;

    protected DatabaseRotatorConformanceTests(DatabaseServers servers)
    {
        Servers = servers;
    }

    protected DatabaseServers Servers { get; }

    /// <summary>The rotator as production gets it (sanitized), trusting the test CA for "ssl": true.</summary>
    protected IDatabaseRotator Rotator => CreateRotator(new DatabaseRotatorOptions { RootCertificatePath = Servers.Certificates.CaPath });

    /// <summary>The master (admin) connection to the test database.</summary>
    protected abstract DatabaseConnection Master { get; }

    /// <summary>The server's code for a rejected password: 28P01 or 1045.</summary>
    protected abstract string WrongPasswordCode { get; }

    /// <summary>The engine's default excluded password characters.</summary>
    protected abstract string EngineFamily { get; }

    protected abstract IDatabaseRotator CreateRotator(DatabaseRotatorOptions options);

    /// <summary>Creates a login user that may connect to the test database and nothing more.</summary>
    protected abstract Task CreateUserAsync(string user, string password);

    /// <summary>Grants SELECT and INSERT on orders and SELECT on one column of invoices.</summary>
    protected abstract Task GrantTablePrivilegesAsync(string user);

    /// <summary>Grants UPDATE on orders directly to this user.</summary>
    protected abstract Task GrantDirectAsync(string user);

    /// <summary>Gives the source something its existing clone does not get (PG: an attribute; MySQL: any grant).</summary>
    protected abstract Task GrantSourceOnlyAsync(string source);

    /// <summary>Reads the orders table as this user.</summary>
    protected abstract Task<long> CountOrdersAsync(DatabaseConnection user);

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_RightPassword_Ok(bool loginOnly)
    {
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password), ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Ok, probe.Outcome);
        Assert.Equal(DatabaseReasons.Ok, probe.Reason);
        Assert.Null(probe.DriverCode);
        Assert.True(probe.Elapsed > TimeSpan.Zero);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_WrongPassword_AuthFailedWithDriverCode(bool loginOnly)
    {
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password + "x"), ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.AuthFailed, probe.Outcome);
        Assert.Equal(DatabaseReasons.WrongPassword, probe.Reason);
        Assert.Equal(WrongPasswordCode, probe.DriverCode);
        Assert.DoesNotContain(password, probe.Message, StringComparison.Ordinal);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_UnknownUser_AuthFailed(bool loginOnly)
    {
        // Neither engine tells a missing user from a wrong password over password authentication.
        var probe = await Rotator.ProbeLoginAsync(As(NewName("ghost"), "Whatever1!"), ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.AuthFailed, probe.Outcome);
        Assert.Contains(probe.Reason, new[] { DatabaseReasons.WrongPassword, DatabaseReasons.UnknownUser });
        Assert.Equal(WrongPasswordCode, probe.DriverCode);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_MissingDatabaseWithRightPassword_UnknownNotAuthFailed(bool loginOnly)
    {
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password) with { DbName = "no_such_db" }, ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Unknown, probe.Outcome);
        Assert.Equal(DatabaseReasons.UnknownDatabase, probe.Reason);
        Assert.NotNull(probe.DriverCode);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_MissingDatabaseWithWrongPassword_AuthFailed(bool loginOnly)
    {
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password + "x") with { DbName = "no_such_db" }, ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.AuthFailed, probe.Outcome);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_ClosedPort_UnreachableQuickly(bool loginOnly)
    {
        using var closed = new ClosedPort();
        var probe = await Rotator.ProbeLoginAsync(Master with { Port = closed.Port }, ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Unknown, probe.Outcome);
        Assert.Equal(DatabaseReasons.Unreachable, probe.Reason);
        Assert.True(probe.Elapsed < TimeSpan.FromSeconds(3), $"took {probe.Elapsed}");
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_ListenerThatNeverAnswers_TimeoutWithinBudget(bool loginOnly)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        var accepting = AcceptForeverAsync(silent, accepted);
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var stopwatch = Stopwatch.StartNew();

        var probe = await Rotator.ProbeLoginAsync(Master with { Port = port }, TimeSpan.FromSeconds(1), loginOnly, CancellationToken.None);

        stopwatch.Stop();
        silent.Stop();
        await accepting;
        accepted.ForEach(s => s.Dispose());
        Assert.Equal(LoginOutcome.Unknown, probe.Outcome);
        Assert.Equal(DatabaseReasons.Timeout, probe.Reason);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2.5), $"took {stopwatch.Elapsed}");
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(0.9), $"gave up early after {stopwatch.Elapsed}");
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_CallerCancels_Throws(bool loginOnly)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        var accepting = AcceptForeverAsync(silent, accepted);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Rotator.ProbeLoginAsync(Master with { Port = ((IPEndPoint)silent.LocalEndpoint).Port }, TimeSpan.FromSeconds(10), loginOnly, cancellation.Token));

        silent.Stop();
        await accepting;
        accepted.ForEach(s => s.Dispose());
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_RequireTlsWithTrustedCa_Ok(bool loginOnly)
    {
        // The server certificate names "localhost" only.
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password) with { Ssl = SslMode.Require, Host = "localhost" }, ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.True(probe.IsOk, $"{probe.Reason}: {probe.Message}");
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_RequireTlsWithUntrustedCertificate_UnknownTls(bool loginOnly)
    {
        // Without the test CA the chain can't be verified; "ssl": true must not quietly accept it.
        var (user, password) = await NewUserAsync();
        var rotator = CreateRotator(new DatabaseRotatorOptions());

        var probe = await rotator.ProbeLoginAsync(As(user, password) with { Ssl = SslMode.Require, Host = "localhost" }, ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Unknown, probe.Outcome);
        Assert.Equal(DatabaseReasons.Tls, probe.Reason);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_RequireTlsWithNameNotInCertificate_UnknownTls(bool loginOnly)
    {
        // A trusted chain is not enough: the host name must match too (verify-full, as AWS uses).
        var (user, password) = await NewUserAsync();

        var probe = await Rotator.ProbeLoginAsync(As(user, password) with { Ssl = SslMode.Require, Host = "127.0.0.1" }, ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Unknown, probe.Outcome);
        Assert.Equal(DatabaseReasons.Tls, probe.Reason);
    }

    [DatabaseTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ProbeLogin_PreferAndDisable_Ok(bool loginOnly)
    {
        var (user, password) = await NewUserAsync();

        var prefer = await Rotator.ProbeLoginAsync(As(user, password) with { Ssl = SslMode.Prefer }, ProbeTimeout, loginOnly, CancellationToken.None);
        var disable = await Rotator.ProbeLoginAsync(As(user, password) with { Ssl = SslMode.Disable }, ProbeTimeout, loginOnly, CancellationToken.None);

        Assert.Equal(LoginOutcome.Ok, prefer.Outcome);
        Assert.Equal(LoginOutcome.Ok, disable.Outcome);
    }

    [DatabaseFact]
    public async Task SetOwnPassword_NewPasswordLogsInOldDoesNot()
    {
        var (user, password) = await NewUserAsync();
        var newPassword = NewPassword();

        await Rotator.SetOwnPasswordAsync(As(user, password), newPassword, CancellationToken.None);

        await AssertLogsInAsync(user, newPassword);
        await AssertRejectedAsync(user, password);
    }

    [DatabaseFact]
    public async Task SetOwnPassword_WrongCurrentPassword_ThrowsWrongPassword()
    {
        var (user, password) = await NewUserAsync();
        var newPassword = NewPassword();

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.SetOwnPasswordAsync(As(user, password + "x"), newPassword, CancellationToken.None));

        Assert.Equal(DatabaseReasons.WrongPassword, error.Reason);
        Assert.Equal(WrongPasswordCode, error.DriverCode);
        Assert.DoesNotContain(password, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(newPassword, error.ToString(), StringComparison.Ordinal);
        await AssertLogsInAsync(user, password);
    }

    [DatabaseFact]
    public async Task SetUserPassword_AsMaster_NewPasswordLogsInOldDoesNot()
    {
        var (user, password) = await NewUserAsync();
        var newPassword = NewPassword();

        await Rotator.SetUserPasswordAsync(Master, user, newPassword, CancellationToken.None);

        await AssertLogsInAsync(user, newPassword);
        await AssertRejectedAsync(user, password);
    }

    [DatabaseFact]
    public async Task SetUserPassword_UnknownUser_ThrowsUnknownUser()
    {
        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.SetUserPasswordAsync(Master, NewName("ghost"), NewPassword(), CancellationToken.None));

        Assert.Equal(DatabaseReasons.UnknownUser, error.Reason);
    }

    [DatabaseFact]
    public async Task UserExists_ReportsWhetherTheUserIsThere()
    {
        var (user, _) = await NewUserAsync();

        Assert.True(await Rotator.UserExistsAsync(Master, user, CancellationToken.None));
        Assert.False(await Rotator.UserExistsAsync(Master, user + "_clone", CancellationToken.None));
    }

    [DatabaseFact]
    public async Task CloneUser_CloneLogsInWithTheSamePrivileges()
    {
        var (source, _) = await NewUserAsync();
        await GrantTablePrivilegesAsync(source);
        var clone = BuiltInEngines.AlternateUsername(source, EngineFamily);
        var clonePassword = NewPassword();

        await Rotator.CloneUserAsync(Master, source, clone, clonePassword, allowPrivilegedRoles: false, CancellationToken.None);

        await AssertLogsInAsync(clone, clonePassword);
        Assert.Equal(2, await CountOrdersAsync(As(clone, clonePassword)));
        var sourcePrivileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        var clonePrivileges = await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None);
        Assert.Equal(sourcePrivileges, clonePrivileges);
        Assert.Contains(sourcePrivileges, line => line.Contains("orders", StringComparison.Ordinal));
        Assert.Equal(sourcePrivileges.Order(StringComparer.Ordinal), sourcePrivileges);
    }

    [DatabaseFact]
    public async Task CloneUser_SourceGainsWhatTheCloneDoesNotInherit_Differ()
    {
        var (source, _) = await NewUserAsync();
        await GrantTablePrivilegesAsync(source);
        var clone = source + "_clone";
        await Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None);

        await GrantSourceOnlyAsync(source);

        var sourcePrivileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        var clonePrivileges = await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None);
        Assert.NotEqual(sourcePrivileges, clonePrivileges);
        Assert.NotEmpty(sourcePrivileges.Except(clonePrivileges));
    }

    [DatabaseFact]
    public async Task CloneUser_CloneGainsADirectPrivilege_Differ()
    {
        var (source, _) = await NewUserAsync();
        await GrantTablePrivilegesAsync(source);
        var clone = source + "_clone";
        await Rotator.CloneUserAsync(Master, source, clone, NewPassword(), allowPrivilegedRoles: false, CancellationToken.None);

        await GrantDirectAsync(clone);

        var sourcePrivileges = await Rotator.DescribePrivilegesAsync(Master, source, CancellationToken.None);
        var clonePrivileges = await Rotator.DescribePrivilegesAsync(Master, clone, CancellationToken.None);
        Assert.NotEmpty(clonePrivileges.Except(sourcePrivileges));
    }

    [DatabaseFact]
    public async Task CloneUser_TargetExists_ThrowsUserExists()
    {
        var (source, _) = await NewUserAsync();
        var (target, targetPassword) = await NewUserAsync();
        var newPassword = NewPassword();

        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, source, target, newPassword, allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.UserExists, error.Reason);
        Assert.DoesNotContain(newPassword, error.ToString(), StringComparison.Ordinal);
        await AssertLogsInAsync(target, targetPassword);
    }

    [DatabaseFact]
    public async Task DescribePrivilegeConcerns_OrdinaryUserWithTableGrants_IsEmpty()
    {
        var (user, _) = await NewUserAsync();
        await GrantTablePrivilegesAsync(user);

        Assert.Empty(await Rotator.DescribePrivilegeConcernsAsync(Master, user, CancellationToken.None));
    }

    [DatabaseFact]
    public async Task DescribePrivilegeConcerns_UnknownUser_ThrowsUnknownUser()
    {
        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.DescribePrivilegeConcernsAsync(Master, NewName("ghost"), CancellationToken.None));

        Assert.Equal(DatabaseReasons.UnknownUser, error.Reason);
    }

    [DatabaseFact]
    public async Task CloneUser_UnknownSource_ThrowsUnknownUser()
    {
        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.CloneUserAsync(Master, NewName("ghost"), NewName("ghost_clone"), NewPassword(), allowPrivilegedRoles: false, CancellationToken.None));

        Assert.Equal(DatabaseReasons.UnknownUser, error.Reason);
    }

    [DatabaseFact]
    public async Task DescribePrivileges_UnknownUser_ThrowsUnknownUser()
    {
        var error = await Assert.ThrowsAsync<RotatorException>(() =>
            Rotator.DescribePrivilegesAsync(Master, NewName("ghost"), CancellationToken.None));

        Assert.Equal(DatabaseReasons.UnknownUser, error.Reason);
    }

    [DatabaseFact]
    public async Task Passwords_EveryAllowedPunctuationCharacter_WorkInEveryOperation()
    {
        var excluded = BuiltInEngines.Engine(EngineFamily).ExcludedCharacters;
        var punctuation = new string(Enumerable.Range(33, 94).Select(c => (char)c).Where(c => !char.IsLetterOrDigit(c) && !excluded.Contains(c)).ToArray());
        Assert.Equal(32 - excluded.Length, punctuation.Length);
        await AssertPasswordRoundTripsAsync("Aa1" + punctuation);

        // One character at a time too, so an escaping bug can't hide behind another character.
        foreach (var c in punctuation)
        {
            var (user, password) = await NewUserAsync();
            var special = $"{c}Xy9{c}{c}z{c}";
            await Rotator.SetUserPasswordAsync(Master, user, special, CancellationToken.None);
            await AssertLogsInAsync(user, special);
            await AssertRejectedAsync(user, password);
        }
    }

    [DatabaseTheory]
    [InlineData("'; DROP TABLE orders; --")]
    [InlineData("\\'; SELECT 1; -- \\")]
    [InlineData("$$ || $tag$ x")]
    [InlineData("%s %% %d {0} ? @p ?? @@")]
    [InlineData("`x` \"y\" 'z'")]
    [InlineData("E'\\\\' \\x41 \\0")]
    [InlineData("pässwörd-€-✓")]
    public async Task Passwords_HostileOrNonAscii_RoundTrip(string password)
    {
        // Outside the generator's alphabet, but a break-glass reset may set anything: it must be stored exactly.
        await AssertPasswordRoundTripsAsync(password);
    }

    [DatabaseFact]
    public async Task Errors_NeverContainThePasswords()
    {
        var (user, password) = await NewUserAsync();
        var newPassword = "N3w'P\\ss\"w0rd-" + Guid.NewGuid().ToString("N");
        var messages = new List<string>();

        async Task Capture(Func<Task> action)
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(action);
            messages.Add(error.ToString());
        }

        await Capture(() => Rotator.SetOwnPasswordAsync(As(user, password + "-wrong"), newPassword, CancellationToken.None));
        await Capture(() => Rotator.SetUserPasswordAsync(Master, NewName("ghost"), newPassword, CancellationToken.None));
        await Capture(() => Rotator.SetUserPasswordAsync(Master with { Password = password }, user, newPassword, CancellationToken.None));
        await Capture(() => Rotator.CloneUserAsync(Master, user, user, newPassword, allowPrivilegedRoles: false, CancellationToken.None));
        await Capture(() => Rotator.CloneUserAsync(Master, NewName("ghost"), NewName("g"), newPassword, allowPrivilegedRoles: false, CancellationToken.None));
        using (var closed = new ClosedPort())
        {
            await Capture(() => Rotator.SetOwnPasswordAsync(As(user, password) with { Port = closed.Port }, newPassword, CancellationToken.None));
        }

        var probe = await Rotator.ProbeLoginAsync(As(user, newPassword), ProbeTimeout, CancellationToken.None);
        messages.Add(probe.Message);

        Assert.All(messages, message =>
        {
            Assert.DoesNotContain(password, message, StringComparison.Ordinal);
            Assert.DoesNotContain(newPassword, message, StringComparison.Ordinal);
            Assert.DoesNotContain(Master.Password, message, StringComparison.Ordinal);
        });
    }

    protected static string NewName(string prefix) => $"{prefix}_{Interlocked.Increment(ref _sequence)}_{Environment.ProcessId % 1000}";

    protected static string NewPassword() => "Pw1-" + Guid.NewGuid().ToString("N")[..20];

    protected DatabaseConnection As(string user, string password) => Master.WithCredentials(user, password);

    protected async Task<(string User, string Password)> NewUserAsync()
    {
        var user = NewName("kt");
        var password = NewPassword();
        await CreateUserAsync(user, password);
        return (user, password);
    }

    protected async Task AssertLogsInAsync(string user, string password)
    {
        var probe = await Rotator.ProbeLoginAsync(As(user, password), ProbeTimeout, CancellationToken.None);
        Assert.True(probe.IsOk, $"{user} should log in but got {probe.Reason}: {probe.Message}");
    }

    protected async Task AssertRejectedAsync(string user, string password)
    {
        var probe = await Rotator.ProbeLoginAsync(As(user, password), ProbeTimeout, CancellationToken.None);
        Assert.Equal(LoginOutcome.AuthFailed, probe.Outcome);
    }

    private async Task AssertPasswordRoundTripsAsync(string special)
    {
        // Self-service change, master change and clone creation all store it exactly.
        var (user, password) = await NewUserAsync();
        await Rotator.SetOwnPasswordAsync(As(user, password), special, CancellationToken.None);
        await AssertLogsInAsync(user, special);
        await AssertRejectedAsync(user, password);

        var next = special + "2";
        await Rotator.SetUserPasswordAsync(Master, user, next, CancellationToken.None);
        await AssertLogsInAsync(user, next);

        var clone = user + "_clone";
        await Rotator.CloneUserAsync(Master, user, clone, special, allowPrivilegedRoles: false, CancellationToken.None);
        await AssertLogsInAsync(clone, special);
    }

    private static async Task AcceptForeverAsync(TcpListener listener, List<Socket> accepted)
    {
        try
        {
            while (true)
            {
                accepted.Add(await listener.AcceptSocketAsync());
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped.
        }
    }
}
