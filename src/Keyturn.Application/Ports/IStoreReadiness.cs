namespace Keyturn.Application.Ports;

/// <summary>
/// Whether a backend can serve now, for <c>/health/ready</c>: a cheap query answered within the caller's timeout and a
/// schema at the version this build needs. Never throws for an unreachable store: it is a reason, not an error.
/// </summary>
public interface IStoreReadiness
{
    /// <summary>Null when ready; otherwise a short reason with no secret, connection string or version in it.</summary>
    Task<string?> NotReadyReasonAsync(CancellationToken cancellationToken);
}
