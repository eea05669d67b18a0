namespace Keyturn.Application.Ports;

/// <summary>
/// Persistence for secrets, access keys, functions and rotation bookkeeping. Every unit of work runs in one
/// transaction: a write either lands whole or not at all, so a label is never seen half-moved.
/// <para>
/// Locking rule, the same for every backend: in a write unit, reading a secret (<see cref="ISecretSession.FindByArnAsync"/>,
/// <see cref="ISecretSession.FindByNameAsync"/>) and a rotation record locks it <em>for update</em> until the unit ends, so
/// two writers of one secret are serialized across processes and nodes, and what a writer read is still true when it
/// commits. A backend may retry a unit that lost a serialization race (a conflict, a deadlock, a unique-key race between
/// two creators): the work must have no effect outside the session, as it may run more than once.
/// </para>
/// <para>
/// Units and their work are <see cref="ValueTask{TResult}"/>s, so a read that completes without waiting (or whose frames
/// are pooled) costs no Task: await each one exactly once, and never read the result of one that has not completed.
/// </para>
/// </summary>
public interface ISecretStore
{
    ValueTask<T> ReadAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken);

    ValueTask<T> WriteAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken);

    /// <summary>
    /// A write made on behalf of a lease holder (a rotation's runner): inside the same transaction, before the work runs,
    /// the store checks that <paramref name="fence"/>'s owner still holds the lease with that fencing token and keeps the
    /// lease from being taken over until the unit commits. Throws <see cref="LeaseLostException"/>, writing nothing,
    /// when another owner took the lease (or it was released). A null fence is an ordinary write.
    /// </summary>
    ValueTask<T> WriteAsync<T>(LeaseFence? fence, Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken);
}

/// <summary>The lease a fenced write is made under: the resource, its owner, and the fencing token the owner was given.</summary>
public sealed record LeaseFence(string Resource, string Owner, long Token);

/// <summary>A fenced write was refused: the lease it was made under is no longer held with that fencing token.</summary>
public sealed class LeaseLostException(LeaseFence fence)
    : Exception($"The lease on {fence.Resource} is no longer held by {fence.Owner} with fencing token {fence.Token}.")
{
    public LeaseFence Fence { get; } = fence;
}
