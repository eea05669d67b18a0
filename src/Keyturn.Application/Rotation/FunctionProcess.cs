using System.Diagnostics;

namespace Keyturn.Application.Rotation;

/// <summary>
/// A function's command started as the leader of a new session, so of a new process group whose id is its pid: every
/// process it starts stays in that group (unless it starts a session of its own), also after being re-parented to
/// init, so <see cref="StopAsync"/> reaches all of them — where <c>Process.Kill(entireProcessTree)</c> misses a
/// double-forked grandchild and gives no grace period.
/// </summary>
/// <remarks>
/// .NET 10's <see cref="Process"/> cannot start a child in a new group on Linux (<c>CreateNewProcessGroup</c> is
/// Windows only), and setting it afterwards from the parent races with the child's own forks; a managed fork is not
/// safe. So the command is exec'd through util-linux's <c>setsid</c>, which calls <c>setsid(2)</c> and then execs it
/// in the same process: the pid stays the one <see cref="Process"/> knows, and becomes the group and session id.
/// (<c>setsid</c> forks only when the caller already leads a group, which a freshly forked child never does; the
/// start checks the outcome instead of assuming it.) Linux only: the group is observed through <c>/proc</c>.
/// </remarks>
public sealed class FunctionProcess : IDisposable
{
    private static readonly string[] SetsidPaths = ["/usr/bin/setsid", "/bin/setsid"];
    private static readonly TimeSpan GroupReady = TimeSpan.FromSeconds(5);

    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TimeProvider _time;

    private FunctionProcess(Process process, long? startTime, TimeProvider time)
    {
        Process = process;
        Group = new ProcessGroup(process.Id);
        StartTime = startTime;
        _time = time;
        process.Exited += (_, _) => _exited.TrySetResult();
        process.EnableRaisingEvents = true;
        if (process.HasExited)
        {
            _exited.TrySetResult();
        }
    }

    /// <summary>The group's leader: the command itself (standard streams, exit code).</summary>
    public Process Process { get; }

    /// <summary>The command's process group; its id is the leader's pid.</summary>
    public ProcessGroup Group { get; }

    /// <summary>
    /// The leader's start time (<c>/proc/PID/stat</c> field 22, clock ticks after boot), which tells this process from
    /// a later one given the same pid; null if the command had already exited when it was read.
    /// </summary>
    public long? StartTime { get; }

    /// <summary>Completes when the leader has exited — without waiting, unlike <see cref="Process.WaitForExitAsync"/>, for the
    /// end of redirected output, which a process it left behind may hold open.</summary>
    public Task Exited => _exited.Task;

    /// <summary>
    /// Starts <paramref name="start"/> as the leader of a new session and process group. <paramref name="start"/> is
    /// rewritten to run through <c>setsid</c>, so it must give its arguments in <see cref="ProcessStartInfo.ArgumentList"/>.
    /// </summary>
    public static FunctionProcess Start(ProcessStartInfo start, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("Command functions run in their own process group, which Keyturn supports on Linux only.");
        }

        if (!string.IsNullOrEmpty(start.Arguments))
        {
            throw new ArgumentException("Give the command's arguments in ArgumentList: it is run through setsid.", nameof(start));
        }

        var setsid = SetsidPaths.FirstOrDefault(File.Exists)
            ?? throw new PlatformNotSupportedException("setsid (util-linux) was not found in /usr/bin or /bin; command functions need it to run in their own process group.");
        start.ArgumentList.Insert(0, start.FileName);
        start.FileName = setsid;
        start.UseShellExecute = false;

        time ??= TimeProvider.System;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.ArgumentList[0]}.");
        try
        {
            return new FunctionProcess(process, AwaitOwnGroup(process, time), time);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Ends the command and everything it started: SIGTERM to the group, up to <paramref name="grace"/> to exit,
    /// then SIGKILL. Returns once no process of the group remains (or reports <see cref="ProcessGroupStop.Lingering"/>).
    /// </summary>
    public Task<ProcessGroupStop> StopAsync(TimeSpan grace) => Group.StopAsync(grace, _time);

    public void Dispose() => Process.Dispose();

    /// <summary>
    /// Waits (briefly: <c>setsid</c> runs before the command) until the pid leads its own session and group, so a
    /// stop right after the start cannot miss a group that does not exist yet. Returns the leader's start time.
    /// </summary>
    private static long? AwaitOwnGroup(Process process, TimeProvider time)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var stat = ProcStat.Read(process.Id);
            if (stat is null || stat.IsZombie)
            {
                // Already exited: setsid runs before the command, so whatever the command started is in the new group.
                return stat?.StartTime;
            }

            if (stat.ProcessGroup == process.Id && stat.Session == process.Id)
            {
                return stat.StartTime;
            }

            if (stat.ProcessGroup == process.Id || time.GetElapsedTime(started) > GroupReady)
            {
                // Leading a group but not the session means setsid forked, and the command runs under another pid.
                throw new InvalidOperationException($"{process.StartInfo.ArgumentList[0]} did not start as the leader of its own process group.");
            }

            Thread.Sleep(1);
        }
    }
}
