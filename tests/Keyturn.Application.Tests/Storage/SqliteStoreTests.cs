using Keyturn.Domain.Errors;

namespace Keyturn.Application.Tests.Storage;

/// <summary>
/// The store keeps connections open with their statements prepared, and a save rewrites only the version
/// rows that changed; neither may change what is stored.
/// </summary>
public sealed class SqliteStoreTests : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task PutSecretValue_AfterRead_KeepsEveryVersionsLastAccessedDate()
    {
        var v1 = (await _h.Create("s", "one")).VersionId!;
        _h.Clock.Advance(TimeSpan.FromDays(1));
        await _h.Get("s");
        var read = new DateTimeOffset(_h.Clock.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        _h.Clock.Advance(TimeSpan.FromDays(1));

        var v2 = (await _h.Put("s", "two")).VersionId;
        await _h.Put("s", "three");

        var versions = (await _h.Versions("s", includeDeprecated: true)).Versions.ToDictionary(v => v.VersionId);
        Assert.Equal(read, versions[v1].LastAccessedDate);
        Assert.Null(versions[v2].LastAccessedDate);
        Assert.Equal(3, versions.Count);
    }

    [Fact]
    public async Task FailedReadsAndWrites_RollBackAndLeaveTheStoreUsable()
    {
        await _h.Create("s", "one");
        var token = ServiceHarness.Token();
        await _h.Put("s", "two", token);
        for (var i = 0; i < 40; i++)
        {
            await ServiceHarness.Fails(() => _h.Get("missing"), ErrorKind.ResourceNotFound);
            await ServiceHarness.Fails(() => _h.Put("s", "other", token), ErrorKind.ResourceExists);
        }

        Assert.Equal(2, (await _h.Versions("s", includeDeprecated: true)).Versions.Count);
        await _h.Put("s", "three");
        Assert.Equal("three", (await _h.Get("s")).SecretString);
    }

    [Fact]
    public async Task ConcurrentReadsAndWrites_SeeCommittedValues()
    {
        await _h.Create("s", "0");
        var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                Assert.True(int.Parse((await _h.Get("s")).SecretString!, System.Globalization.CultureInfo.InvariantCulture) >= 0);
            }
        }));
        var writer = Task.Run(async () =>
        {
            for (var i = 1; i <= 50; i++)
            {
                await _h.Put("s", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        });

        await Task.WhenAll([.. readers, writer]);
        Assert.Equal("50", (await _h.Get("s")).SecretString);
    }
}
