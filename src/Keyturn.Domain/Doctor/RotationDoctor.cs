using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// The doctor's decision core (recovery guide §5): from labels and login probes to a state, findings
/// and a repair plan. Pure: it reads no state. Rule 0: a label moves only when the probes justify it,
/// and any <c>unknown</c> probe the decision depends on means no mutation. Rule 1: a version that may
/// be the only working credential is never un-labelled. Rule 2: after a plan, RotateSecret accepts a new
/// rotation (no AWSPENDING is left on a version without AWSCURRENT), so one apply is enough.
/// </summary>
public static class RotationDoctor
{
    /// <summary>Beyond this, a schedule is reported as rotating too rarely (CFG007).</summary>
    public const int MaxSaneIntervalDays = 365;

    /// <summary>
    /// <c>doctor --all</c>'s quick check: when the labels alone (ListSecrets' SecretVersionsToStages) show AWSCURRENT
    /// and no AWSPENDING apart from it, the AWSCURRENT login decides the label state (healthy when it works), so
    /// nothing but that version's value and one login is needed. Returns the AWSCURRENT version to check, or null
    /// when the labels already call for the full diagnosis (no AWSCURRENT, or a rotation left unfinished).
    /// </summary>
    public static string? QuickCheckVersion(IReadOnlyDictionary<string, IReadOnlyList<string>> versionsToStages)
    {
        var current = versionsToStages.FirstOrDefault(v => v.Value.Contains(StagingLabels.Current, StringComparer.Ordinal)).Key;
        return current is not null && RotationState.AcceptsRotation(versionsToStages) ? current : null;
    }

    /// <summary>The versions whose credentials must be probed: the labelled ones, and every other version with a value when none of those works.</summary>
    public static IReadOnlyList<string> VersionsToProbe(IReadOnlyList<VersionSnapshot> versions, bool labelledOnly)
    {
        var labelled = versions.Where(v => v.HasValue && (v.Has(StagingLabels.Current) || v.Has(StagingLabels.Pending) || v.Has(StagingLabels.Previous)))
            .Select(v => v.VersionId);
        return labelledOnly
            ? labelled.ToList()
            : labelled.Concat(OrphansNewestFirst(versions).Select(v => v.VersionId)).Distinct(StringComparer.Ordinal).ToList();
    }

    public static Diagnosis Diagnose(RotationSnapshot snapshot, bool allowBreakGlass = false)
    {
        var findings = new List<Finding>(snapshot.ExternalFindings);
        if (DoctorVantage.Finding(snapshot) is { } reachability)
        {
            findings.Add(reachability);
        }

        findings.AddRange(AwsReadFailures.Findings(snapshot.ReadFailures));
        findings.AddRange(ConfigurationFindings(snapshot));
        var (state, verdict, plan) = DecideLabels(snapshot, findings, allowBreakGlass);
        return new Diagnosis(state, verdict, findings.OrderByDescending(f => f.Severity).ToList(), EndUnfinishedRotation(snapshot.Versions, plan));
    }

    /// <summary>The labels as ListSecretVersionIds shows them: version id → labels.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Labels(IReadOnlyList<VersionSnapshot> versions) =>
        versions.ToDictionary(v => v.VersionId, v => v.Stages, StringComparer.Ordinal);

    /// <summary>
    /// Rule 2: one apply leaves labels from which RotateSecret starts a new rotation. A plan that would leave
    /// AWSPENDING on a version without AWSCURRENT also takes it off there. On the version AWSCURRENT leaves, that
    /// comes first: Keyturn drops AWSPENDING with the move and moto doesn't (AWS doesn't document it), so removing it
    /// afterwards would fail its compare-and-swap on one of them; before the move it succeeds on both.
    /// </summary>
    private static List<RepairAction> EndUnfinishedRotation(IReadOnlyList<VersionSnapshot> versions, List<RepairAction> plan)
    {
        if (plan.Count == 0
            || RepairSimulation.Apply(Labels(versions), plan, pendingLeavesWithCurrent: false) is not { AbortedAt: null } after
            || RotationState.InProgressVersion(after.Labels) is not { } stuck)
        {
            return plan;
        }

        var remove = new RemoveLabel(StagingLabels.Pending, stuck, "RotateSecret refuses to start while AWSPENDING is on a version without AWSCURRENT (\"A previous rotation isn't complete\")");
        var leaving = plan.FindIndex(a => a is MoveCurrent move && move.FromVersionId == stuck);
        plan.Insert(leaving >= 0 ? leaving : plan.Count, remove);
        return plan;
    }

    private static (LabelState, string, List<RepairAction>) DecideLabels(RotationSnapshot s, List<Finding> findings, bool allowBreakGlass)
    {
        var current = s.Versions.FirstOrDefault(v => v.Has(StagingLabels.Current));
        var pending = s.Versions.FirstOrDefault(v => v.Has(StagingLabels.Pending));
        var previous = s.Versions.FirstOrDefault(v => v.Has(StagingLabels.Previous));
        var pendingElsewhere = pending is not null && !ReferenceEquals(pending, current);

        if (current is null)
        {
            return NoCurrent(s, findings);
        }

        var currentProbe = Probe(s, current);
        if (currentProbe is { Outcome: ProbeOutcome.Unknown } && !pendingElsewhere && DoctorVantage.ProbesBlockedHere(s))
        {
            // Labels at rest and a probe that only failed because the database is out of this host's reach: nothing
            // to repair, and the function's own path is judged by the VPC analysis. Healthy, saying what wasn't checked.
            return (LabelState.Healthy, $"Healthy by its labels: AWSCURRENT (version {current.VersionId}) holds the only rotation label in use; "
                + "its login wasn't checked, because the database is out of reach from where the doctor runs.", []);
        }

        if (currentProbe is null || currentProbe.Outcome == ProbeOutcome.Unknown)
        {
            return Undecidable(findings, "AWSCURRENT", current, currentProbe);
        }

        if (currentProbe.Outcome == ProbeOutcome.Ok)
        {
            if (!pendingElsewhere)
            {
                return (LabelState.Healthy, $"Healthy: AWSCURRENT (version {current.VersionId}) logs in{(pending is null ? "" : "; AWSPENDING on the same version is a valid end state")}.", []);
            }

            if (!pending!.HasValue)
            {
                findings.Add(new Finding("LBL002", Severity.Error, "AWSPENDING is on an empty version: the rotation stopped before or inside createSecret",
                    $"Version {pending.VersionId} holds AWSPENDING and has no value; AWSCURRENT logs in: {currentProbe}.",
                    "Remove AWSPENDING from the empty version (the database was never touched), fix the cause (often the function can't reach the Secrets Manager endpoint), and rotate again."));
                return (LabelState.EmptyPending, "Stuck rotation: AWSPENDING sits on an empty version; the database is untouched.",
                    [new RemoveLabel(StagingLabels.Pending, pending.VersionId, "it has no value, and AWSCURRENT still logs in")]);
            }

            var pendingProbe = Probe(s, pending);
            if (pendingProbe is null || pendingProbe.Outcome == ProbeOutcome.Unknown)
            {
                return Undecidable(findings, "AWSPENDING", pending, pendingProbe);
            }

            if (pendingProbe.Outcome == ProbeOutcome.AuthFail)
            {
                findings.Add(new Finding("LBL001", Severity.Error, "AWSPENDING was never applied to the database (\"A previous rotation isn't complete\")",
                    $"AWSCURRENT (version {current.VersionId}) logs in: {currentProbe}. AWSPENDING (version {pending.VersionId}) doesn't: {pendingProbe}.",
                    "Remove AWSPENDING from the pending version; nobody uses its password. Then fix what stopped setSecret and rotate again."));
                return (LabelState.PendingNotApplied, "Stuck rotation: AWSPENDING was never applied to the database; removing it is safe.",
                    [new RemoveLabel(StagingLabels.Pending, pending.VersionId, "the database rejects its password while AWSCURRENT works")]);
            }

            // Both log in: alternating users whose rotation only needs finishing (D′).
            var alternating = pending.Username is not null && current.Username is not null && pending.Username != current.Username;
            if (alternating && s.PrivilegesEqual == true)
            {
                findings.Add(new Finding("LBL007", Severity.Warning, "The rotation reached the database but was never finished",
                    $"Both AWSCURRENT ({current.Username}, version {current.VersionId}) and AWSPENDING ({pending.Username}, version {pending.VersionId}) log in, and the two users have equal privileges.",
                    "Finish the rotation: move AWSCURRENT to the pending version."));
                return (LabelState.PendingReady, "Unfinished rotation: both users log in with equal privileges; finishing it is safe.",
                [
                    new MoveCurrent(pending.VersionId, current.VersionId, "both users log in and have the same privileges"),
                    new RemoveLabel(StagingLabels.Pending, pending.VersionId, "the rotation is finished"),
                ]);
            }

            findings.Add(new Finding("LBL007", Severity.Warning, "The rotation reached the database but was never finished",
                $"Both AWSCURRENT (version {current.VersionId}) and AWSPENDING (version {pending.VersionId}) log in{(alternating ? "; the users' privileges are " + (s.PrivilegesEqual == false ? "different" : "not compared") : "")}.",
                alternating ? "Make the privileges equal and rotate again, or drop AWSPENDING (the clone just keeps an unused password)." : "Drop AWSPENDING: the current password works."));
            return (LabelState.PendingReady, "Unfinished rotation: AWSPENDING logs in too, but finishing needs equal privileges; dropping AWSPENDING is safe.",
                [new RemoveLabel(StagingLabels.Pending, pending.VersionId, "AWSCURRENT works; the pending user can't take over until privileges match")]);
        }

        // AWSCURRENT is refused by the database.
        if (pendingElsewhere && pending!.HasValue)
        {
            var pendingProbe = Probe(s, pending);
            if (pendingProbe is null || pendingProbe.Outcome == ProbeOutcome.Unknown)
            {
                return Undecidable(findings, "AWSPENDING", pending, pendingProbe);
            }

            if (pendingProbe.Outcome == ProbeOutcome.Ok)
            {
                findings.Add(new Finding("LBL003", Severity.Critical, "The database already has the pending password; the labels never moved",
                    $"AWSCURRENT (version {current.VersionId}) is refused: {currentProbe}. AWSPENDING (version {pending.VersionId}) logs in: {pendingProbe}.",
                    "Roll forward: move AWSCURRENT to the pending version. Do NOT remove AWSPENDING — that would leave the only working password on an unlabelled version and lock everyone out."));
                return (LabelState.DatabaseAhead, "Clients are locked out: only the AWSPENDING password works. Roll forward.",
                [
                    new MoveCurrent(pending.VersionId, current.VersionId, "only its password logs in (the rotation's finishSecret never ran)"),
                    new RemoveLabel(StagingLabels.Pending, pending.VersionId, "the rotation is finished; AWSPENDING stays on no other version"),
                ]);
            }
        }

        if (previous is not null && !ReferenceEquals(previous, current) && previous.HasValue)
        {
            var previousProbe = Probe(s, previous);
            if (previousProbe is null || previousProbe.Outcome == ProbeOutcome.Unknown)
            {
                return Undecidable(findings, "AWSPREVIOUS", previous, previousProbe);
            }

            if (previousProbe.Outcome == ProbeOutcome.Ok)
            {
                findings.Add(new Finding("LBL004", Severity.Critical, "AWSCURRENT points at a password the database never got",
                    $"AWSCURRENT (version {current.VersionId}) is refused: {currentProbe}. AWSPREVIOUS (version {previous.VersionId}) logs in: {previousProbe}.",
                    "Roll back: take AWSPENDING off the broken version if it holds it, move AWSCURRENT to the AWSPREVIOUS version (AWSPREVIOUS goes to the broken one on its own), then rotate again."));
                var plan = new List<RepairAction> { new MoveCurrent(previous.VersionId, current.VersionId, "its password is the one the database accepts") };
                if (pendingElsewhere && !ReferenceEquals(pending, previous))
                {
                    plan.Add(new RemoveLabel(StagingLabels.Pending, pending!.VersionId, "a rotation that never reached the database"));
                }

                return (LabelState.LabelsAhead, "Clients are locked out: AWSCURRENT's password was never applied; AWSPREVIOUS works. Roll back.", plan);
            }
        }

        return Orphans(s, findings, current, currentProbe, allowBreakGlass);
    }

    private static (LabelState, string, List<RepairAction>) Orphans(RotationSnapshot s, List<Finding> findings, VersionSnapshot current, ProbeSummary currentProbe, bool allowBreakGlass)
    {
        var orphans = OrphansNewestFirst(s.Versions).ToList();
        foreach (var orphan in orphans)
        {
            var probe = Probe(s, orphan);
            if (probe is null || probe.Outcome == ProbeOutcome.Unknown)
            {
                return Undecidable(findings, "an older version", orphan, probe);
            }

            if (probe.Outcome == ProbeOutcome.Ok)
            {
                findings.Add(new Finding("LBL008", Severity.Critical, "Only an older, unlabelled version still logs in",
                    $"AWSCURRENT (version {current.VersionId}) is refused: {currentProbe}; the labelled versions fail too. Version {orphan.VersionId} (created {orphan.CreatedDate:u}) logs in: {probe}.",
                    "Move AWSCURRENT to that version, then rotate again."));
                return (LabelState.OrphanWorks, $"Clients are locked out; the orphan scan found a working older version ({orphan.VersionId}).",
                    [new MoveCurrent(orphan.VersionId, current.VersionId, "the orphan scan found that its password works")]);
            }
        }

        var masterOk = s.MasterProbe?.Outcome == ProbeOutcome.Ok;
        findings.Add(new Finding("LBL005", Severity.Critical, "No stored credential logs in",
            $"AWSCURRENT (version {current.VersionId}) is refused: {currentProbe}; every other version with a value is refused too ({orphans.Count} older versions scanned). Master secret: {(s.MasterProbe?.ToString() ?? "none")}.",
            masterOk
                ? "Reset the password through the master secret (doctor --apply --break-glass), or have a DBA set it and store it with put-secret-value."
                : "Someone with database admin rights must set a new password and store it with put-secret-value; then rotate."));
        return allowBreakGlass && masterOk
            ? (LabelState.NothingWorks, "Clients are locked out and no stored password works; break-glass reset through the master secret.",
                [new BreakGlassReset(current.VersionId, "no stored credential logs in, and the master secret does")])
            : (LabelState.NothingWorks, "Clients are locked out and no stored password works. Human action needed.", []);
    }

    private static (LabelState, string, List<RepairAction>) NoCurrent(RotationSnapshot s, List<Finding> findings)
    {
        foreach (var version in s.Versions.Where(v => v.HasValue).OrderByDescending(v => v.CreatedDate))
        {
            var probe = Probe(s, version);
            if (probe?.Outcome == ProbeOutcome.Unknown || probe is null)
            {
                return Undecidable(findings, "a version", version, probe);
            }

            if (probe.Outcome == ProbeOutcome.Ok)
            {
                findings.Add(new Finding("LBL006", Severity.Critical, "No version holds AWSCURRENT",
                    $"Version {version.VersionId} is the newest whose password logs in: {probe}.", "Attach AWSCURRENT to it."));
                return (LabelState.NoCurrent, "Broken secret: no AWSCURRENT. Attach it to the newest working version.", [new MoveCurrent(version.VersionId, null, "newest version that logs in")]);
            }
        }

        findings.Add(new Finding("LBL006", Severity.Critical, "No version holds AWSCURRENT and none logs in",
            $"{s.Versions.Count(v => v.HasValue)} versions with values, all refused.", "Store working credentials with put-secret-value."));
        return (LabelState.NoCurrent, "Broken secret: no AWSCURRENT and no working credentials. Human action needed.", []);
    }

    private static (LabelState, string, List<RepairAction>) Undecidable(List<Finding> findings, string what, VersionSnapshot version, ProbeSummary? probe)
    {
        if (version.UnsupportedEngine is { } engine)
        {
            // ENG001 already says why: there is no probe for this engine, so nothing to fix and run again.
            return (LabelState.Undecidable, $"Undecided: {what} (version {version.VersionId}) is for engine '{engine}', which the doctor can't log in to, so nothing will be changed.", []);
        }

        findings.Add(new Finding("PRB001", Severity.Error, $"Can't tell whether {what} works",
            probe is null
                ? $"Version {version.VersionId} was not probed."
                : $"The login probe of version {version.VersionId} could not decide: {probe}. Only a clear accept or refusal from the database justifies moving a label.",
            "Fix what the probe ran into (network, TLS, database name) and run the doctor again; nothing will be changed until then."));
        return (LabelState.Undecidable, $"Undecided: the probe of {what} was inconclusive, so nothing will be changed.", []);
    }

    private static IEnumerable<Finding> ConfigurationFindings(RotationSnapshot s)
    {
        if (s.RotationEnabled != true)
        {
            var pendingLeft = s.Versions.Any(v => v.Has(StagingLabels.Pending) && !v.Has(StagingLabels.Current));
            yield return new Finding("CFG001", pendingLeft ? Severity.Warning : Severity.Info, "Rotation is not enabled",
                pendingLeft ? "Rotation is off but an AWSPENDING version is left (a cancelled rotation)." : "RotationEnabled is false or absent.",
                "Enable it with rotate-secret --rotation-lambda-arn … --rotation-rules ….");
        }

        if (s.RotationFunction is { } function && s.FunctionAvailable == false)
        {
            yield return s.Platform == RotationPlatform.Aws
                ? new Finding("CFG002", Severity.Error, "The rotation function can't be invoked in Lambda",
                    $"Lambda says of {function}: {s.FunctionUnavailableReason ?? "not found"}. Secrets Manager can't invoke it, so every rotation fails before createSecret.",
                    $"Check it with aws lambda get-function-configuration --function-name {function}; deploy it again, or point the secret at a function that works: "
                    + $"aws secretsmanager rotate-secret --secret-id {s.Name} --rotation-lambda-arn <function ARN>.")
                : new Finding("CFG002", Severity.Error, "The rotation function can't be invoked",
                    $"{function} is not a built-in or registered function (or lacks permission to be invoked).",
                    "Register it (keyturn functions register) or point the secret at an existing function.");
        }

        if (s.RotationEnabled == true && s.NextRotationDate is { } next && next < s.Now)
        {
            yield return new Finding("CFG003", Severity.Warning, "Rotation is overdue",
                $"NextRotationDate {next:u} is in the past (last successful rotation: {(s.LastRotatedDate is { } last ? last.ToString("u", System.Globalization.CultureInfo.InvariantCulture) : "never")}).",
                "Find out why the scheduled rotation failed (logs, probes) and rotate again once fixed.");
        }

        if (ScheduleFinding(s) is { } schedule)
        {
            yield return schedule;
        }

        foreach (var engine in s.Versions.Where(v => v.UnsupportedEngine is not null && v.Stages.Count > 0).GroupBy(v => v.UnsupportedEngine!, StringComparer.OrdinalIgnoreCase))
        {
            yield return new Finding("ENG001", Severity.Warning, $"Engine '{engine.Key}' has no rotator here, so its logins can't be checked",
                $"Version{(engine.Count() > 1 ? "s" : "")} {string.Join(", ", engine.Select(v => $"{v.VersionId} ({string.Join(", ", v.Stages)})"))} say{(engine.Count() > 1 ? "" : "s")} engine '{engine.Key}'. "
                + $"The doctor probes only {(s.SupportedEngines.Count == 0 ? "the engines it has rotators for" : string.Join(", ", s.SupportedEngines))}; it tried no other engine's login instead, and changes no label it can't check.",
                "Check the labels by hand (a login with each labelled version), or, if the engine is misspelt, correct it with put-secret-value. Rotating this engine needs a function of its own (a registered external function, or a Lambda on AWS).");
        }

        foreach (var version in s.Versions.Where(v => v.InvalidJsonReason is not null && v.Stages.Count > 0))
        {
            yield return new Finding("CFG004", Severity.Error, $"Version {version.VersionId} ({string.Join(", ", version.Stages)}) is not a complete database secret",
                version.InvalidJsonReason!, "Write a complete value (engine, host, username, password; masterarn for alternating users).");
        }
    }

    /// <summary>A schedule that can't work or hardly rotates: a password left for over a year is what rotation is meant to prevent.</summary>
    private static Finding? ScheduleFinding(RotationSnapshot s)
    {
        if (s.RotationEnabled != true)
        {
            return null;
        }

        if (s.Rules is null || (s.Rules.AutomaticallyAfterDays is null && s.Rules.ScheduleExpression is null))
        {
            return new Finding("CFG006", Severity.Warning, "Rotation is enabled without a schedule",
                "DescribeSecret shows no RotationRules: the secret rotates only when someone calls RotateSecret.",
                "Set a schedule: rotate-secret --rotation-rules AutomaticallyAfterDays=30 (or ScheduleExpression=\"rate(30 days)\").");
        }

        RotationSchedule schedule;
        try
        {
            schedule = RotationRulesParser.Parse(s.Rules);
            RotationScheduleCalculator.NextWindow(schedule, s.Now);
        }
        catch (Exception e) when (e is RotationRulesException or InvalidOperationException)
        {
            return new Finding("CFG006", Severity.Error, "The rotation schedule can't open a rotation window",
                $"RotationRules {Describe(s.Rules)}: {e.Message}", "Set a valid schedule with rotate-secret --rotation-rules ….");
        }

        var days = RotationScheduleCalculator.DerivedAutomaticallyAfterDays(schedule);
        return days > MaxSaneIntervalDays
            ? new Finding("CFG007", Severity.Warning, "Rotation runs less than once a year",
                $"RotationRules {Describe(s.Rules)}: up to {days} days between rotations.",
                $"Rotate at least every {MaxSaneIntervalDays} days; 30 to 90 is usual for database credentials.")
            : null;
    }

    private static string Describe(RotationRules rules) =>
        string.Join(", ", new[]
        {
            rules.AutomaticallyAfterDays is { } d ? $"AutomaticallyAfterDays={d}" : null,
            rules.ScheduleExpression is { } e ? $"ScheduleExpression={e}" : null,
            rules.Duration is { } w ? $"Duration={w}" : null,
        }.OfType<string>());

    private static IEnumerable<VersionSnapshot> OrphansNewestFirst(IReadOnlyList<VersionSnapshot> versions) =>
        versions.Where(v => v.HasValue && !v.Has(StagingLabels.Current) && !v.Has(StagingLabels.Pending) && !v.Has(StagingLabels.Previous))
            .OrderByDescending(v => v.CreatedDate);

    private static ProbeSummary? Probe(RotationSnapshot s, VersionSnapshot version) =>
        s.Probes.TryGetValue(version.VersionId, out var probe) ? probe : null;
}
