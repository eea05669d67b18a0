using System.Text.RegularExpressions;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// Which invocations of a rotation function's log speak about one secret's current trouble. A function
/// usually rotates many secrets, and its log keeps failures that a later rotation already put right;
/// neither may colour this secret's diagnosis. Pure: no I/O and no clock.
/// </summary>
public static partial class LogScope
{
    private const string SecretArnMarker = ":secret:";

    /// <summary>
    /// The invocations that concern the secret: those naming it (by its ARN, or by name in an ARN whose
    /// account was blanked out in a pasted log), and those naming no secret at all, such as a timeout
    /// before the function wrote its first line or a paste with placeholders for ARNs. Invocations naming
    /// only other secrets are dropped.
    /// </summary>
    public static IReadOnlyList<LogInvocation> ForSecret(IReadOnlyList<LogInvocation> invocations, string secretArn, string secretName)
    {
        ArgumentNullException.ThrowIfNull(invocations);
        var byName = SecretArnMarker + secretName + "-";
        return invocations.Where(invocation =>
        {
            // The master secret an alternating-users function reads (or was denied) is not the secret it rotates.
            // An ARN whose name is a placeholder ("…:secret:<secret-name>") names no secret.
            var named = invocation.Lines.Select(l => MasterMention().Replace(l, "")).Where(l => NamedSecret().IsMatch(l)).ToList();
            return named.Count == 0 || named.Any(l => l.Contains(secretArn, StringComparison.Ordinal) || l.Contains(byName, StringComparison.Ordinal));
        }).ToList();
    }

    /// <summary>
    /// What came after the last successful finishSecret: a rotation that completed settled every failure
    /// before it, so only later invocations describe the secret as it is now.
    /// </summary>
    public static IReadOnlyList<LogInvocation> SinceLastSuccess(IReadOnlyList<LogInvocation> invocations)
    {
        ArgumentNullException.ThrowIfNull(invocations);
        for (var i = invocations.Count - 1; i >= 0; i--)
        {
            if (invocations[i] is { Succeeded: true, Step: "finishSecret" })
            {
                return invocations.Skip(i + 1).ToList();
            }
        }

        return invocations;
    }

    /// <summary>Parse, keep what concerns the secret now, classify and summarize; when nothing matched, say what was read.</summary>
    public static IReadOnlyList<Finding> Analyze(IEnumerable<string> events, string secretArn, string secretName)
    {
        var reading = LogAnalyzer.Read(events);
        var forSecret = ForSecret(reading.Invocations, secretArn, secretName);
        var current = SinceLastSuccess(forSecret);
        var findings = LogAnalyzer.ToFindings(LogAnalyzer.Classify(current));
        return findings.Count > 0 ? findings : [LogAnalyzer.WhatWasRead(reading, forSecret, current)];
    }

    [GeneratedRegex(@":secret:[^\s<>]", RegexOptions.CultureInvariant)]
    private static partial Regex NamedSecret();

    // "… credentials in master secret arn:…", "… for Master Secret arn:…" (AWS's alternating-users samples).
    [GeneratedRegex(@"[Mm]aster [Ss]ecret\s+arn:\S+", RegexOptions.CultureInvariant)]
    private static partial Regex MasterMention();
}
