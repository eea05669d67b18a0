using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// Which values a rotation invocation must not store, read from the real store, and the engine masking
/// its log and its failure reason (rotation record and journal) with them before anything is written.
/// </summary>
public sealed class SecretRedactionTests : IDisposable
{
    private const string M = SecretRedaction.Mask;

    private readonly ServiceHarness _h = new(realTime: true);

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task MaskerFor_CoversEveryVersionTheMasterAndExtras_NotTheConnectionFields()
    {
        await _h.Create("prod/master", """{"engine":"postgres","host":"db.example","username":"admin","password":"Master-Pw-1"}""");
        var oldest = (await _h.Create("app/db", """{"engine":"postgres","host":"db.example","port":5432,"username":"app","password":"Oldest-Pw-1","masterarn":"prod/master"}""")).VersionId!;
        await _h.Put("app/db", """{"engine":"postgres","host":"db.example","username":"app","pwd":"Pwd-Field-2","conn":"postgresql://app:Conn-Pw-3@db.example/app","nested":{"list":["Nested-Pw-4"]},"ssl":true}""");
        await _h.Put("app/db", """{"engine":"postgres","host":"db.example","username":"app","password":"Newest-Pw-5"}""");
        await _h.Put("app/db", "plain text value 6");
        Assert.DoesNotContain(oldest, (await _h.Labels("app/db")).Keys);
        var arn = (await _h.Describe("app/db")).ARN;

        var masker = await _h.Store.ReadAsync((session, ct) => SecretRedaction.MaskerForAsync(_h.Services, session, arn, ["function-key-7"], ct), default);

        foreach (var value in new[] { "Master-Pw-1", "Oldest-Pw-1", "Pwd-Field-2", "Conn-Pw-3", "Nested-Pw-4", "Newest-Pw-5", "plain text value 6", "function-key-7" })
        {
            Assert.Equal($"[{M}]", masker.Mask($"[{value}]", M));
        }

        Assert.Equal($"url {M}", masker.Mask("url postgresql://app:Conn-Pw-3@db.example/app", M));
        Assert.Equal($"dsn host=db.example password={M}", masker.Mask("dsn host=db.example password=Conn-Pw-3", M));
        const string Descriptive = "setSecret: engine postgres at db.example:5432 for user app and admin via prod/master, ssl true";
        Assert.Equal(Descriptive, masker.Mask(Descriptive, M));
    }

    [Fact]
    public async Task MaskerFor_BinarySecret_MasksItsEncodings()
    {
        byte[] binary = [0xff, 0x00, 0x10, 0x80, 0x7f, 0xfe, 0x01];
        await new CreateSecretHandler(_h.Services).ExecuteAsync(new CreateSecretRequest("bin", ServiceHarness.Token(), null, null, binary, null, null, null, null, null), _h.Root, default);
        var arn = (await _h.Describe("bin")).ARN;

        var masker = await _h.Store.ReadAsync((session, ct) => SecretRedaction.MaskerForAsync(_h.Services, session, arn, [], ct), default);

        Assert.Equal($"b64 {M} hex {M}", masker.Mask($"b64 {Convert.ToBase64String(binary)} hex {Convert.ToHexStringLower(binary)}", M));
    }

    [Fact]
    public async Task Engine_FunctionPrintsValuesAndFailsWithOne_LogJournalAndRecordHoldOnlyMasks()
    {
        await _h.Create("app/leaky", """{"username":"app","password":"Current-Pw-1"}""");
        var logs = new CapturingLogSink();
        var function = new LeakyFunction(_h);
        var options = new RotationOptions { Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), 1) };
        using var engine = new RotationEngine(_h.Store, _h.Services, new RotationFunctionRegistry([function], _h.Store, _h.ExternalFunctions(options)),
            logs, options, _h.Time, NullLogger<RotationEngine>.Instance);
        var token = ServiceHarness.Token();

        await new RotateSecretHandler(_h.Services, new RotationFunctionRegistry([function], _h.Store, _h.ExternalFunctions(options)), engine).ExecuteAsync(
            new RotateSecretRequest("app/leaky", token, "leaky", new RotationRulesType(1, null, null), null), _h.Root, default);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await engine.WaitForIdleAsync(timeout.Token);

        var arn = (await _h.Describe("app/leaky")).ARN;
        var rotation = await _h.Store.RotationAsync(arn, token);
        var journal = await _h.Store.JournalAsync(arn, token);
        var messages = logs.Lines.Select(l => l.Message).ToList();
        string[] stored = [.. messages, rotation.Reason!, .. journal.Select(j => j.Reason ?? "")];
        foreach (var value in new[] { "Current-Pw-1", LeakyFunction.Pending, LeakyFunction.Key })
        {
            Assert.DoesNotContain(stored, s => s.Contains(value, StringComparison.Ordinal));
        }

        Assert.Equal(RotationStatus.Failed, rotation.Status);
        Assert.Equal($"createSecret: could not use {M}", rotation.Reason);
        Assert.Contains($"current {M}", messages);
        Assert.Contains($"pending before the write {M}", messages);
        Assert.Contains($"key {M}", messages);
    }

    /// <summary>Prints the current value, the pending one (before writing it, so only a mask computed at the end catches it) and its own key, then fails quoting the pending value.</summary>
    private sealed class LeakyFunction(ServiceHarness harness) : IRotationFunction
    {
        public const string Pending = "Pending-Pw-2";
        public const string Key = "function-secret-key-3";

        public string Name => "leaky";

        public async Task InvokeAsync(RotationEvent e, InvocationLog log, CancellationToken cancellationToken)
        {
            log.AddSensitive(Key);
            log.Raw("current " + (await harness.Get(e.SecretId)).SecretString!.Split('"')[7]);
            log.Raw("pending before the write " + Pending);
            await harness.Put(e.SecretId, Pending, e.ClientRequestToken, [StagingLabels.Pending]);
            log.Raw("key " + Key);
            throw new RotationStepException($"{e.Step}: could not use {Pending}", permanent: true);
        }
    }
}
