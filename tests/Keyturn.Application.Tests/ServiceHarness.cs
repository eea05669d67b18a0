using System.Security.Cryptography;
using Keyturn.Application;
using Keyturn.Application.Crypto;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Domain.Errors;
using Keyturn.Domain.Passwords;
using Keyturn.Rotators.Tests.Infrastructure;
using Keyturn.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Keyturn.Application.Tests;

/// <summary>The operations over a real SQLite store in a temporary directory, with a fake clock.</summary>
public sealed class ServiceHarness : IDisposable
{
    private readonly DirectoryInfo _directory;
    private readonly bool _ownsDirectory;
    private HandlerWorkerPool? _workers;

    /// <param name="realTime">The rotation engine waits on its clock (retries, leases), so its tests use real time.</param>
    /// <param name="dataDirectory">An existing data directory to work in (kept on dispose); a new temporary one otherwise.</param>
    /// <param name="cipher">The cipher to seal with; one over a random master key otherwise.</param>
    public ServiceHarness(bool realTime = false, string? dataDirectory = null, EnvelopeCipher? cipher = null)
    {
        _ownsDirectory = dataDirectory is null;
        _directory = dataDirectory is null ? Directory.CreateTempSubdirectory("keyturn-app-") : new DirectoryInfo(dataDirectory);
        Clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 28, 9, 50, 6, 6, TimeSpan.Zero));
        Time = realTime ? TimeProvider.System : Clock;
        Database = SqliteDatabase.Open(SqliteDatabase.PathIn(_directory.FullName));
        Cipher = cipher ?? new EnvelopeCipher(RandomNumberGenerator.GetBytes(32));
        var options = new KeyturnOptions();
        Authorizer = new Authorizer(options, Time);
        Services = new SecretServices(Store, Cipher, Authorizer, options, Time);
        Root = new RequestContext("req-1", "us-east-1", new CallerIdentity("AKIAROOT", "arn:aws:iam::000000000000:root", IsRoot: true, IdentityPolicy: null));
        AccessKeys = new AccessKeyService(Store, Cipher, new RootCredentials("AKIAROOT", "root-secret-access-key", Generated: false), options, Time);
    }

    /// <summary>Access keys beyond root, over the same store and clock (rotation functions' temporary keys too).</summary>
    public AccessKeyService AccessKeys { get; }

    /// <summary>The external-function factory the server builds, with per-invocation keys from <see cref="AccessKeys"/>.</summary>
    public ExternalFunctionFactory ExternalFunctions(RotationOptions options) =>
        new(new RotationCredentials(AccessKeys, Services, options, Time), options, Cipher, Workers);

    /// <summary>The warm workers of handler functions, stopped when the harness is disposed.</summary>
    public HandlerWorkerPool Workers => _workers ??= new HandlerWorkerPool(TimeProvider.System);

    /// <summary>A request signed by a new access key with this IAM policy, as the server would see it.</summary>
    public async Task<RequestContext> As(string userName, string policyJson)
    {
        var key = await AccessKeys.CreateAsync(userName, policyJson, default);
        return new RequestContext("req-" + userName, "us-east-1", (await AccessKeys.ResolveAsync(key.AccessKeyId, default))!.Identity);
    }

    public FakeTimeProvider Clock { get; }

    public TimeProvider Time { get; }

    /// <summary>The database, which also holds the logs (<see cref="SqliteDatabase.Logs"/>).</summary>
    public SqliteDatabase Database { get; }

    public SqliteSecretStore Store => Database.Secrets;

    public EnvelopeCipher Cipher { get; }

    public Authorizer Authorizer { get; }

    public SecretServices Services { get; }

    public RequestContext Root { get; }

    public string DatabasePath => Database.Path;

    public static string Token() => Guid.NewGuid().ToString();

    public Task<CreateSecretResponse> Create(string name, string? value = "v", string? token = null, string? description = null) =>
        new CreateSecretHandler(Services).ExecuteAsync(new CreateSecretRequest(name, value is null ? token : token ?? Token(), description, null, null, value, null, null, null, null), Root, default);

    public Task<PutSecretValueResponse> Put(string id, string value, string? token = null, IReadOnlyList<string>? stages = null) =>
        new PutSecretValueHandler(Services).ExecuteAsync(new PutSecretValueRequest(id, token ?? Token(), null, value, stages, null), Root, default);

    public Task<GetSecretValueResponse> Get(string id, string? versionId = null, string? stage = null) =>
        new GetSecretValueHandler(Services).ExecuteAsync(new GetSecretValueRequest(id, versionId, stage), Root, default);

    public Task<DescribeSecretResponse> Describe(string id) =>
        new DescribeSecretHandler(Services).ExecuteAsync(new DescribeSecretRequest(id), Root, default);

    public Task<ListSecretVersionIdsResponse> Versions(string id, bool includeDeprecated = false) =>
        new ListSecretVersionIdsHandler(Services).ExecuteAsync(new ListSecretVersionIdsRequest(id, null, null, includeDeprecated), Root, default);

    public Task<SecretReference> Stage(string id, string stage, string? remove, string? move) =>
        new UpdateSecretVersionStageHandler(Services).ExecuteAsync(new UpdateSecretVersionStageRequest(id, stage, remove, move), Root, default);

    /// <summary>Labels by version id, e.g. {v1: [AWSPREVIOUS], v2: [AWSCURRENT]}.</summary>
    public async Task<Dictionary<string, string[]>> Labels(string id) =>
        (await Versions(id)).Versions.ToDictionary(v => v.VersionId, v => v.VersionStages!.Order(StringComparer.Ordinal).ToArray());

    public static async Task<ServiceException> Fails(Func<Task> action, ErrorKind kind, string? message = null)
    {
        var error = await Assert.ThrowsAsync<ServiceException>(action);
        Assert.Equal(kind, error.Kind);
        if (message is not null)
        {
            Assert.Equal(message, error.Message);
        }

        return error;
    }

    public void Dispose()
    {
        _workers?.Dispose();
        Database.Dispose();
        if (_ownsDirectory)
        {
            TestDirectories.Delete(_directory.FullName);
        }
    }
}
