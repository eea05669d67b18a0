using Keyturn.Protocol.Client;
using Microsoft.Extensions.Time.Testing;

namespace Keyturn.Protocol.Tests.Client;

/// <summary>The one rule for where a paginated AWS read ends.</summary>
public sealed class PaginatorTests
{
    public static TheoryData<string, string?[], int, int, string?> Listings => new()
    {
        // name, the NextToken each page answers (in order), page cap, pages read, error (null = none)
        { "a missing token ends the listing", ["a", null], 10, 2, null },
        { "an empty token ends the listing, as botocore does", ["a", ""], 10, 2, null },
        { "a single page with an empty token is the whole listing", [""], 10, 1, null },
        { "the same token twice in a row is a loop", ["a", "a"], 10, 2, "ListSecretVersionIds answered page 2 with a NextToken it had already returned" },
        { "a token coming back later is a loop too", ["a", "b", "a"], 10, 3, "answered page 3 with a NextToken it had already returned" },
        { "more pages than the cap is an error, not a partial listing", ["a", "b", "c", "d"], 3, 3, "ListSecretVersionIds still had more pages after 3" },
        { "exactly the cap is fine", ["a", "b", null], 3, 3, null },
    };

    [Theory]
    [MemberData(nameof(Listings))]
    public async Task PagesAsync_Cases(string name, string?[] tokens, int cap, int pagesRead, string? error)
    {
        var asked = new List<string?>();
        var read = 0;
        Exception? thrown = null;
        try
        {
            await foreach (var page in Paginator.PagesAsync("ListSecretVersionIds", (token, _) =>
            {
                asked.Add(token);
                return Task.FromResult(new Paginator.Page<int>(asked.Count, tokens[asked.Count - 1]));
            }, new PageLimits(cap, TimeSpan.FromSeconds(5)), TimeProvider.System, default))
            {
                read++;
                Assert.Equal(read, page);
            }
        }
        catch (PaginationException e)
        {
            thrown = e;
        }

        Assert.True(pagesRead == read, $"{name}: read {read} pages");
        Assert.True(error is null ? thrown is null : thrown?.Message.Contains(error, StringComparison.Ordinal) == true, $"{name}: {thrown?.Message ?? "no error"}");
        Assert.Equal([null, .. tokens.Take(read - 1)], asked);
    }

    [Fact]
    public async Task PagesAsync_ACallThatNeverAnswers_TimesOutWithTheOperationsName()
    {
        var time = new FakeTimeProvider();
        var listing = Paginator.AllAsync<int>("ListSecrets", async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new([], null);
        }, new PageLimits(10, TimeSpan.FromSeconds(30)), time, default);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(listing.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        var error = await Assert.ThrowsAsync<TimeoutException>(() => listing);

        Assert.Equal("ListSecrets (page 1) did not answer within 30 s.", error.Message);
    }

    [Fact]
    public async Task PagesAsync_TheCallersCancellation_IsNotATimeout()
    {
        using var cancel = new CancellationTokenSource();
        var listing = Paginator.AllAsync<int>("ListSecrets", async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new([], null);
        }, PageLimits.Default, TimeProvider.System, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listing);
    }
}
