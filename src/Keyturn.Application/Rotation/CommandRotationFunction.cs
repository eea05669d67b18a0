using System.Diagnostics;
using System.Text.Json;

namespace Keyturn.Application.Rotation;

/// <summary>
/// An external function run as a command, once per step: the Lambda event arrives on standard input
/// (and in <c>KEYTURN_ROTATION_EVENT</c>), and the environment points the AWS SDKs at this server with
/// the function's own access key, so existing rotation code (e.g. AWS's Python samples with boto3)
/// runs unchanged. The access key is minted for this invocation only (scoped to the secret, revoked when the
/// command exits, expiring in any case). Every output line goes to the function's log, with the key's secret
/// masked; a non-zero exit fails the step, with the function's last error line as the reason.
/// </summary>
public sealed class CommandRotationFunction(FunctionRecord record, RotationCredentials credentials, string? endpoint, string? caBundle = null) : IRotationFunction
{
    private static readonly TimeSpan OutputDrain = TimeSpan.FromSeconds(2);

    public string Name => record.Name;

    public TimeSpan? Timeout => record.Timeout > TimeSpan.Zero ? record.Timeout : null;

    public async Task InvokeAsync(RotationEvent rotationEvent, InvocationLog log, CancellationToken cancellationToken)
    {
        var key = await credentials.IssueAsync(record.Name, rotationEvent.SecretId, Timeout, cancellationToken).ConfigureAwait(false);
        log.AddSensitive(key.SecretAccessKey);
        try
        {
            await RunAsync(rotationEvent, key, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await credentials.RevokeAsync(key).ConfigureAwait(false);
        }
    }

    private async Task RunAsync(RotationEvent rotationEvent, RotationCredentials.Issued key, InvocationLog log, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(record.Target);

        var eventJson = JsonSerializer.Serialize(rotationEvent, RotationJsonContext.Default.RotationEvent);
        var region = InProcessSecrets.RegionOf(rotationEvent.SecretId);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("KEYTURN_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["KEYTURN_ROTATION_EVENT"] = eventJson;
        start.Environment["AWS_LAMBDA_FUNCTION_NAME"] = record.Name;
        start.Environment["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + record.Name;
        start.Environment["AWS_REGION"] = region;
        start.Environment["AWS_DEFAULT_REGION"] = region;
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";

        // Python buffers a piped stdout: without this, what a step printed before it was stopped would be lost.
        start.Environment["PYTHONUNBUFFERED"] = "1";
        if (endpoint is not null)
        {
            // Both the SDK-wide variable and the one AWS's rotation templates read.
            start.Environment["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = endpoint;
            start.Environment["SECRETS_MANAGER_ENDPOINT"] = endpoint;
        }

        if (caBundle is not null)
        {
            // The SDKs' and the AWS CLI's trust setting, for a server on HTTPS with its own CA or self-signed certificate.
            start.Environment["AWS_CA_BUNDLE"] = caBundle;
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = key.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = key.SecretAccessKey;

        using var process = Process.Start(start) ?? throw new RotationStepException($"Could not start the command of function {record.Name}.", permanent: true);
        process.OutputDataReceived += (_, e) => Capture(log, e.Data);
        process.ErrorDataReceived += (_, e) => Capture(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            try
            {
                await process.StandardInput.WriteAsync(eventJson.AsMemory(), cancellationToken).ConfigureAwait(false);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The command exited (or closed its input) without reading the event; its exit code decides.
            }

            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The step's timeout (or shutdown): stop the whole command, then let the output readers reach the end of
            // the pipes, so the lines it wrote up to the stop are kept in its log.
            process.Kill(entireProcessTree: true);
            process.WaitForExit(OutputDrain);
            throw;
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw Failed(rotationEvent.Step, process.ExitCode, log);
        }
    }

    /// <summary>The function's own last error as the reason (the engine masks it), its class deciding whether to retry.</summary>
    private RotationStepException Failed(string step, int exitCode, InvocationLog log)
    {
        // The log holds the command's lines after the engine's own [INFO] note, which names no error.
        var (errorType, errorMessage) = ExternalFailures.FromOutput([.. log.Lines.Select(l => l.Message)]);
        return errorMessage is null
            ? new RotationStepException($"{step}: function {record.Name} exited with code {exitCode}.", ExternalFailures.Classify(null, null, exitCode).Permanent)
            : ExternalFailures.StepFailed(step, errorType, errorMessage, exitCode);
    }

    private static void Capture(InvocationLog log, string? line)
    {
        if (!string.IsNullOrEmpty(line))
        {
            log.Raw(line);
        }
    }
}
