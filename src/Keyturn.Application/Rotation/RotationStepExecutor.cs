using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Keyturn.Application.Logs;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Domain.Rotation;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Rotation;

/// <summary>How one invocation of a step ended; <see cref="Reason"/> is already masked.</summary>
internal sealed record StepOutcome(bool Succeeded, bool Permanent, string? Reason);

/// <summary>
/// Invokes the rotation function for one step, with Lambda's START/END/REPORT lines around it, its timeout, and the
/// masking of everything the invocation leaves behind. It writes nothing to the store: the runner journals the outcome
/// under its lease.
/// </summary>
internal sealed partial class RotationStepExecutor(
    SecretServices services,
    RotationFunctionRegistry functions,
    ILogSink logSink,
    RotationOptions options,
    TimeProvider timeProvider,
    ILogger logger)
{
    /// <summary>
    /// Runs one attempt. Throws <see cref="OperationCanceledException"/> when <paramref name="stopping"/> ended it (the
    /// server shuts down) and <see cref="LeaseLostException"/> when <paramref name="lease"/> was lost meanwhile: either
    /// way the step has no outcome to journal, and whoever runs the rotation next repeats it.
    /// </summary>
    public async Task<StepOutcome> InvokeAsync(RotationRecord rotation, RotationStep step, int attempt, RotationLease lease, CancellationToken stopping)
    {
        var requestId = Guid.NewGuid().ToString();
        var log = new InvocationLog(requestId, timeProvider, StreamName(rotation));
        var function = await functions.ResolveAsync(rotation.FunctionName, stopping).ConfigureAwait(false);
        var logGroup = "/aws/lambda/" + RotationFunctionRegistry.NameOf(rotation.FunctionName);
        log.Raw(LambdaLogFormat.Start(requestId));

        // Names the secret in every invocation, so a secret's history can be found even when the function prints nothing.
        log.Info($"{step.WireName()}: invoking {RotationFunctionRegistry.NameOf(rotation.FunctionName)} for secret {rotation.SecretArn} version {rotation.Token} (attempt {attempt})");
        var watch = Stopwatch.StartNew();
        var lost = lease.Lost;
        Exception? interrupted = null;
        StepOutcome result;
        if (function is null)
        {
            var message = $"{step.WireName()}: the rotation function {rotation.FunctionName} is no longer registered.";
            log.Error(message);
            result = new(false, true, message);
        }
        else
        {
            // A registered function's own timeout (functions register --timeout), as Lambda's per-function setting.
            var limit = function.Timeout ?? options.DefaultFunctionTimeout;
            using var timeout = new CancellationTokenSource(limit, timeProvider);
            using var invocation = CancellationTokenSource.CreateLinkedTokenSource(stopping, lost, timeout.Token);

            // When the timeout fired, not when the stopped function returned (its SIGTERM grace comes after).
            var timedOutAfter = TimeSpan.Zero;
            using var timedOut = timeout.Token.Register(() => timedOutAfter = watch.Elapsed);
            var rotationEvent = new RotationEvent(step.WireName(), rotation.SecretArn, rotation.Token, RotationTokenFor(rotation));
            try
            {
                await function.InvokeAsync(rotationEvent, log, invocation.Token).ConfigureAwait(false);
                result = new(true, false, null);
            }
            catch (RotationStepException e)
            {
                log.Error(e.Message);
                result = new(false, e.Permanent, e.Message);
            }
            catch (OperationCanceledException) when (lost.IsCancellationRequested)
            {
                log.Raw(LambdaLogFormat.Stamped(timeProvider.GetUtcNow(), requestId, "Stopped: this node no longer holds the rotation's lease"));
                interrupted = new LeaseLostException(lease.Fence);
                result = new(false, false, null);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The server is shutting down: the function was stopped; its log up to then is kept, the journal
                // gets no end entry, and the step runs again on the next start.
                log.Raw(LambdaLogFormat.Stamped(timeProvider.GetUtcNow(), requestId, "Stopped: the server is shutting down"));
                interrupted = new OperationCanceledException(stopping);
                result = new(false, false, null);
            }
            catch (OperationCanceledException)
            {
                // A timer may fire a few milliseconds before the stopwatch reaches the limit; Lambda never reports less than it.
                var after = timedOutAfter > TimeSpan.Zero ? TimeSpan.FromTicks(Math.Max(timedOutAfter.Ticks, limit.Ticks)) : watch.Elapsed;
                var message = LambdaLogFormat.TimedOut(after);
                log.Raw(LambdaLogFormat.Stamped(timeProvider.GetUtcNow(), requestId, message));
                result = new(false, false, $"{step.WireName()}: {message}");
            }
            catch (Exception e)
            {
                var message = $"{step.WireName()}: {e.GetType().Name}: {e.Message}";
                log.Error(message);
                result = new(false, false, message);
            }
        }

        log.Raw(LambdaLogFormat.End(requestId));
        log.Raw(LambdaLogFormat.Report(requestId, watch.Elapsed.TotalMilliseconds, log.Memory, log.InitDuration));

        // Nothing from the invocation is stored before it is masked: not its log, not the failure reason the
        // journal and the rotation record keep. Without a masker (the store could not be read) neither is kept.
        // The log stream is the function's output, not rotation state: a runner that lost its lease still keeps it.
        SecretMasker masker;
        try
        {
            masker = await MaskerForAsync(rotation.SecretArn, log.SensitiveValues).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLogWriteFailed(logger, logGroup, e.GetType().Name, e.Message);
            ThrowIfInterrupted(interrupted);
            return result with { Reason = result.Reason is null ? null : $"{step.WireName()}: the step failed; its reason was not kept because the secret's values could not be read to mask it." };
        }

        try
        {
            var lines = log.Lines.Select(l => l with { Message = masker.Mask(l.Message, SecretRedaction.Mask) }).ToList();
            await logSink.AppendAsync(logGroup, StreamName(rotation), lines, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLogWriteFailed(logger, logGroup, e.GetType().Name, e.Message);
        }

        ThrowIfInterrupted(interrupted);
        return result with { Reason = result.Reason is null ? null : masker.Mask(result.Reason, SecretRedaction.Mask) };
    }

    private static void ThrowIfInterrupted(Exception? interrupted)
    {
        if (interrupted is not null)
        {
            throw interrupted;
        }
    }

    /// <summary>Read when the invocation has ended, so it covers the values the invocation wrote.</summary>
    private ValueTask<SecretMasker> MaskerForAsync(string secretArn, IReadOnlyCollection<string> extraSecrets) =>
        services.Store.ReadAsync((session, ct) => SecretRedaction.MaskerForAsync(services, session, secretArn, extraSecrets, ct), CancellationToken.None);

    private static string StreamName(RotationRecord rotation) =>
        $"{rotation.StartedAt.UtcDateTime:yyyy/MM/dd}/[$LATEST]{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(rotation.SecretArn + "|" + rotation.Token)))[..32]}";

    private static string RotationTokenFor(RotationRecord rotation) =>
        new Guid(SHA256.HashData(Encoding.UTF8.GetBytes("rotation-token|" + rotation.SecretArn + "|" + rotation.Token))[..16]).ToString();

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "could not write rotation logs to {LogGroup}: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogLogWriteFailed(ILogger logger, string logGroup, string exceptionType, string exceptionMessage);
}
