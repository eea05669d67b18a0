using Keyturn.Domain.Doctor;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>The decision core, state by state (recovery guide §5), including the field report's three situations.</summary>
public sealed class RotationDoctorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    // Versions are "id:LABEL,LABEL" (empty after ':' = deprecated; '!' suffix on the id = no value);
    // probes are "id=ok|fail|unknown".
    public static TheoryData<string, string[], string[], LabelState, string> Cases => new()
    {
        { "A healthy", ["p:AWSPREVIOUS", "c:AWSCURRENT"], ["c=ok"], LabelState.Healthy, "" },
        { "A pending on current is a valid end state", ["p:AWSPREVIOUS", "c:AWSCURRENT,AWSPENDING"], ["c=ok"], LabelState.Healthy, "" },
        { "B empty pending", ["c:AWSCURRENT", "n!:AWSPENDING"], ["c=ok"], LabelState.EmptyPending, "remove AWSPENDING n" },
        { "C seed 1: pending never applied", ["p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=ok", "n=fail"], LabelState.PendingNotApplied, "remove AWSPENDING n" },
        { "D lockout trap: only pending works", ["p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=fail", "n=ok", "p=fail"], LabelState.DatabaseAhead, "move AWSCURRENT n from c; remove AWSPENDING n" },
        { "E seed 2: pending on current, DB on previous", ["p:AWSPREVIOUS", "c:AWSCURRENT,AWSPENDING"], ["c=fail", "p=ok"], LabelState.LabelsAhead, "remove AWSPENDING c; move AWSCURRENT p from c" },
        { "E with a stale pending elsewhere", ["p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=fail", "n=fail", "p=ok"], LabelState.LabelsAhead, "move AWSCURRENT p from c; remove AWSPENDING n" },
        { "E with an empty pending elsewhere", ["p:AWSPREVIOUS", "c:AWSCURRENT", "n!:AWSPENDING"], ["c=fail", "p=ok"], LabelState.LabelsAhead, "move AWSCURRENT p from c; remove AWSPENDING n" },
        { "D pending on the previous version, which works", ["p:AWSPREVIOUS,AWSPENDING", "c:AWSCURRENT"], ["c=fail", "p=ok"], LabelState.DatabaseAhead, "move AWSCURRENT p from c; remove AWSPENDING p" },
        { "F orphan works", ["o:", "p:AWSPREVIOUS", "c:AWSCURRENT"], ["c=fail", "p=fail", "o=ok"], LabelState.OrphanWorks, "move AWSCURRENT o from c" },
        { "F orphan works, pending on the broken current", ["o:", "p:AWSPREVIOUS", "c:AWSCURRENT,AWSPENDING"], ["c=fail", "p=fail", "o=ok"], LabelState.OrphanWorks, "remove AWSPENDING c; move AWSCURRENT o from c" },
        { "F orphan works, a refused pending elsewhere", ["o:", "p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=fail", "n=fail", "p=fail", "o=ok"], LabelState.OrphanWorks, "move AWSCURRENT o from c; remove AWSPENDING n" },
        { "F orphan works, an empty pending elsewhere", ["o:", "c:AWSCURRENT", "n!:AWSPENDING"], ["c=fail", "o=ok"], LabelState.OrphanWorks, "move AWSCURRENT o from c; remove AWSPENDING n" },
        { "F nothing works", ["o:", "p:AWSPREVIOUS", "c:AWSCURRENT"], ["c=fail", "p=fail", "o=fail"], LabelState.NothingWorks, "" },
        { "F nothing works, pending on the broken current", ["p:AWSPREVIOUS", "c:AWSCURRENT,AWSPENDING"], ["c=fail", "p=fail"], LabelState.NothingWorks, "" },
        { "F nothing works, a refused pending elsewhere", ["p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=fail", "n=fail", "p=fail"], LabelState.NothingWorks, "" },
        { "J no AWSCURRENT, an older version works", ["a:", "b:AWSPENDING"], ["a=ok", "b=fail"], LabelState.NoCurrent, "move AWSCURRENT a from -; remove AWSPENDING b" },
        { "J no AWSCURRENT, the pending version works", ["a:", "b:AWSPENDING"], ["a=fail", "b=ok"], LabelState.NoCurrent, "move AWSCURRENT b from -" },
        { "J no AWSCURRENT, nothing works", ["a:", "b:AWSPENDING"], ["a=fail", "b=fail"], LabelState.NoCurrent, "" },
        { "unknown current: no mutation", ["p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=unknown", "n=ok", "p=ok"], LabelState.Undecidable, "" },
        { "unknown pending: no mutation", ["c:AWSCURRENT", "n:AWSPENDING"], ["c=ok", "n=unknown"], LabelState.Undecidable, "" },
        { "unknown pending while current fails: no mutation", ["p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=fail", "n=unknown", "p=ok"], LabelState.Undecidable, "" },
        { "unknown previous: no mutation", ["p:AWSPREVIOUS", "c:AWSCURRENT"], ["c=fail", "p=unknown"], LabelState.Undecidable, "" },
        { "unprobed current: no mutation", ["c:AWSCURRENT"], [], LabelState.Undecidable, "" },
        { "single user, both work: drop pending", ["c:AWSCURRENT", "n:AWSPENDING"], ["c=ok", "n=ok"], LabelState.PendingReady, "remove AWSPENDING n" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Diagnose_StatesOfTheRecoveryGuide(string name, string[] versions, string[] probes, LabelState state, string plan)
    {
        var diagnosis = RotationDoctor.Diagnose(Snapshot(versions, probes));

        Assert.True(state == diagnosis.State, $"{name}: expected {state}, got {diagnosis.State} ({diagnosis.Verdict})");
        Assert.True(plan == Describe(diagnosis.Plan), $"{name}: expected plan '{plan}', got '{Describe(diagnosis.Plan)}'");
    }

    /// <summary>
    /// Rule 2, over every state above (with and without break-glass, and with alternating users whose privileges are
    /// equal): one apply runs to its end and leaves AWSCURRENT on a version that logs in and labels RotateSecret's own
    /// rule accepts, whether or not the server takes AWSPENDING off the version AWSCURRENT leaves. A state without a
    /// plan changes nothing, and only a state that needs a human or a decisive probe may go without one.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Plan_LeavesLabelsFromWhichRotateSecretStartsARotation(string name, string[] versions, string[] probes, LabelState state, string plan)
    {
        _ = (state, plan);
        var plain = Snapshot(versions, probes) with { MasterProbe = new ProbeSummary(ProbeOutcome.Ok, "ok", null, TimeSpan.FromMilliseconds(3)) };
        var alternating = plain with
        {
            Versions = plain.Versions.Select(v => v with { Username = v.Has("AWSPENDING") ? "app_clone" : "app" }).ToList(),
            PrivilegesEqual = true,
        };
        foreach (var (snapshot, breakGlass) in new[] { (plain, false), (plain, true), (alternating, false) })
        {
            var diagnosis = RotationDoctor.Diagnose(snapshot, breakGlass);
            var labels = RotationDoctor.Labels(snapshot.Versions);
            if (diagnosis.Plan.Count == 0)
            {
                Assert.True(diagnosis.State == LabelState.Healthy ? RotationState.AcceptsRotation(labels) : diagnosis.State is LabelState.NothingWorks or LabelState.NoCurrent or LabelState.Undecidable,
                    $"{name}: {diagnosis.State} with no plan");
                continue;
            }

            foreach (var pendingLeavesWithCurrent in new[] { false, true })
            {
                var after = RepairSimulation.Apply(labels, diagnosis.Plan, pendingLeavesWithCurrent);
                var where = $"{name} (break-glass {breakGlass}, server drops AWSPENDING with AWSCURRENT: {pendingLeavesWithCurrent}; plan {Describe(diagnosis.Plan)})";
                Assert.True(after.AbortedAt is null, $"{where}: aborts at {after.AbortedAt?.Description}");
                Assert.True(after.RotationCanStart, $"{where}: AWSPENDING left on {RotationState.InProgressVersion(after.Labels)}");
                var current = Assert.Single(after.Labels, v => v.Value.Contains("AWSCURRENT")).Key;
                Assert.True(current == RepairSimulation.NewVersion || snapshot.Probes[current].Outcome == ProbeOutcome.Ok, $"{where}: AWSCURRENT ends on {current}, which doesn't log in");
            }
        }
    }

    [Theory]
    [InlineData("oracle")]
    [InlineData("sqlserver")]
    [InlineData("mongo")]
    [InlineData("redis")]
    public void Diagnose_AnEngineWithoutARotator_ReportedAsSuchAndNothingChanged(string engine)
    {
        var snapshot = Snapshot(["p:AWSPREVIOUS", "c:AWSCURRENT"], []) with
        {
            Versions = [new VersionSnapshot("p", ["AWSPREVIOUS"], Now.AddDays(-2), true, "app", UnsupportedEngine: engine), new VersionSnapshot("c", ["AWSCURRENT"], Now.AddDays(-1), true, "app", UnsupportedEngine: engine)],
            SupportedEngines = ["postgres", "aurora-postgresql", "mysql"],
        };

        var diagnosis = RotationDoctor.Diagnose(snapshot);

        Assert.Equal(LabelState.Undecidable, diagnosis.State);
        Assert.Contains($"engine '{engine}'", diagnosis.Verdict, StringComparison.Ordinal);
        Assert.Empty(diagnosis.Plan);
        var finding = Assert.Single(diagnosis.Findings, f => f.Code == "ENG001");
        Assert.Contains($"'{engine}'", finding.Title, StringComparison.Ordinal);
        Assert.Contains("p (AWSPREVIOUS), c (AWSCURRENT)", finding.Evidence, StringComparison.Ordinal);
        Assert.Contains("postgres, aurora-postgresql, mysql", finding.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(diagnosis.Findings, f => f.Code is "PRB001" or "CFG004");
        Assert.False(diagnosis.Healthy);
    }

    [Fact]
    public void Diagnose_AlternatingUsersBothWorkWithEqualPrivileges_FinishesTheRotation()
    {
        var snapshot = Snapshot(["c:AWSCURRENT", "n:AWSPENDING"], ["c=ok", "n=ok"]) with
        {
            Versions = [new VersionSnapshot("c", ["AWSCURRENT"], Now.AddDays(-1), true, "app"), new VersionSnapshot("n", ["AWSPENDING"], Now, true, "app_clone")],
            PrivilegesEqual = true,
        };

        var diagnosis = RotationDoctor.Diagnose(snapshot);

        Assert.Equal(LabelState.PendingReady, diagnosis.State);
        Assert.Equal("move AWSCURRENT n from c; remove AWSPENDING n", Describe(diagnosis.Plan));
    }

    [Fact]
    public void Diagnose_NothingWorks_BreakGlassOnlyWithFlagAndWorkingMaster()
    {
        var snapshot = Snapshot(["p:AWSPREVIOUS", "c:AWSCURRENT"], ["c=fail", "p=fail"]) with
        {
            MasterProbe = new ProbeSummary(ProbeOutcome.Ok, "ok", null, TimeSpan.FromMilliseconds(3)),
        };

        Assert.Empty(RotationDoctor.Diagnose(snapshot).Plan);
        Assert.IsType<BreakGlassReset>(Assert.Single(RotationDoctor.Diagnose(snapshot, allowBreakGlass: true).Plan));
        Assert.Empty(RotationDoctor.Diagnose(snapshot with { MasterProbe = null }, allowBreakGlass: true).Plan);
    }

    [Fact]
    public void Diagnose_LockoutTrap_NeverRemovesThePendingLabel()
    {
        var diagnosis = RotationDoctor.Diagnose(Snapshot(["p:AWSPREVIOUS", "c:AWSCURRENT", "n:AWSPENDING"], ["c=fail", "n=ok", "p=ok"]));

        // AWSPENDING is only taken off after AWSCURRENT has moved onto the same version.
        Assert.IsType<MoveCurrent>(diagnosis.Plan[0]);
        Assert.All(diagnosis.Plan.OfType<RemoveLabel>(), r => Assert.Equal(((MoveCurrent)diagnosis.Plan[0]).ToVersionId, r.VersionId));
        var finding = Assert.Single(diagnosis.Findings, f => f.Code == "LBL003");
        Assert.Equal(Severity.Critical, finding.Severity);
        Assert.Contains("Do NOT remove AWSPENDING", finding.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void RepairActions_AwsCliCommands_MatchTheFieldReport()
    {
        Assert.Equal(
            "aws secretsmanager update-secret-version-stage --secret-id prd-db-cluster/AdminLoginInfo --version-stage AWSPENDING --remove-from-version-id dfe186d3-7399-4f46-873a-a4f7078aa77f",
            new RemoveLabel("AWSPENDING", "dfe186d3-7399-4f46-873a-a4f7078aa77f", "stale").AwsCliCommand("prd-db-cluster/AdminLoginInfo"));
        Assert.Equal(
            "aws secretsmanager update-secret-version-stage --secret-id prd-db-cluster/AdminLoginInfo --version-stage AWSCURRENT --move-to-version-id 11c46614-f0fb-4695-9fd9-7792cac5aa32 --remove-from-version-id 4bcc57ad-6901-489f-88cf-c5b56f14cbca",
            new MoveCurrent("11c46614-f0fb-4695-9fd9-7792cac5aa32", "4bcc57ad-6901-489f-88cf-c5b56f14cbca", "roll back").AwsCliCommand("prd-db-cluster/AdminLoginInfo"));
    }

    [Fact]
    public void VersionsToProbe_OrphansOnlyWhenAsked()
    {
        var versions = Snapshot(["o2:", "o1!:", "p:AWSPREVIOUS", "c:AWSCURRENT"], []).Versions;

        Assert.Equal(["p", "c"], RotationDoctor.VersionsToProbe(versions, labelledOnly: true));
        Assert.Equal(["p", "c", "o2"], RotationDoctor.VersionsToProbe(versions, labelledOnly: false));
    }

    [Fact]
    public void Diagnose_Configuration_OverdueAndDisabledWithPending()
    {
        var snapshot = Snapshot(["c:AWSCURRENT", "n:AWSPENDING"], ["c=ok", "n=fail"]) with
        {
            RotationEnabled = false,
        };
        var overdue = Snapshot(["c:AWSCURRENT"], ["c=ok"]) with { RotationEnabled = true, NextRotationDate = Now.AddDays(-2), FunctionAvailable = false, RotationFunction = "gone" };

        Assert.Contains(RotationDoctor.Diagnose(snapshot).Findings, f => f.Code == "CFG001" && f.Severity == Severity.Warning);
        var codes = RotationDoctor.Diagnose(overdue).Findings.Select(f => f.Code).ToList();
        Assert.Contains("CFG002", codes);
        Assert.Contains("CFG003", codes);
        Assert.False(RotationDoctor.Diagnose(overdue).Healthy);
    }

    [Theory]
    [InlineData(30L, null, null)]
    [InlineData(null, "rate(4 hours)", null)]
    [InlineData(null, "cron(0 16 1,15 * ? *)", "3h")]
    [InlineData(365L, null, null)]
    public void Schedule_Sane_NoFinding(long? days, string? expression, string? duration)
    {
        var snapshot = Snapshot(["c:AWSCURRENT"], ["c=ok"]) with { RotationEnabled = true, Rules = new RotationRules(days, expression, duration) };

        var diagnosis = RotationDoctor.Diagnose(snapshot);

        Assert.True(diagnosis.Healthy, string.Join("; ", diagnosis.Findings.Select(f => f.Code + " " + f.Evidence)));
    }

    [Theory]
    [InlineData(null, null, null, "CFG006", Severity.Warning)]
    [InlineData(500L, null, null, "CFG007", Severity.Warning)]
    [InlineData(null, "rate(400 days)", null, "CFG007", Severity.Warning)]
    [InlineData(null, "cron(0 0 1 1 ? 2020)", null, "CFG006", Severity.Error)]
    [InlineData(null, "rate(1 minutes)", null, "CFG006", Severity.Error)]
    public void Schedule_MissingImpossibleOrRare_Reported(long? days, string? expression, string? duration, string code, Severity severity)
    {
        var snapshot = Snapshot(["c:AWSCURRENT"], ["c=ok"]) with { RotationEnabled = true, Rules = days is null && expression is null ? null : new RotationRules(days, expression, duration) };

        var finding = Assert.Single(RotationDoctor.Diagnose(snapshot).Findings, f => f.Code.StartsWith("CFG", StringComparison.Ordinal));

        Assert.Equal(code, finding.Code);
        Assert.Equal(severity, finding.Severity);
    }

    [Fact]
    public void Schedule_RotationDisabled_NotJudged()
    {
        var snapshot = Snapshot(["c:AWSCURRENT"], ["c=ok"]) with { RotationEnabled = false, Rules = new RotationRules(900, null, null) };

        Assert.DoesNotContain(RotationDoctor.Diagnose(snapshot).Findings, f => f.Code is "CFG006" or "CFG007");
    }

    [Theory]
    [InlineData("c:AWSCURRENT", "c")]
    [InlineData("p:AWSPREVIOUS|c:AWSCURRENT", "c")]
    [InlineData("p:AWSPREVIOUS|c:AWSCURRENT,AWSPENDING", "c")]
    [InlineData("c:AWSCURRENT|n:AWSPENDING", null)]
    [InlineData("b:AWSPENDING", null)]
    [InlineData("", null)]
    public void QuickCheckVersion_OnlyWhenNoRotationIsLeftUnfinished(string labels, string? expected)
    {
        var map = labels.Split('|', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split(':'))
            .ToDictionary(v => v[0], v => (IReadOnlyList<string>)v[1].Split(','));

        Assert.Equal(expected, RotationDoctor.QuickCheckVersion(map));
    }

    /// <summary>
    /// The quick check reads only AWSCURRENT; over every state above, what it calls healthy the full diagnosis calls
    /// healthy too, and every state the full diagnosis calls healthy with AWSCURRENT logging in passes the quick check.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void QuickCheck_AgreesWithTheFullDiagnosis(string name, string[] versions, string[] probes, LabelState state, string plan)
    {
        _ = plan;
        var full = Snapshot(versions, probes);
        var labels = full.Versions.Where(v => v.Stages.Count > 0).ToDictionary(v => v.VersionId, v => v.Stages);
        var version = RotationDoctor.QuickCheckVersion(labels);
        var fullDiagnosis = RotationDoctor.Diagnose(full);

        if (version is null)
        {
            Assert.True(!fullDiagnosis.Healthy || state != LabelState.Healthy, $"{name}: healthy, yet not quick-checkable");
            return;
        }

        var quick = full with
        {
            Versions = full.Versions.Where(v => v.VersionId == version).ToList(),
            Probes = full.Probes.Where(p => p.Key == version).ToDictionary(),
        };
        var quickDiagnosis = RotationDoctor.Diagnose(quick);
        Assert.True(quickDiagnosis.Healthy == fullDiagnosis.Healthy, $"{name}: quick check says healthy={quickDiagnosis.Healthy}, full diagnosis {fullDiagnosis.State}");
    }

    private static RotationSnapshot Snapshot(string[] versions, string[] probes)
    {
        var list = versions.Select((spec, i) =>
        {
            var parts = spec.Split(':', 2);
            var id = parts[0].TrimEnd('!');
            var stages = parts.Length > 1 && parts[1].Length > 0 ? parts[1].Split(',') : [];
            return new VersionSnapshot(id, stages, Now.AddDays(-versions.Length + i), !parts[0].EndsWith('!'));
        }).ToList();
        var probeMap = probes.Select(p => p.Split('=')).ToDictionary(p => p[0], p => new ProbeSummary(
            p[1] switch { "ok" => ProbeOutcome.Ok, "fail" => ProbeOutcome.AuthFail, _ => ProbeOutcome.Unknown },
            p[1] switch { "ok" => "ok", "fail" => "wrong-password", _ => "unreachable" }, null, TimeSpan.FromMilliseconds(5)));
        return new RotationSnapshot
        {
            SecretArn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:s-AbCdEf",
            Name = "s",
            Now = Now,
            Versions = list,
            Probes = probeMap,
            RotationEnabled = true,
        };
    }

    private static string Describe(IEnumerable<RepairAction> plan) => string.Join("; ", plan.Select(a => a switch
    {
        RemoveLabel r => $"remove {r.Label} {r.VersionId}",
        MoveCurrent m => $"move AWSCURRENT {m.ToVersionId} from {m.FromVersionId ?? "-"}",
        BreakGlassReset => "break-glass",
        _ => a.GetType().Name,
    }));
}
