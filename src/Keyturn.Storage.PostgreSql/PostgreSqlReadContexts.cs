using System.Collections.Concurrent;
using Npgsql;

namespace Keyturn.Storage.PostgreSql;

/// <summary>
/// Connections of the multiplexing read pool kept open between single-statement read units, each with the commands of the
/// hot lookups (a secret by name, by ARN) built once. A GetSecretValue then allocates no NpgsqlConnection, NpgsqlCommand or
/// NpgsqlParameter, and Npgsql resolves a parameter's type once per command rather than once per request. With
/// multiplexing an open connection holds no server connection (each statement goes to whichever of the pool's connections
/// has room), so keeping some open costs a little memory only. A context goes back after a unit that ended normally;
/// one whose unit failed (cancelled mid-statement, the secret not found, the store unreachable) is dropped.
/// </summary>
internal sealed class PostgreSqlReadContexts(NpgsqlDataSource source) : IDisposable
{
    // As many as requests usually run at once; beyond it a unit opens a connection and drops it afterwards.
    private const int MaxIdle = 64;

    private readonly ConcurrentQueue<PostgreSqlReadContext> _idle = new();
    private int _idleCount;
    private volatile bool _disposed;

    /// <summary>True when <paramref name="source"/> multiplexes, the only kind of pool whose open connections may be kept.</summary>
    public static bool CanKeep(NpgsqlDataSource source) => new NpgsqlConnectionStringBuilder(source.ConnectionString).Multiplexing;

    public async ValueTask<PostgreSqlReadContext> RentAsync(CancellationToken cancellationToken)
    {
        if (_idle.TryDequeue(out var context))
        {
            Interlocked.Decrement(ref _idleCount);
            return context;
        }

        return new PostgreSqlReadContext(await source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false));
    }

    public void Return(PostgreSqlReadContext context)
    {
        if (_disposed || Interlocked.Increment(ref _idleCount) > MaxIdle)
        {
            if (!_disposed)
            {
                Interlocked.Decrement(ref _idleCount);
            }

            context.Dispose();
            return;
        }

        _idle.Enqueue(context);
        if (_disposed)
        {
            // Disposed meanwhile: what was just queued is closed with the rest.
            Drain();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        Drain();
    }

    private void Drain()
    {
        while (_idle.TryDequeue(out var context))
        {
            Interlocked.Decrement(ref _idleCount);
            context.Dispose();
        }
    }
}

/// <summary>One kept connection of the read pool and its hot commands; used by one unit at a time.</summary>
internal sealed class PostgreSqlReadContext(NpgsqlConnection connection) : IDisposable
{
    private NpgsqlCommand? _byName;
    private NpgsqlCommand? _byArn;
    private PostgreSqlSecretSession? _session;

    public NpgsqlConnection Connection => connection;

    /// <summary>
    /// The session of the unit that rented this context, started afresh: kept with the context rather than allocated per
    /// read, as the context is used by one unit at a time and dropped after a unit that failed.
    /// </summary>
    public PostgreSqlSecretSession Session(PostgreSqlRowDecoder rows)
    {
        _session ??= new PostgreSqlSecretSession(connection, transaction: null, write: false, rows, this);
        _session.StartUnit();
        return _session;
    }

    /// <summary>The lookup of a secret by region and name, its parameters set; not to be disposed by the caller.</summary>
    public NpgsqlCommand SecretByName(string sql, string region, string name)
    {
        _byName ??= Create(sql, 2);
        ((NpgsqlParameter<string>)_byName.Parameters[0]).TypedValue = region;
        ((NpgsqlParameter<string>)_byName.Parameters[1]).TypedValue = name;
        return _byName;
    }

    /// <summary>The lookup of a secret by ARN, its parameter set; not to be disposed by the caller.</summary>
    public NpgsqlCommand SecretByArn(string sql, string arn)
    {
        _byArn ??= Create(sql, 1);
        ((NpgsqlParameter<string>)_byArn.Parameters[0]).TypedValue = arn;
        return _byArn;
    }

    public void Dispose()
    {
        _byName?.Dispose();
        _byArn?.Dispose();
        connection.Dispose();
    }

    private NpgsqlCommand Create(string sql, int parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add(new NpgsqlParameter<string>());
        }

        return command;
    }
}
