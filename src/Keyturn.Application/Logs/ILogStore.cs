using Keyturn.Domain.Logs;

namespace Keyturn.Application.Logs;

/// <summary>
/// Reads the rotation logs that <see cref="ILogSink"/> wrote. Pages are keyset cursors, so a page is
/// stable while new events keep arriving; limits are the caller's (the store adds no defaults).
/// </summary>
public interface ILogStore
{
    Task<LogGroupRecord?> FindGroupAsync(string groupName, CancellationToken cancellationToken);

    Task<LogStreamRecord?> FindStreamAsync(string groupName, string streamName, CancellationToken cancellationToken);

    /// <summary>Groups in ASCII order of name, after <see cref="LogGroupQuery.AfterName"/>.</summary>
    Task<IReadOnlyList<LogGroupRecord>> DescribeGroupsAsync(LogGroupQuery query, CancellationToken cancellationToken);

    /// <summary>Streams of one group in the query's order, after its cursor.</summary>
    Task<IReadOnlyList<LogStreamRecord>> DescribeStreamsAsync(LogStreamQuery query, CancellationToken cancellationToken);

    /// <summary>The events of one stream next to <see cref="LogStreamEventsQuery.From"/>, oldest first whichever the direction.</summary>
    Task<IReadOnlyList<LogEventRecord>> ReadStreamAsync(LogStreamEventsQuery query, CancellationToken cancellationToken);

    /// <summary>Events of a group that match a pattern, across its streams in time order, oldest first.</summary>
    Task<LogFilterResult> FilterAsync(LogFilterQuery query, CancellationToken cancellationToken);
}

public sealed record LogGroupRecord(string Name, long CreatedMs, long StoredBytes);

public sealed record LogStreamRecord(
    string GroupName, string Name, long CreatedMs, long? FirstEventMs, long? LastEventMs, long? LastIngestionMs, long StoredBytes);

public sealed record LogEventRecord(long Id, string StreamName, long TimestampMs, long IngestionMs, string Message)
{
    public LogEventPosition Position => new(TimestampMs, Id);
}

/// <summary>Where an event sits in a stream or group: time first, then the order it was stored in.</summary>
public readonly record struct LogEventPosition(long TimestampMs, long Id) : IComparable<LogEventPosition>
{
    /// <summary>Before every event.</summary>
    public static LogEventPosition Head { get; } = new(long.MinValue, 0);

    /// <summary>After every event.</summary>
    public static LogEventPosition Tail { get; } = new(long.MaxValue, long.MaxValue);

    public int CompareTo(LogEventPosition other) =>
        TimestampMs != other.TimestampMs ? TimestampMs.CompareTo(other.TimestampMs) : Id.CompareTo(other.Id);
}

public enum LogStreamOrder
{
    LogStreamName,
    LastEventTime,
}

/// <param name="Names">Only these groups (exact names), when given.</param>
/// <param name="NameContains">A case-insensitive substring of the name, when given.</param>
public sealed record LogGroupQuery(string? NamePrefix, string? NameContains, IReadOnlyList<string>? Names, string? AfterName, int Limit);

/// <param name="After">The last stream of the previous page (its name, and its last event time when ordered by it).</param>
public sealed record LogStreamQuery(
    string GroupName, string? NamePrefix, LogStreamOrder OrderBy, bool Descending, LogStreamCursor? After, int Limit);

public sealed record LogStreamCursor(long LastEventMs, string Name);

/// <param name="Forward">Events after <paramref name="From"/> (the oldest first); otherwise the newest events before it.</param>
/// <param name="StartMs">Events at or after this time only.</param>
/// <param name="EndMs">Events before this time only.</param>
/// <param name="MaxBytes">Stop before the page's events exceed this many bytes (AWS counts the UTF-8 message plus 26).</param>
public sealed record LogStreamEventsQuery(
    string GroupName, string StreamName, long? StartMs, long? EndMs, LogEventPosition From, bool Forward, int Limit, int MaxBytes);

/// <param name="From">Where to continue: the search covers events after it (before it when <paramref name="Backward"/>); null starts at the beginning (end).</param>
/// <param name="Backward">The newest matches before <paramref name="From"/> instead of the oldest after it (a tail).</param>
/// <param name="ScanLimit">How many candidate events one call examines before it returns what it found and where to resume.</param>
public sealed record LogFilterQuery(
    string GroupName,
    IReadOnlyList<string>? StreamNames,
    string? StreamNamePrefix,
    long? StartMs,
    long? EndMs,
    LogFilterPattern Pattern,
    LogEventPosition? From,
    int Limit,
    int MaxBytes,
    int ScanLimit,
    bool Backward = false);

/// <param name="ResumeFrom">Where the next call continues (the <c>From</c> of its query); null when the search reached the end.</param>
public sealed record LogFilterResult(
    IReadOnlyList<LogEventRecord> Events, LogEventPosition? ResumeFrom);

