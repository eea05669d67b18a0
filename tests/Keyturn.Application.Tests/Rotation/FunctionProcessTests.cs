using System.Diagnostics;
using System.Globalization;
using Keyturn.Application.Rotation;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>Commands run in their own process group: started as its leader, and stopped with everything they left behind.</summary>
public sealed class FunctionProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("keyturn-fp-").FullName;

    public void Dispose() => TestDirectories.Delete(_dir);

    [Fact]
    public void Start_MakesTheCommandLeaderOfItsOwnSessionAndProcessGroup()
    {
        using var fp = Start("sleep 30");
        try
        {
            var stat = File.ReadAllText($"/proc/{fp.Process.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            Assert.Equal(fp.Process.Id, int.Parse(fields[2], CultureInfo.InvariantCulture));
            Assert.Equal(fp.Process.Id, int.Parse(fields[3], CultureInfo.InvariantCulture));
            Assert.Equal(fp.Process.Id, fp.Group.Id);
            Assert.NotEqual(Environment.ProcessId, fp.Group.Id);
            Assert.Equal(long.Parse(fields[19], CultureInfo.InvariantCulture), fp.StartTime);
        }
        finally
        {
            fp.Process.Kill();
        }
    }

    [Fact]
    public async Task StopAsync_KillsAGrandchildThatIgnoresTermAndWasOrphanedByADoubleFork()
    {
        // The intermediate shell exits at once, so the grandchild is re-parented to init: no process tree leads to it.
        await File.WriteAllTextAsync(Path.Combine(_dir, "grandchild.sh"), $"""
            trap '' TERM
            echo $$ > {_dir}/grandchild
            exec sleep 300
            """);
        using var fp = Start($"""
            sh -c 'sh {_dir}/grandchild.sh &'
            sleep 300
            """);
        var grandchild = await ReadPidAsync("grandchild");
        Assert.Contains(grandchild, GroupMembers(fp.Group.Id));

        var outcome = await fp.StopAsync(TimeSpan.FromMilliseconds(500));

        Assert.Equal(ProcessGroupStop.Killed, outcome);
        Assert.Empty(GroupMembers(fp.Group.Id));
        Assert.False(fp.Group.HasMembers());
    }

    [Fact]
    public async Task StopAsync_LetsACommandThatHandlesTermFinishWithinTheGracePeriod()
    {
        using var fp = Start($"""
            trap 'echo stopping > {_dir}/term; exit 3' TERM
            echo $$ > {_dir}/leader
            sleep 300 &
            wait $!
            """);
        await ReadPidAsync("leader");

        var outcome = await fp.StopAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(ProcessGroupStop.EndedOnTerm, outcome);
        Assert.Equal("stopping\n", await File.ReadAllTextAsync(Path.Combine(_dir, "term")));
        Assert.Empty(GroupMembers(fp.Group.Id));
        fp.Process.WaitForExit();
        Assert.Equal(3, fp.Process.ExitCode);
    }

    [Fact]
    public async Task Exited_CompletesWhenTheLeaderExitsThoughAChildStillHoldsItsOutput()
    {
        using var fp = Start("sleep 300 & echo started");
        var output = fp.Process.StandardOutput;

        await fp.Exited.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("started", await output.ReadLineAsync());
        Assert.True(fp.Group.HasMembers());
        Assert.Equal(ProcessGroupStop.EndedOnTerm, await fp.StopAsync(TimeSpan.FromSeconds(10)));
        Assert.Empty(GroupMembers(fp.Group.Id));
    }

    [Fact]
    public async Task StopAsync_OnAGroupWhoseProcessesAllExited_ReportsAlreadyEnded()
    {
        using var fp = Start("exit 0");
        await fp.Exited.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(ProcessGroupStop.AlreadyEnded, await fp.StopAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-5)]
    public void ProcessGroup_RefusesIdsThatKillWouldReadAsOurGroupOrEveryProcess(int id) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessGroup(id));

    [Theory]
    [InlineData("a command name with spaces", "812 (my (odd) name) S 1 812 812 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 4711 2490368 130", 'S', 812, 812, 4711L)]
    [InlineData("a zombie in another group", "90 (sh) Z 1 77 66 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 123456 0 0", 'Z', 77, 66, 123456L)]
    public void ProcStat_ReadsStateGroupSessionAndStartTime(string @case, string line, char state, int group, int session, long startTime)
    {
        var stat = ProcStat.Parse(1, line);

        Assert.True(stat == new ProcStat(1, state, group, session, startTime), $"{@case}: got {stat}");
    }

    private static FunctionProcess Start(string script)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        return FunctionProcess.Start(start);
    }

    private async Task<int> ReadPidAsync(string file)
    {
        var path = Path.Combine(_dir, file);
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!(File.Exists(path) && (await File.ReadAllTextAsync(path, limit.Token)).EndsWith('\n')))
        {
            await Task.Delay(20, limit.Token);
        }

        return int.Parse((await File.ReadAllTextAsync(path, limit.Token)).Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Live processes whose pgrp is <paramref name="group"/>, read from /proc independently of the class under test.</summary>
    private static List<int> GroupMembers(int group)
    {
        var members = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[2], CultureInfo.InvariantCulture) == group)
                {
                    members.Add(pid);
                }
            }
            catch (IOException)
            {
                // Exited while being read.
            }
        }

        return members;
    }
}
