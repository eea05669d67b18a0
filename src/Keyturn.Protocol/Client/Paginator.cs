using System.Runtime.CompilerServices;

namespace Keyturn.Protocol.Client;

/// <summary>The bounds of one paginated read: how many pages at most, and how long each call may take.</summary>
public sealed record PageLimits(int MaxPages, TimeSpan CallTimeout)
{
    public static PageLimits Default { get; } = new(1000, TimeSpan.FromSeconds(30));
}

/// <summary>
/// Every paginated AWS read (Secrets Manager, EC2, RDS, Logs) goes through here so the end of a listing is decided
/// by one rule: a missing, null or empty token ends it (as botocore does: servers answer <c>"NextToken": ""</c>
/// on the last page), a token seen before is a loop and an error, and a listing longer than its page cap is an
/// error rather than a silently partial answer. Each call is bounded by its own timeout.
/// </summary>
public static class Paginator
{
    /// <summary>One page's answer: the items the caller wants, and the token for the next page.</summary>
    public readonly record struct Page<T>(T Value, string? NextToken);

    /// <summary>
    /// The pages of <paramref name="operation"/>, asking <paramref name="fetch"/> with the previous page's token
    /// (null for the first page). A caller may stop early by leaving the loop.
    /// </summary>
    /// <exception cref="PaginationException">The server repeated a token, or there were more than <see cref="PageLimits.MaxPages"/> pages.</exception>
    /// <exception cref="TimeoutException">A call took longer than <see cref="PageLimits.CallTimeout"/>.</exception>
    public static async IAsyncEnumerable<T> PagesAsync<T>(
        string operation,
        Func<string?, CancellationToken, Task<Page<T>>> fetch,
        PageLimits limits,
        TimeProvider timeProvider,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? token = null;
        for (var number = 1; ; number++)
        {
            var page = await CallAsync(operation, number, () => token, fetch, limits.CallTimeout, timeProvider, cancellationToken).ConfigureAwait(false);
            yield return page.Value;
            if (string.IsNullOrEmpty(page.NextToken))
            {
                yield break;
            }

            if (!seen.Add(page.NextToken))
            {
                throw new PaginationException(operation,
                    $"{operation} answered page {number} with a NextToken it had already returned; stopping instead of reading the same pages forever. The endpoint's pagination is broken.");
            }

            if (number >= limits.MaxPages)
            {
                throw new PaginationException(operation,
                    $"{operation} still had more pages after {limits.MaxPages}; stopping rather than diagnosing from a partial listing.");
            }

            token = page.NextToken;
        }
    }

    /// <summary>Every page's items in one list, under the same rules.</summary>
    public static async Task<List<TItem>> AllAsync<TItem>(
        string operation,
        Func<string?, CancellationToken, Task<Page<IReadOnlyList<TItem>>>> fetch,
        PageLimits limits,
        TimeProvider timeProvider,
        CancellationToken cancellationToken)
    {
        var items = new List<TItem>();
        await foreach (var page in PagesAsync(operation, fetch, limits, timeProvider, cancellationToken).ConfigureAwait(false))
        {
            items.AddRange(page);
        }

        return items;
    }

    private static async Task<Page<T>> CallAsync<T>(
        string operation, int number, Func<string?> token, Func<string?, CancellationToken, Task<Page<T>>> fetch, TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            return await fetch(token(), linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Our timer, or the HTTP client's own timeout: either way this call took too long.
            throw new TimeoutException($"{operation} (page {number}) did not answer within {timeout.TotalSeconds:0.#} s.");
        }
    }
}

/// <summary>A paginated read that could not be finished truthfully: a repeated token or too many pages.</summary>
public sealed class PaginationException(string operation, string message) : Exception(message)
{
    public string Operation { get; } = operation;
}
