using System.Text.Json;
using System.Text.Json.Serialization;
using Keyturn.Domain.Doctor;

namespace Keyturn.Doctor;

/// <summary>Renders a diagnosis for people (verdict first, colours on a terminal) or as JSON for machines.</summary>
internal static class DoctorReport
{
    private static bool Colour => !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    /// <summary>
    /// The report, opened by the target lines (<paramref name="header"/>; null for the diagnosis after a repair, whose run's
    /// report they already opened); its plan is headed as a dry run, as the plan about to be applied (<paramref name="apply"/>), or with each step's
    /// outcome (<paramref name="applied"/>); <paramref name="planHeader"/> overrides the heading (the plan left after an apply).
    /// </summary>
    public static void Write(
        TextWriter output, RotationSnapshot snapshot, Diagnosis diagnosis, IReadOnlyList<RepairExecutor.StepResult>? applied, bool apply,
        ReportHeader? header = null, string? planHeader = null)
    {
        header?.WithAccountFrom(snapshot.SecretArn).Write(output);
        var verdictColour = diagnosis.Healthy ? "32" : diagnosis.Findings.Any(f => f.Severity == Severity.Critical) ? "31" : "33";
        output.WriteLine(Paint($"{(diagnosis.Healthy ? "✔" : "✘")} {snapshot.Name}: {diagnosis.Verdict}", verdictColour + ";1"));
        output.WriteLine($"  {snapshot.SecretArn}");
        output.WriteLine($"  state {diagnosis.State}; rotation {(snapshot.RotationEnabled == true ? "enabled" : "disabled")}{(snapshot.RotationFunction is null ? "" : $" with {snapshot.RotationFunction}")}");
        output.WriteLine();
        output.WriteLine(Paint("Versions (newest first) and login probes", "1"));
        foreach (var version in snapshot.Versions.OrderByDescending(v => v.CreatedDate))
        {
            var probe = snapshot.Probes.TryGetValue(version.VersionId, out var p) ? p.ToString() : version.HasValue ? "not probed" : "no value";
            var labels = version.Stages.Count == 0 ? "(deprecated)" : string.Join(",", version.Stages);
            output.WriteLine($"  {version.VersionId,-38} {labels,-26} {version.CreatedDate.UtcDateTime:yyyy-MM-dd HH:mm:ss}  {version.Username ?? "-",-20} {probe}");
        }

        if (snapshot.MasterProbe is { } master)
        {
            output.WriteLine($"  master secret login: {master}");
        }

        output.WriteLine();
        output.WriteLine(Paint("Findings", "1"));
        foreach (var finding in diagnosis.Findings)
        {
            var colour = finding.Severity switch { Severity.Critical => "31;1", Severity.Error => "31", Severity.Warning => "33", _ => "36" };
            output.WriteLine($"  {Paint($"[{finding.Severity.ToString().ToUpperInvariant()}]", colour)} {finding.Code} {finding.Title}");
            output.WriteLine($"      evidence: {finding.Evidence}");
            // A multi-line fix (an IAM policy) stays under its label.
            output.WriteLine($"      fix:      {finding.Fix.ReplaceLineEndings(Environment.NewLine + "                ")}");
        }

        if (diagnosis.Findings.Count == 0)
        {
            output.WriteLine("  none");
        }

        output.WriteLine();
        if (diagnosis.Plan.Count == 0)
        {
            output.WriteLine(Paint("Repair plan: nothing to change.", "1"));
            return;
        }

        output.WriteLine(Paint(planHeader ?? (applied is not null ? "Repair (applied)" : apply ? "Repair plan (applying it: --apply)" : "Repair plan (dry run: add --apply to carry it out)"), "1"));
        for (var i = 0; i < diagnosis.Plan.Count; i++)
        {
            var action = diagnosis.Plan[i];
            output.WriteLine($"  {i + 1}. {action.Description}");
            output.WriteLine(Paint($"     $ {action.AwsCliCommand(snapshot.Name)}", "2"));
            if (applied is not null && i < applied.Count)
            {
                output.WriteLine(applied[i].Succeeded ? Paint($"     ✔ {applied[i].Detail}", "32") : Paint($"     ✘ {applied[i].Detail}", "31"));
            }
        }
    }

    /// <summary>
    /// A run's report for people, all of it or what the hooks haven't printed yet: a repaired secret's before (printed before
    /// confirming, <see cref="WriteBefore"/>) and after (<see cref="WriteRepair"/>) are already out.
    /// </summary>
    public static void Write(TextWriter output, DoctorRunReport report)
    {
        switch (report)
        {
            case SecretRun { Repair: null } run:
                WriteBefore(output, run);
                break;
            case SurveyRun survey:
                WriteSurvey(output, survey);
                break;
        }
    }

    /// <summary>One secret's diagnosis, its plan headed as a dry run or as the plan about to be applied.</summary>
    public static void WriteBefore(TextWriter output, SecretRun run) => Write(output, run.Snapshot, run.Diagnosis, null, run.Apply, run.Header);

    /// <summary>Each step of the repair with its outcome, the journal, and the diagnosis after.</summary>
    public static void WriteRepair(TextWriter output, SecretRun run)
    {
        var repair = run.Repair!;
        output.WriteLine();
        output.WriteLine("Applying the repair:");
        for (var i = 0; i < repair.Applied.Count; i++)
        {
            output.WriteLine($"  {i + 1}. {repair.Applied[i].Action.Description}");
            output.WriteLine(repair.Applied[i].Succeeded ? $"     ✔ {repair.Applied[i].Detail}" : $"     ✘ {repair.Applied[i].Detail}");
        }

        output.WriteLine($"Repair journal: {repair.Journal}");
        output.WriteLine();
        output.WriteLine("After the repair:");
        Write(output, repair.AfterSnapshot!, repair.AfterDiagnosis!, null, apply: false,
            planHeader: "Repair plan left after this run (run the doctor with --apply again once its cause is fixed)");
    }

    private static void WriteSurvey(TextWriter output, SurveyRun survey)
    {
        survey.Header.Write(output);
        output.WriteLine($"{"SECRET",-40} {"STATE",-18} VERDICT");
        foreach (var entry in survey.Secrets.OrderBy(r => r.Healthy ?? false).ThenBy(r => r.Secret, StringComparer.Ordinal))
        {
            // The state is the labels'; a network or log error leaves them "Healthy", so the row names what needs attention.
            var needs = entry.Codes is { Count: > 0 } codes ? $" Needs attention: {string.Join(", ", codes.Distinct(StringComparer.Ordinal))}." : "";
            output.WriteLine($"{entry.Secret,-40} {entry.State ?? "error",-18} {entry.Verdict ?? entry.Error}{needs}");
        }

        var healthy = survey.Secrets.Count(r => r.Healthy == true);
        output.WriteLine($"{survey.Secrets.Count} secrets with rotation enabled: {healthy} healthy, {survey.Secrets.Count - healthy} need attention.");
        if (survey.MissingPermissions is { } missing)
        {
            output.WriteLine();
            output.WriteLine($"The doctor's credentials may not make {missing.Actions.Count} read{(missing.Actions.Count == 1 ? "" : "s")} ({string.Join(", ", missing.Actions)}); " +
                "what they would show wasn't checked for the secrets above. Grant its identity this one policy (every refusal of this run), then run it again:");
            output.WriteLine(missing.Policy.ToString());
        }
    }

    /// <summary>
    /// A run's report as <c>--json</c> prints it: a secret's diagnosis, <c>--apply</c>'s before, actions and after, or <c>--all</c>'s list;
    /// null when a repair was declined (nothing changed, nothing to report but that).
    /// </summary>
    public static object? ToJson(DoctorRunReport report) => report switch
    {
        SecretRun { Repair: null } run => ToJson(run.Snapshot, run.Diagnosis, null, run.Header),
        SecretRun { Repair.Confirmed: true } run => ToJson(run.Snapshot, run.Diagnosis, run.Repair.Applied, run.Repair.AfterSnapshot, run.Repair.AfterDiagnosis, run.Repair.Journal, run.Header),
        SurveyRun survey => new SurveyReport(survey.Header, survey.Secrets, survey.MissingPermissions),
        _ => null,
    };

    public static SecretReport ToJson(RotationSnapshot snapshot, Diagnosis diagnosis, IReadOnlyList<RepairExecutor.StepResult>? applied, ReportHeader? header = null) => new(
        header?.WithAccountFrom(snapshot.SecretArn),
        snapshot.Name,
        snapshot.SecretArn,
        diagnosis.Healthy,
        diagnosis.State.ToString(),
        diagnosis.Verdict,
        snapshot.Versions.Select(v => new VersionReport(
            v.VersionId,
            v.Stages,
            v.CreatedDate.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            v.HasValue,
            v.Username,
            snapshot.Probes.TryGetValue(v.VersionId, out var p)
                ? new ProbeReport(p.Outcome switch { ProbeOutcome.Ok => "ok", ProbeOutcome.AuthFail => "auth-fail", _ => "unknown" }, p.Reason, p.DriverCode, Math.Round(p.Elapsed.TotalMilliseconds, 1))
                : null)).ToList(),
        diagnosis.Findings.Select(f => new FindingReport(f.Code, f.Severity.ToString().ToLowerInvariant(), f.Title, f.Evidence, f.Fix)).ToList(),
        diagnosis.Plan.Select((a, i) => new PlanStepReport(
            a.GetType().Name,
            a.Description,
            a.AwsCliCommand(snapshot.Name),
            applied is not null && i < applied.Count ? applied[i].Succeeded : null,
            applied is not null && i < applied.Count ? applied[i].Detail : null)).ToList());

    /// <summary><c>--apply</c>'s report: the diagnosis before, each action with its outcome, the diagnosis after, and where the journal is.</summary>
    public static ApplyReport ToJson(RotationSnapshot before, Diagnosis beforeDiagnosis, IReadOnlyList<RepairExecutor.StepResult> applied, RotationSnapshot? after, Diagnosis? afterDiagnosis, string journal,
        ReportHeader? header = null) => new(
        header?.WithAccountFrom(before.SecretArn),
        ToJson(before, beforeDiagnosis, null),
        applied.Select(a => new ActionReport(a.Action.GetType().Name, a.Action.Description, a.Action.AwsCliCommand(before.Name), a.Succeeded, a.Detail)).ToList(),
        after is null || afterDiagnosis is null ? null : ToJson(after, afterDiagnosis, null),
        journal);

    public static string Serialize(object value) => JsonSerializer.Serialize(value, value.GetType(), JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static string Paint(string text, string code) => Colour ? $"\u001b[{code}m{text}\u001b[0m" : text;
}

/// <summary>One secret's diagnosis as <c>--json</c> prints it.</summary>
internal sealed record SecretReport(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ReportHeader? Target, string Secret, string Arn, bool Healthy, string State, string Verdict, IReadOnlyList<VersionReport> Versions, IReadOnlyList<FindingReport> Findings, IReadOnlyList<PlanStepReport> Plan);

/// <summary>A version, its labels and its login probe (null: not probed).</summary>
internal sealed record VersionReport(string VersionId, IReadOnlyList<string> Stages, string CreatedDate, bool HasValue, string? Username, ProbeReport? Probe);

/// <summary>A probe's outcome: "ok", "auth-fail" or "unknown".</summary>
internal sealed record ProbeReport(string Outcome, string Reason, string? DriverCode, double ElapsedMs);

internal sealed record FindingReport(string Code, string Severity, string Title, string Evidence, string Fix);

/// <summary>A step of the plan; <paramref name="Applied"/> and <paramref name="Result"/> are null until it is carried out.</summary>
internal sealed record PlanStepReport(string Action, string Description, string AwsCli, bool? Applied, string? Result);

/// <summary>An action <c>--apply</c> carried out (or refused to: a changed label aborts it), with its outcome.</summary>
internal sealed record ActionReport(string Action, string Description, string AwsCli, bool Succeeded, string Detail);

/// <summary><c>--apply --json</c>: before, the actions and after (null when the secret couldn't be read again), and the journal's path.</summary>
internal sealed record ApplyReport([property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ReportHeader? Target, SecretReport Before, IReadOnlyList<ActionReport> Actions, SecretReport? After, string Journal);

/// <summary>
/// What one doctor run found and did, the one source of its text, its <c>--json</c> and its exit code. Exit codes:
/// 0 healthy, 1 needs attention (problems found, a repair declined or left unfinished), 2 could not diagnose.
/// </summary>
internal abstract record DoctorRunReport(ReportHeader Header)
{
    public const int Healthy = 0;
    public const int NeedsAttention = 1;
    public const int CouldNotDiagnose = 2;

    public abstract int ExitCode { get; }
}

/// <summary>One secret: its diagnosis before anything changed and, with <c>--apply</c> and a plan, the repair.</summary>
/// <param name="Apply">--apply was given (the plan is headed as being applied).</param>
internal sealed record SecretRun(ReportHeader Header, RotationSnapshot Snapshot, Diagnosis Diagnosis, bool Apply, RepairRun? Repair) : DoctorRunReport(Header)
{
    /// <summary>
    /// Without a repair, the diagnosis decides. After one: every step succeeded, the labels are healthy and nothing above Info is
    /// left, except the log's findings: those describe invocations from before the repair, which a plain run made later
    /// reports until the next rotation succeeds.
    /// </summary>
    public override int ExitCode => Repair switch
    {
        null => Diagnosis.Healthy ? Healthy : NeedsAttention,
        { Confirmed: true, AfterDiagnosis: { } after } when Repair.Applied.All(a => a.Succeeded) && after.State == LabelState.Healthy
            && after.Findings.All(f => f.Severity <= Severity.Info || f.Code.StartsWith("LOG", StringComparison.Ordinal)) => Healthy,
        _ => NeedsAttention,
    };
}

/// <summary>A repair: declined (<paramref name="Confirmed"/> false, nothing changed), or each step's outcome and the diagnosis after.</summary>
internal sealed record RepairRun(bool Confirmed, IReadOnlyList<RepairExecutor.StepResult> Applied, RotationSnapshot? AfterSnapshot, Diagnosis? AfterDiagnosis, string Journal);

/// <summary><c>--all</c>: every secret with rotation enabled.</summary>
internal sealed record SurveyRun(ReportHeader Header, IReadOnlyList<SurveyEntry> Secrets) : DoctorRunReport(Header)
{
    /// <summary>The reads refused for any of the secrets, as one policy; null when none was.</summary>
    public MissingPermissions? MissingPermissions { get; init; }

    /// <summary>A secret that couldn't be read makes the survey incomplete; otherwise any unhealthy secret needs attention.</summary>
    public override int ExitCode => Secrets.Any(r => r.Error is not null) ? CouldNotDiagnose : Secrets.All(r => r.Healthy == true) ? Healthy : NeedsAttention;
}

/// <summary><c>--all --json</c>: the target and each secret's entry.</summary>
internal sealed record SurveyReport(
    ReportHeader Target, IReadOnlyList<SurveyEntry> Secrets, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] MissingPermissions? MissingPermissions);

/// <summary>
/// The read-only actions the doctor's identity was refused across a run (every secret of --all), and one IAM policy granting
/// exactly those (<see cref="AwsReadFailures.Policy"/>), so a survey of many secrets names every missing permission once.
/// </summary>
internal sealed record MissingPermissions(IReadOnlyList<string> Actions, JsonElement Policy)
{
    public static MissingPermissions? Of(IEnumerable<ReadFailure> failures)
    {
        var refused = failures.Where(f => f.Cause == ReadFailureCause.MissingPermission).ToList();
        if (refused.Count == 0)
        {
            return null;
        }

        using var policy = JsonDocument.Parse(AwsReadFailures.Policy(refused));
        return new(refused.Select(f => f.Action).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), policy.RootElement.Clone());
    }
}

/// <summary>A secret in <c>--all</c>'s list: its diagnosis in short (the codes above Info), or why it couldn't be diagnosed.</summary>
internal sealed record SurveyEntry(string Secret, string? State, bool? Healthy, string? Verdict, string? Error, IReadOnlyList<string>? Codes);
