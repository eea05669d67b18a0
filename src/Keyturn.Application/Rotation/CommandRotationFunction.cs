using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Keyturn.Application.Rotation;

/// <summary>
/// An external function run as a command, once per step: the Lambda event arrives on standard input
/// (and in <c>KEYTURN_ROTATION_EVENT</c>), and the environment points the AWS SDKs at this server with
/// the function's own access key, so existing rotation code (e.g. AWS's Python samples with boto3)
/// runs unchanged. The access key is minted for this invocation only (scoped to the secret, revoked when the
/// command exits, expiring in any case). Every output line goes to the function's log, with the key's secret
/// masked; a non-zero exit fails the step, with the function's last error line as the reason.
/// The command runs in a process group of its own (<see cref="FunctionProcess"/>), recorded on disk while it runs
/// (<see cref="FunctionProcessRecords"/>): a timeout, a cancelled step or the server's shutdown ends the whole group
/// (SIGTERM, then SIGKILL after <see cref="RotationOptions.FunctionStopGrace"/>), so does the command's own exit for
/// whatever it left running, and a step never starts while processes of an earlier invocation for the same secret run.
/// </summary>
public sealed class CommandRotationFunction(
    FunctionRecord record, RotationCredentials credentials, RotationOptions options, FunctionProcessRecords? running = null,
    IReadOnlyDictionary<string, string>? variables = null) : IRotationFunction
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
        LambdaEnvironment.Apply(start.Environment, record, InProcessSecrets.RegionOf(rotationEvent.SecretId), options.Endpoint, options.CaBundle, Variables);
        start.Environment["KEYTURN_ROTATION_EVENT"] = eventJson;
        start.Environment["AWS_ACCESS_KEY_ID"] = key.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = key.SecretAccessKey;

        await StopEarlierInvocationsAsync(rotationEvent.SecretId, log).ConfigureAwait(false);
        using var command = StartCommand(start);
        var entry = Record(command, rotationEvent, log);
        var process = command.Process;
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

            // The command's own exit, not the end of its output, which a process it left behind may hold open.
            await command.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The step's timeout (or shutdown): stop the whole group, then let the output readers reach the end of
            // the pipes, so the lines it wrote up to the stop are kept in its log.
            log.Info($"stopping function {record.Name} (process group {command.Group.Id}): SIGTERM, then SIGKILL after {options.FunctionStopGrace.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
            await EndGroupAsync(command, entry, log).ConfigureAwait(false);
            throw;
        }

        // As Lambda ends an invocation's processes with it, whatever the command left running in its group ends now.
        await EndGroupAsync(command, entry, log).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw Failed(rotationEvent.Step, process.ExitCode, log);
        }
    }

    private FunctionProcess StartCommand(ProcessStartInfo start)
    {
        try
        {
            return FunctionProcess.Start(start);
        }
        catch (Exception e) when (e is InvalidOperationException or PlatformNotSupportedException or System.ComponentModel.Win32Exception)
        {
            throw new RotationStepException($"Could not start the command of function {record.Name}: {e.Message}", permanent: true);
        }
    }

    /// <summary>Ends processes an earlier invocation for this secret left running (a crash, or a group that outlived SIGKILL).</summary>
    private async Task StopEarlierInvocationsAsync(string secretArn, InvocationLog log)
    {
        if (running is null)
        {
            return;
        }

        foreach (var (earlier, outcome) in await running.StopLeftoversAsync(options.FunctionStopGrace, secretArn).ConfigureAwait(false))
        {
            log.Info($"stopped processes of an earlier invocation of {earlier.Function} ({earlier.Step ?? "-"}, process group {earlier.ProcessGroup}, request {earlier.RequestId ?? "-"}): {outcome}");
            if (outcome == ProcessGroupStop.Lingering)
            {
                throw new RotationStepException($"Processes of an earlier invocation of function {earlier.Function} (process group {earlier.ProcessGroup}) are still running after SIGKILL; the step waits for them to end.", permanent: false);
            }
        }
    }

    private FunctionProcessRecord? Record(FunctionProcess command, RotationEvent rotationEvent, InvocationLog log)
    {
        try
        {
            return running?.Add(command, record.Name, rotationEvent, log.RequestId);
        }
        catch
        {
            // Unrecorded, it could outlive a crash unseen: don't let it run.
            command.Group.Signal(ProcessGroup.SigKill);
            throw;
        }
    }

    /// <summary>Ends what remains of the group, keeps the output written up to then, and forgets the group once it is gone.</summary>
    private async Task EndGroupAsync(FunctionProcess command, FunctionProcessRecord? entry, InvocationLog log)
    {
        var outcome = await command.StopAsync(options.FunctionStopGrace).ConfigureAwait(false);
        using (var drain = new CancellationTokenSource(OutputDrain))
        {
            try
            {
                await command.Process.WaitForExitAsync(drain.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // A process that left the group still holds the output open; what was read so far is kept.
            }
        }

        if (outcome == ProcessGroupStop.Lingering)
        {
            // The record stays: the next invocation for this secret tries again before it starts.
            log.Error($"process group {command.Group.Id} of function {record.Name} still has processes after SIGKILL");
            throw new RotationStepException($"Processes of function {record.Name} (process group {command.Group.Id}) are still running after SIGKILL.", permanent: false);
        }

        if (outcome == ProcessGroupStop.Killed)
        {
            log.Info($"process group {command.Group.Id} of function {record.Name} outlived SIGTERM and was ended with SIGKILL");
        }

        if (entry is not null)
        {
            running!.Remove(entry);
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
