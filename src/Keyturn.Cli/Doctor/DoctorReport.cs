using System.Text.Json;
using Keyturn.Domain.Doctor;

namespace Keyturn.Cli.Doctor;

/// <summary>Renders a diagnosis for people (verdict first, colours on a terminal) or as JSON for machines.</summary>
internal static class DoctorReport
{
    private static bool Colour => !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    /// <param name="header">The target lines that open the report (null only for the demo, which names its own throwaway Keyturn).</param>
    public static void Write(TextWriter output, RotationSnapshot snapshot, Diagnosis diagnosis, IReadOnlyList<RepairExecutor.StepResult>? applied, bool apply, ReportHeader? header = null)
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
            output.WriteLine($"      fix:      {finding.Fix}");
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

        output.WriteLine(Paint(apply ? "Repair" : "Repair plan (dry run: add --apply to carry it out)", "1"));
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

    public static object ToJson(RotationSnapshot snapshot, Diagnosis diagnosis, IReadOnlyList<RepairExecutor.StepResult>? applied, ReportHeader? header = null) => new Dictionary<string, object?>
    {
        ["target"] = header?.WithAccountFrom(snapshot.SecretArn),
        ["secret"] = snapshot.Name,
        ["arn"] = snapshot.SecretArn,
        ["healthy"] = diagnosis.Healthy,
        ["state"] = diagnosis.State.ToString(),
        ["verdict"] = diagnosis.Verdict,
        ["versions"] = snapshot.Versions.Select(v => new Dictionary<string, object?>
        {
            ["versionId"] = v.VersionId,
            ["stages"] = v.Stages,
            ["createdDate"] = v.CreatedDate.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["hasValue"] = v.HasValue,
            ["username"] = v.Username,
            ["probe"] = snapshot.Probes.TryGetValue(v.VersionId, out var p)
                ? new Dictionary<string, object?> { ["outcome"] = p.Outcome switch { ProbeOutcome.Ok => "ok", ProbeOutcome.AuthFail => "auth-fail", _ => "unknown" }, ["reason"] = p.Reason, ["driverCode"] = p.DriverCode, ["elapsedMs"] = Math.Round(p.Elapsed.TotalMilliseconds, 1) }
                : null,
        }).ToList(),
        ["findings"] = diagnosis.Findings.Select(f => new Dictionary<string, object?> { ["code"] = f.Code, ["severity"] = f.Severity.ToString().ToLowerInvariant(), ["title"] = f.Title, ["evidence"] = f.Evidence, ["fix"] = f.Fix }).ToList(),
        ["plan"] = diagnosis.Plan.Select((a, i) => new Dictionary<string, object?>
        {
            ["action"] = a.GetType().Name,
            ["description"] = a.Description,
            ["awsCli"] = a.AwsCliCommand(snapshot.Name),
            ["applied"] = applied is not null && i < applied.Count ? applied[i].Succeeded : null,
            ["result"] = applied is not null && i < applied.Count ? applied[i].Detail : null,
        }).ToList(),
    };

    public static string Serialize(object value) => JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = true });

    private static string Paint(string text, string code) => Colour ? $"\u001b[{code}m{text}\u001b[0m" : text;
}
