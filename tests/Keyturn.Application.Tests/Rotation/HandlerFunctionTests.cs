using System.Text.RegularExpressions;
using Keyturn.Application.Operations;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Rotators.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>
/// Python handler functions run by the engine over the real store, through the registration the CLI makes: the lines
/// Lambda's runtime writes (logging, errors) and how a handler's failure stops the rotation.
/// </summary>
public sealed partial class HandlerFunctionTests : IDisposable
{
    private readonly ServiceHarness _h = new(realTime: true);
    private readonly CapturingLogSink _logs = new();
    private readonly DirectoryInfo _code = Directory.CreateTempSubdirectory("keyturn-handler-code-");
    private readonly RotationOptions _options = new()
    {
        Retry = new RetryPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), 3),
        DefaultFunctionTimeout = TimeSpan.FromSeconds(10),
    };

    private RotationEngine? _engine;

    public void Dispose()
    {
        _engine?.Dispose();
        _h.Dispose();
        TestDirectories.Delete(_code.FullName);
    }

    [Fact]
    public async Task PythonHandler_LoggingAndRaising_WritesLambdasLinesAndFailsTheStepPermanently()
    {
        await File.WriteAllTextAsync(Path.Combine(_code.FullName, "lambda_function.py"), """
            import logging
            logger = logging.getLogger()
            logger.setLevel(logging.INFO)

            def lambda_handler(event, context):
                logger.info("%s: hello from %s", event["Step"], context.function_name)
                logger.debug("not shown: the level is the handler's")
                if event["Step"] == "setSecret":
                    secret = {}
                    return secret["password"]
            """);
        await Register("py-unit", "lambda_function.lambda_handler");
        var v1 = (await _h.Create("handler-unit", "one")).VersionId!;

        var token = await RotateAsync("handler-unit", "py-unit");

        var rotation = await Rotation("handler-unit", token);
        Assert.Equal(RotationStatus.Failed, rotation.Status);
        Assert.Equal("setSecret: KeyError: 'password'", rotation.Reason);
        Assert.Equal(1, rotation.Attempt);
        Assert.Equal(["AWSCURRENT"], (await _h.Labels("handler-unit"))[v1]);

        var lines = _logs.Lines.Select(l => l.Message).ToList();
        var requestIds = lines.Where(l => l.StartsWith("START RequestId: ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToList();
        Assert.Equal(2, requestIds.Count);
        Assert.Matches(InfoLine(requestIds[0], "createSecret: hello from py-unit"), Assert.Single(lines, l => l.EndsWith("createSecret: hello from py-unit", StringComparison.Ordinal)));
        Assert.Matches(InfoLine(requestIds[1], "setSecret: hello from py-unit"), Assert.Single(lines, l => l.EndsWith("setSecret: hello from py-unit", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains("not shown", StringComparison.Ordinal));

        var error = lines.IndexOf("[ERROR] KeyError: 'password'");
        Assert.True(error > 0, string.Join('\n', lines));
        Assert.Equal("Traceback (most recent call last):", lines[error + 1]);
        Assert.Matches(@"^  File "".*/lambda_function\.py"", line 10, in lambda_handler$", lines[error + 2]);
        Assert.DoesNotContain(lines, l => l.Contains("bootstrap.py", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("missing.lambda_handler", "createSecret: Runtime.ImportModuleError: Unable to import module 'missing': No module named 'missing'")]
    [InlineData("lambda_function.no_such_function", "createSecret: Runtime.HandlerNotFound: Handler 'no_such_function' missing on module 'lambda_function'")]
    public async Task PythonHandler_ThatCannotBeLoaded_FailsPermanentlyWithLambdasInitError(string handler, string reason)
    {
        await File.WriteAllTextAsync(Path.Combine(_code.FullName, "lambda_function.py"), "def lambda_handler(event, context):\n    pass\n");
        await Register("py-broken", handler);
        await _h.Create("handler-broken", "one");

        var token = await RotateAsync("handler-broken", "py-broken");

        var rotation = await Rotation("handler-broken", token);
        Assert.Equal(RotationStatus.Failed, rotation.Status);
        Assert.Equal(reason, rotation.Reason);
        Assert.Equal(1, rotation.Attempt);
    }

    [Fact]
    public async Task RegisteredEnvironment_IsSealedAndOpensOnlyForItsFunction()
    {
        var functions = new FunctionService(_h.Store, _h.AccessKeys, new KeyturnOptions(), _h.Time, _h.Cipher);
        var record = await functions.RegisterAsync(new FunctionRegistration("sealed-env", FunctionKind.Handler, _code.FullName, TimeSpan.FromSeconds(5))
        {
            Handler = "lambda_function.lambda_handler",
            Environment = new Dictionary<string, string> { ["DB_TOKEN"] = "tok-7f3a9c2e" },
        }, default);

        var stored = (await _h.Store.ReadAsync((session, ct) => session.FindFunctionAsync("sealed-env", ct), default))!;
        Assert.Equal(["DB_TOKEN"], stored.EnvironmentNames);
        Assert.DoesNotContain("tok-7f3a9c2e", System.Text.Encoding.UTF8.GetString(stored.EncryptedEnvironment!), StringComparison.Ordinal);
        Assert.Equal("tok-7f3a9c2e", FunctionService.OpenEnvironment(stored, _h.Cipher)["DB_TOKEN"]);

        // The blob is bound to its function: copied to another, it does not open.
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => FunctionService.OpenEnvironment(stored with { Name = "other" }, _h.Cipher));
        Assert.Equal(Path.GetFullPath(_code.FullName), record.Target);
    }

    [Fact]
    public async Task CommandFunction_WithEnvironment_SeesItsVariablesAndTheLogMasksTheirValues()
    {
        var seen = Path.Combine(_code.FullName, "seen");
        await new FunctionService(_h.Store, _h.AccessKeys, new KeyturnOptions(), _h.Time, _h.Cipher).RegisterAsync(
            new FunctionRegistration("cmd-env", FunctionKind.Command, $"printf '%s' \"$DB_TOKEN\" > {seen}; echo \"token is $DB_TOKEN\"; exit 1", TimeSpan.FromSeconds(10))
            {
                Environment = new Dictionary<string, string> { ["DB_TOKEN"] = "tok-51c0ffee" },
            }, default);
        await _h.Create("command-env", "one");

        await RotateAsync("command-env", "cmd-env");

        Assert.Equal("tok-51c0ffee", await File.ReadAllTextAsync(seen));
        var lines = _logs.Lines.Select(l => l.Message).ToList();
        Assert.Contains("token is ********", lines);
        Assert.DoesNotContain(lines, l => l.Contains("tok-51c0ffee", StringComparison.Ordinal));
    }

    private static string InfoLine(string requestId, string message) =>
        $@"^\[INFO\]\t\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}Z\t{Regex.Escape(requestId)}\t{Regex.Escape(message)}$";

    /// <summary>Registers a handler with a timeout a cold Python start on a busy machine fits in: the tests are about what it writes, not how fast.</summary>
    private Task Register(string name, string handler) =>
        new FunctionService(_h.Store, _h.AccessKeys, new KeyturnOptions(), _h.Time, _h.Cipher).RegisterAsync(
            new FunctionRegistration(name, FunctionKind.Handler, _code.FullName, TimeSpan.FromSeconds(60)) { Handler = handler }, default);

    private RotationFunctionRegistry Registry() => new([], _h.Store, _h.ExternalFunctions(_options));

    private async Task<string> RotateAsync(string id, string function)
    {
        _engine ??= new RotationEngine(_h.Store, _h.Services, Registry(), _logs, _options, _h.Time, NullLogger<RotationEngine>.Instance);
        var token = Guid.NewGuid().ToString();
        await new RotateSecretHandler(_h.Services, Registry(), _engine).ExecuteAsync(
            new RotateSecretRequest(id, token, function, new RotationRulesType(1, null, null), null), _h.Root, default);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _engine.WaitForIdleAsync(timeout.Token);
        return token;
    }

    private async Task<RotationRecord> Rotation(string id, string token)
    {
        var arn = (await _h.Describe(id)).ARN;
        return await _h.Store.RotationAsync(arn, token);
    }
}
