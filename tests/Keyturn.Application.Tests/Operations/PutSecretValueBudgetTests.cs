using Keyturn.Application.Operations;
using Xunit.Abstractions;

namespace Keyturn.Application.Tests.Operations;

/// <summary>
/// What a PutSecretValue allocates between the parsed request and the response, on the embedded store: the secret's
/// rows as the write unit loads them, the sealed value and the statements' bindings, and nothing per request that a
/// loop, a pooled buffer or the rows the unit already loaded can replace.
/// </summary>
public sealed class PutSecretValueBudgetTests(ITestOutputHelper output) : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task PuttingAValue_StaysWithinItsAllocationBudget()
    {
        // Measured at 10.2 KB per put with about 15 versions to load: the loaded rows and the metadata document, the sealed
        // value, the request's strings. Reading the version ids back before saving (about 3 KB here), a transaction object
        // and freshly prepared BEGIN/COMMIT per unit (about 1 KB), or Microsoft.Data.Sqlite's reader, record and binder
        // objects for the write unit's statements (about 1.7 KB) would each break the budget.
        const int Budget = 11_000;
        const int Puts = 10;
        await _h.Create("budget", "first");
        var handler = new PutSecretValueHandler(_h.Services);
        var requests = Enumerable.Range(0, 2 * Puts)
            .Select(i => new PutSecretValueRequest("budget", ServiceHarness.Token(), null, "{\"password\":\"value-" + i + "\"}", null, null))
            .ToArray();

        long perPut = 0;
        for (var round = 0; round < 2; round++)
        {
            // The first round warms the pooled connection, its prepared statements and the thread's caches; the second
            // is measured. The embedded store answers synchronously, so every await completes in place, on this thread.
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Puts; i++)
            {
                var response = await handler.ExecuteAsync(requests[(round * Puts) + i], _h.Root, default);
                Assert.Equal(["AWSCURRENT"], response.VersionStages);
            }

            perPut = (GC.GetAllocatedBytesForCurrentThread() - before) / Puts;
        }

        output.WriteLine($"{perPut} B per put");
        Assert.InRange(perPut, 0, Budget);
        var labels = await _h.Labels("budget");
        Assert.Equal(["AWSCURRENT"], labels[requests[^1].ClientRequestToken!]);
        Assert.Equal(["AWSPREVIOUS"], labels[requests[^2].ClientRequestToken!]);
        Assert.Equal(2, labels.Count);
    }
}
