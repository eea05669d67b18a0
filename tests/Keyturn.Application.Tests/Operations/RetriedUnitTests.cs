using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Application.Tests.Rotation;
using Keyturn.Domain.Listing;

namespace Keyturn.Application.Tests.Operations;

/// <summary>
/// A backend may run a unit of work again after a serialization failure (the port's contract), so an operation must
/// give the same outcome whether its units ran once or twice: nothing the unit does may be seen outside it until it commits.
/// </summary>
public sealed class RetriedUnitTests : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly SecretServices _retried;

    public RetriedUnitTests()
    {
        _retried = new SecretServices(new RetryingStore(_h.Store), _h.Cipher, _h.Authorizer, new KeyturnOptions(), _h.Time);
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task BatchGetSecretValue_UnitRunTwice_ReturnsEachValueOnce()
    {
        await _h.Create("app/one", "first");
        await _h.Create("app/two", "second");

        var byIds = await new BatchGetSecretValueHandler(_retried).ExecuteAsync(new BatchGetSecretValueRequest(["app/one", "app/two", "app/none"], null, null, null), _h.Root, default);
        var byFilter = await new BatchGetSecretValueHandler(_retried).ExecuteAsync(
            new BatchGetSecretValueRequest(null, [new ListFilter("name", ["app/"])], null, null), _h.Root, default);

        Assert.Equal(["first", "second"], byIds.SecretValues.Select(v => v.SecretString));
        Assert.Equal("app/none", Assert.Single(byIds.Errors).SecretId);
        Assert.Equal(["first", "second"], byFilter.SecretValues.Select(v => v.SecretString));
        Assert.Empty(byFilter.Errors);
    }

    [Fact]
    public async Task PutResourcePolicy_UnitRunTwice_WarnsOnce()
    {
        await _h.Create("app/db", "v");
        const string Policy = """
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:DeleteSecret", "Resource": "*",
              "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}}]}
            """;
        var logger = new ListLogger<PutResourcePolicyHandler>();

        await new PutResourcePolicyHandler(_retried, logger).ExecuteAsync(new PutResourcePolicyRequest("app/db", Policy, null), _h.Root, default);

        Assert.Contains("aws:PrincipalOrgID", Assert.Single(logger.Entries).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValueWrites_UnitsRunTwice_LeaveWhatOneRunWouldHave()
    {
        var token = ServiceHarness.Token();
        var created = await new CreateSecretHandler(_retried).ExecuteAsync(
            new CreateSecretRequest("app/retried", token, null, null, null, "v1", null, null, null, null), _h.Root, default);
        var put = await new PutSecretValueHandler(_retried).ExecuteAsync(new PutSecretValueRequest("app/retried", ServiceHarness.Token(), null, "v2", null, null), _h.Root, default);
        var again = await new CreateSecretHandler(_retried).ExecuteAsync(
            new CreateSecretRequest("app/retried", token, null, null, null, "v1", null, null, null, null), _h.Root, default);

        Assert.Equal(created.ARN, (await _h.Describe("app/retried")).ARN);
        Assert.Equal((created.ARN, token), (again.ARN, again.VersionId));
        Assert.Equal(new Dictionary<string, string[]> { [token] = ["AWSPREVIOUS"], [put.VersionId] = ["AWSCURRENT"] }, await _h.Labels("app/retried"));
        Assert.Equal("v2", (await _h.Get("app/retried")).SecretString);
    }

    /// <summary>Runs every unit twice, as a backend that lost a race at commit would: the first run is rolled back.</summary>
    private sealed class RetryingStore(ISecretStore inner) : ISecretStore
    {
        public async ValueTask<T> ReadAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
        {
            await RolledBackAsync(next => inner.ReadAsync(next, cancellationToken), work).ConfigureAwait(false);
            return await inner.ReadAsync(work, cancellationToken).ConfigureAwait(false);
        }

        public ValueTask<T> WriteAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
            WriteAsync(null, work, cancellationToken);

        public async ValueTask<T> WriteAsync<T>(LeaseFence? fence, Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
        {
            await RolledBackAsync(next => inner.WriteAsync(fence, next, cancellationToken), work).ConfigureAwait(false);
            return await inner.WriteAsync(fence, work, cancellationToken).ConfigureAwait(false);
        }

        private static async Task RolledBackAsync<T>(
            Func<Func<ISecretSession, CancellationToken, ValueTask<T>>, ValueTask<T>> run, Func<ISecretSession, CancellationToken, ValueTask<T>> work)
        {
            try
            {
                await run(async (session, ct) =>
                {
                    await work(session, ct).ConfigureAwait(false);
                    throw new SerializationFailure();
                }).ConfigureAwait(false);
            }
            catch (SerializationFailure)
            {
                // The backend rolled the first run back and runs the unit again.
            }
        }
    }

    private sealed class SerializationFailure : Exception;
}
