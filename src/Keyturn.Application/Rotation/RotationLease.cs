using Keyturn.Application.Ports;
using Microsoft.Extensions.Logging;

namespace Keyturn.Application.Rotation;

/// <summary>
/// A runner's hold on one secret's rotations: taken with a fencing token, renewed in the background, and the only way
/// the runner writes. Every write goes through <see cref="WriteAsync"/>, which the store fences (refused, writing
/// nothing, once another owner has the lease) and which this side refuses as well once the lease was not renewed in
/// time: a runner that was paused (or cut off from the store) longer than the lease lifetime must assume another node
/// took over, whether or not one did yet. <see cref="Lost"/> is cancelled at that moment so the running step stops.
/// Expiry is judged on each node's own clock, so skewed clocks can let a node take over early; the fencing token still
/// refuses the older holder's writes, and the lease lifetime should stay well above the skew NTP allows.
/// </summary>
internal sealed partial class RotationLease : IAsyncDisposable
{
    private readonly ISecretStore _store;
    private readonly RotationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopRenewing = new();
    private readonly Task _renewing;
    private CancellationTokenSource _lost = new();
    private long _validUntilTicks;

    private RotationLease(ISecretStore store, LeaseFence fence, DateTimeOffset validUntil, RotationOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        Fence = fence;
        _validUntilTicks = validUntil.UtcTicks;
        _options = options;
        _time = time;
        _logger = logger;
        // Created here, so the lease's clock runs from the moment it was taken, not from when the loop first runs.
        var timer = new PeriodicTimer(options.LeaseLifetime / 3, time);
        _renewing = Task.Run(() => RenewAsync(timer, _stopRenewing.Token), CancellationToken.None);
    }

    public LeaseFence Fence { get; }

    /// <summary>Cancelled when the lease was taken over or could not be renewed before it expired.</summary>
    public CancellationToken Lost => Volatile.Read(ref _lost).Token;

    public static string ResourceFor(string secretArn) => "rotation:" + secretArn;

    /// <summary>
    /// Takes the secret's lease, or null while another live owner holds it. With <paramref name="waitFor"/>, waits out a
    /// live lease for that long (while <paramref name="stillWanted"/> holds) before giving up.
    /// </summary>
    public static async Task<RotationLease?> AcquireAsync(
        ISecretStore store, RotationNode node, string secretArn, TimeSpan waitFor, Func<CancellationToken, Task<bool>> stillWanted,
        RotationOptions options, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        var resource = ResourceFor(secretArn);
        var deadline = time.GetUtcNow() + waitFor;
        while (true)
        {
            var now = time.GetUtcNow();
            var token = await store.WriteAsync(
                (session, ct) => session.AcquireLeaseAsync(resource, node.Id, now, options.LeaseLifetime, node.OwnerIsGone, ct),
                cancellationToken).ConfigureAwait(false);
            if (token is { } fencing)
            {
                return new RotationLease(store, new LeaseFence(resource, node.Id, fencing), now + options.LeaseLifetime, options, time, logger);
            }

            if (time.GetUtcNow() >= deadline || !await stillWanted(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            await Task.Delay(options.LeaseLifetime / 4, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A write under the lease: refused here (nothing sent) once the lease is lost or expired, refused by the store
    /// (nothing written) once another owner has it. Either way a <see cref="LeaseLostException"/>.
    /// </summary>
    public ValueTask<T> WriteAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        if (Lost.IsCancellationRequested || Expired(_time.GetUtcNow()))
        {
            MarkLost();
            throw new LeaseLostException(Fence);
        }

        return _store.WriteAsync(Fence, work, cancellationToken);
    }

    /// <summary>
    /// Between steps: renews the lease under its fence. A lease that expired meanwhile is taken back only when nobody
    /// had it since (the store's fence check proves that: any takeover raised the token), so the runner goes on with
    /// the state it reads next; otherwise <see cref="LeaseLostException"/>.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await RenewOnceAsync(now, cancellationToken).ConfigureAwait(false);
        if (Lost.IsCancellationRequested)
        {
            // The old source stays cancelled (a finished step may still hold its token); it needs no disposing.
            Volatile.Write(ref _lost, new CancellationTokenSource());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopRenewing.CancelAsync().ConfigureAwait(false);
        await _renewing.ConfigureAwait(false);
        try
        {
            // Fenced as well: a runner that lost the lease must not end the new owner's.
            await _store.WriteAsync(Fence, async (session, ct) =>
            {
                await session.ReleaseLeaseAsync(Fence.Resource, Fence.Owner, ct).ConfigureAwait(false);
                return true;
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (LeaseLostException)
        {
            // Someone else holds it now.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The store did not answer: the lease simply expires.
            LogReleaseFailed(_logger, Fence.Resource, e.GetType().Name, e.Message);
        }

        _stopRenewing.Dispose();
        _lost.Dispose();
    }

    private async Task RenewOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The store's own check of the token is what makes this a renewal and never a takeover from a newer owner.
        var token = await _store.WriteAsync(Fence,
            (session, ct) => session.AcquireLeaseAsync(Fence.Resource, Fence.Owner, now, _options.LeaseLifetime, null, ct),
            cancellationToken).ConfigureAwait(false);
        if (token != Fence.Token)
        {
            MarkLost();
            throw new LeaseLostException(Fence);
        }

        Interlocked.Exchange(ref _validUntilTicks, (now + _options.LeaseLifetime).UtcTicks);
    }

    private async Task RenewAsync(PeriodicTimer timer, CancellationToken stop)
    {
        using var owned = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = _time.GetUtcNow();
                if (Expired(now))
                {
                    // Not renewed in time (this process was paused, or the store did not answer): another node may
                    // hold it already, so the step in flight stops and writes nothing more.
                    LogExpired(_logger, Fence.Resource, Fence.Token);
                    MarkLost();
                    continue;
                }

                if (Lost.IsCancellationRequested)
                {
                    continue;
                }

                try
                {
                    await RenewOnceAsync(now, stop).ConfigureAwait(false);
                }
                catch (LeaseLostException)
                {
                    LogTakenOver(_logger, Fence.Resource, Fence.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Tried again on the next tick; the expiry check above ends the step if none succeeds in time.
                    LogRenewalFailed(_logger, Fence.Resource, e.GetType().Name, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Released.
        }
    }

    private bool Expired(DateTimeOffset now) => now.UtcTicks >= Interlocked.Read(ref _validUntilTicks);

    private void MarkLost()
    {
        try
        {
            Volatile.Read(ref _lost).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already released.
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "the lease {Resource} (fencing token {Token}) was not renewed in time; its step stops and writes nothing more")]
    private static partial void LogExpired(ILogger logger, string resource, long token);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Information, Message = "the lease {Resource} (fencing token {Token}) was taken over by another runner; its step stops and writes nothing more")]
    private static partial void LogTakenOver(ILogger logger, string resource, long token);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "could not release the lease {Resource}; it expires by itself: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogReleaseFailed(ILogger logger, string resource, string exceptionType, string exceptionMessage);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "could not renew the lease {Resource}: {ExceptionType}: {ExceptionMessage}")]
    private static partial void LogRenewalFailed(ILogger logger, string resource, string exceptionType, string exceptionMessage);
}
