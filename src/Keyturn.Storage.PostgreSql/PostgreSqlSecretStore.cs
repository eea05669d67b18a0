using System.Data;
using System.Runtime.CompilerServices;
using Keyturn.Application.Ports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// The shared store: every unit of work is one transaction on a pooled connection of one <see cref="NpgsqlDataSource"/>.
/// Writes run READ COMMITTED and lock what they read (the secret row, the rotation row) FOR UPDATE, so writers of one secret
/// serialize across nodes; a unit that loses a race (serialization failure, deadlock, two creators of the same secret) is
/// rolled back and run again, a bounded number of times. A read unit first runs without a transaction, allowed a single
/// statement (which is its own snapshot): a GetSecretValue is then one round trip, not BEGIN, two queries and COMMIT.
/// That statement goes to a multiplexing pool when one is given: Npgsql writes the statements of concurrent requests
/// together on shared connections, so a backend answers several per wake-up.
/// One that needs a second statement is run again REPEATABLE READ, one snapshot for all its statements (Npgsql sends
/// BEGIN with the first statement, so that costs no round trip).
/// Open it through <see cref="PostgreSqlDatabase"/>, which owns the schema.
/// </summary>
public sealed partial class PostgreSqlSecretStore : ISecretStore
{
    /// <summary>Attempts of one unit before its last failure is thrown.</summary>
    public const int MaxAttempts = 5;

    // The unique keys on which a unit that lost the race to create a row, re-run, finds that row and answers from it.
    private static readonly HashSet<string> IdempotentKeys = new(StringComparer.Ordinal)
    {
        "secrets_arn_key", "secrets_region_name_key", "versions_pkey", "rotations_pkey",
    };

    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _singleStatementSource;
    private readonly PostgreSqlReadContexts? _readContexts;
    private readonly PostgreSqlRowDecoder _rows = new();
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    /// <param name="dataSource">Where units with a transaction run.</param>
    /// <param name="singleStatementSource">
    /// Where read units first run their single statement without a transaction: <paramref name="dataSource"/> when null.
    /// <see cref="PostgreSqlDatabase"/> gives a multiplexing source here, whose statements from concurrent requests share
    /// connections and network writes.
    /// </param>
    public PostgreSqlSecretStore(
        NpgsqlDataSource dataSource, TimeProvider? timeProvider = null, ILogger<PostgreSqlSecretStore>? logger = null, NpgsqlDataSource? singleStatementSource = null)
    {
        _dataSource = dataSource;
        _singleStatementSource = singleStatementSource ?? dataSource;
        _readContexts = PostgreSqlReadContexts.CanKeep(_singleStatementSource) ? new PostgreSqlReadContexts(_singleStatementSource) : null;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    // The single-statement attempt is inline: a read that needs no snapshot, GetSecretValue's, is one async frame here, and
    // a pooled one, so the read allocates no Task for the port.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<T> ReadAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        PostgreSqlReadContext? context = null;
        NpgsqlConnection? connection = null;
        if (_readContexts is not null)
        {
            context = await _readContexts.RentAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            connection = await _singleStatementSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }

        var session = context?.Session(_rows) ?? new PostgreSqlSecretSession(connection!, transaction: null, write: false, _rows);
        var ended = false;
        try
        {
            var result = await work(session, cancellationToken).ConfigureAwait(false);
            ended = true;
            if (!session.NeededSnapshot)
            {
                return result;
            }
        }
        catch (SnapshotRequiredException)
        {
        }
        catch (Exception) when (session.NeededSnapshot)
        {
            // The work turned the signal into another failure: what it saw is no snapshot, so run it again in one.
        }
        finally
        {
            if (context is null)
            {
                await connection!.DisposeAsync().ConfigureAwait(false);
            }
            else if (ended)
            {
                _readContexts!.Return(context);
            }
            else
            {
                context.Dispose();
            }
        }

        return await RunAsync(write: false, fence: null, work, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the read connections kept open between units (<see cref="PostgreSqlDatabase"/> does, before its pools).</summary>
    internal void CloseReadContexts() => _readContexts?.Dispose();

    public ValueTask<T> WriteAsync<T>(Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
        RunAsync(write: true, fence: null, work, cancellationToken);

    public ValueTask<T> WriteAsync<T>(LeaseFence? fence, Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken) =>
        RunAsync(write: true, fence, work, cancellationToken);

    /// <summary>True for a failure after which the whole unit may simply run again.</summary>
    internal static bool IsRetryable(PostgresException e) =>
        e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected
        || (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName is { } name && IdempotentKeys.Contains(name));

    private async ValueTask<T> RunAsync<T>(bool write, LeaseFence? fence, Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await RunOnceAsync(write, fence, work, cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (attempt < MaxAttempts && IsRetryable(e))
            {
                // Jittered, growing pauses, so the units that collided don't collide again in step.
                var delay = TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 << attempt));
                LogRetry(_logger, e.SqlState, attempt, delay.TotalMilliseconds);
                await Task.Delay(delay, _timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask<T> RunOnceAsync<T>(bool write, LeaseFence? fence, Func<ISecretSession, CancellationToken, ValueTask<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(write ? IsolationLevel.ReadCommitted : IsolationLevel.RepeatableRead, cancellationToken)
            .ConfigureAwait(false);
        var session = new PostgreSqlSecretSession(connection, transaction, write, _rows);
        try
        {
            if (fence is not null && !await session.HoldsFenceAsync(fence, cancellationToken).ConfigureAwait(false))
            {
                throw new LeaseLostException(fence);
            }

            var result = await work(session, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch
        {
            session.ForgetInserted();
            throw;
        }
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "store unit lost a race ({SqlState}) on attempt {Attempt}; running it again in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string sqlState, int attempt, double delayMs);
}

/// <summary>A read unit without a transaction asked for a second statement: the store runs it again in one.</summary>
internal sealed class SnapshotRequiredException() : Exception("This read needs more than one statement, so it runs again in a REPEATABLE READ transaction.");
