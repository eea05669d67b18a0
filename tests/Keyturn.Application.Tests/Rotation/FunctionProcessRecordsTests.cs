using System.Diagnostics;
using System.Globalization;
using Keyturn.Application.Rotation;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>The on-disk records of running function process groups, and what a restart does with those a crash left.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FunctionProcessRecordsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("keyturn-fpr-").FullName;

    public void Dispose() => TestDirectories.Delete(_dir);

    private string RecordsDirectory => Path.Combine(_dir, FunctionProcessRecords.DirectoryName);

    [Fact]
    public async Task StopLeftoversAsync_AfterACrash_EndsTheRecordedGroupAndForgetsIt()
    {
        var records = NewRecords();
        using var command = Start($"(trap '' TERM; exec sleep 300) & echo $! > {_dir}/child; sleep 300");
        var entry = records.Add(command, "crashy", new RotationEvent("setSecret", "arn:aws:secretsmanager:us-east-1:000000000000:secret:s-AbCdEf", "token-1", "rt"), "req-1");
        await WaitForFileAsync("child");

        // A new server on the same data directory: nothing in memory, only the record.
        var stopped = await NewRecords().StopLeftoversAsync(TimeSpan.FromMilliseconds(300));

        var (leftover, outcome) = Assert.Single(stopped);
        Assert.Equal(entry, leftover);
        Assert.Equal(ProcessGroupStop.Killed, outcome);
        Assert.False(command.Group.HasMembers());
        Assert.Empty(Directory.GetFiles(RecordsDirectory));
    }

    [Fact]
    public async Task StopLeftoversAsync_ForOneSecret_LeavesOtherSecretsGroupsRunning()
    {
        var records = NewRecords();
        using var mine = Start("sleep 300");
        using var theirs = Start("sleep 300");
        records.Add(mine, "f", new RotationEvent("createSecret", "arn:mine", "t1", "rt"), null);
        records.Add(theirs, "f", new RotationEvent("createSecret", "arn:theirs", "t2", "rt"), null);
        try
        {
            var stopped = await records.StopLeftoversAsync(TimeSpan.FromSeconds(5), "arn:mine");

            Assert.Equal("arn:mine", Assert.Single(stopped).Record.SecretArn);
            Assert.False(mine.Group.HasMembers());
            Assert.True(theirs.Group.HasMembers());
            Assert.Equal("arn:theirs", Assert.Single(records.List()).SecretArn);
        }
        finally
        {
            await theirs.StopAsync(TimeSpan.Zero);
        }
    }

    [Fact]
    public async Task Add_WritesAnOwnerOnlyFileNamingNoSecretValue()
    {
        using var command = Start("exit 0");
        var entry = NewRecords().Add(command, "f", new RotationEvent("setSecret", "arn:s", "t", "rt"), "req");
        await command.Exited;

        var file = Assert.Single(Directory.GetFiles(RecordsDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(RecordsDirectory));
        Assert.Contains($"\"ProcessGroup\":{entry.ProcessGroup}", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }

    public static TheoryData<string, Func<FunctionProcessRecord, FunctionProcessRecord>, bool> Identities => new()
    {
        { "the recorded leader still runs", r => r, true },
        { "the pid now belongs to a process started at another time (pid reuse)", r => r with { StartTime = r.StartTime + 1 }, false },
        { "the record is from before a reboot", r => r with { BootId = "another-boot" }, false },
    };

    [Theory]
    [MemberData(nameof(Identities))]
    public async Task MayStillRun_TellsTheRecordedGroupFromAnotherWithTheSameId(string @case, Func<FunctionProcessRecord, FunctionProcessRecord> change, bool expected)
    {
        using var command = Start("sleep 300");
        try
        {
            var entry = NewRecords().Add(command, "f", null, null);

            Assert.True(expected == FunctionProcessRecords.MayStillRun(change(entry)), @case);
        }
        finally
        {
            await command.StopAsync(TimeSpan.Zero);
        }
    }

    [Fact]
    public async Task MayStillRun_AGroupWhoseLeaderExitedButAChildRemains_IsStillOurs()
    {
        using var command = Start($"sleep 300 & echo $! > {_dir}/child");
        var entry = NewRecords().Add(command, "f", null, null);
        await command.Exited.WaitAsync(TimeSpan.FromSeconds(60));
        await WaitForFileAsync("child");

        Assert.True(FunctionProcessRecords.MayStillRun(entry));
        await command.StopAsync(TimeSpan.FromSeconds(5));
        Assert.False(FunctionProcessRecords.MayStillRun(entry));
    }

    private FunctionProcessRecords NewRecords() => new(RecordsDirectory, TimeProvider.System, NullLogger<FunctionProcessRecords>.Instance);

    private static FunctionProcess Start(string script)
    {
        var start = new ProcessStartInfo("/bin/sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        return FunctionProcess.Start(start);
    }

    private async Task WaitForFileAsync(string name)
    {
        var path = Path.Combine(_dir, name);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!File.Exists(path) || !(await File.ReadAllTextAsync(path, limit.Token)).EndsWith('\n'))
        {
            await Task.Delay(20, limit.Token);
        }

        _ = int.Parse((await File.ReadAllTextAsync(path, limit.Token)).Trim(), CultureInfo.InvariantCulture);
    }
}
