using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The real <c>keyturn serve</c> killed with SIGKILL inside and between the steps of a built-in PostgreSQL
/// rotation, then started again on the same data directory: the engine resumes from its journal under a new
/// lease (a larger fencing token), rolls forward when the database already has the pending password, and ends
/// with the new AWSCURRENT logging in and the old password refused; nobody is locked out at any point.
/// Where the database can hold the rotator still (a row lock in front of <c>ALTER ROLE</c>, an uncommitted
/// <c>CREATE ROLE</c> of the same name, a lock on <c>pg_authid</c> that stalls logins) the test uses that;
/// the exact points between steps and right after a step's effect come from the engine's test-only
/// <c>KEYTURN_FAULT_PAUSE</c>.
/// </summary>
[Collection(CrashPostgresCollection.Name)]
public sealed class BuiltInCrashTests(CrashPostgres db) : IAsyncLifetime
{
    private const string SingleUser = "keyturn-postgresql-single-user";
    private const string AlternatingUsers = "keyturn-postgresql-alternating-users";
    private const string InitialPassword = "initial-Pw-1";

    private readonly CrashHarness _keyturn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _keyturn.DisposeAsync();

    /// <summary>Between steps: the step's end entry is committed, the next step hasn't begun.</summary>
    [DatabaseTheory]
    [InlineData("createSecret")]
    [InlineData("setSecret")]
    [InlineData("testSecret")]
    [InlineData("finishSecret")]
    public async Task SingleUser_KilledBetweenSteps_ResumesWithTheNextStep(string step)
    {
        var (user, name, arn, v1) = await SingleUserSecretAsync($"end:{step}");
        var token = await _keyturn.RotateAsync(name, SingleUser);
        await _keyturn.WaitForPauseAsync(token);
        var before = await _keyturn.JournalAsync(token);
        Assert.Equal(new JournalRow(Pascal(step), "End", "succeeded", before[0].Node, before[0].Fencing), before[^1]);
        var pending = await _keyturn.FieldAsync(name, token, "password");

        await _keyturn.KillAsync();

        // The database is where the journal says: untouched before setSecret, the new password after it.
        var applied = step != "createSecret";
        Assert.Equal(applied ? LoginOutcome.AuthFailed : LoginOutcome.Ok, await db.ProbeAsync(user, InitialPassword));
        Assert.Equal(applied ? LoginOutcome.Ok : LoginOutcome.AuthFailed, await db.ProbeAsync(user, pending));

        await _keyturn.StartAsync();
        await _keyturn.WaitForSuccessAsync(name, token);

        await AssertSingleUserRotatedAsync(user, name, v1, token);
        var journal = await _keyturn.JournalAsync(token);

        // The finished step was not run again; the next one ran first, in the new process.
        Assert.Single(journal, r => r.Step == Pascal(step) && r.Phase == "Begin");
        if (Next(step) is { } next)
        {
            AssertResumedUnderNewLease(before, journal);
            Assert.Equal(Pascal(next), journal[before.Count].Step);
        }
        else
        {
            // All four steps had ended: the restart only completed the rotation (AWSPENDING stripped, dates set).
            Assert.Equal(before, journal);
        }

        Assert.Equal(1, await _keyturn.CountRotationsAsync(arn));
    }

    /// <summary>Inside a step: its effect happened (pending stored, password set, login tested, labels moved), its end entry was never written.</summary>
    [DatabaseTheory]
    [InlineData("createSecret")]
    [InlineData("setSecret")]
    [InlineData("testSecret")]
    [InlineData("finishSecret")]
    public async Task SingleUser_KilledAfterAStepsEffectBeforeItsEndEntry_RepeatsTheStepIdempotently(string step)
    {
        var (user, name, _, v1) = await SingleUserSecretAsync($"invoked:{step}");
        var token = await _keyturn.RotateAsync(name, SingleUser);
        await _keyturn.WaitForPauseAsync(token);
        var before = await _keyturn.JournalAsync(token);
        Assert.Equal(("Begin", Pascal(step)), (before[^1].Phase, before[^1].Step));
        Assert.StartsWith($"Running {Pascal(step)}", await _keyturn.StatusAsync(token), StringComparison.Ordinal);
        var labels = await _keyturn.StagesAsync(name);

        await _keyturn.KillAsync();

        if (step == "finishSecret")
        {
            // finishSecret had already moved AWSCURRENT: the new password is current and logs in.
            Assert.Equal(["AWSCURRENT", "AWSPENDING"], labels[token]);
            Assert.Equal(["AWSPREVIOUS"], labels[v1]);
        }
        else
        {
            Assert.Equal(["AWSCURRENT"], labels[v1]);
            Assert.Equal(["AWSPENDING"], labels[token]);
        }

        await _keyturn.StartAsync();
        await _keyturn.WaitForSuccessAsync(name, token);

        await AssertSingleUserRotatedAsync(user, name, v1, token);
        var journal = await _keyturn.JournalAsync(token);
        AssertResumedUnderNewLease(before, journal);

        // The interrupted step ran again in the new process, exactly once more, and succeeded.
        var rerun = journal.Skip(before.Count).Where(r => r.Step == Pascal(step)).ToList();
        Assert.Equal(["Begin", "End"], rerun.Select(r => r.Phase));
        Assert.Equal("succeeded", rerun[1].Outcome);
    }

    /// <summary>
    /// Inside setSecret, held by the database: the rotator's ALTER ROLE waits on a row lock another session holds on
    /// the role. The server is killed there, the waiting statement is terminated, so the password never changes.
    /// </summary>
    [DatabaseFact]
    public async Task SingleUser_KilledWhileAlterRoleWaitsOnALock_TheChangeNeverLands_Resumes()
    {
        var (user, name, _, v1) = await SingleUserSecretAsync();
        await using var holder = await db.OpenSuperuserAsync();
        await using var lockRole = await LockRoleRowAsync(holder, user);

        var token = await _keyturn.RotateAsync(name, SingleUser);
        var backend = await WaitForBlockedRotatorAsync("ALTER ROLE%");
        Assert.StartsWith("Running SetSecret", await _keyturn.StatusAsync(token), StringComparison.Ordinal);
        Assert.Contains("running setSecret", await _keyturn.RotationsCommandAsync(name), StringComparison.Ordinal);
        var before = await _keyturn.JournalAsync(token);
        var pending = await _keyturn.FieldAsync(name, token, "password");

        await _keyturn.KillAsync();
        await CrashPostgres.ExecuteAsync(holder, $"SELECT pg_terminate_backend({backend})");
        await WaitForBackendGoneAsync(backend);
        await lockRole.RollbackAsync();

        // State C: the database never got the pending password; AWSCURRENT still works.
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, InitialPassword));
        Assert.Equal(LoginOutcome.AuthFailed, await db.ProbeAsync(user, pending));

        await _keyturn.StartAsync();
        await _keyturn.WaitForSuccessAsync(name, token);

        await AssertSingleUserRotatedAsync(user, name, v1, token);
        AssertResumedUnderNewLease(before, await _keyturn.JournalAsync(token));
        Assert.Empty(await FunctionLogAsync(SingleUser, "already set as password"));
    }

    /// <summary>
    /// Inside setSecret, held by the database, and the statement completes after the crash: when the lock goes, the
    /// orphaned ALTER ROLE commits, so the database has the pending password while AWSCURRENT still names the old one
    /// (state D). On restart setSecret finds the pending password already working and the rotation rolls forward.
    /// </summary>
    [DatabaseFact]
    public async Task SingleUser_KilledWhileAlterRoleWaitsOnALock_TheChangeLandsAfterTheCrash_RollsForward()
    {
        var (user, name, _, v1) = await SingleUserSecretAsync();
        await using var holder = await db.OpenSuperuserAsync();
        await using var lockRole = await LockRoleRowAsync(holder, user);

        var token = await _keyturn.RotateAsync(name, SingleUser);
        var backend = await WaitForBlockedRotatorAsync("ALTER ROLE%");
        var before = await _keyturn.JournalAsync(token);
        Assert.Equal(("SetSecret", "Begin"), (before[^1].Step, before[^1].Phase));
        var pending = await _keyturn.FieldAsync(name, token, "password");

        await _keyturn.KillAsync();
        await lockRole.RollbackAsync();
        await WaitForBackendGoneAsync(backend);

        // State D: only the pending password works now.
        Assert.Equal(LoginOutcome.AuthFailed, await db.ProbeAsync(user, InitialPassword));
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, pending));

        await _keyturn.StartAsync();
        await _keyturn.WaitForSuccessAsync(name, token);

        await AssertSingleUserRotatedAsync(user, name, v1, token);
        AssertResumedUnderNewLease(before, await _keyturn.JournalAsync(token));
        Assert.NotEmpty(await FunctionLogAsync(SingleUser, "AWSPENDING secret is already set as password"));
    }

    /// <summary>
    /// Inside testSecret, held by the database: another session locks pg_authid, so the rotator's login with the
    /// pending password waits inside the server. Killed there; after the restart testSecret runs again.
    /// </summary>
    [DatabaseFact]
    public async Task SingleUser_KilledWhileTestSecretsLoginWaitsOnALock_Resumes()
    {
        var (user, name, _, v1) = await SingleUserSecretAsync("end:setSecret");
        var token = await _keyturn.RotateAsync(name, SingleUser);
        await _keyturn.WaitForPauseAsync(token);

        // Opened before the lock: with pg_authid locked, no new session can log in.
        await using var holder = await db.OpenSuperuserAsync();
        await using (var lockLogins = await holder.BeginTransactionAsync())
        {
            await CrashPostgres.ExecuteAsync(holder, "LOCK TABLE pg_catalog.pg_authid IN ACCESS EXCLUSIVE MODE");
            File.Delete(_keyturn.PauseFile);
            await CrashHarness.UntilAsync(
                async () => (await _keyturn.StatusAsync(token)).StartsWith("Running TestSecret", StringComparison.Ordinal)
                            && await ScalarAsync<long>(holder, "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND relation = 'pg_catalog.pg_authid'::regclass AND NOT granted") > 0,
                async () => $"testSecret's login to wait on the lock ({await _keyturn.StatusAsync(token)})");
            await _keyturn.KillAsync();
            await lockLogins.RollbackAsync();
        }

        var before = await _keyturn.JournalAsync(token);
        Assert.Equal(("TestSecret", "Begin"), (before[^1].Step, before[^1].Phase));

        await _keyturn.StartAsync();
        await _keyturn.WaitForSuccessAsync(name, token);

        await AssertSingleUserRotatedAsync(user, name, v1, token);
        var journal = await _keyturn.JournalAsync(token);
        AssertResumedUnderNewLease(before, journal);
        Assert.Equal(["Begin", "End"], journal.Skip(before.Count).Where(r => r.Step == "TestSecret").Select(r => r.Phase));
    }

    /// <summary>
    /// Alternating users, inside setSecret, held by the database: another session has created the clone's role
    /// without committing, so the rotator's CREATE ROLE waits on it. Killed there; the rotator's transaction dies
    /// with its connection, the restart creates the clone, and both users log in afterwards.
    /// </summary>
    [DatabaseFact]
    public async Task AlternatingUsers_KilledWhileCreateRoleWaitsOnALock_Resumes()
    {
        var user = "calt_" + Suffix();
        await db.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{InitialPassword}'", $"GRANT SELECT ON orders TO {user}");
        await _keyturn.StartAsync();
        await _keyturn.AllowMastersAsync();
        var (masterArn, _) = await _keyturn.CreateSecretAsync("master/" + user, db.SecretJson(PostgresServer.MasterUser, db.Postgres.MasterPassword));
        var name = "pg/crash-alt/" + user;
        var (_, v1) = await _keyturn.CreateSecretAsync(name, db.SecretJson(user, InitialPassword, masterArn));

        await using var holder = await db.OpenSuperuserAsync();
        int backend;
        List<JournalRow> before;
        string token;
        await using (var squat = await holder.BeginTransactionAsync())
        {
            await CrashPostgres.ExecuteAsync(holder, $"CREATE ROLE {user}_clone");
            token = await _keyturn.RotateAsync(name, AlternatingUsers);
            backend = await WaitForBlockedRotatorAsync("CREATE ROLE%");
            before = await _keyturn.JournalAsync(token);
            Assert.Equal(("SetSecret", "Begin"), (before[^1].Step, before[^1].Phase));
            await _keyturn.KillAsync();
            await squat.RollbackAsync();
        }

        await WaitForBackendGoneAsync(backend);
        Assert.Equal(0L, await ScalarAsync<long>(holder, $"SELECT count(*) FROM pg_roles WHERE rolname = '{user}_clone'"));
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, InitialPassword));

        await _keyturn.StartAsync();
        await _keyturn.WaitForSuccessAsync(name, token);

        var stages = await _keyturn.StagesAsync(name);
        Assert.Equal(["AWSCURRENT"], stages[token]);
        Assert.Equal(["AWSPREVIOUS"], stages[v1]);
        Assert.Equal(user + "_clone", await _keyturn.FieldAsync(name, token, "username"));
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user + "_clone", await _keyturn.FieldAsync(name, token, "password")));
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, InitialPassword));
        AssertResumedUnderNewLease(before, await _keyturn.JournalAsync(token));
    }

    /// <summary>Alternating users, killed between setSecret and testSecret: the clone has its password, the original user is untouched.</summary>
    [DatabaseFact]
    public async Task AlternatingUsers_KilledBetweenSetSecretAndTestSecret_Resumes()
    {
        var user = "balt_" + Suffix();
        await db.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{InitialPassword}'", $"GRANT SELECT ON orders TO {user}");
        await _keyturn.StartAsync("end:setSecret");
        await _keyturn.AllowMastersAsync();
        var (masterArn, _) = await _keyturn.CreateSecretAsync("master/" + user, db.SecretJson(PostgresServer.MasterUser, db.Postgres.MasterPassword));
        var name = "pg/crash-alt/" + user;
        var (_, v1) = await _keyturn.CreateSecretAsync(name, db.SecretJson(user, InitialPassword, masterArn));

        var token = await _keyturn.RotateAsync(name, AlternatingUsers);
        await _keyturn.WaitForPauseAsync(token);
        var before = await _keyturn.JournalAsync(token);
        var pending = await _keyturn.FieldAsync(name, token, "password");
        await _keyturn.KillAsync();

        // Both credentials work while the labels still point at the original user (state D').
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, InitialPassword));
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user + "_clone", pending));

        await _keyturn.StartAsync();
        await _keyturn.WaitForSuccessAsync(name, token);

        Assert.Equal(["AWSCURRENT"], (await _keyturn.StagesAsync(name))[token]);
        Assert.Equal(["AWSPREVIOUS"], (await _keyturn.StagesAsync(name))[v1]);
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user + "_clone", await _keyturn.FieldAsync(name, token, "password")));
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, InitialPassword));
        var journal = await _keyturn.JournalAsync(token);
        AssertResumedUnderNewLease(before, journal);
        Assert.Single(journal, r => r.Step == "SetSecret" && r.Phase == "Begin");
    }

    private Task<(string User, string Name, string Arn, string V1)> SingleUserSecretAsync(string? pause = null) =>
        _keyturn.StartWithSecretAsync(db, "crash_", "pg/crash/", InitialPassword, pause);

    /// <summary>The end state of a single-user rotation: labels moved, AWSPENDING gone, the new password the only one that works.</summary>
    private async Task AssertSingleUserRotatedAsync(string user, string name, string v1, string token)
    {
        var stages = await _keyturn.StagesAsync(name);
        Assert.Equal(2, stages.Count);
        Assert.Equal(["AWSCURRENT"], stages[token]);
        Assert.Equal(["AWSPREVIOUS"], stages[v1]);
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, await _keyturn.FieldAsync(name, token, "password")));
        Assert.Equal(LoginOutcome.AuthFailed, await db.ProbeAsync(user, InitialPassword));
    }

    /// <summary>The restarted engine took the lease from the dead process with a larger fencing token and wrote the rest of the journal under it.</summary>
    private static void AssertResumedUnderNewLease(List<JournalRow> before, List<JournalRow> after)
    {
        Assert.Equal(before, after.Take(before.Count));
        Assert.All(before, r => Assert.Equal((before[0].Node, before[0].Fencing), (r.Node, r.Fencing)));
        var resumed = after.Skip(before.Count).ToList();
        Assert.NotEmpty(resumed);
        Assert.All(resumed, r => Assert.NotEqual(before[0].Node, r.Node));
        Assert.All(resumed, r => Assert.True(r.Fencing > before[0].Fencing, $"fencing token {r.Fencing} after the restart is not above {before[0].Fencing}"));
    }

    private async Task<List<string>> FunctionLogAsync(string function, string phrase)
    {
        var found = await _keyturn.Cli.JsonAsync("logs", "filter-log-events", "--log-group-name", "/aws/lambda/" + function, "--filter-pattern", $"\"{phrase}\"");
        return found.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("message").GetString()!).ToList();
    }

    /// <summary>Takes a row lock on the role's pg_authid row; ALTER ROLE on it waits until the transaction ends.</summary>
    private static async Task<NpgsqlTransaction> LockRoleRowAsync(NpgsqlConnection holder, string user)
    {
        var transaction = await holder.BeginTransactionAsync();
        Assert.Equal(1L, await ScalarAsync<long>(holder, $"SELECT count(*) FROM (SELECT 1 FROM pg_catalog.pg_authid WHERE rolname = '{user}' FOR UPDATE) locked"));
        return transaction;
    }

    /// <summary>Waits until a rotator session waits on a lock while running a statement starting like <paramref name="statement"/>; returns its pid.</summary>
    private async Task<int> WaitForBlockedRotatorAsync(string statement)
    {
        await using var monitor = await db.OpenSuperuserAsync();
        return (await CrashHarness.UntilAsync(
            async () => await ScalarAsync<int?>(monitor,
                $"SELECT pid FROM pg_stat_activity WHERE application_name = 'keyturn-rotator' AND wait_event_type = 'Lock' AND query LIKE '{statement}' LIMIT 1") is { } pid
                ? new Pid(pid)
                : null,
            () => Task.FromResult($"a rotator session blocked in {statement}")))!.Value;
    }

    /// <summary>Waits until a backend has ended. A session of its own: pg_stat_activity is frozen for the length of a transaction.</summary>
    private async Task WaitForBackendGoneAsync(int pid)
    {
        await using var monitor = await db.OpenSuperuserAsync();
        await CrashHarness.UntilAsync(
            async () => await ScalarAsync<long>(monitor, $"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == 0,
            () => Task.FromResult($"backend {pid} to end"));
    }

    private static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    private static string Pascal(string step) => char.ToUpperInvariant(step[0]) + step[1..];

    private static string? Next(string step) => step switch
    {
        "createSecret" => "setSecret",
        "setSecret" => "testSecret",
        "testSecret" => "finishSecret",
        _ => null,
    };

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    private sealed record Pid(int Value);
}
