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
public sealed class CommandRotationFunction(
    FunctionRecord record, RotationCredentials credentials, string? endpoint, string? caBundle = null, IReadOnlyDictionary<string, string>? variables = null) : IRotationFunction
{
    private IReadOnlyDictionary<string, string> Variables { get; } = variables ?? new Dictionary<string, string>();

    private static readonly TimeSpan OutputDrain = TimeSpan.FromSeconds(2);

    public string Name => record.Name;

    public TimeSpan? Timeout => record.Timeout > TimeSpan.Zero ? record.Timeout : null;

    public async Task InvokeAsync(RotationEvent rotationEvent, InvocationLog log, CancellationToken cancellationToken)
    {
        var key = await credentials.IssueAsync(record.Name, rotationEvent.SecretId, Timeout, cancellationToken).ConfigureAwait(false);
        log.AddSensitive(key.SecretAccessKey);
        AddSensitive(log, Variables);
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
        LambdaEnvironment.Apply(start.Environment, record, InProcessSecrets.RegionOf(rotationEvent.SecretId), endpoint, caBundle, Variables);
        start.Environment["KEYTURN_ROTATION_EVENT"] = eventJson;
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

    /// <summary>The function's environment values are treated as secrets: masked wherever the function prints them.</summary>
    internal static void AddSensitive(InvocationLog log, IReadOnlyDictionary<string, string> variables)
    {
        foreach (var value in variables.Values.Where(v => v.Length > 0))
        {
            log.AddSensitive(value);
        }
    }

    private static void Capture(InvocationLog log, string? line)
    {
        if (!string.IsNullOrEmpty(line))
        {
            log.Raw(line);
        }
    }
}
