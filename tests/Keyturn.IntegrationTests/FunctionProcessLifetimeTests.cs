using System.Globalization;
using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// A command function's processes never outlive the invocation that started them: not a SIGTERM of <c>keyturn serve</c>,
/// not a SIGKILL of it (the restart ends them before the step runs again), not the step's timeout. The function
/// double-forks a heartbeat that ignores SIGTERM, which only its process group still leads to.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FunctionProcessLifetimeTests : IAsyncLifetime
{
    private readonly string _work = TestDirectories.Create("keyturn-fpl-");
    private readonly string _dataDirectory = TestDirectories.Create("keyturn-fpl-data-");
    private readonly Dictionary<string, string> _root = new()
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = "AKIAORPHANTEST" + Random.Shared.Next(100000, 999999).ToString(CultureInfo.InvariantCulture),
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = "orphan-test-secret-key-" + Guid.NewGuid().ToString("N"),
    };

    private readonly List<int> _groups = [];
    private KeyturnProcess? _server;

    private string Starts => Path.Combine(_work, "starts");

    private string Beats => Path.Combine(_work, "beats");

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_work, "function.sh"), $$"""
            group=$(cut -d' ' -f5 /proc/$$/stat)
            echo "start $group $(date +%s%N)" >> {{Starts}}
            ( sh -c 'trap "" TERM; while :; do echo "beat $0 $(date +%s%N)" >> {{Beats}}; sleep 0.1; done' $group & )
            sleep 300
            """);
        await StartServerAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        // Whatever a failed assertion left behind.
        foreach (var group in _groups)
        {
            await new ProcessGroup(group).StopAsync(TimeSpan.Zero);
        }

        TestDirectories.Delete(_work, _dataDirectory);
    }

    [Fact]
    public async Task SigtermOfServe_EndsTheRunningFunctionsWholeGroupBeforeTheServerExits()
    {
        var (group, _) = await RotateUntilRunningAsync("sigterm", timeoutSeconds: 120);
        Assert.NotEmpty(new ProcessGroup(group).Members());

        await _server!.StopAsync();
        _server = null;

        Assert.Empty(new ProcessGroup(group).Members());
        await AssertNoMoreBeatsAsync();
    }

    [Fact]
    public async Task SigkillOfServe_RestartEndsTheOrphansBeforeTheStepRunsAgain()
    {
        var (group, _) = await RotateUntilRunningAsync("sigkill", timeoutSeconds: 120);

        var crashed = _server!;
        await crashed.CrashAsync();
        Assert.NotEmpty(new ProcessGroup(group).Members());
        await StartServerAsync();
        await crashed.DisposeAsync();
        var (again, startedAgain) = await WaitForStartAsync(2);

        Assert.NotEqual(group, again);
        Assert.Empty(new ProcessGroup(group).Members());
        Assert.DoesNotContain(await ReadBeatsAsync(), b => b.Of == group && b.At >= startedAgain);
        Assert.Contains($"process group {group}", _server!.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFiles(FunctionProcessRecords.DirectoryIn(_dataDirectory)), f => Path.GetFileName(f).StartsWith($"{group}-", StringComparison.Ordinal));

        await _server.StopAsync();
        _server = null;
        Assert.Empty(new ProcessGroup(again).Members());
    }

    [Fact]
    public async Task StepTimeout_EndsTheGroupIncludingAGrandchildIgnoringTerm()
    {
        // Long enough for a busy machine to start the shells and write the first beat before the timeout ends them.
        var (group, _) = await RotateUntilRunningAsync("timeout", timeoutSeconds: 10);
        Assert.NotEmpty(new ProcessGroup(group).Members());

        // The timeout (10 s) and the grace (1 s) pass, then SIGKILL; the retry comes after the engine's backoff.
        await WaitUntilAsync(() => Task.FromResult(new ProcessGroup(group).Members().Count == 0), TimeSpan.FromSeconds(60), $"process group {group} to end after its step's timeout");
        var (again, startedAgain) = await WaitForStartAsync(2);

        Assert.DoesNotContain(await ReadBeatsAsync(), b => b.Of == group && b.At >= startedAgain);
        await _server!.StopAsync();
        _server = null;
        Assert.Empty(new ProcessGroup(again).Members());
    }

    private async Task StartServerAsync() =>
        _server = await KeyturnProcess.StartAsync(_dataDirectory, _root, ["--function-stop-grace", "1"]);

    /// <summary>Registers the function, starts a rotation with it and waits until its first invocation's heartbeat beats.</summary>
    private async Task<(int Group, long StartedAt)> RotateUntilRunningAsync(string name, int timeoutSeconds)
    {
        await _server!.FunctionsAsync("register", name, "--command", $"/bin/sh {Path.Combine(_work, "function.sh")}", "--timeout", timeoutSeconds.ToString(CultureInfo.InvariantCulture));
        var cli = new AwsCli(_server);
        await cli.JsonAsync("secretsmanager", "create-secret", "--name", "orphans/" + name, "--secret-string", "initial");
        await cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", "orphans/" + name, "--rotation-lambda-arn", name, "--rotation-rules", "AutomaticallyAfterDays=1");
        var (group, started) = await WaitForStartAsync(1);
        await WaitUntilAsync(async () => (await ReadBeatsAsync()).Any(b => b.Of == group), TimeSpan.FromSeconds(60), "the heartbeat to start");
        return (group, started);
    }

    /// <summary>Waits for the <paramref name="count"/>th invocation's start line: its process group and time.</summary>
    private async Task<(int Group, long StartedAt)> WaitForStartAsync(int count)
    {
        await WaitUntilAsync(async () => File.Exists(Starts) && (await File.ReadAllLinesAsync(Starts)).Length >= count, TimeSpan.FromSeconds(90), $"invocation {count} to start");
        var fields = (await File.ReadAllLinesAsync(Starts))[count - 1].Split(' ');
        var group = int.Parse(fields[1], CultureInfo.InvariantCulture);
        _groups.Add(group);
        return (group, long.Parse(fields[2], CultureInfo.InvariantCulture));
    }

    private async Task<List<(int Of, long At)>> ReadBeatsAsync() =>
        File.Exists(Beats)
            ? [.. (await File.ReadAllLinesAsync(Beats)).Select(l => l.Split(' ')).Where(f => f.Length == 3 && f[2].Length > 0)
                .Select(f => (int.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[2], CultureInfo.InvariantCulture)))]
            : [];

    /// <summary>The heartbeat writes every 0.1 s while it lives. Not a wait: half a second without a beat shows it is gone.</summary>
    private async Task AssertNoMoreBeatsAsync()
    {
        var before = (await ReadBeatsAsync()).Count;
        await Task.Delay(500);
        Assert.Equal(before, (await ReadBeatsAsync()).Count);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
