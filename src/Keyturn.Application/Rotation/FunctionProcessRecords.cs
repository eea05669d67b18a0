using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Keyturn.Application.Security;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Rotation;

/// <summary>
/// One function process group as recorded on disk while it runs: enough to find it again after a crash, and no
/// secret (the event's ARN and token are identifiers, not values).
/// </summary>
/// <param name="StartTime">The leader's <c>/proc</c> start time, so a later process given the same pid is not taken for it.</param>
/// <param name="BootId">The kernel's boot id: after a reboot no recorded process can still run.</param>
public sealed record FunctionProcessRecord(
    int ProcessGroup,
    long? StartTime,
    string BootId,
    string Function,
    string? SecretArn,
    string? Token,
    string? Step,
    string? RequestId,
    DateTimeOffset StartedAt);

/// <summary>A recorded group found running (by <see cref="FunctionProcessRecords.StopLeftoversAsync"/>) and how its stop ended.</summary>
public sealed record StoppedLeftover(FunctionProcessRecord Record, ProcessGroupStop Outcome);

/// <summary>
/// A file per running function process group, under the data directory, written before the command gets its event
/// and removed once the group is gone. A crash of the server (SIGKILL, OOM) leaves the files of groups that may
/// still run; the next start ends those groups before any step runs again, so no step runs twice at once.
/// </summary>
/// <remarks>
/// A group's id is its leader's pid, which Linux keeps from reuse while any process of the group exists: a recorded
/// id with live members whose leader is gone is still ours, and one whose leader is a live process with a different
/// start time names someone else's group (ours ended, and the pid was reused).
/// </remarks>
public sealed partial class FunctionProcessRecords(string directory, TimeProvider time, ILogger<FunctionProcessRecords> logger)
{
    public const string DirectoryName = "running-functions";

    private static readonly Lazy<string> CurrentBootId = new(() =>
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (IOException)
        {
            return "";
        }
    });

    public string Directory => directory;

    /// <summary>The records' directory inside a data directory.</summary>
    public static string DirectoryIn(string dataDirectory) => Path.Combine(dataDirectory, DirectoryName);

    /// <summary>
    /// Creates the (owner-only) records directory: a node does so at start, so its data directory is recognisable as a
    /// Keyturn node's even when the store is shared and the keys come from the environment (the doctor keeps its journal there).
    /// </summary>
    public void EnsureDirectory() => PrivateFiles.CreateDirectory(directory);

    /// <summary>Records a started group (durably: written beside, fsynced, renamed).</summary>
    public FunctionProcessRecord Add(FunctionProcess process, string function, RotationEvent? rotationEvent, string? requestId)
    {
        ArgumentNullException.ThrowIfNull(process);
        var entry = new FunctionProcessRecord(process.Group.Id, process.StartTime, CurrentBootId.Value, function,
            rotationEvent?.SecretId, rotationEvent?.ClientRequestToken, rotationEvent?.Step, requestId, time.GetUtcNow());
        PrivateFiles.CreateDirectory(directory);
        PrivateFiles.Replace(PathOf(entry), JsonSerializer.Serialize(entry, FunctionProcessJsonContext.Default.FunctionProcessRecord));
        return entry;
    }

    /// <summary>Forgets a group: call once <see cref="FunctionProcess.StopAsync"/> reported it gone.</summary>
    public void Remove(FunctionProcessRecord entry) => File.Delete(PathOf(entry));

    /// <summary>All records, unreadable ones skipped (and logged).</summary>
    public IReadOnlyList<FunctionProcessRecord> List()
    {
        if (!System.IO.Directory.Exists(directory))
        {
            return [];
        }

        var records = new List<FunctionProcessRecord>();
        foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllText(file), FunctionProcessJsonContext.Default.FunctionProcessRecord) is { } entry)
                {
                    records.Add(entry);
                }
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                LogUnreadable(logger, file, e.Message);
            }
        }

        return records;
    }

    /// <summary>Whether a recorded group may still run (see the class remarks for how its identity is checked).</summary>
    public static bool MayStillRun(FunctionProcessRecord entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.BootId != CurrentBootId.Value || entry.ProcessGroup <= 1)
        {
            return false;
        }

        var group = new ProcessGroup(entry.ProcessGroup);
        if (!group.HasMembers())
        {
            return false;
        }

        var leader = ProcStat.Read(entry.ProcessGroup);
        return leader is null || leader.IsZombie || entry.StartTime is null || leader.StartTime == entry.StartTime;
    }

    /// <summary>
    /// Ends every recorded group that still runs (all of them, or those of one secret's invocations): SIGTERM, the
    /// grace period, SIGKILL. Records of ended groups are removed; a group still there after SIGKILL keeps its record
    /// (the caller must not start what it would run beside).
    /// </summary>
    public async Task<IReadOnlyList<StoppedLeftover>> StopLeftoversAsync(TimeSpan grace, string? secretArn = null)
    {
        var stopped = new List<StoppedLeftover>();
        foreach (var entry in List().Where(r => secretArn is null || r.SecretArn == secretArn))
        {
            if (!MayStillRun(entry))
            {
                Remove(entry);
                continue;
            }

            LogStoppingLeftover(logger, entry.Function, entry.ProcessGroup, entry.Step ?? "-", entry.SecretArn ?? "-", entry.StartedAt);
            var outcome = await new ProcessGroup(entry.ProcessGroup).StopAsync(grace, time).ConfigureAwait(false);
            if (outcome == ProcessGroupStop.Lingering)
            {
                LogLeftoverLingers(logger, entry.Function, entry.ProcessGroup);
            }
            else
            {
                Remove(entry);
            }

            stopped.Add(new StoppedLeftover(entry, outcome));
        }

        return stopped;
    }

    private string PathOf(FunctionProcessRecord entry) =>
        Path.Combine(directory, string.Create(CultureInfo.InvariantCulture, $"{entry.ProcessGroup}-{entry.StartTime ?? 0}.json"));

    [LoggerMessage(EventId = 2501, Level = LogLevel.Warning, Message = "function {Function} left processes running (process group {ProcessGroup}, {Step} of {SecretArn}, started {StartedAt:o}) from an earlier invocation; stopping them before a step runs beside them")]
    private static partial void LogStoppingLeftover(ILogger logger, string function, int processGroup, string step, string secretArn, DateTimeOffset startedAt);

    [LoggerMessage(EventId = 2502, Level = LogLevel.Error, Message = "function {Function}: process group {ProcessGroup} still has processes after SIGKILL; its rotation's steps wait until they are gone")]
    private static partial void LogLeftoverLingers(ILogger logger, string function, int processGroup);

    [LoggerMessage(EventId = 2503, Level = LogLevel.Warning, Message = "unreadable function process record {File}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string file, string reason);
}

[JsonSerializable(typeof(FunctionProcessRecord))]
internal sealed partial class FunctionProcessJsonContext : JsonSerializerContext;
