using System.Security.Cryptography;
using System.Text;
using Keyturn.Application;
using Keyturn.Application.Crypto;
using Keyturn.Application.Operations;
using Keyturn.Application.Security;
using Keyturn.Domain.Policies;
using Keyturn.Storage.PostgreSql;
using Xunit.Abstractions;

namespace Keyturn.Storage.Tests;

/// <summary>
/// What a GetSecretValue allocates between the parsed request and the value written out, on the PostgreSQL store: the
/// store read, the identity policy's evaluation and the envelope decryption, as the server runs them per request.
/// </summary>
[Collection(AllocationCountCollection.Name)]
public sealed class PostgreSqlGetSecretValueBudgetTests(PostgresServerFixture server, ITestOutputHelper output)
{
    private const int Requests = 2000;

    [Fact]
    public async Task Getting_a_value_as_an_application_key_on_PostgreSQL_stays_within_its_allocation_budget()
    {
        // Measured at 1,333 B per request: the store read (the secret and its versions, Npgsql's statement), the
        // authorization request and its condition context, the decryption's cipher context and pooled plaintext, the
        // answer, and the unit's closure and delegate. It was 1,776 B while the storage port returned a Task and took work
        // returning one (an unpooled frame for each) and each read allocated its own session.
        const int Budget = 1_450;
        await using var database = await PostgreSqlDatabase.OpenAsync(await server.CreateDatabaseAsync());
        var options = new KeyturnOptions();
        var services = new SecretServices(
            database.SecretStore, new EnvelopeCipher(RandomNumberGenerator.GetBytes(32)), new Authorizer(options, TimeProvider.System), options, TimeProvider.System);
        var root = new RequestContext("req-root", StoreTestData.Region, new CallerIdentity("AKIAROOT", "arn:aws:iam::000000000000:root", IsRoot: true, IdentityPolicy: null));
        const string Value = """{"username":"app","password":"correct horse battery staple"}""";
        await new CreateSecretHandler(services).ExecuteAsync(
            new CreateSecretRequest("bench-budget", Guid.NewGuid().ToString(), null, null, null, Value, null, null, null, null), root, default);

        // The bench's caller: an application key whose policy allows the action under an aws:SourceIp condition beside a Deny.
        var policy = PolicyDocument.Parse(
            """
            {"Version":"2012-10-17","Statement":[
              {"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:bench-*",
               "Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},
              {"Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:prod/*"}]}
            """, PolicyKind.Identity);
        var caller = new RequestContext(
            "req-app", StoreTestData.Region, new CallerIdentity("AKIAAPP", "arn:aws:iam::000000000000:user/app", IsRoot: false, IdentityPolicy: policy), "127.0.0.1");
        var handler = new GetSecretValueHandler(services);
        var request = new GetSecretValueRequest("bench-budget", null, null);

        using (var value = await handler.ExecutePooledAsync(request, caller, default))
        {
            Assert.Equal(Value, Encoding.UTF8.GetString(value.Plaintext));
        }

        // The warm-up's first reads also record the access date (one write a day), outside the count.
        var perRequest = await AllocationCountCollection.BytesPerCallAsync(requests => GetManyAsync(handler, request, caller, requests), Requests);

        output.WriteLine($"{perRequest} B per request");
        Assert.InRange(perRequest, 0, Budget);

        // The policy is evaluated on every request: outside its source range the same key is refused.
        var elsewhere = caller with { SourceIp = "192.0.2.1" };
        var denied = await Assert.ThrowsAsync<Keyturn.Domain.Errors.ServiceException>(async () => await handler.ExecutePooledAsync(request, elsewhere, default));
        Assert.Equal(Keyturn.Domain.Errors.ErrorKind.AccessDenied, denied.Kind);
    }

    private static async Task GetManyAsync(GetSecretValueHandler handler, GetSecretValueRequest request, RequestContext caller, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            using var value = await handler.ExecutePooledAsync(request, caller, default);
            if (value.Plaintext.Length == 0)
            {
                throw new InvalidOperationException("The value is empty.");
            }
        }
    }
}
