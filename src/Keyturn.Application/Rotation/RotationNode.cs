using System.Globalization;

namespace Keyturn.Application.Rotation;

/// <summary>
/// Who holds a rotation lease: <c>host/machine/pid/start</c>, unique across the cluster. The machine part is the
/// kernel's boot id with the process-id namespace, so two containers or two boots of one host never share it; the
/// start id is random, so two engines in one process (or a pid reused after a crash) are told apart.
/// </summary>
public sealed class RotationNode
{
    private readonly Func<int, bool> _processExists;

    /// <param name="processExists">Whether a process of this machine with that id still runs.</param>
    public RotationNode(string host, string machine, int processId, string startId, Func<int, bool> processExists)
    {
        if (host.Contains('/', StringComparison.Ordinal) || machine.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException("A node's host and machine ids may not contain '/'.");
        }

        Host = host;
        Machine = machine;
        ProcessId = processId;
        _processExists = processExists;
        Id = string.Create(CultureInfo.InvariantCulture, $"{host}/{machine}/{processId}/{startId}");
    }

    /// <summary>This process, with a fresh start id.</summary>
    public static RotationNode ForThisProcess() =>
        new(Environment.MachineName, MachineId(), Environment.ProcessId, Guid.NewGuid().ToString("N")[..12], ProcessExists);

    public string Id { get; }

    public string Host { get; }

    /// <summary>The boot and pid namespace this process runs in; empty when the platform doesn't tell (then no owner is ever judged gone).</summary>
    public string Machine { get; }

    public int ProcessId { get; }

    /// <summary>
    /// True only for an owner that ran on this very machine (same host, boot and pid namespace) in another process that
    /// no longer exists: its lease can be taken at once. An owner on another node is never judged from here: a node that
    /// is only paused or cut off still holds its lease until it expires, and the fencing token settles the rest.
    /// </summary>
    public bool OwnerIsGone(string owner)
    {
        var parts = owner.Split('/');
        if (Machine.Length == 0 || parts.Length != 4 || parts[0] != Host || parts[1] != Machine
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }

        // Another engine of this very process (an engine restarted in place, or a second one in a test) may still run.
        return pid != ProcessId && !_processExists(pid);
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Linux's boot id and pid namespace; empty elsewhere, which turns the same-machine shortcut off.</summary>
    private static string MachineId()
    {
        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            var pidNamespace = new FileInfo("/proc/self/ns/pid").LinkTarget ?? "";
            var inode = new string(pidNamespace.Where(char.IsAsciiDigit).ToArray());
            return boot.Length == 0 || inode.Length == 0 ? "" : $"{boot}.{inode}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
