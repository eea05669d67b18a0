using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Keyturn.Application.Rotation;

/// <summary>
/// A Lambda handler (<c>functions register --handler … --code DIR --runtime python3|nodejs</c>) run as Lambda runs it:
/// in a warm worker (<see cref="HandlerWorkerPool"/>) that loaded the module once, called with the event and a context
/// object, its logging formatted as Lambda's runtime formats it. Each invocation gets its own access key (scoped to the
/// secret, revoked when it ends), handed to the worker with the request and set in the variables the SDKs read for that
/// invocation only. A raised error is Lambda's error shape and a failed step, classified by <see cref="ExternalFailures"/>.
/// </summary>
public sealed class HandlerRotationFunction(
    FunctionRecord record, IReadOnlyDictionary<string, string> variables, RotationCredentials credentials, HandlerWorkerPool workers, string? endpoint, string? caBundle)
    : IRotationFunction
{
    public string Name => record.Name;

    public TimeSpan? Timeout => record.Timeout > TimeSpan.Zero ? record.Timeout : null;

    public async Task InvokeAsync(RotationEvent rotationEvent, InvocationLog log, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var key = await credentials.IssueAsync(record.Name, rotationEvent.SecretId, Timeout, cancellationToken).ConfigureAwait(false);
        log.AddSensitive(key.SecretAccessKey);
        CommandRotationFunction.AddSensitive(log, variables);
        try
        {
            await RunAsync(rotationEvent, key, log, deadline, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await credentials.RevokeAsync(key).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(RotationEvent rotationEvent, RotationCredentials.Issued key, InvocationLog log, Stopwatch elapsed, CancellationToken cancellationToken)
    {
        var region = InProcessSecrets.RegionOf(rotationEvent.SecretId);
        var workerKey = WorkerKey(region);
        var worker = workers.TakeIdle(workerKey);
        if (worker is null)
        {
            var started = await workers.StartAsync(StartInfo(region), workerKey, log, cancellationToken).ConfigureAwait(false);
            if (started.Worker is null)
            {
                throw started.InitError is { } initError
                    ? StepFailed(rotationEvent.Step, initError)
                    : Exited(rotationEvent.Step, log, started.ExitCode);
            }

            worker = started.Worker;
            log.InitDuration = started.InitDuration;
        }

        var reusable = false;
        try
        {
            var remaining = (Timeout ?? TimeSpan.FromSeconds(30)) - elapsed.Elapsed;
            var response = await worker.InvokeAsync(Request(rotationEvent, key, log, remaining), log.RequestId, log, cancellationToken).ConfigureAwait(false);
            if (worker.PeakMemoryMb() is { } peak)
            {
                log.Memory = (record.MemorySize, peak);
            }

            if (response is not { } answer)
            {
                throw Exited(rotationEvent.Step, log, worker.ExitCode());
            }

            if (answer.GetProperty("type").GetString() == "error")
            {
                throw StepFailed(rotationEvent.Step, answer.GetProperty("error"));
            }

            reusable = true;
        }
        finally
        {
            if (reusable)
            {
                workers.Return(worker);
            }
            else
            {
                workers.Discard(worker);
            }
        }
    }

    /// <summary>The handler's error as the step's failure: its errorType and errorMessage, as a URL function's Lambda error.</summary>
    private static RotationStepException StepFailed(string step, JsonElement error)
    {
        var (errorType, errorMessage) = UrlRotationFunction.LambdaError(error.GetRawText());
        return ExternalFailures.StepFailed(step, errorType, errorMessage ?? "the handler failed without a message.", exitCode: null);
    }

    /// <summary>A worker that exited without answering (the handler ended its process): its last error line, else Lambda's Runtime.ExitError.</summary>
    private RotationStepException Exited(string step, InvocationLog log, int? exitCode)
    {
        var (errorType, errorMessage) = ExternalFailures.FromOutput([.. log.Lines.Select(l => l.Message)]);
        return errorMessage is not null
            ? ExternalFailures.StepFailed(step, errorType, errorMessage, exitCode)
            : ExternalFailures.StepFailed(step, "Runtime.ExitError",
                $"RequestId: {log.RequestId} Error: Runtime exited{(exitCode is { } code ? string.Create(CultureInfo.InvariantCulture, $" with error: exit status {code}") : " without providing a reason")}",
                exitCode);
    }

    private string Request(RotationEvent rotationEvent, RotationCredentials.Issued key, InvocationLog log, TimeSpan remaining)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("requestId", log.RequestId);
            json.WritePropertyName("event");
            JsonSerializer.Serialize(json, rotationEvent, RotationJsonContext.Default.RotationEvent);
            json.WriteNumber("remainingMs", Math.Max(0, (long)remaining.TotalMilliseconds));
            json.WriteString("invokedFunctionArn", LambdaEnvironment.FunctionArnFor(rotationEvent.SecretId, record.Name));
            json.WriteString("logStreamName", log.LogStreamName);
            json.WriteString("accessKeyId", key.AccessKeyId);
            json.WriteString("secretAccessKey", key.SecretAccessKey);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private ProcessStartInfo StartInfo(string region)
    {
        // The launcher moves the protocol off the standard descriptors before the runtime starts: requests arrive on 4,
        // responses leave on 3, standard output joins standard error as the function's log, standard input is empty.
        var start = new ProcessStartInfo("/bin/sh") { WorkingDirectory = record.Target };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" 3>&1 4<&0 1>&2 0</dev/null");
        start.ArgumentList.Add("keyturn-worker");
        start.ArgumentList.Add(FunctionRuntimes.Executable(record.Runtime ?? FunctionRuntimes.Python));
        start.ArgumentList.Add(workers.BootstrapPath(record.Runtime ?? FunctionRuntimes.Python));
        LambdaEnvironment.Apply(start.Environment, record, region, endpoint, caBundle, variables);
        start.Environment["LAMBDA_TASK_ROOT"] = record.Target;
        start.Environment["_HANDLER"] = record.Handler;
        return start;
    }

    /// <summary>A worker serves one registration (code, handler, runtime, settings, environment) in one region, as a Lambda environment does.</summary>
    private string WorkerKey(string region)
    {
        var registration = string.Join('\n', record.Name, region, record.Runtime, record.Target, record.Handler,
            record.MemorySize.ToString(CultureInfo.InvariantCulture), record.Timeout.Ticks.ToString(CultureInfo.InvariantCulture),
            record.EncryptedEnvironment is null ? "" : Convert.ToHexString(SHA256.HashData(record.EncryptedEnvironment)));
        return registration;
    }
}
