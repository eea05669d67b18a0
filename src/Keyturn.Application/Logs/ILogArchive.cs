namespace Keyturn.Application.Logs;

/// <summary>
/// Whole-store copies of the logs (<c>keyturn store migrate</c>): groups, streams and events go in exactly as another
/// store holds them, event ids included, so positions, paging tokens and the order of events sharing a timestamp
/// survive the copy. Meant for an empty store that nothing appends to meanwhile.
/// </summary>
public interface ILogArchive
{
    /// <summary>Creates the group and its streams with their recorded times and stored bytes (no events yet).</summary>
    Task ImportStreamsAsync(LogGroupRecord group, IReadOnlyList<LogStreamRecord> streams, CancellationToken cancellationToken);

    /// <summary>Adds events of the group's streams with their ids, timestamps and ingestion times; the streams' figures are left as imported.</summary>
    Task ImportEventsAsync(string groupName, IReadOnlyList<LogEventRecord> events, CancellationToken cancellationToken);
}
