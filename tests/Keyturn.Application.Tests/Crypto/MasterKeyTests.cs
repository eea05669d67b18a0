using System.Security.Cryptography;
using System.Text;
using Keyturn.Application.Crypto;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Keyturn.Application.Tests.Crypto;

/// <summary>
/// The master key is never silently replaced: the store knows which key ids seal its data and refuses any other key;
/// a rotation re-wraps every data key (values, access keys', functions' keys), survives a crash, and retires the old key.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class MasterKeyTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("keyturn-mk-");
    private readonly List<IDisposable> _disposables = [];

    private string DataDirectory => _directory.FullName;

    [Fact]
    public async Task Guard_EmptyStore_GetsANewKeyOnlyFromACallerAllowedToCreateOne()
    {
        var store = Store();
        var refused = await Assert.ThrowsAsync<KeyturnStartupException>(() => MasterKeyGuard.OpenAsync(store, DataDirectory, null, null, TimeProvider.System, default));
        Assert.Contains("never creates one", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(MasterKeyring.PathIn(DataDirectory)));

        var created = await MasterKeyGuard.OpenAsync(store, DataDirectory, null, Create, TimeProvider.System, default);
        Assert.True(File.Exists(MasterKeyring.PathIn(DataDirectory)));
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(MasterKeyring.PathIn(DataDirectory)));
        Assert.Equal([created.Primary.Id], await Registered(store));
    }

    [Theory]
    [InlineData("a store with data and no key is refused, even for serve", false, false)]
    [InlineData("a store with data and another key is refused", true, false)]
    [InlineData("a store whose key registry lost its rows still knows the key sealing its data", true, true)]
    public async Task Guard_StoreWithData_RefusesAnyKeyButItsOwn(string because, bool otherKey, bool forgetRegistry)
    {
        var store = Store();
        var original = await MasterKeyGuard.OpenAsync(store, DataDirectory, null, Create, TimeProvider.System, default);
        await Services(store, new EnvelopeCipher(original)).keys.CreateAsync("app", AllowAll, default);
        if (forgetRegistry)
        {
            using var connection = new SqliteConnection("Data Source=" + SqliteDatabase.PathIn(DataDirectory));
            connection.Open();
            using var forget = connection.CreateCommand();
            forget.CommandText = "DELETE FROM master_keys";
            forget.ExecuteNonQuery();
        }

        File.Delete(MasterKeyring.PathIn(DataDirectory));
        var other = otherKey ? MasterKeyring.Fixed(RandomNumberGenerator.GetBytes(32)) : null;
        var refused = await Assert.ThrowsAsync<KeyturnStartupException>(() => MasterKeyGuard.OpenAsync(store, DataDirectory, other, Create, TimeProvider.System, default));

        Assert.True(refused.Message.Contains(original.Primary.Id, StringComparison.Ordinal), because);
        Assert.Contains(DataDirectory, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', refused.Message);
        Assert.False(File.Exists(MasterKeyring.PathIn(DataDirectory)), "no key may be created for a store with data: " + because);
        if (other is not null)
        {
            Assert.Contains(other.Primary.Id, refused.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("master.key")]
    [InlineData("root-credentials")]
    public void KeyFiles_OpenToGroupOrOthers_AreRefusedWithTheFix(string file)
    {
        var path = Path.Combine(DataDirectory, file);
        File.WriteAllText(path, file == "master.key"
            ? MasterKey.Raw(RandomNumberGenerator.GetBytes(32)).Line + "\n"
            : "[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = example\n");
        File.SetUnixFileMode(path, PrivateFiles.FileMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var refused = Assert.Throws<KeyturnStartupException>(() =>
        {
            if (file == "master.key")
            {
                MasterKeyring.TryOpen(DataDirectory, null, null, TimeProvider.System);
            }
            else
            {
                RootCredentials.Load(DataDirectory, null, null);
            }
        });
        Assert.Contains("chmod 600 " + path, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void KeyFile_LegacyBareKeyIsRead_AndALineWhoseIdDoesNotMatchItsKeyIsRefused()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var path = MasterKeyring.PathIn(DataDirectory);
        PrivateFiles.WriteNew(path, Convert.ToBase64String(key) + "\n");
        Assert.Equal(MasterKey.IdOf(key), MasterKeyring.TryOpen(DataDirectory, null, null, TimeProvider.System)!.Primary.Id);

        PrivateFiles.Replace(path, $"mk-000000000000 raw {Convert.ToBase64String(key)}\n");
        var refused = Assert.Throws<KeyturnStartupException>(() => MasterKeyring.TryOpen(DataDirectory, null, null, TimeProvider.System));
        Assert.Contains("mk-000000000000", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rewrap_ChangesOnlyTheWrappingKey_AndKeepsTheBlobBoundToItsContext()
    {
        var (oldKey, newKey) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var sealedByOld = new EnvelopeCipher(oldKey).Encrypt("s3cret"u8, "arn|v1");

        var rotating = new EnvelopeCipher(MasterKeyring.Fixed(newKey, oldKey));
        Assert.Equal("s3cret", Encoding.UTF8.GetString(rotating.Decrypt(sealedByOld, "arn|v1")));
        Assert.ThrowsAny<CryptographicException>(() => rotating.Rewrap(sealedByOld, "arn|v2"));
        var rewrapped = rotating.Rewrap(sealedByOld, "arn|v1")!;
        Assert.Null(rotating.Rewrap(rewrapped, "arn|v1"));

        var newOnly = new EnvelopeCipher(newKey);
        Assert.Equal(MasterKey.IdOf(newKey), EnvelopeCipher.KeyIdOf(rewrapped));
        Assert.Equal("s3cret", Encoding.UTF8.GetString(newOnly.Decrypt(rewrapped, "arn|v1")));
        Assert.ThrowsAny<CryptographicException>(() => newOnly.Decrypt(rewrapped, "arn|v2"));
        Assert.ThrowsAny<CryptographicException>(() => newOnly.Decrypt(sealedByOld, "arn|v1"));
    }

    [Fact]
    public async Task Rotate_CrashedMidPass_ResumesAndEveryValueAndKeyStillOpens()
    {
        var store = Store();
        var first = await MasterKeyGuard.OpenAsync(store, DataDirectory, null, Create, TimeProvider.System, default);
        var before = first.Primary;
        var (_, keys, functions) = Services(store, new EnvelopeCipher(first));
        var harness = Harness(new EnvelopeCipher(first));
        for (var i = 0; i < 12; i++)
        {
            await harness.Create($"app/s{i}", $"value-{i}-a");
            await harness.Put($"app/s{i}", $"value-{i}-b");
        }

        var created = await keys.CreateAsync("app", AllowAll, default);
        await functions.RegisterAsync(new FunctionRegistration("rotator", FunctionKind.Command, "/bin/true", TimeSpan.FromSeconds(5))
        {
            Environment = new Dictionary<string, string> { ["ROTATOR_TOKEN"] = "env-value-1" },
        }, default);
        var total = (await store.ReadAsync(async (s, ct) => await s.CountSealedByKeyAsync(ct), default)).Values.Sum();

        // The first run dies after two committed batches, as a killed process would (each batch is one transaction).
        var crashing = new MasterKeyRotation(store, new EnvelopeCipher(Reopen()), TimeProvider.System);
        var batches = 0;
        await Assert.ThrowsAsync<SimulatedCrash>(() => crashing.RunAsync(DataDirectory, null, null, 5, _ => { }, _ =>
        {
            if (++batches == 2)
            {
                throw new SimulatedCrash();
            }
        }, default));

        var midway = Reopen();
        Assert.Equal(2, midway.Keys.Count);
        var counts = await store.ReadAsync(async (s, ct) => await s.CountSealedByKeyAsync(ct), default);
        Assert.Equal(10, counts[midway.Primary.Id]);
        Assert.Equal(total - 10, counts[before.Id]);

        // A server that still holds only the old key learns the new one from the file when it meets it.
        Assert.Equal(before.Id, first.Keys.Single().Id);
        await AssertEverythingOpens(new EnvelopeCipher(first), created);

        var outcome = await new MasterKeyRotation(store, new EnvelopeCipher(Reopen()), TimeProvider.System)
            .RunAsync(DataDirectory, null, null, 5, _ => { }, null, default);
        Assert.True(outcome.Resumed);
        Assert.Equal(total - 10, outcome.Rewrapped);

        var after = Reopen();
        Assert.Equal([midway.Primary.Id], after.Keys.Select(k => k.Id));
        Assert.Equal(new Dictionary<string, long> { [after.Primary.Id] = total }, await store.ReadAsync(async (s, ct) => await s.CountSealedByKeyAsync(ct), default));
        await AssertEverythingOpens(new EnvelopeCipher(MasterKeyring.Fixed(after.Primary.Key)), created);

        var backup = MasterKeyRotation.BackupPath(DataDirectory, before.Id);
        Assert.Equal([backup], outcome.Backups);
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(backup));
        Assert.Contains(before.Line, await File.ReadAllTextAsync(backup), StringComparison.Ordinal);

        // A server that missed the rotation's end cannot seal anything more with the retired key: the store refuses it.
        var stale = Harness(new EnvelopeCipher(MasterKeyring.Fixed(before.Key)));
        var error = await Assert.ThrowsAsync<SqliteException>(() => stale.Create("app/late", "late"));
        Assert.Contains("retired master key", error.Message, StringComparison.Ordinal);

        // And the retired key alone no longer opens the store.
        var refused = await Assert.ThrowsAsync<KeyturnStartupException>(() =>
            MasterKeyGuard.OpenAsync(store, DataDirectory, MasterKeyring.Fixed(before.Key), null, TimeProvider.System, default));
        Assert.Contains(after.Primary.Id, refused.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        TestDirectories.Delete(_directory.FullName);
    }

    private const string AllowAll = """{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}""";

    private async Task AssertEverythingOpens(EnvelopeCipher cipher, AccessKeyService.CreatedKey created)
    {
        var harness = Harness(cipher);
        var (_, keys, _) = Services(harness.Store, cipher);
        var store = harness.Store;
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal($"value-{i}-b", (await harness.Get($"app/s{i}")).SecretString);
            Assert.Equal($"value-{i}-a", (await harness.Get($"app/s{i}", stage: "AWSPREVIOUS")).SecretString);
        }

        Assert.Equal(created.SecretAccessKey, (await keys.ResolveAsync(created.AccessKeyId, default))?.SecretAccessKey);
        // Functions hold no key of their own (each invocation gets a temporary one), so there is nothing of that to re-wrap;
        // their environment variables are sealed like values and re-wrapped with them.
        var function = await store.ReadAsync(async (s, ct) => await s.FindFunctionAsync("rotator", ct), default);
        Assert.Null(function!.EncryptedSecretAccessKey);
        Assert.Equal("env-value-1", FunctionService.OpenEnvironment(function, cipher)["ROTATOR_TOKEN"]);
    }

    private static (SecretServices services, AccessKeyService keys, FunctionService functions) Services(ISecretStore store, EnvelopeCipher cipher)
    {
        var options = new KeyturnOptions();
        var keys = new AccessKeyService(store, cipher, new RootCredentials("AKIAROOT", "root-secret", false), options, TimeProvider.System);
        return (new SecretServices(store, cipher, new Authorizer(options), options, TimeProvider.System), keys, new FunctionService(store, keys, options, TimeProvider.System, cipher));
    }

    private ServiceHarness Harness(EnvelopeCipher cipher)
    {
        var harness = new ServiceHarness(realTime: true, DataDirectory, cipher);
        _disposables.Add(harness);
        return harness;
    }

    private MasterKeyring Create() => MasterKeyring.Create(DataDirectory, null, null, TimeProvider.System);

    private MasterKeyring Reopen() => MasterKeyring.TryOpen(DataDirectory, null, null, TimeProvider.System)!;

    private SqliteSecretStore Store()
    {
        var database = SqliteDatabase.Open(SqliteDatabase.PathIn(DataDirectory));
        _disposables.Add(database);
        return database.Secrets;
    }

    private static async Task<string[]> Registered(ISecretStore store) =>
        [.. (await store.ReadAsync(async (s, ct) => await s.ListMasterKeysAsync(ct), default)).Select(k => k.KeyId)];

    private sealed class SimulatedCrash : Exception;
}
