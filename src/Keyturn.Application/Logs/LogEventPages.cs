using System.Text;

namespace Keyturn.Application.Logs;

/// <summary>
/// The paging rules every log store applies the same way: AWS's event size, the byte limit of a page, and the
/// FilterLogEvents scan (batches of candidates in position order, the pattern decides, stop at the limit, the byte
/// limit or the scan limit, and say where to resume).
/// </summary>
public static class LogEventPages
{
    /// <summary>What AWS adds to a message's UTF-8 length when it sizes a batch or a page.</summary>
    public const int EventOverheadBytes = 26;

    public static int SizeOf(LogEventRecord record) => Encoding.UTF8.GetByteCount(record.Message) + EventOverheadBytes;

    /// <summary>The leading rows that fit in <paramref name="maxBytes"/>; the first row always does.</summary>
    public static List<LogEventRecord> WithinBytes(List<LogEventRecord> rows, int maxBytes)
    {
        long bytes = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            bytes += SizeOf(rows[i]);
            if (i > 0 && bytes > maxBytes)
            {
                return rows[..i];
            }
        }

        return rows;
    }

    /// <summary>
    /// Runs a filter over candidate batches. <paramref name="nextBatch"/> returns up to <paramref name="batchSize"/>
    /// candidates strictly after (before, when backward) the position it is given, nearest first.
    /// </summary>
    public static async Task<LogFilterResult> FilterAsync(
        LogFilterQuery query, int batchSize, Func<LogEventPosition, Task<List<LogEventRecord>>> nextBatch)
    {
        var position = query.From ?? (query.Backward ? LogEventPosition.Tail : LogEventPosition.Head);
        var matches = new List<LogEventRecord>();
        var scanned = 0;
        long bytes = 0;
        LogEventPosition? resume = null;
        while (resume is null)
        {
            var batch = await nextBatch(position).ConfigureAwait(false);
            foreach (var row in batch)
            {
                scanned++;
                position = row.Position;
                if (!query.Pattern.IsMatch(row.Message))
                {
                    continue;
                }

                var size = SizeOf(row);
                if (matches.Count > 0 && bytes + size > query.MaxBytes)
                {
                    resume = matches[^1].Position;
                    break;
                }

                matches.Add(row);
                bytes += size;
                if (matches.Count == query.Limit)
                {
                    resume = row.Position;
                    break;
                }
            }

            if (resume is null && batch.Count < batchSize)
            {
                break;
            }

            if (resume is null && scanned >= query.ScanLimit)
            {
                resume = position;
            }
        }

        if (query.Backward)
        {
            matches.Reverse();
        }

        return new LogFilterResult(matches, resume);
    }
}
