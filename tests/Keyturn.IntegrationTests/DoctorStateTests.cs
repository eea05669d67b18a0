using System.Security.Cryptography;
using System.Text.Json;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.MySql;
using Keyturn.Rotators.PostgreSql;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Keyturn.IntegrationTests;

/// <summary>
/// Every stuck-label state of the recovery guide (§5, A–J) that <see cref="DoctorTests"/> doesn't already
/// build, built for real: labels through the API (the AWS CLI, or a real rotation that fails where the
/// state says), passwords through the database. Each test runs the real <c>keyturn doctor</c> process:
/// first a dry run (nothing may change: labels, versions and which passwords log in), then
/// <c>--apply --yes</c> where a repair exists, then logs in with AWSCURRENT (and every other password in
/// use) against the real PostgreSQL or MariaDB, and asks RotateSecret whether the next rotation may start (one
/// apply must be enough: rule 2). No test prints a password: outputs are checked for
/// every password the secret ever held, and failure messages name users and versions, never values.
/// </summary>
[Collection(RotationEnvironmentCollection.Name)]
public sealed class DoctorStateTests(RotationEnvironment env)
{
    // The test's own login check: generous, as a login on a busy machine can take seconds; the outcome is the point, not its speed.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(30);
    private readonly IDatabaseRotator _postgres = PostgreSqlRotator.Create();
    private readonly IDatabaseRotator _mysql = MySqlRotator.Create();

    /// <summary>Everything a doctor run printed in this test, checked for leaked passwords.</summary>
    private readonly List<string> _outputs = [];

    /// <summary>Every password this test wrote anywhere (database or secret).</summary>
    private readonly List<string> _passwords = [];

    private string Journal => Path.Combine(env.Server.DataDirectory, "doctor-states.jsonl");

    // ---- A: healthy, AWSPENDING on the AWSCURRENT version ----------------------------------------

    [DatabaseFact]
    public async Task A_PendingOnTheCurrentVersion_IsAValidEndState_ExitZero()
    {
        var password = NewPassword();
        var user = await PgUserAsync("a", password);
        var name = Name("a", user);
        var v1 = await CreateAsync(name, Pg(user, password));
        await env.Cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSPENDING", "--move-to-version-id", v1);
        var before = await LabelsAsync(name);

        var result = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("Healthy", result.Json.GetProperty("state").GetString());
        Assert.True(result.Json.GetProperty("healthy").GetBoolean());
        Assert.Contains("valid end state", result.Json.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.Empty(result.Json.GetProperty("plan").EnumerateArray());
        AssertJsonShape(result.Json, applied: false);
        Assert.Equal(before, await LabelsAsync(name));
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- B: AWSPENDING on an empty version (createSecret never wrote a value) ----------------------

    [DatabaseFact]
    public async Task B_EmptyPending_CreateSecretFailed_DryRunChangesNothing_ApplyRemovesPending()
    {
        var password = NewPassword();
        var user = await PgUserAsync("b", password);
        var name = Name("b", user);
        var v1 = await CreateAsync(name, Pg(user, password));

        // A real rotation whose createSecret fails before writing a value: the MySQL function refuses a postgres secret.
        var token = await StartRotationAsync(name, "keyturn-mysql-single-user");
        var status = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(90), "failed");
        Assert.Contains("Database engine must be set to", status, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]), (token, ["AWSPENDING"]));

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("EmptyPending", dryRun.Json.GetProperty("state").GetString());
        Assert.Contains("LBL002", Codes(dryRun.Json));
        Assert.False(Version(dryRun.Json, token).GetProperty("hasValue").GetBoolean());
        Assert.Equal(["RemoveLabel"], Actions(dryRun.Json));
        AssertJsonShape(dryRun.Json, applied: false);
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        AssertApplyShape(repaired.Json);
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]));
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- D′: alternating users, both log in -----------------------------------------------------

    [DatabaseFact]
    public async Task DPrime_AlternatingUsers_PrivilegesDiffer_RefusesToFinish_DropsPending()
    {
        var (name, user, clone, cloneVersion, firstVersion, token) = await AlternatingRotationStoppedAtTestSecretAsync("dp1");

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("PendingReady", dryRun.Json.GetProperty("state").GetString());
        var finding = Finding(dryRun.Json, "LBL007");
        Assert.Contains("privileges are different", finding.GetProperty("evidence").GetString(), StringComparison.Ordinal);
        Assert.Equal(["RemoveLabel"], Actions(dryRun.Json));
        Assert.Equal("ok", Version(dryRun.Json, cloneVersion).GetProperty("probe").GetProperty("outcome").GetString());
        Assert.Equal("ok", Version(dryRun.Json, token).GetProperty("probe").GetProperty("outcome").GetString());
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (cloneVersion, ["AWSCURRENT"]), (firstVersion, ["AWSPREVIOUS"]));
        var current = await AssertCurrentLogsInAsync(name);
        Assert.Equal(clone, current.Username);

        // The user the refused rotation reset still logs in with the password it got (now on an unlabelled version).
        await AssertVersionLogsInAsync(name, token);
        Assert.NotEqual(clone, user);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    [DatabaseFact]
    public async Task DPrime_AlternatingUsers_PrivilegesMadeEqual_FinishesTheRotation()
    {
        var (name, user, clone, cloneVersion, _, token) = await AlternatingRotationStoppedAtTestSecretAsync("dp2");

        // A DBA removes the drift; now the two users can stand in for each other.
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"REVOKE SELECT ON invoices FROM {clone}");
        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("PendingReady", dryRun.Json.GetProperty("state").GetString());
        Assert.Equal(["MoveCurrent", "RemoveLabel"], Actions(dryRun.Json));
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (token, ["AWSCURRENT"]), (cloneVersion, ["AWSPREVIOUS"]));
        var current = await AssertCurrentLogsInAsync(name);
        Assert.Equal(user, current.Username);

        // Alternating users: clients still holding the previous user keep working.
        await AssertVersionLogsInAsync(name, cloneVersion);
        Assert.NotEqual(clone, user);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- E: the labels moved, the database didn't ------------------------------------------------

    [DatabaseFact]
    public async Task E_NewValueWrittenButNeverApplied_RollsLabelsBack()
    {
        var password = NewPassword();
        var user = await PgUserAsync("e", password);
        var name = Name("e", user);
        var v1 = await CreateAsync(name, Pg(user, password));

        // Someone stores a new password with put-secret-value but never sets it in the database.
        var v2 = await PutAsync(name, Pg(user, NewPassword()));
        Assert.Equal(LoginOutcome.AuthFailed, await LoginAsync(await ValueAsync(name, v2)));

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("LabelsAhead", dryRun.Json.GetProperty("state").GetString());
        Assert.Contains("LBL004", Codes(dryRun.Json));
        var plan = Assert.Single(dryRun.Json.GetProperty("plan").EnumerateArray());
        Assert.Equal($"aws secretsmanager update-secret-version-stage --secret-id {name} --version-stage AWSCURRENT --move-to-version-id {v1} --remove-from-version-id {v2}", plan.GetProperty("awsCli").GetString());
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]), (v2, ["AWSPREVIOUS"]));
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    [DatabaseFact]
    public async Task E_PendingOnTheBrokenCurrent_OneApplyRollsBackAndClearsPending()
    {
        var password = NewPassword();
        var user = await PgUserAsync("e2", password);
        var name = Name("e2", user);
        var v1 = await CreateAsync(name, Pg(user, password));

        // The field report's second case: the new value was promoted by hand although setSecret never ran, so
        // AWSPENDING and AWSCURRENT share the broken version and only AWSPREVIOUS logs in.
        var v2 = await PutAsync(name, Pg(user, NewPassword()), "AWSPENDING");
        await env.Cli.JsonAsync("secretsmanager", "update-secret-version-stage", "--secret-id", name, "--version-stage", "AWSCURRENT", "--move-to-version-id", v2, "--remove-from-version-id", v1);
        await AssertLabelsAsync(name, (v1, ["AWSPREVIOUS"]), (v2, ["AWSCURRENT", "AWSPENDING"]));

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("LabelsAhead", dryRun.Json.GetProperty("state").GetString());
        Assert.Equal(["RemoveLabel", "MoveCurrent"], Actions(dryRun.Json));
        var commands = dryRun.Json.GetProperty("plan").EnumerateArray().Select(a => a.GetProperty("awsCli").GetString()).ToList();
        Assert.Equal(
        [
            $"aws secretsmanager update-secret-version-stage --secret-id {name} --version-stage AWSPENDING --remove-from-version-id {v2}",
            $"aws secretsmanager update-secret-version-stage --secret-id {name} --version-stage AWSCURRENT --move-to-version-id {v1} --remove-from-version-id {v2}",
        ], commands);
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        AssertApplyShape(repaired.Json);
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]), (v2, ["AWSPREVIOUS"]));
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- F: nothing works ------------------------------------------------------------------------

    [DatabaseFact]
    public async Task F_NothingWorks_WithoutBreakGlass_NoMutation_ExitOne_ClearVerdict()
    {
        var (name, _, versions) = await NothingWorksAsync("f1", await PgMasterArnAsync());

        var before = await LabelsAsync(name);
        var json = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(1, json.ExitCode);
        Assert.Equal("NothingWorks", json.Json.GetProperty("state").GetString());
        Assert.Contains("Human action needed", json.Json.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.Contains("--break-glass", Finding(json.Json, "LBL005").GetProperty("fix").GetString(), StringComparison.Ordinal);
        Assert.Empty(json.Json.GetProperty("plan").EnumerateArray());
        AssertJsonShape(json.Json, applied: false);
        foreach (var version in versions)
        {
            Assert.Equal("auth-fail", Version(json.Json, version).GetProperty("probe").GetProperty("outcome").GetString());
        }

        var text = await DoctorAsync(name, "--apply", "--yes");

        Assert.Equal(1, text.ExitCode);
        Assert.Contains($"{name}: Clients are locked out and no stored password works. Human action needed.", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("Repair plan: nothing to change.", text.Stdout, StringComparison.Ordinal);
        Assert.Equal(before, await LabelsAsync(name));
        Assert.Equal(LoginOutcome.AuthFailed, await LoginAsync(await CurrentAsync(name)));
        await AssertNothingLeakedAsync(name);

        // Nothing was changed, and nothing had to be for the next rotation to be accepted: it is the password that is lost.
        await AssertRotateSecretAsync(name, accepted: true);
    }

    [DatabaseFact]
    public async Task F_NothingWorks_BreakGlass_ResetsThePasswordThroughTheMaster()
    {
        var (name, user, versions) = await NothingWorksAsync("f2", await PgMasterArnAsync());
        await BreakGlassAsync(name, user, versions, "postgres");
    }

    [DatabaseFact]
    public async Task F_NothingWorks_NoMasterSecret_BreakGlassHasNothingToUse()
    {
        var (name, _, _) = await NothingWorksAsync("f3", masterArn: null);

        var before = await LabelsAsync(name);
        var result = await DoctorAsync(name, "--apply", "--yes", "--break-glass", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("NothingWorks", result.Json.GetProperty("state").GetString());
        Assert.Empty(result.Json.GetProperty("plan").EnumerateArray());
        Assert.Contains("database admin rights", Finding(result.Json, "LBL005").GetProperty("fix").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, await LabelsAsync(name));
        await AssertNothingLeakedAsync(name); await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- G: rotation cancelled with AWSPENDING left ----------------------------------------------

    [DatabaseFact]
    public async Task G_RotationCancelledWithPendingLeft_RemovesPending()
    {
        var password = NewPassword();
        var user = await PgUserAsync("g", password);
        var name = Name("g", user);
        var v1 = await CreateAsync(name, Pg(user, password));

        // A real rotation that writes the pending value and then fails in setSecret before touching the
        // database (alternating users without a master), then is cancelled.
        var token = await StartRotationAsync(name, "keyturn-postgresql-alternating-users");
        var status = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(90), "failed");
        Assert.Contains("masterarn", status, StringComparison.Ordinal);
        await env.Cli.JsonAsync("secretsmanager", "cancel-rotate-secret", "--secret-id", name);
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]), (token, ["AWSPENDING"]));

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("PendingNotApplied", dryRun.Json.GetProperty("state").GetString());
        Assert.Equal("warning", Finding(dryRun.Json, "CFG001").GetProperty("severity").GetString());
        Assert.Equal("auth-fail", Version(dryRun.Json, token).GetProperty("probe").GetProperty("outcome").GetString());
        Assert.Equal(["RemoveLabel"], Actions(dryRun.Json));
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]));
        await AssertCurrentLogsInAsync(name);

        // The labels are healthy again; rotation stays off (CFG001 is only informational now). What made the
        // rotation fail (no masterarn for alternating users) is still in the function's log, for the log checks.
        var after = await DoctorAsync(name, "--json");
        Assert.Equal("Healthy", after.Json.GetProperty("state").GetString());
        Assert.Empty(after.Json.GetProperty("plan").EnumerateArray());
        Assert.Equal("info", Finding(after.Json, "CFG001").GetProperty("severity").GetString());
        Assert.DoesNotContain(Codes(after.Json), c => c.StartsWith("LBL", StringComparison.Ordinal));
        await AssertNothingLeakedAsync(name); await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- H: rotation abandoned by a write --------------------------------------------------------

    [DatabaseFact]
    public async Task H_AbandonedByAWrite_OnlyTheAbandonedVersionWorks_OrphanScanRelabelsIt()
    {
        var password = NewPassword();
        var user = await PgUserAsync("h", password);
        var name = Name("h", user);
        var c = await CreateAsync(name, Pg(user, password));

        // The rotation writes N and applies it to the database (setSecret) ...
        var pendingPassword = NewPassword();
        var n = await PutAsync(name, Pg(user, pendingPassword), "AWSPENDING");
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"ALTER ROLE {user} PASSWORD '{pendingPassword}'");

        // ... then IaC writes W mid-rotation: W becomes AWSCURRENT, AWSPENDING disappears (RotationAbandoned).
        var w = await PutAsync(name, Pg(user, NewPassword()));
        await AssertLabelsAsync(name, (w, ["AWSCURRENT"]), (c, ["AWSPREVIOUS"]));

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("OrphanWorks", dryRun.Json.GetProperty("state").GetString());
        Assert.Contains("LBL008", Codes(dryRun.Json));
        Assert.Equal("ok", Version(dryRun.Json, n).GetProperty("probe").GetProperty("outcome").GetString());
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (n, ["AWSCURRENT"]), (w, ["AWSPREVIOUS"]));
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- J: no AWSCURRENT anywhere ---------------------------------------------------------------

    [DatabaseFact]
    public async Task J_NoCurrentAfterAStoreBug_AttachesAWSCURRENTToTheNewestWorkingVersion()
    {
        var password = NewPassword();
        var user = await PgUserAsync("j1", password);
        var name = Name("j1", user);
        var v1 = await CreateAsync(name, Pg(user, password));
        var v2 = await PutAsync(name, Pg(user, NewPassword()));
        await AssertLabelsAsync(name, (v2, ["AWSCURRENT"]), (v1, ["AWSPREVIOUS"]));

        // The invariant "a secret with a value has an AWSCURRENT" can't be broken through the API; a store
        // bug can. Break it in the server's own database.
        await DropStageInStoreAsync(name, "AWSCURRENT");
        await AssertLabelsAsync(name, (v1, ["AWSPREVIOUS"]));

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("NoCurrent", dryRun.Json.GetProperty("state").GetString());
        Assert.Contains("LBL006", Codes(dryRun.Json));
        Assert.Equal("auth-fail", Version(dryRun.Json, v2).GetProperty("probe").GetProperty("outcome").GetString());
        var plan = Assert.Single(dryRun.Json.GetProperty("plan").EnumerateArray());
        Assert.Equal($"aws secretsmanager update-secret-version-stage --secret-id {name} --version-stage AWSCURRENT --move-to-version-id {v1}", plan.GetProperty("awsCli").GetString());
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        var labels = await LabelMapAsync(name);
        Assert.Contains("AWSCURRENT", labels[v1]);
        Assert.False(labels.ContainsKey(v2), $"version {v2} (its password is refused) should stay unlabelled");
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    [DatabaseFact]
    public async Task J_NoCurrentAndNoValue_RotationOfAnEmptySecret_HumanActionNoMutation()
    {
        var name = $"doctor-state/j2/{Suffix()}";
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name);
        var token = await StartRotationAsync(name, "keyturn-postgresql-single-user");
        await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(90), "failed");
        await AssertLabelsAsync(name, (token, ["AWSPENDING"]));

        var before = await LabelsAsync(name);
        var result = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("NoCurrent", result.Json.GetProperty("state").GetString());
        Assert.Contains("Human action needed", result.Json.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.Empty(result.Json.GetProperty("plan").EnumerateArray());
        Assert.Equal(before, await LabelsAsync(name));
        // The doctor changed nothing, so the unfinished rotation still blocks the next one, as the verdict says.
        await AssertRotateSecretAsync(name, accepted: false);
    }

    // ---- unknown probes: no mutation ---------------------------------------------------------------

    [DatabaseFact]
    public async Task Undecidable_PendingNamesAMissingDatabase_NoMutation()
    {
        var password = NewPassword();
        var user = await PgUserAsync("u1", password);
        var name = Name("u1", user);
        var v1 = await CreateAsync(name, Pg(user, password));

        // Row 4: a dbname that doesn't exist (3D000) says nothing about the password.
        var v2 = await PutAsync(name, Pg(user, password, dbName: "no_such_database"), "AWSPENDING");

        var result = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Undecidable", result.Json.GetProperty("state").GetString());
        var probe = Version(result.Json, v2).GetProperty("probe");
        Assert.Equal("unknown", probe.GetProperty("outcome").GetString());
        Assert.Equal("3D000", probe.GetProperty("driverCode").GetString());
        Assert.Contains("PRB001", Codes(result.Json));
        Assert.Empty(result.Json.GetProperty("plan").EnumerateArray());
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]), (v2, ["AWSPENDING"]));
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        // Rule 0 outranks rule 2: an undecided probe changes nothing, so AWSPENDING still blocks the next rotation.
        await AssertRotateSecretAsync(name, accepted: false);
    }

    [DatabaseFact]
    public async Task Undecidable_CurrentRefusedPreviousUnreachable_NoRollBack()
    {
        var password = NewPassword();
        var user = await PgUserAsync("u2", password);
        var name = Name("u2", user);

        // AWSPREVIOUS points at a port where nothing listens: its probe can't decide, so no roll-back to it.
        using var closed = new ClosedPort();
        var v1 = await CreateAsync(name, Pg(user, password, port: closed.Port));
        var v2 = await PutAsync(name, Pg(user, NewPassword()));

        var result = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Undecidable", result.Json.GetProperty("state").GetString());
        Assert.Equal("auth-fail", Version(result.Json, v2).GetProperty("probe").GetProperty("outcome").GetString());
        Assert.Equal("unknown", Version(result.Json, v1).GetProperty("probe").GetProperty("outcome").GetString());
        Assert.Contains("AWSPREVIOUS", result.Json.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.Empty(result.Json.GetProperty("plan").EnumerateArray());
        await AssertLabelsAsync(name, (v2, ["AWSCURRENT"]), (v1, ["AWSPREVIOUS"]));
        await AssertNothingLeakedAsync(name); await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- an engine without a rotator ------------------------------------------------------------------

    [DatabaseFact]
    public async Task UnsupportedEngine_OracleSecret_ReportedAsSuch_NeverProbedAsPostgres()
    {
        var password = NewPassword();
        var user = await PgUserAsync("ora", password);
        var name = Name("ora", user);

        // The credentials do log in to the PostgreSQL server at that address: probed as PostgreSQL, the secret would pass as healthy.
        var v1 = await CreateAsync(name, Json("oracle", env.Databases.Postgres.Port, user, password, PostgresServer.Database, null, null));

        var result = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Undecidable", result.Json.GetProperty("state").GetString());
        Assert.Contains("engine 'oracle'", result.Json.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        var finding = Finding(result.Json, "ENG001");
        Assert.Contains("'oracle'", finding.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Contains("postgres, aurora-postgresql, postgresql, mysql, mariadb, aurora-mysql", finding.GetProperty("evidence").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Codes(result.Json), c => c is "PRB001" or "CFG004" || c.StartsWith("NET", StringComparison.Ordinal));
        Assert.Equal(JsonValueKind.Null, Version(result.Json, v1).GetProperty("probe").ValueKind);
        Assert.Empty(result.Json.GetProperty("plan").EnumerateArray());
        AssertJsonShape(result.Json, applied: false);
        await AssertLabelsAsync(name, (v1, ["AWSCURRENT"]));
    }

    // ---- MariaDB: the MySQL probe and password paths --------------------------------------------------

    [DatabaseFact]
    public async Task MariaDb_D_OnlyPendingWorks_RollsForward()
    {
        var password = NewPassword();
        var user = await MyUserAsync("d", password);
        var name = Name("my-d", user);
        var v1 = await CreateAsync(name, My(user, password));
        var pendingPassword = NewPassword();
        var v2 = await PutAsync(name, My(user, pendingPassword), "AWSPENDING");

        // setSecret committed, then finishSecret never ran.
        await env.Databases.MariaDb.ExecuteAsRootAsync($"ALTER USER '{user}'@'%' IDENTIFIED BY '{pendingPassword}'");

        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("DatabaseAhead", dryRun.Json.GetProperty("state").GetString());
        var currentProbe = Version(dryRun.Json, v1).GetProperty("probe");
        Assert.Equal("auth-fail", currentProbe.GetProperty("outcome").GetString());
        Assert.Equal("1045", currentProbe.GetProperty("driverCode").GetString());
        Assert.Equal("ok", Version(dryRun.Json, v2).GetProperty("probe").GetProperty("outcome").GetString());
        Assert.Equal(["MoveCurrent", "RemoveLabel"], Actions(dryRun.Json));
        Assert.Equal(before, await LabelsAsync(name));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--json");

        Assert.Equal(0, repaired.ExitCode);
        await AssertLabelsAsync(name, (v2, ["AWSCURRENT"]), (v1, ["AWSPREVIOUS"]));
        await AssertCurrentLogsInAsync(name);
        await AssertNothingLeakedAsync(name);
        await AssertRotateSecretAsync(name, accepted: true);
    }

    [DatabaseFact]
    public async Task MariaDb_F_NothingWorks_BreakGlass_ResetsThePasswordThroughTheMaster()
    {
        var master = await CreateAsync($"doctor-state/master/my/{Suffix()}", My(MariaDbServer.MasterUser, env.Databases.MariaDb.MasterPassword), arn: true);
        var (name, user, versions) = await NothingWorksAsync("my-f", master, mariaDb: true);
        await BreakGlassAsync(name, user, versions, "mariadb");
    }

    // ---- exit codes: 2 when the doctor itself fails ------------------------------------------------

    [DatabaseFact]
    public async Task UnknownSecret_ExitsTwo()
    {
        var result = await DoctorAsync($"doctor-state/missing/{Suffix()}", allowFailure: true, "--json");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("ResourceNotFoundException", result.Stderr, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task UnreachableEndpoint_ExitsTwo()
    {
        using var closed = new ClosedPort();
        var result = await DoctorAsync("anything", endpoint: $"http://127.0.0.1:{closed.Port}", allowFailure: true, "--json");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("keyturn doctor:", result.Stderr, StringComparison.Ordinal);
    }

    // ---- state builders -----------------------------------------------------------------------------

    /// <summary>
    /// Alternating users, for real: one rotation makes the clone current; the clone then gets an extra
    /// grant, so the next rotation resets its password (setSecret) and testSecret refuses to finish. AWSCURRENT
    /// (clone) and AWSPENDING (user, new password) both log in.
    /// </summary>
    private async Task<(string Name, string User, string Clone, string CloneVersion, string FirstVersion, string Token)> AlternatingRotationStoppedAtTestSecretAsync(string state)
    {
        var password = NewPassword();
        var user = await PgUserAsync(state, password);
        var name = Name(state, user);
        var first = await CreateAsync(name, Pg(user, password, master: await PgMasterArnAsync()));

        var cloneVersion = await StartRotationAsync(name, "keyturn-postgresql-alternating-users");
        await WaitForLabelsAsync(name, cloneVersion, "AWSCURRENT");
        var clone = (await CurrentAsync(name)).Username;
        Assert.Equal(user + "_clone", clone);

        // Row 23: a privilege granted to the clone alone (the clone inherits the user's, not the other way round).
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"GRANT SELECT ON invoices TO {clone}");
        var token = await StartRotationAsync(name, "keyturn-postgresql-alternating-users", rules: false);
        var status = await env.WaitForRotationStateAsync(name, TimeSpan.FromSeconds(90), "failed");
        Assert.Contains("different privileges", status, StringComparison.Ordinal);
        await AssertLabelsAsync(name, (cloneVersion, ["AWSCURRENT"]), (first, ["AWSPREVIOUS"]), (token, ["AWSPENDING"]));
        await AssertVersionLogsInAsync(name, cloneVersion);
        await AssertVersionLogsInAsync(name, token);
        _passwords.Add((await ValueAsync(name, cloneVersion)).Password);
        _passwords.Add((await ValueAsync(name, token)).Password);
        return (name, user, clone, cloneVersion, first, token);
    }

    /// <summary>
    /// State F: the database password was changed out of band to one no version holds; three versions
    /// (AWSCURRENT, AWSPREVIOUS and a deprecated one) all fail.
    /// </summary>
    private async Task<(string Name, string User, List<string> Versions)> NothingWorksAsync(string state, string? masterArn, bool mariaDb = false)
    {
        var password = NewPassword();
        var user = mariaDb ? await MyUserAsync(state, password) : await PgUserAsync(state, password);
        var name = Name(state, user);
        string Value(string pw) => mariaDb ? My(user, pw, masterArn) : Pg(user, pw, master: masterArn);
        var versions = new List<string> { await CreateAsync(name, Value(password)) };
        versions.Add(await PutAsync(name, Value(NewPassword())));
        versions.Add(await PutAsync(name, Value(NewPassword())));

        // A DBA resets the password and keeps it to themselves.
        var outOfBand = NewPassword();
        if (mariaDb)
        {
            await env.Databases.MariaDb.ExecuteAsRootAsync($"ALTER USER '{user}'@'%' IDENTIFIED BY '{outOfBand}'");
        }
        else
        {
            await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"ALTER ROLE {user} PASSWORD '{outOfBand}'");
        }

        return (name, user, versions);
    }

    private async Task BreakGlassAsync(string name, string user, List<string> versions, string engine)
    {
        var before = await LabelsAsync(name);
        var dryRun = await DoctorAsync(name, "--break-glass", "--json");

        Assert.Equal(1, dryRun.ExitCode);
        Assert.Equal("NothingWorks", dryRun.Json.GetProperty("state").GetString());
        Assert.Equal(["BreakGlassReset"], Actions(dryRun.Json));
        Assert.Equal(before, await LabelsAsync(name));
        Assert.Equal(LoginOutcome.AuthFailed, await LoginAsync(await CurrentAsync(name)));

        var repaired = await DoctorAsync(name, "--apply", "--yes", "--break-glass", "--json");

        Assert.Equal(0, repaired.ExitCode);
        var step = Assert.Single(repaired.Json.GetProperty("actions").EnumerateArray());
        Assert.True(step.GetProperty("succeeded").GetBoolean(), step.GetProperty("detail").GetString());
        var labels = await LabelMapAsync(name);
        var fresh = Assert.Single(labels, l => l.Value.Contains("AWSCURRENT")).Key;
        Assert.DoesNotContain(fresh, versions);
        Assert.Equal(["AWSPREVIOUS"], labels[versions[^1]]);
        var current = await AssertCurrentLogsInAsync(name);
        Assert.Equal(user, current.Username);
        Assert.Equal(engine, current.DeclaredEngine);
        _passwords.Add(current.Password);

        // The doctor is healthy afterwards, and the reset is in its journal.
        var after = await DoctorAsync(name, "--json");
        Assert.Equal(0, after.ExitCode);
        Assert.Contains(fresh, await File.ReadAllTextAsync(Journal), StringComparison.Ordinal);
        await AssertNothingLeakedAsync(name); await AssertRotateSecretAsync(name, accepted: true);
    }

    // ---- the doctor process -------------------------------------------------------------------------

    private sealed record DoctorRun(int ExitCode, string Stdout, string Stderr)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout[Stdout.IndexOf('{', StringComparison.Ordinal)..]).RootElement.Clone();
    }

    private Task<DoctorRun> DoctorAsync(string name, params string[] arguments) => DoctorAsync(name, endpoint: null, allowFailure: false, arguments);

    private Task<DoctorRun> DoctorAsync(string name, bool allowFailure, params string[] arguments) => DoctorAsync(name, endpoint: null, allowFailure, arguments);

    private async Task<DoctorRun> DoctorAsync(string name, string? endpoint, bool allowFailure, params string[] arguments)
    {
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", name, "--endpoint-url", endpoint ?? env.Server.Endpoint, "--journal", Journal, .. arguments], env.Server,
            new Dictionary<string, string> { ["KEYTURN_ROOT_ACCESS_KEY_ID"] = env.Server.AccessKeyId, ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = env.Server.SecretAccessKey, ["NO_COLOR"] = "1" });
        _outputs.Add(result.Stdout);
        _outputs.Add(result.Stderr);
        AssertNoPassword(result.Stdout + result.Stderr, $"doctor {string.Join(' ', arguments)}");
        Assert.True(allowFailure || result.ExitCode is 0 or 1, $"the doctor failed with exit {result.ExitCode}: {result.Stderr}");
        return new DoctorRun(result.ExitCode, result.Stdout, result.Stderr);
    }

    /// <summary><c>--apply --json</c>: the target, the diagnosis before (nothing applied yet), each action with its outcome, the diagnosis after, the journal.</summary>
    private void AssertApplyShape(JsonElement json)
    {
        Assert.Equal(["actions", "after", "before", "journal", "target"], json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        AssertTargetShape(json.GetProperty("target"), applied: true);
        AssertJsonShape(json.GetProperty("before"), applied: false, withTarget: false);
        AssertJsonShape(json.GetProperty("after"), applied: false, withTarget: false);
        Assert.Equal(Journal, json.GetProperty("journal").GetString());
        var actions = json.GetProperty("actions").EnumerateArray().ToList();
        Assert.Equal(json.GetProperty("before").GetProperty("plan").GetArrayLength(), actions.Count);
        foreach (var action in actions)
        {
            Assert.Equal(["action", "awsCli", "description", "detail", "succeeded"], action.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.True(action.GetProperty("succeeded").GetBoolean(), action.GetProperty("detail").GetString());
        }

        Assert.Equal("Healthy", json.GetProperty("after").GetProperty("state").GetString());
    }

    /// <summary>The target lines' JSON form: which Keyturn, which account, which mode.</summary>
    private static void AssertTargetShape(JsonElement target, bool applied)
    {
        Assert.Equal(
            ["account", "credentials", "endpoint", "endpointKind", "endpointSource", "mode", "profile", "reason", "region", "regionSource", "skipped", "target"],
            target.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("keyturn", target.GetProperty("target").GetString());
        Assert.Equal("000000000000", target.GetProperty("account").GetString());
        Assert.Contains(target.GetProperty("mode").GetString(), applied ? ["apply"] : new[] { "dry-run", "apply" });
    }

    /// <summary>The documented shape of <c>--json</c> for one secret (inside an apply report, without the target it opens with).</summary>
    private static void AssertJsonShape(JsonElement json, bool applied, bool withTarget = true)
    {
        Assert.Equal(
            ["arn", "findings", "healthy", "plan", "secret", "state", .. withTarget ? new[] { "target" } : [], "verdict", "versions"],
            json.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        if (withTarget)
        {
            AssertTargetShape(json.GetProperty("target"), applied);
        }

        Assert.StartsWith("arn:aws:secretsmanager:", json.GetProperty("arn").GetString(), StringComparison.Ordinal);
        Assert.Contains(json.GetProperty("healthy").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.True(Enum.TryParse<Keyturn.Domain.Doctor.LabelState>(json.GetProperty("state").GetString(), out _));
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("verdict").GetString()));
        foreach (var version in json.GetProperty("versions").EnumerateArray())
        {
            Assert.Equal(["createdDate", "hasValue", "probe", "stages", "username", "versionId"], version.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal(JsonValueKind.Array, version.GetProperty("stages").ValueKind);
            Assert.True(DateTimeOffset.TryParse(version.GetProperty("createdDate").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
            var probe = version.GetProperty("probe");
            if (probe.ValueKind != JsonValueKind.Null)
            {
                Assert.Equal(["driverCode", "elapsedMs", "outcome", "reason"], probe.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
                Assert.Contains(probe.GetProperty("outcome").GetString(), new[] { "ok", "auth-fail", "unknown" });
                Assert.True(probe.GetProperty("elapsedMs").GetDouble() >= 0);
            }
        }

        foreach (var finding in json.GetProperty("findings").EnumerateArray())
        {
            Assert.Equal(["code", "evidence", "fix", "severity", "title"], finding.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Matches("^[A-Z]{3}[0-9]{3}$", finding.GetProperty("code").GetString());
            Assert.Contains(finding.GetProperty("severity").GetString(), new[] { "info", "warning", "error", "critical" });
        }

        foreach (var step in json.GetProperty("plan").EnumerateArray())
        {
            Assert.Equal(["action", "applied", "awsCli", "description", "result"], step.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Contains(step.GetProperty("action").GetString(), new[] { "RemoveLabel", "MoveCurrent", "BreakGlassReset" });
            Assert.Equal(applied ? JsonValueKind.True : JsonValueKind.Null, step.GetProperty("applied").ValueKind);
            Assert.Equal(applied ? JsonValueKind.String : JsonValueKind.Null, step.GetProperty("result").ValueKind);
        }
    }

    private static List<string> Codes(JsonElement json) => json.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("code").GetString()!).ToList();

    private static List<string> Actions(JsonElement json) => json.GetProperty("plan").EnumerateArray().Select(a => a.GetProperty("action").GetString()!).ToList();

    private static JsonElement Finding(JsonElement json, string code) =>
        json.GetProperty("findings").EnumerateArray().FirstOrDefault(f => f.GetProperty("code").GetString() == code) is { ValueKind: JsonValueKind.Object } found
            ? found
            : throw new Xunit.Sdk.XunitException($"no {code} finding; codes: {string.Join(", ", Codes(json))}");

    private static JsonElement Version(JsonElement json, string versionId) =>
        json.GetProperty("versions").EnumerateArray().FirstOrDefault(v => v.GetProperty("versionId").GetString() == versionId) is { ValueKind: JsonValueKind.Object } found
            ? found
            : throw new Xunit.Sdk.XunitException($"version {versionId} is not in the report");

    // ---- secrets and labels --------------------------------------------------------------------------

    private static string Name(string state, string user) => $"doctor-state/{state}/{user}";

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    private string NewPassword()
    {
        var password = "Pw" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        _passwords.Add(password);
        return password;
    }

    private string Pg(string user, string password, int? port = null, string dbName = PostgresServer.Database, string? master = null) =>
        Json("postgres", env.Databases.Postgres.Port, user, password, dbName, master, port);

    private string My(string user, string password, string? master = null) =>
        Json("mariadb", env.Databases.MariaDb.Port, user, password, MariaDbServer.Database, master, null);

    private Task<string> PgMasterArnAsync() =>
        CreateAsync($"doctor-state/master/pg/{Suffix()}", Json("postgres", env.Databases.Postgres.Port, PostgresServer.MasterUser, env.Databases.Postgres.MasterPassword, PostgresServer.Database, null, null), arn: true);

    private static string Json(string engine, int port, string user, string password, string dbName, string? master, int? portOverride) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["engine"] = engine,
            ["host"] = "127.0.0.1",
            ["port"] = portOverride ?? port,
            ["username"] = user,
            ["password"] = password,
            ["dbname"] = dbName,
            ["masterarn"] = master,
        }.Where(p => p.Value is not null).ToDictionary());

    private async Task<string> PgUserAsync(string state, string password)
    {
        var user = $"ds_{state.Replace('-', '_')}_{Suffix()[..6]}";
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'", $"GRANT SELECT ON orders TO {user}");
        return user;
    }

    private async Task<string> MyUserAsync(string state, string password)
    {
        var user = $"ds_{state.Replace('-', '_')}_{Suffix()[..6]}";
        await env.Databases.MariaDb.ExecuteAsRootAsync($"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'", $"GRANT SELECT ON {MariaDbServer.Database}.* TO '{user}'@'%'");
        return user;
    }

    /// <summary>create-secret with a first value; returns its VersionId (or the ARN).</summary>
    private async Task<string> CreateAsync(string name, string value, bool arn = false) =>
        (await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", value)).GetProperty(arn ? "ARN" : "VersionId").GetString()!;

    private async Task<string> PutAsync(string name, string value, params string[] stages)
    {
        var args = new List<string> { "secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string", value };
        if (stages.Length > 0)
        {
            args.Add("--version-stages");
            args.AddRange(stages);
        }

        return (await env.Cli.JsonAsync([.. args])).GetProperty("VersionId").GetString()!;
    }

    private async Task<string> StartRotationAsync(string name, string function, bool rules = true)
    {
        var args = new List<string> { "secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{function}" };
        if (rules)
        {
            args.AddRange(["--rotation-rules", "AutomaticallyAfterDays=30"]);
        }

        return (await env.Cli.JsonAsync([.. args])).GetProperty("VersionId").GetString()!;
    }

    private async Task WaitForLabelsAsync(string name, string version, params string[] labels)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var map = await LabelMapAsync(name);
            if (map.TryGetValue(version, out var actual) && actual.SequenceEqual(labels.Order(StringComparer.Ordinal)))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{name}: version {version} never got {string.Join(",", labels)}: {await env.RotationStatusAsync(name)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Labelled versions and their labels, from describe-secret.</summary>
    private async Task<Dictionary<string, string[]>> LabelMapAsync(string name)
    {
        var described = await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name);
        return described.TryGetProperty("VersionIdsToStages", out var stages)
            ? stages.EnumerateObject().Select(p => (p.Name, Labels: p.Value.EnumerateArray().Select(s => s.GetString()!).Order(StringComparer.Ordinal).ToArray()))
                .Where(p => p.Labels.Length > 0).ToDictionary(p => p.Name, p => p.Labels)
            : [];
    }

    /// <summary>A fingerprint of everything a repair could change: labels, and every version (deprecated ones too).</summary>
    private async Task<string> LabelsAsync(string name)
    {
        var listed = await env.Cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name, "--include-deprecated");
        return string.Join(" ", listed.GetProperty("Versions").EnumerateArray()
            .Select(v => v.GetProperty("VersionId").GetString() + ":" + (v.TryGetProperty("VersionStages", out var stages) ? string.Join(",", stages.EnumerateArray().Select(s => s.GetString()).Order(StringComparer.Ordinal)) : ""))
            .Order(StringComparer.Ordinal));
    }

    private async Task AssertLabelsAsync(string name, params (string Version, string[] Labels)[] expected)
    {
        var actual = await LabelMapAsync(name);
        var describe = string.Join("; ", actual.Select(p => $"{p.Key}={string.Join(",", p.Value)}"));
        Assert.True(expected.Length == actual.Count, $"expected {expected.Length} labelled versions, got: {describe}");
        foreach (var (version, labels) in expected)
        {
            Assert.True(actual.TryGetValue(version, out var got) && got.SequenceEqual(labels.Order(StringComparer.Ordinal)),
                $"version {version} should carry {string.Join(",", labels)}; labels now: {describe}");
        }
    }

    /// <summary>The store bug of state J: a label row deleted behind the server's back (it reads the store on every request).</summary>
    private async Task DropStageInStoreAsync(string name, string label)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(env.Server.DataDirectory, "keyturn.db"),
            Pooling = false,
            DefaultTimeout = 30,
        }.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA busy_timeout = 10000; DELETE FROM stages WHERE label = $label AND secret_id = (SELECT id FROM secrets WHERE name = $name)";
        command.Parameters.AddWithValue("$label", label);
        command.Parameters.AddWithValue("$name", name);
        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }

    // ---- logging in ----------------------------------------------------------------------------------

    private async Task<DatabaseSecret> ValueAsync(string name, string versionId) =>
        Keyturn.Server.Hosting.BuiltInRotators.Create().Parse((await env.Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name, "--version-id", versionId)).GetProperty("SecretString").GetString()!);

    private async Task<DatabaseSecret> CurrentAsync(string name) =>
        Keyturn.Server.Hosting.BuiltInRotators.Create().Parse((await env.Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name)).GetProperty("SecretString").GetString()!);

    private async Task<LoginOutcome> LoginAsync(DatabaseSecret secret) =>
        (await (secret.Engine == "mysql" ? _mysql : _postgres).ProbeLoginAsync(DatabaseConnection.FromSecret(secret), ProbeTimeout, default)).Outcome;

    /// <summary>Logs in with AWSCURRENT's credentials against the real database; returns them.</summary>
    private async Task<DatabaseSecret> AssertCurrentLogsInAsync(string name)
    {
        var current = await CurrentAsync(name);
        var probe = await (current.Engine == "mysql" ? _mysql : _postgres).ProbeLoginAsync(DatabaseConnection.FromSecret(current), ProbeTimeout, default);
        Assert.True(probe.Outcome == LoginOutcome.Ok, $"{name}: AWSCURRENT ({current.Username}) can't log in: {probe.Outcome} {probe.Reason} {probe.DriverCode}");
        return current;
    }

    private async Task AssertVersionLogsInAsync(string name, string versionId)
    {
        var value = await ValueAsync(name, versionId);
        var probe = await (value.Engine == "mysql" ? _mysql : _postgres).ProbeLoginAsync(DatabaseConnection.FromSecret(value), ProbeTimeout, default);
        Assert.True(probe.Outcome == LoginOutcome.Ok, $"{name}: version {versionId} ({value.Username}) can't log in: {probe.Outcome} {probe.Reason} {probe.DriverCode}");
    }

    // ---- the next rotation ---------------------------------------------------------------------------

    /// <summary>
    /// Rule 2, asked of the server itself: after the doctor's run, RotateSecret accepts a new rotation exactly when the
    /// labels pass <see cref="RotationState.AcceptsRotation"/> (the rule RotateSecret applies; refused: "A previous rotation
    /// isn't complete"). RotateImmediately=false: an accepted call only tests a copy of the current value, so no password
    /// changes.
    /// </summary>
    private async Task AssertRotateSecretAsync(string name, bool accepted)
    {
        var labels = await LabelMapAsync(name);
        Assert.True(accepted == RotationState.AcceptsRotation(labels.ToDictionary(l => l.Key, l => (IReadOnlyList<string>)l.Value)),
            $"{name}: labels {string.Join("; ", labels.Select(p => $"{p.Key}={string.Join(",", p.Value)}"))}");
        var described = await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name);
        var function = described.TryGetProperty("RotationLambdaARN", out var configured)
            ? configured.GetString()!
            : $"arn:aws:lambda:us-east-1:000000000000:function:{((await CurrentAsync(name)).Engine == "mysql" ? "keyturn-mysql-single-user" : "keyturn-postgresql-single-user")}";

        var result = await env.Cli.RunAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", function, "--no-rotate-immediately");

        if (accepted)
        {
            Assert.True(result.ExitCode == 0, $"{name}: RotateSecret refused after the doctor's run: {result.Stderr}");
        }
        else
        {
            Assert.True(result.ExitCode != 0, $"{name}: RotateSecret accepted although AWSPENDING is left: {result.Stdout}");
            Assert.Contains("(InvalidRequestException)", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("A previous rotation isn't complete", result.Stderr, StringComparison.Ordinal);
        }
    }

    // ---- no secret in any output ---------------------------------------------------------------------

    private void AssertNoPassword(string text, string where)
    {
        var leaked = _passwords.FindIndex(p => text.Contains(p, StringComparison.Ordinal));
        Assert.True(leaked < 0, $"{where}: the output contains password #{leaked} of this test");
    }

    /// <summary>No password any version of the secret holds (the doctor's own new one included) is in the doctor's outputs or journal.</summary>
    private async Task AssertNothingLeakedAsync(string name)
    {
        var listed = await env.Cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name, "--include-deprecated");
        foreach (var version in listed.GetProperty("Versions").EnumerateArray())
        {
            var id = version.GetProperty("VersionId").GetString()!;
            var read = await env.Cli.RunAsync("secretsmanager", "get-secret-value", "--secret-id", name, "--version-id", id);
            if (read.ExitCode == 0 && JsonDocument.Parse(read.Stdout).RootElement.TryGetProperty("SecretString", out var text))
            {
                _passwords.Add(Keyturn.Server.Hosting.BuiltInRotators.Create().Parse(text.GetString()!).Password);
            }
        }

        AssertNoPassword(string.Join("\n", _outputs), "doctor output");
        if (File.Exists(Journal))
        {
            AssertNoPassword(await File.ReadAllTextAsync(Journal), "doctor journal");
        }
    }
}
