namespace Keyturn.IntegrationTests.Cluster;

/// <summary>The chaos test's checker on small histories: a clean one passes, and one that breaks each property is caught.</summary>
public sealed class HistoryCheckerTests
{
    private const int Final = HistoryChecker.FinalClient;

    private static Operation Put(int client, long at, string version, string hash, Outcome outcome = Outcome.Ok) =>
        new(client, "s", OperationKind.Put, at, at + 1, outcome, version, hash);

    private static Operation Get(int client, long at, string version, string hash, string secret = "s") =>
        new(client, secret, OperationKind.Get, at, at + 1, Outcome.Ok, version, hash);

    private static Operation List(int client, long at, string secret, params (string Version, string[] Labels)[] stages) =>
        new(client, secret, OperationKind.List, at, at + 1, Outcome.Ok,
            Stages: stages.ToDictionary(s => s.Version, s => (IReadOnlyList<string>)s.Labels, StringComparer.Ordinal));

    private static Operation Rotate(int client, long at, string? version, Outcome outcome = Outcome.Ok) =>
        new(client, "r", OperationKind.Rotate, at, at + 1, outcome, version);

    private static Operation Login(string version, bool works) =>
        new(Final, "r", OperationKind.Login, 100, 101, works ? Outcome.Ok : Outcome.Failed, version);

    public static TheoryData<string, Operation[], string?> Cases() => new()
    {
        {
            "A clean history of puts, reads and a rotation has no violation",
            [
                Put(1, 1, "v1", "h1"), Get(2, 3, "v1", "h1"), List(2, 4, "s", ("v1", ["AWSCURRENT"])),
                Put(1, 5, "v2", "h2"), List(1, 7, "s", ("v1", ["AWSPREVIOUS"]), ("v2", ["AWSCURRENT"])),
                Rotate(3, 1, "r2"), Rotate(3, 4, null, Outcome.Failed),
                List(Final, 50, "s", ("v1", ["AWSPREVIOUS"]), ("v2", ["AWSCURRENT"])),
                List(Final, 50, "r", ("r1", ["AWSPREVIOUS"]), ("r2", ["AWSCURRENT"])),
                Login("r2", works: true),
            ],
            null
        },
        {
            "An acknowledged put missing after the run is a lost write",
            [Put(1, 1, "v1", "h1"), Put(1, 3, "v2", "h2"), List(Final, 50, "s", ("v1", ["AWSCURRENT"]))],
            HistoryChecker.LostWrite
        },
        {
            "A put whose outcome is unknown may be missing",
            [Put(1, 1, "v1", "h1"), Put(1, 3, "v2", "h2", Outcome.Unknown), List(Final, 50, "s", ("v1", ["AWSCURRENT"]))],
            null
        },
        {
            "A read of a put version with another value is a lost write",
            [Put(1, 1, "v1", "h1"), Get(2, 3, "v1", "other"), List(Final, 50, "s", ("v1", ["AWSCURRENT"]))],
            HistoryChecker.LostWrite
        },
        {
            "A label on two versions at one read breaks the single holder",
            [List(1, 1, "s", ("v1", ["AWSCURRENT"]), ("v2", ["AWSCURRENT"]))],
            HistoryChecker.SingleHolder
        },
        {
            "A read with no AWSCURRENT breaks the single holder",
            [List(1, 1, "s", ("v1", ["AWSPREVIOUS"]))],
            HistoryChecker.SingleHolder
        },
        {
            "A client that no longer sees a version it saw went back in time",
            [List(1, 1, "s", ("v1", ["AWSPREVIOUS"]), ("v2", ["AWSCURRENT"])), List(1, 3, "s", ("v1", ["AWSCURRENT"]))],
            HistoryChecker.MonotonicReads
        },
        {
            "A client that no longer sees its own acknowledged put went back in time",
            [Put(1, 1, "v2", "h2"), List(1, 3, "s", ("v1", ["AWSCURRENT"])), List(Final, 50, "s", ("v1", ["AWSPREVIOUS"]), ("v2", ["AWSCURRENT"]))],
            HistoryChecker.MonotonicReads
        },
        {
            "Another client may not have seen a version yet",
            [List(1, 1, "s", ("v1", ["AWSPREVIOUS"]), ("v2", ["AWSCURRENT"])), List(2, 0, "s", ("v1", ["AWSCURRENT"]))],
            null
        },
        {
            "A version read with two values changed after it was written",
            [Get(1, 1, "r2", "h1", "r"), Get(2, 3, "r2", "h2", "r")],
            HistoryChecker.ValueIntegrity
        },
        {
            "A rotated secret whose AWSCURRENT password does not log in breaks the rotation",
            [Rotate(1, 1, "r2"), List(Final, 50, "r", ("r1", ["AWSPREVIOUS"]), ("r2", ["AWSCURRENT"])), Login("r2", works: false)],
            HistoryChecker.RotationLogin
        },
        {
            "A rotated secret whose AWSCURRENT was never tried breaks the rotation",
            [Rotate(1, 1, "r2"), List(Final, 50, "r", ("r1", ["AWSPREVIOUS"]), ("r2", ["AWSCURRENT"])), Login("r1", works: true)],
            HistoryChecker.RotationLogin
        },
        {
            "More versions than rotations asked for means a rotation applied twice",
            [Rotate(1, 1, "r2"), List(Final, 50, "r", ("r1", []), ("r2", ["AWSPREVIOUS"]), ("r3", ["AWSCURRENT"])), Login("r3", works: true)],
            HistoryChecker.RotationOnce
        },
        {
            "Two acknowledged rotations returning one version means a rotation applied twice",
            [Rotate(1, 1, "r2"), Rotate(2, 2, "r2"), List(Final, 50, "r", ("r1", ["AWSPREVIOUS"]), ("r2", ["AWSCURRENT"])), Login("r2", works: true)],
            HistoryChecker.RotationOnce
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Check(string name, Operation[] history, string? broken)
    {
        var violations = HistoryChecker.Check(history);
        if (broken is null)
        {
            Assert.True(violations.Count == 0, $"{name}: {string.Join("; ", violations)}");
        }
        else
        {
            Assert.True(violations.Any(v => v.Property == broken), $"{name}: expected a violation of '{broken}', got [{string.Join("; ", violations)}]");
            Assert.All(violations, v => Assert.Equal(broken, v.Property));
        }
    }
}
