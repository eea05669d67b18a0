namespace Keyturn.IntegrationTests.Cluster;

public enum OperationKind
{
    /// <summary>PutSecretValue with a ClientRequestToken (the new version id); AWSCURRENT moves to it.</summary>
    Put,

    /// <summary>UpdateSecretVersionStage: moves <see cref="Operation.Label"/> from <see cref="Operation.FromVersion"/> to <see cref="Operation.VersionId"/>.</summary>
    Move,

    /// <summary>GetSecretValue of AWSCURRENT: the version read and its value's hash.</summary>
    Get,

    /// <summary>ListSecretVersionIds with deprecated versions: every version and its labels at one instant.</summary>
    List,

    /// <summary>RotateSecret; an acknowledged one returns the rotation's version id.</summary>
    Rotate,

    /// <summary>After the run: whether the password of <see cref="Operation.VersionId"/> logs in to the database.</summary>
    Login,
}

/// <summary>
/// How a call ended: <see cref="Ok"/> (acknowledged), <see cref="Failed"/> (a definite refusal: nothing was applied) or
/// <see cref="Unknown"/> (a timeout, a reset connection, a 5xx: it may or may not have been applied).
/// </summary>
public enum Outcome
{
    Ok,
    Failed,
    Unknown,
}

/// <summary>
/// One call of the history. Values are kept as hashes only, so a failing check never prints a secret.
/// <paramref name="Stages"/> is a <see cref="OperationKind.List"/>'s view (version id to labels).
/// </summary>
public sealed record Operation(
    int Client,
    string Secret,
    OperationKind Kind,
    long Invoked,
    long Completed,
    Outcome Outcome,
    string? VersionId = null,
    string? ValueHash = null,
    string? Label = null,
    string? FromVersion = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? Stages = null);

public sealed record Violation(string Property, string Detail)
{
    public override string ToString() => $"{Property}: {Detail}";
}

/// <summary>
/// Checks a recorded history of concurrent calls against a cluster; pure, so its own tests feed it histories that break
/// each property. <see cref="OperationKind.List"/>s by client <see cref="FinalClient"/> are the reads made after the
/// run, with every node up.
/// </summary>
public static class HistoryChecker
{
    public const int FinalClient = -1;

    public const string LostWrite = "no acknowledged write lost";
    public const string SingleHolder = "exactly one holder per label";
    public const string MonotonicReads = "reads never go back in time for a client";
    public const string ValueIntegrity = "a version's value never changes";
    public const string RotationLogin = "AWSCURRENT's password logs in";
    public const string RotationOnce = "no rotation applied twice";

    public static IReadOnlyList<Violation> Check(IReadOnlyList<Operation> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        return [.. LostWrites(history), .. SingleHolders(history), .. Monotonic(history), .. Integrity(history), .. Rotations(history)];
    }

    /// <summary>Every acknowledged Put's version is still there after the run, and a read of it gives what was written.</summary>
    private static IEnumerable<Violation> LostWrites(IReadOnlyList<Operation> history)
    {
        var finals = history.Where(o => o is { Client: FinalClient, Kind: OperationKind.List, Outcome: Outcome.Ok }).GroupBy(o => o.Secret).ToDictionary(g => g.Key, g => g.Last());
        foreach (var put in history.Where(o => o is { Kind: OperationKind.Put, Outcome: Outcome.Ok }))
        {
            if (!finals.TryGetValue(put.Secret, out var final))
            {
                yield return new Violation(LostWrite, $"{put.Secret} was never read after the run, so put {put.VersionId} cannot be checked");
            }
            else if (!final.Stages!.ContainsKey(put.VersionId!))
            {
                yield return new Violation(LostWrite, $"{put.Secret}: acknowledged put {put.VersionId} (client {put.Client}) is missing after the run");
            }
        }

        foreach (var get in history.Where(o => o is { Kind: OperationKind.Get, Outcome: Outcome.Ok }))
        {
            var written = history.FirstOrDefault(p => p.Kind == OperationKind.Put && p.Outcome != Outcome.Failed && p.Secret == get.Secret && p.VersionId == get.VersionId);
            if (written is not null && written.ValueHash != get.ValueHash)
            {
                yield return new Violation(LostWrite, $"{get.Secret}: client {get.Client} read version {get.VersionId} with another value than was put");
            }
        }
    }

    /// <summary>At every read, each label is on at most one version, and AWSCURRENT on exactly one.</summary>
    private static IEnumerable<Violation> SingleHolders(IReadOnlyList<Operation> history)
    {
        foreach (var list in history.Where(o => o is { Kind: OperationKind.List, Outcome: Outcome.Ok }))
        {
            var holders = list.Stages!.SelectMany(v => v.Value.Select(label => (label, version: v.Key))).GroupBy(p => p.label, StringComparer.Ordinal);
            foreach (var label in holders.Where(g => g.Count() > 1))
            {
                yield return new Violation(SingleHolder, $"{list.Secret}: client {list.Client} saw {label.Key} on {string.Join(", ", label.Select(p => p.version))}");
            }

            if (!holders.Any(g => g.Key == "AWSCURRENT"))
            {
                yield return new Violation(SingleHolder, $"{list.Secret}: client {list.Client} saw no AWSCURRENT");
            }
        }
    }

    /// <summary>
    /// Per client and secret, in the client's own order: once the client has seen a version (read it, or had its put
    /// acknowledged), every later listing of that secret includes it. Versions are never deleted during the run.
    /// </summary>
    private static IEnumerable<Violation> Monotonic(IReadOnlyList<Operation> history)
    {
        foreach (var calls in history.Where(o => o.Client != FinalClient).GroupBy(o => (o.Client, o.Secret)))
        {
            var known = new HashSet<string>(StringComparer.Ordinal);
            foreach (var call in calls.OrderBy(o => o.Invoked))
            {
                if (call.Outcome != Outcome.Ok)
                {
                    continue;
                }

                if (call.Kind == OperationKind.List)
                {
                    var lost = known.Where(v => !call.Stages!.ContainsKey(v)).ToList();
                    if (lost.Count > 0)
                    {
                        yield return new Violation(MonotonicReads, $"{call.Secret}: client {call.Client} no longer sees {string.Join(", ", lost)}, which it had seen before");
                    }

                    known.UnionWith(call.Stages!.Keys);
                }
                else if (call.VersionId is { } version && call.Kind is OperationKind.Put or OperationKind.Get or OperationKind.Rotate)
                {
                    known.Add(version);
                }
            }
        }
    }

    /// <summary>A version id always reads the same value, for every client (a rotation that set two passwords under one version breaks this).</summary>
    private static IEnumerable<Violation> Integrity(IReadOnlyList<Operation> history) =>
        history.Where(o => o is { Kind: OperationKind.Get, Outcome: Outcome.Ok, ValueHash: not null })
            .GroupBy(o => (o.Secret, o.VersionId))
            .Where(g => g.Select(o => o.ValueHash).Distinct(StringComparer.Ordinal).Count() > 1)
            .Select(g => new Violation(ValueIntegrity, $"{g.Key.Secret}: version {g.Key.VersionId} read with {g.Select(o => o.ValueHash).Distinct(StringComparer.Ordinal).Count()} different values"));

    /// <summary>
    /// For every rotated secret: its final AWSCURRENT's password logs in; and no more versions held AWSCURRENT than the
    /// rotations asked for (acknowledged or unknown) plus the first, so no rotation made two.
    /// </summary>
    private static IEnumerable<Violation> Rotations(IReadOnlyList<Operation> history)
    {
        foreach (var rotated in history.Where(o => o.Kind == OperationKind.Rotate).GroupBy(o => o.Secret))
        {
            var final = history.LastOrDefault(o => o is { Client: FinalClient, Kind: OperationKind.List, Outcome: Outcome.Ok } && o.Secret == rotated.Key);
            var current = final?.Stages!.FirstOrDefault(v => v.Value.Contains("AWSCURRENT")).Key;
            if (current is null)
            {
                yield return new Violation(RotationLogin, $"{rotated.Key} was never read after the run");
                continue;
            }

            var login = history.LastOrDefault(o => o.Kind == OperationKind.Login && o.Secret == rotated.Key && o.VersionId == current);
            if (login?.Outcome != Outcome.Ok)
            {
                yield return new Violation(RotationLogin, $"{rotated.Key}: the password of AWSCURRENT {current} {(login is null ? "was never tried" : "does not log in")}");
            }

            var asked = rotated.Count(o => o.Outcome != Outcome.Failed);
            var made = final!.Stages!.Count;
            if (made > asked + 1)
            {
                yield return new Violation(RotationOnce, $"{rotated.Key}: {made} versions after {asked} rotation calls (at most {asked + 1})");
            }

            var returned = rotated.Where(o => o is { Outcome: Outcome.Ok, VersionId: not null }).GroupBy(o => o.VersionId).Where(g => g.Count() > 1);
            foreach (var twice in returned)
            {
                yield return new Violation(RotationOnce, $"{rotated.Key}: {twice.Count()} acknowledged rotations returned the same version {twice.Key}");
            }
        }
    }
}
