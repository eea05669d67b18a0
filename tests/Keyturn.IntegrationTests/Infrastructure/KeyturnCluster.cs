using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>Where a test cluster's nodes keep their shared data.</summary>
public enum ClusterStore
{
    /// <summary>A database of a throwaway PostgreSQL server: the production shape.</summary>
    PostgreSql,

    /// <summary>
    /// One embedded store directory opened by every node (<c>--store DIR</c>): only for developing the harness on a build
    /// without the PostgreSQL backend; several processes on one SQLite file on one machine is not a supported deployment.
    /// </summary>
    SharedEmbedded,
}

/// <summary>
/// N real <c>keyturn serve</c> nodes on one store, each with its own data directory, all given the same master key
/// (<c>KEYTURN_MASTER_KEY</c>) and root credentials, behind a <see cref="RoundRobinProxy"/>. A node keeps its port
/// across restarts, so the proxy finds it again. <see cref="Front"/> stands for the cluster where a test expects one server.
/// </summary>
public sealed class KeyturnCluster : IAsyncDisposable
{
    /// <summary><c>KEYTURN_TEST_STORE=postgresql</c> runs the suites that use <see cref="TestServers"/> on a two-node cluster.</summary>
    public const string ModeVariable = "KEYTURN_TEST_STORE";

    public const string StoreUser = "keyturn_store";

    private readonly KeyturnProcess?[] _nodes;
    private readonly int[] _ports;
    private readonly string[] _dataDirectories;
    private readonly string?[] _builds;
    private readonly IReadOnlyList<string> _arguments;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly StringBuilder _history = new();
    private readonly bool _ownsPostgres;
    private TestCertificates? _certificates;
    private string? _sharedStore;

    private KeyturnCluster(int nodes, PostgresServer? postgres, bool ownsPostgres, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment, IReadOnlyList<string?>? builds)
    {
        _nodes = new KeyturnProcess?[nodes];
        _builds = [.. Enumerable.Range(0, nodes).Select(i => builds is not null && i < builds.Count ? builds[i] : null)];
        _ports = [.. Enumerable.Range(0, nodes).Select(_ => KeyturnProcess.FreePort())];
        _dataDirectories = [.. Enumerable.Range(0, nodes).Select(i => TestDirectories.Create($"keyturn-node{i}-"))];
        Postgres = postgres;
        _ownsPostgres = ownsPostgres;
        _arguments = arguments;
        _environment = environment;
        Proxy = new RoundRobinProxy(_ports);
    }

    /// <summary>The PostgreSQL server holding the store (null on <see cref="ClusterStore.SharedEmbedded"/>).</summary>
    public PostgresServer? Postgres { get; }

    public RoundRobinProxy Proxy { get; }

    /// <summary>The proxy's endpoint as a <see cref="KeyturnProcess"/>: disposing it stops the whole cluster.</summary>
    public KeyturnProcess Front { get; private set; } = null!;

    /// <summary><c>KEYTURN_STORE</c> and <c>KEYTURN_MASTER_KEY</c>: every node's and every administration command's.</summary>
    public IReadOnlyDictionary<string, string> StoreEnvironment { get; private set; } = null!;

    public string MasterKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public string AccessKeyId { get; } = "AKIACLUSTER" + RandomNumberGenerator.GetInt32(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture);

    public string SecretAccessKey { get; } = "cluster-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(20));

    public int Count => _nodes.Length;

    /// <summary>Node <paramref name="index"/>, or null while it is down.</summary>
    public KeyturnProcess? this[int index] => _nodes[index];

    /// <summary>Every node's output so far, and the outputs of its earlier lives.</summary>
    public string Output
    {
        get
        {
            lock (_history)
            {
                return _history + string.Concat(_nodes.OfType<KeyturnProcess>().Select(n => n.Output));
            }
        }
    }

    /// <summary>From <see cref="ModeVariable"/>: true when the suites should run on a cluster.</summary>
    public static bool Requested => string.Equals(System.Environment.GetEnvironmentVariable(ModeVariable), "postgresql", StringComparison.OrdinalIgnoreCase);

    /// <param name="postgres">A running server to hold the store; a private one (with TLS, as the rotator tests use) when null.</param>
    /// <param name="arguments">More <c>keyturn serve</c> arguments for every node (e.g. <c>--scheduler-interval 1</c>).</param>
    /// <param name="builds">Node i runs <c>builds[i]</c>, another build's <c>keyturn.dll</c> (a rolling upgrade's older version); this build where null or missing.</param>
    /// <param name="startNodes">How many nodes start now (at least one; all when null); the others wait for <see cref="StartNodeAsync"/>.</param>
    public static async Task<KeyturnCluster> StartAsync(int nodes, ClusterStore store = ClusterStore.PostgreSql, PostgresServer? postgres = null,
        IEnumerable<string>? arguments = null, IDictionary<string, string>? environment = null, IReadOnlyList<string?>? builds = null, int? startNodes = null)
    {
        TestCertificates? certificates = null;
        var owns = false;
        if (store == ClusterStore.PostgreSql && postgres is null)
        {
            if (PostgresServer.MissingBinary() is { } missing)
            {
                throw new InvalidOperationException($"A Keyturn cluster needs a real PostgreSQL server, but {missing} is not installed.");
            }

            postgres = new PostgresServer();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => postgres.StopNow();
            certificates = TestCertificates.Create();
            await postgres.StartAsync(certificates, maxConnections: 150);
            owns = true;
        }

        var cluster = new KeyturnCluster(nodes, store == ClusterStore.PostgreSql ? postgres : null, owns, [.. arguments ?? []], new Dictionary<string, string>(environment ?? new Dictionary<string, string>()), builds)
        {
            _certificates = certificates,
        };
        try
        {
            cluster.StoreEnvironment = new Dictionary<string, string>
            {
                ["KEYTURN_STORE"] = await cluster.CreateStoreAsync(store),
                ["KEYTURN_MASTER_KEY"] = cluster.MasterKey,
            };

            // The first node alone migrates the empty store and registers the master key; the others then start together.
            await cluster.StartNodeAsync(0);
            await Task.WhenAll(Enumerable.Range(1, Math.Clamp(startNodes ?? nodes, 1, nodes) - 1).Select(i => cluster.StartNodeAsync(i)));
            cluster.Front = KeyturnProcess.Front(cluster._nodes[0]!, cluster, cluster.Proxy.Endpoint);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts node <paramref name="index"/> (again) on its own port and data directory, with <paramref name="environment"/> on top of the cluster's.</summary>
    public async Task StartNodeAsync(int index, IDictionary<string, string>? environment = null)
    {
        if (_nodes[index] is not null)
        {
            throw new InvalidOperationException($"Node {index} is running.");
        }

        var variables = NodeEnvironment();
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        _nodes[index] = await KeyturnProcess.StartAsync(_dataDirectories[index], variables, _arguments, port: _ports[index], storeEnvironment: StoreEnvironment, keyturnDll: _builds[index]);
    }

    /// <summary><c>kill -9</c> of node <paramref name="index"/>: no shutdown code runs; its output is kept.</summary>
    public Task KillAsync(int index) => EndNodeAsync(index, "killed", node => node.CrashAsync());

    /// <summary>Stops node <paramref name="index"/> as <c>systemctl stop</c> does (SIGTERM, its shutdown runs); returns its exit code, null if it was down.</summary>
    public async Task<int?> StopNodeAsync(int index)
    {
        int? exitCode = null;
        await EndNodeAsync(index, "stopped", async node => exitCode = await node.StopAsync());
        return exitCode;
    }

    private async Task EndNodeAsync(int index, string how, Func<KeyturnProcess, Task> end)
    {
        if (_nodes[index] is not { } node)
        {
            return;
        }

        _nodes[index] = null;
        await end(node);
        lock (_history)
        {
            _history.Append(node.Output).AppendLine(CultureInfo.InvariantCulture, $"---- node {index} {how} ----");
        }

        await node.DisposeAsync();
    }

    /// <summary>SIGSTOP of node <paramref name="index"/>: it holds its connections, leases and memory but runs nothing.</summary>
    public Task PauseAsync(int index) => _nodes[index]?.SignalAsync("STOP") ?? Task.CompletedTask;

    /// <summary>SIGCONT: the paused node goes on exactly where it stopped, unaware of the time that passed.</summary>
    public Task ResumeAsync(int index) => _nodes[index]?.SignalAsync("CONT") ?? Task.CompletedTask;

    public string NodeEndpoint(int index) => $"http://127.0.0.1:{_ports[index]}";

    public string DataDirectory(int index) => _dataDirectories[index];

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_nodes[i] is { } node)
            {
                // A paused process ignores SIGKILL until continued on some kernels' accounting: continue it first.
                await node.SignalAsync("CONT");
                await node.DisposeAsync();
                _nodes[i] = null;
            }
        }

        if (_ownsPostgres && Postgres is not null)
        {
            await Postgres.StopAsync();
        }

        _certificates?.Delete();
        TestDirectories.Delete([.. _dataDirectories, _sharedStore]);
    }

    private Dictionary<string, string> NodeEnvironment() => new(_environment)
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = AccessKeyId,
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = SecretAccessKey,
    };

    /// <summary>A role and a database of its own for the store (least privilege: not the superuser); returns the URL nodes get.</summary>
    private async Task<string> CreateStoreAsync(ClusterStore store)
    {
        if (store == ClusterStore.SharedEmbedded)
        {
            return _sharedStore = TestDirectories.Create("keyturn-shared-store-");
        }

        var password = "St" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var database = "keyturn_store_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        var role = StoreUser + "_" + database[^8..];
        await Postgres!.ExecuteAsSuperuserAsync("postgres",
            $"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
            $"CREATE DATABASE {database} OWNER {role}");
        return $"postgresql://{role}:{password}@127.0.0.1:{Postgres.Port}/{database}";
    }
}

/// <summary>The server the shared suites (AWS CLI, boto3, rotation, doctor) run on: one embedded node, or a two-node PostgreSQL cluster when <see cref="KeyturnCluster.Requested"/>.</summary>
public static class TestServers
{
    public static async Task<KeyturnProcess> StartAsync() =>
        KeyturnCluster.Requested ? (await KeyturnCluster.StartAsync(2)).Front : await KeyturnProcess.StartAsync();
}
