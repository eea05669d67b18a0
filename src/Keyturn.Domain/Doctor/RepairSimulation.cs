using Keyturn.Domain.Secrets;

namespace Keyturn.Domain.Doctor;

/// <summary>
/// What a repair plan does to the labels, call by call, with the same compare-and-swap checks the repair
/// executor makes before each call. Pure: the doctor plans with it, and the tests hold every plan to it.
/// </summary>
public static class RepairSimulation
{
    /// <summary>The labels after the plan, or the first step whose check would abort it.</summary>
    public sealed record Outcome(IReadOnlyDictionary<string, IReadOnlyList<string>> Labels, RepairAction? AbortedAt)
    {
        /// <summary>The plan ran to its end and RotateSecret's label check accepts a new rotation.</summary>
        public bool RotationCanStart => AbortedAt is null && RotationState.AcceptsRotation(Labels);
    }

    /// <summary>The version id a break-glass reset's new version stands for in the simulated labels.</summary>
    public const string NewVersion = "(new version)";

    /// <param name="labels">Version id → labels, as diagnosed.</param>
    /// <param name="pendingLeavesWithCurrent">
    /// Whether the server takes AWSPENDING off the version AWSCURRENT is moved away from. Keyturn does (as AWS does
    /// for value writes); whether AWS does it for UpdateSecretVersionStage is not documented, and moto doesn't. A
    /// plan must reach the same end either way, so the doctor checks both.
    /// </param>
    public static Outcome Apply(IReadOnlyDictionary<string, IReadOnlyList<string>> labels, IReadOnlyList<RepairAction> plan, bool pendingLeavesWithCurrent)
    {
        var state = labels.ToDictionary(l => l.Key, l => new List<string>(l.Value), StringComparer.Ordinal);
        string? Holder(string label) => state.FirstOrDefault(v => v.Value.Contains(label, StringComparer.Ordinal)).Key;

        void MoveCurrent(string to, string? from)
        {
            if (from is not null && from != to)
            {
                state[from].Remove(StagingLabels.Current);
                if (Holder(StagingLabels.Previous) is { } previous)
                {
                    state[previous].Remove(StagingLabels.Previous);
                }

                state[from].Add(StagingLabels.Previous);
                if (pendingLeavesWithCurrent)
                {
                    state[from].Remove(StagingLabels.Pending);
                }
            }

            if (!state[to].Contains(StagingLabels.Current, StringComparer.Ordinal))
            {
                state[to].Add(StagingLabels.Current);
            }
        }

        foreach (var action in plan)
        {
            switch (action)
            {
                case RemoveLabel remove when Holder(remove.Label) == remove.VersionId:
                    state[remove.VersionId].Remove(remove.Label);
                    break;
                case MoveCurrent move when Holder(StagingLabels.Current) == move.FromVersionId && state.ContainsKey(move.ToVersionId):
                    MoveCurrent(move.ToVersionId, move.FromVersionId);
                    break;
                case BreakGlassReset reset when Holder(StagingLabels.Current) == reset.FromVersionId:
                    // PutSecretValue with AWSPENDING (taking the label from any version), AWSCURRENT moved onto it, AWSPENDING removed.
                    if (Holder(StagingLabels.Pending) is { } pending)
                    {
                        state[pending].Remove(StagingLabels.Pending);
                    }

                    state[NewVersion] = [StagingLabels.Pending];
                    MoveCurrent(NewVersion, reset.FromVersionId);
                    state[NewVersion].Remove(StagingLabels.Pending);
                    break;
                default:
                    return new Outcome(Freeze(state), action);
            }
        }

        return new Outcome(Freeze(state), null);
    }

    private static Dictionary<string, IReadOnlyList<string>> Freeze(Dictionary<string, List<string>> state) =>
        state.ToDictionary(v => v.Key, v => (IReadOnlyList<string>)v.Value.ToList(), StringComparer.Ordinal);
}
