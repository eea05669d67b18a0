using Keyturn.Application.Operations;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Tests.Operations;

/// <summary>Concurrent writers on one secret serialize: no lost label move, never two holders of a label.</summary>
public sealed class ConcurrencyTests : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task PutSecretValue_ManyConcurrentWriters_EveryWriteLandsAndLabelsStayConsistent()
    {
        await _h.Create("busy", "v0");

        var writes = Enumerable.Range(1, 40).Select(i => Task.Run(() => _h.Put("busy", "v" + i))).ToList();
        var results = await Task.WhenAll(writes);

        var versions = await _h.Versions("busy", includeDeprecated: true);
        Assert.Equal(41, versions.Versions.Count);
        Assert.Single(versions.Versions, v => v.VersionStages?.Contains("AWSCURRENT") == true);
        Assert.Single(versions.Versions, v => v.VersionStages?.Contains("AWSPREVIOUS") == true);
        var current = await _h.Get("busy");
        Assert.Contains(results, r => r.VersionId == current.VersionId);
    }

    [Fact]
    public async Task UpdateSecretVersionStage_RacingCompareAndSwaps_ExactlyOneWins()
    {
        var v1 = (await _h.Create("race", "one")).VersionId!;
        var candidates = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            candidates.Add((await _h.Put("race", "c" + i, stages: ["C" + i])).VersionId);
        }

        var attempts = candidates.Select(target => Task.Run(async () =>
        {
            try
            {
                await _h.Stage("race", "AWSCURRENT", v1, target);
                return true;
            }
            catch (ServiceException e) when (e.Kind == ErrorKind.InvalidParameter)
            {
                return false;
            }
        })).ToList();

        var outcomes = await Task.WhenAll(attempts);

        Assert.Single(outcomes, won => won);
        var labels = await _h.Labels("race");
        Assert.Equal(["AWSPREVIOUS"], labels[v1]);
        Assert.Single(labels.Values, l => l.Contains("AWSCURRENT"));
    }

    [Fact]
    public async Task CreateSecret_SameNameConcurrently_OneSecret()
    {
        var attempts = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            try
            {
                await _h.Create("dup", "v" + i);
                return true;
            }
            catch (ServiceException e) when (e.Kind == ErrorKind.ResourceExists)
            {
                return false;
            }
        }));

        var outcomes = await Task.WhenAll(attempts);

        Assert.Single(outcomes, created => created);
        var list = await new ListSecretsHandler(_h.Services).ExecuteAsync(new ListSecretsRequest(null, null, null, null, null, null), _h.Root, default);
        Assert.Single(list.SecretList, s => s.Name == "dup");
    }
}
