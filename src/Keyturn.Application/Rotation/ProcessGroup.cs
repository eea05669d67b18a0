using System.Globalization;
using System.Runtime.InteropServices;

namespace Keyturn.Application.Rotation;

/// <summary>How a <see cref="ProcessGroup.StopAsync"/> ended.</summary>
public enum ProcessGroupStop
{
    /// <summary>No process of the group was running when the stop began.</summary>
    AlreadyEnded,

    /// <summary>Every process of the group ended within the grace period after SIGTERM.</summary>
    EndedOnTerm,

    /// <summary>Some process outlived the grace period and was ended with SIGKILL.</summary>
    Killed,

    /// <summary>Some process still exists after SIGKILL (e.g. stuck in uninterruptible I/O): it may still act.</summary>
    Lingering,
}

/// <summary>
/// A Linux process group, seen through <c>kill(2)</c> and <c>/proc</c>. Signalling the group instead of a process
/// tree reaches every descendant that stayed in the group, also those re-parented to init after their parent exited
/// (a double fork) — which walking the tree from the leader misses. A process that starts its own session or group
/// (<c>setsid</c>, <c>setpgid</c>) leaves it; only a cgroup would follow those.
/// </summary>
public sealed partial class ProcessGroup
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int NoSuchProcess = 3; // ESRCH

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    /// <summary>A group by its id (its leader's pid). 0 and 1 are refused: <c>kill(0)</c> is our own group, <c>kill(-1)</c> every process.</summary>
    public ProcessGroup(int id)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(id, 1);
        Id = id;
    }

    public int Id { get; }

    /// <summary>How long processes get to vanish after SIGKILL before the stop reports <see cref="ProcessGroupStop.Lingering"/>.</summary>
    private static readonly TimeSpan KillWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether a process of the group still runs. A zombie counts as ended: it can do nothing more, and one re-parented
    /// to a PID 1 that doesn't reap would otherwise keep the group "alive" forever.
    /// </summary>
    public bool HasMembers()
    {
        if (Kill(-Id, 0) != 0 && Marshal.GetLastPInvokeError() == NoSuchProcess)
        {
            return false;
        }

        return Members().Count > 0;
    }

    /// <summary>The group's live (not zombie) processes, by pid.</summary>
    public IReadOnlyList<int> Members()
    {
        var members = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ProcStat.Read(pid) is { } stat && stat.ProcessGroup == Id && !stat.IsZombie)
            {
                members.Add(pid);
            }
        }

        return members;
    }

    /// <summary>Sends <paramref name="signal"/> to every process of the group; false when none exists any more.</summary>
    public bool Signal(int signal) => Kill(-Id, signal) == 0;

    /// <summary>
    /// Ends the group: SIGTERM to every process, up to <paramref name="grace"/> for all of them to exit, then SIGKILL to
    /// whatever remains (a process that ignores SIGTERM, or a grandchild left behind by its parent), and a short wait
    /// until they are gone. Not cancellable: a stop abandoned halfway would leave the processes it was meant to end.
    /// </summary>
    public async Task<ProcessGroupStop> StopAsync(TimeSpan grace, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        if (!HasMembers())
        {
            return ProcessGroupStop.AlreadyEnded;
        }

        Signal(SigTerm);
        if (await WaitEndedAsync(grace, time).ConfigureAwait(false))
        {
            return ProcessGroupStop.EndedOnTerm;
        }

        Signal(SigKill);
        return await WaitEndedAsync(KillWait, time).ConfigureAwait(false) ? ProcessGroupStop.Killed : ProcessGroupStop.Lingering;
    }

    private async Task<bool> WaitEndedAsync(TimeSpan limit, TimeProvider time)
    {
        var started = time.GetTimestamp();
        while (HasMembers())
        {
            if (time.GetElapsedTime(started) >= limit)
            {
                return false;
            }

            await Task.Delay(Poll, time).ConfigureAwait(false);
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

/// <summary>The fields Keyturn reads from <c>/proc/PID/stat</c>.</summary>
/// <param name="ProcessGroup">Field 5, <c>pgrp</c>.</param>
/// <param name="StartTime">Field 22, <c>starttime</c>: clock ticks after boot. With the pid it names one process, even after the pid is reused.</param>
public sealed record ProcStat(int Pid, char State, int ProcessGroup, int Session, long StartTime)
{
    public bool IsZombie => State is 'Z' or 'X' or 'x';

    /// <summary>The process's stat, or null when it no longer exists.</summary>
    public static ProcStat? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return Parse(pid, text);
    }

    /// <summary>Parses a stat line; the command name (field 2) may hold spaces and parentheses, so fields count from its last ')'.</summary>
    public static ProcStat? Parse(int pid, string text)
    {
        var end = text.LastIndexOf(')');
        if (end < 0)
        {
            return null;
        }

        // From field 3 (state) on: index 0 = field 3.
        var fields = text[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 20 || fields[0].Length != 1
            || !int.TryParse(fields[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var group)
            || !int.TryParse(fields[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var session)
            || !long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime))
        {
            return null;
        }

        return new ProcStat(pid, fields[0][0], group, session, startTime);
    }
}
