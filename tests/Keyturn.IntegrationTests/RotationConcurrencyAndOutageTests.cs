using System.Text.Json;
using System.Text.RegularExpressions;
using Keyturn.Application.Rotation;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;
using Npgsql;

namespace Keyturn.IntegrationTests;

/// <summary>
/// Concurrent RotateSecret calls on one secret through the real server, and a PostgreSQL server that stops in the
/// middle of the server's life (before a rotation, and between setSecret and testSecret): the rotation retries as
/// transient, the labels stay in the documented state, nobody is locked out, and it completes once the database is back.
/// </summary>
[Collection(CrashPostgresCollection.Name)]
public sealed class RotationConcurrencyAndOutageTests(CrashPostgres db) : IAsyncLifetime
{
    private const string Function = "keyturn-postgresql-single-user";
    private const string FunctionArn = "arn:aws:lambda:us-east-1:000000000000:function:" + Function;
    private const string InitialPassword = "initial-Pw-1";
    private const string NotComplete = "A previous rotation isn't complete. That rotation will be reattempted.";

    private readonly CrashHarness _keyturn = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _keyturn.DisposeAsync();

    /// <summary>
    /// Eight RotateSecret calls at once, each with its own token. A row lock on the role holds the winning rotation in
    /// setSecret, so every call overlaps it: exactly one is accepted, the others get AWS's InvalidRequestException,
    /// and only one rotation ever runs, under one lease.
    /// </summary>
    [DatabaseTheory]
    [InlineData("raw")]
    [InlineData("aws-cli")]
    public async Task ConcurrentRotateSecret_ExactlyOneRotationRuns(string client)
    {
        var (user, name, arn, v1) = await SecretAsync();
        await using var holder = await db.OpenSuperuserAsync();
        var lockRole = await holder.BeginTransactionAsync();
        await CrashPostgres.ExecuteAsync(holder, $"SELECT 1 FROM pg_catalog.pg_authid WHERE rolname = '{user}' FOR UPDATE");

        var tokens = Enumerable.Range(0, 8).Select(_ => Guid.NewGuid().ToString()).ToList();
        var outcomes = client == "raw" ? await RawCallsAsync(name, tokens) : await CliCallsAsync(name, tokens);

        var accepted = Assert.Single(outcomes, o => o.Error is null);
        Assert.All(outcomes.Where(o => o.Error is not null), o => Assert.Equal(("InvalidRequestException", NotComplete), o.Error!.Value));
        Assert.Equal(accepted.Token, (await _keyturn.StagesAsync(name)).Single(s => s.Value.SequenceEqual(["AWSPENDING"])).Key);

        // Still held: a late caller is refused the same way.
        var late = await _keyturn.Cli.ErrorAsync("InvalidRequestException", "secretsmanager", "rotate-secret", "--secret-id", name);
        Assert.Contains(NotComplete, late, StringComparison.Ordinal);

        await lockRole.RollbackAsync();
        await lockRole.DisposeAsync();
        await _keyturn.WaitForSuccessAsync(name, accepted.Token);

        // One rotation, one runner: every journal entry under one node and fencing token; no version from a refused call.
        Assert.Equal(1, await _keyturn.CountRotationsAsync(arn));
        var journal = await _keyturn.JournalAsync(accepted.Token);
        Assert.Equal(("FinishSecret", "End", "succeeded"), (journal[^1].Step, journal[^1].Phase, journal[^1].Outcome));
        Assert.Single(journal.Select(j => (j.Node, j.Fencing)).Distinct());
        var stages = await _keyturn.StagesAsync(name);
        Assert.Equal(2, stages.Count);
        Assert.Equal(["AWSCURRENT"], stages[accepted.Token]);
        Assert.Equal(["AWSPREVIOUS"], stages[v1]);
        var versions = await _keyturn.Cli.JsonAsync("secretsmanager", "list-secret-version-ids", "--secret-id", name, "--include-deprecated");
        Assert.Equal(2, versions.GetProperty("Versions").GetArrayLength());
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, await _keyturn.FieldAsync(name, accepted.Token, "password")));
        Assert.Equal(LoginOutcome.AuthFailed, await db.ProbeAsync(user, InitialPassword));

        // Healthy afterwards: the next rotation is accepted and completes.
        var next = await _keyturn.RotateAsync(name, Function);
        await _keyturn.WaitForSuccessAsync(name, next);
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, await _keyturn.FieldAsync(name, next, "password")));
    }

    /// <summary>
    /// PostgreSQL stopped before the rotation: setSecret can't reach it and retries as a transient failure, the
    /// labels stay AWSCURRENT on the old version and AWSPENDING on the new one (state C), RotateSecret is refused.
    /// Once the server is back, the same rotation completes; the next one succeeds too.
    /// </summary>
    [DatabaseFact]
    public async Task PostgreSqlStopped_RotationRetries_CompletesWhenTheServerIsBack()
    {
        var (user, name, _, v1) = await SecretAsync();
        string token;
        await db.StopServerAsync();
        try
        {
            token = await _keyturn.RotateAsync(name, Function);
            var state = await _keyturn.WaitForStatusAsync(token, "Retrying SetSecret");
            Assert.Contains("unreachable", state, StringComparison.Ordinal);
            var stages = await _keyturn.StagesAsync(name);
            Assert.Equal(["AWSCURRENT"], stages[v1]);
            Assert.Equal(["AWSPENDING"], stages[token]);
            var refused = await _keyturn.Cli.ErrorAsync("InvalidRequestException", "secretsmanager", "rotate-secret", "--secret-id", name);
            Assert.Contains(NotComplete, refused, StringComparison.Ordinal);
        }
        finally
        {
            await db.StartServerAgainAsync();
        }

        await _keyturn.WaitForSuccessAsync(name, token);
        var stagesAfter = await _keyturn.StagesAsync(name);
        Assert.Equal(["AWSCURRENT"], stagesAfter[token]);
        Assert.Equal(["AWSPREVIOUS"], stagesAfter[v1]);
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, await _keyturn.FieldAsync(name, token, "password")));
        Assert.Equal(LoginOutcome.AuthFailed, await db.ProbeAsync(user, InitialPassword));
        Assert.Contains(await _keyturn.JournalAsync(token), r => r.Step == "SetSecret" && r.Outcome == "failed");

        var next = await _keyturn.RotateAsync(name, Function);
        await _keyturn.WaitForSuccessAsync(name, next);
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, await _keyturn.FieldAsync(name, next, "password")));
    }

    /// <summary>
    /// PostgreSQL stops right after setSecret changed the password: testSecret retries as transient, the labels still
    /// name the old version current, and the pending version holds the only working password (state D). Nothing removes
    /// AWSPENDING, and when the server is back the rotation rolls forward.
    /// </summary>
    [DatabaseFact]
    public async Task PostgreSqlStoppedAfterSetSecret_TestSecretRetries_RollsForwardWhenTheServerIsBack()
    {
        var (user, name, _, v1) = await SecretAsync("end:setSecret");
        var token = await _keyturn.RotateAsync(name, Function);
        await _keyturn.WaitForPauseAsync(token);
        var pending = await _keyturn.FieldAsync(name, token, "password");
        await db.StopServerAsync();
        try
        {
            File.Delete(_keyturn.PauseFile);
            var state = await _keyturn.WaitForStatusAsync(token, "Retrying TestSecret");
            Assert.Contains("testSecret: Unable to log into database with pending secret", state, StringComparison.Ordinal);
            var stages = await _keyturn.StagesAsync(name);
            Assert.Equal(["AWSCURRENT"], stages[v1]);
            Assert.Equal(["AWSPENDING"], stages[token]);
        }
        finally
        {
            await db.StartServerAgainAsync();
        }

        // The database has the pending password whether or not the retry has run yet: nobody is locked out.
        Assert.Equal(LoginOutcome.Ok, await db.ProbeAsync(user, pending));
        Assert.Equal(LoginOutcome.AuthFailed, await db.ProbeAsync(user, InitialPassword));

        await _keyturn.WaitForSuccessAsync(name, token);
        var after = await _keyturn.StagesAsync(name);
        Assert.Equal(["AWSCURRENT"], after[token]);
        Assert.Equal(["AWSPREVIOUS"], after[v1]);
        Assert.Equal(pending, await _keyturn.FieldAsync(name, token, "password"));
        var journal = await _keyturn.JournalAsync(token);
        Assert.Single(journal, r => r.Step == "SetSecret" && r.Phase == "Begin");
        Assert.Contains(journal, r => r.Step == "TestSecret" && r.Outcome == "failed");
    }

    private Task<(string User, string Name, string Arn, string V1)> SecretAsync(string? pause = null) =>
        _keyturn.StartWithSecretAsync(db, "conc_", "pg/concurrent/", InitialPassword, pause);

    private sealed record Outcome(string Token, (string Code, string Message)? Error);

    /// <summary>Signed HTTP requests released together, so they reach the server at the same moment.</summary>
    private async Task<List<Outcome>> RawCallsAsync(string name, List<string> tokens)
    {
        using var raw = new RawClient(_keyturn.Server);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = tokens.Select(token => Task.Run(async () =>
        {
            await go.Task;
            var body = JsonSerializer.Serialize(new
            {
                SecretId = name,
                ClientRequestToken = token,
                RotationLambdaARN = FunctionArn,
                RotationRules = new { AutomaticallyAfterDays = 30 },
            });
            var reply = await raw.SendAsync("RotateSecret", body);
            if (reply.Status == 200)
            {
                Assert.Equal(token, reply.Json.GetProperty("VersionId").GetString());
                return new Outcome(token, null);
            }

            Assert.Equal(400, reply.Status);
            return new Outcome(token, (reply.Json.GetProperty("__type").GetString()!, reply.Json.GetProperty("Message").GetString()!));
        })).ToList();
        go.SetResult();
        return [.. await Task.WhenAll(calls)];
    }

    /// <summary>Eight AWS CLI processes started together.</summary>
    private async Task<List<Outcome>> CliCallsAsync(string name, List<string> tokens)
    {
        var calls = tokens.Select(async token =>
        {
            var result = await _keyturn.Cli.RunAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--client-request-token", token,
                "--rotation-lambda-arn", FunctionArn, "--rotation-rules", "AutomaticallyAfterDays=30");
            if (result.ExitCode == 0)
            {
                Assert.Equal(token, JsonDocument.Parse(result.Stdout).RootElement.GetProperty("VersionId").GetString());
                return new Outcome(token, null);
            }

            // "An error occurred (InvalidRequestException) when calling the RotateSecret operation (reached max retries: 0): <message>"
            var error = Regex.Match(result.Stderr, @"An error occurred \((\w+)\) when calling the RotateSecret operation(?: \([^)]*\))?: (.*)");
            Assert.True(error.Success, result.Stderr);
            return new Outcome(token, (error.Groups[1].Value, error.Groups[2].Value.Trim()));
        }).ToList();
        return [.. await Task.WhenAll(calls)];
    }

}
