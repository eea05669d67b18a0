using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>What a runner does next, from the stored record and journal only: the same for a fresh start, a crash and a takeover.</summary>
public sealed class RotationDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 3, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, string?, RotationMode, int?, string[], string> Cases => new()
    {
        // name, status (null = no record), mode, next attempt in seconds from now, journal (step:begin|ok|failed), expected
        { "a new rotation runs createSecret first", "Pending", RotationMode.Rotate, null, [], "run createSecret #1" },
        { "after createSecret succeeded, setSecret runs", "Running", RotationMode.Rotate, null, ["createSecret:begin", "createSecret:ok"], "run setSecret #1" },
        { "a step begun without an end (crash, or a runner taken over) runs again as the next attempt", "Running", RotationMode.Rotate, null, ["createSecret:begin", "createSecret:ok", "setSecret:begin"], "run setSecret #2" },
        { "a failed step whose retry is due runs again", "Retrying", RotationMode.Rotate, -1, ["createSecret:begin", "createSecret:failed"], "run createSecret #2" },
        { "a failed step waits for its retry time", "Retrying", RotationMode.Rotate, 60, ["createSecret:begin", "createSecret:failed"], "wait 60" },
        { "every step succeeded: complete", "Running", RotationMode.Rotate, null, ["createSecret:ok", "setSecret:ok", "testSecret:ok", "finishSecret:ok"], "complete" },
        { "a test-only rotation runs testSecret alone", "Pending", RotationMode.TestOnly, null, [], "run testSecret #1" },
        { "a test-only rotation completes after testSecret", "Running", RotationMode.TestOnly, null, ["testSecret:begin", "testSecret:ok"], "complete" },
        { "a cancelled rotation stops", "Abandoned", RotationMode.Rotate, null, ["createSecret:begin"], "stop" },
        { "a failed rotation stops, even with a retry time left on it", "Failed", RotationMode.Rotate, 60, [], "stop" },
        { "a succeeded rotation stops (a repeated launch)", "Succeeded", RotationMode.Rotate, null, [], "stop" },
        { "a rotation that is gone stops", null, RotationMode.Rotate, null, [], "stop" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decide(string name, string? status, RotationMode mode, int? nextInSeconds, string[] journal, string expected)
    {
        var record = status is null ? null : new RotationRecord(
            "arn", "token", "fn", mode, Enum.Parse<RotationStatus>(status), null, 0, null, Now, Now, nextInSeconds is { } s ? Now.AddSeconds(s) : null);
        var entries = journal.Select(e => e.Split(':')).Select(p => new JournalEntry(
            "arn", "token", Enum.Parse<RotationStep>(p[0], ignoreCase: true), 1, p[1] == "begin" ? JournalPhase.Begin : JournalPhase.End,
            p[1] == "begin" ? null : p[1] == "ok", null, Now, "node", 1)).ToList();

        var decided = RotationDecision.Decide(record, entries, Now) switch
        {
            RotationDecision.Run run => $"run {run.Step.WireName()} #{run.Attempt}",
            RotationDecision.WaitUntil wait => $"wait {(wait.At - Now).TotalSeconds}",
            RotationDecision.Complete => "complete",
            RotationDecision.Stop => "stop",
            _ => "?",
        };

        Assert.True(expected == decided, $"{name}: expected '{expected}', got '{decided}'");
    }
}
