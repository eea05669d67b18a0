using System.Net;
using System.Text.Json;
using Keyturn.Application;
using Keyturn.Application.Crypto;
using Keyturn.Application.Logs;
using Keyturn.Application.Operations;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Application.Security;
using Keyturn.Domain.Passwords;
using Keyturn.Protocol.SigV4;
using Keyturn.Server.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Keyturn.Server.Hosting;

/// <summary>The composition root of <c>keyturn serve</c>.</summary>
public static partial class KeyturnServer
{
    /// <summary>Where a client asks whether an endpoint is Keyturn (the doctor does before choosing its checks).</summary>
    public const string InfoRoute = "/keyturn/info";

    /// <summary>Answers while the process serves HTTP, whatever the store: a load balancer's liveness probe.</summary>
    public const string LiveRoute = "/health/live";

    /// <summary>200 only while the store answers a cheap query within <see cref="ReadinessTimeout"/> and its schema is current; else 503.</summary>
    public const string ReadyRoute = "/health/ready";

    /// <summary>How long readiness waits for the store: well under a load balancer's usual probe timeout.</summary>
    public static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(2);

    /// <param name="store">The store <see cref="OpenStoreAsync"/> opened (checking the master key before anything else is created).</param>
    public static WebApplication Build(ServerOptions options, RootCredentials root, OpenedStore store, string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(Enum.Parse<LogLevel>(options.LogLevel, ignoreCase: true));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

        // ASP.NET Core starts an Activity and a logging scope for every request whenever its hosting category logs at
        // any level, for scopes no Keyturn log line shows. The category's request lines are Information, filtered
        // out above; a failing request is logged by Kestrel and by Keyturn itself. A tracing listener
        // (OpenTelemetry, dotnet-trace) still gets its Activity: ASP.NET Core creates one whenever one listens.
        builder.Logging.AddFilter(HostingDiagnosticsCategory, LogLevel.None);

        // The host logs a start-up failure (a port in use) with its stack trace; `keyturn` reports it in one line.
        // A background service that stops the host is still logged: that is Critical.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
        });
        builder.WebHost.ConfigureKestrel(kestrel => ApplyRequestLimits(kestrel.Limits));

        // Listening and HTTPS, kept apart from the limits above.
        var listenOn = ParseEndpoint(options.Listen);
        if (options.TransportProblem(listenOn) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(listenOn, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            if (options.Tls is { } tls)
            {
                var log = kestrel.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerTls));
                tls.Reloaded += (detail, taken) =>
                {
                    if (taken)
                    {
                        LogCertificateReloaded(log, tls.CertificateFile, detail);
                    }
                    else
                    {
                        LogCertificateReloadRefused(log, detail);
                    }
                };
                listen.UseHttps(new TlsHandshakeCallbackOptions
                {
                    OnConnection = _ => ValueTask.FromResult(tls.AuthenticationOptions()),
                    HandshakeTimeout = TimeSpan.FromSeconds(10),
                });
            }
        }));

        AddKeyturn(builder.Services, options, root, store);

        // Shutdown waits for running rotation functions to end (SIGTERM, the grace period, SIGKILL): allow for that.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout(options));

        var app = builder.Build();
        var version = typeof(KeyturnServer).Assembly.GetName().Version?.ToString() ?? "0";
        app.MapGet("/health", () => Results.Json(new HealthStatus("ok", version), AwsJsonContext.Wire.HealthStatus));
        app.MapGet(LiveRoute, () => Results.Json(new ProbeStatus("live"), AwsJsonContext.Wire.ProbeStatus));
        app.MapGet(ReadyRoute, (IStoreReadiness readiness, CancellationToken aborted) => ReadyAsync(readiness, aborted));
        app.MapGet(InfoRoute, () => Results.Json(new KeyturnInfo("keyturn", version), AwsJsonContext.Wire.KeyturnInfo));
        var endpoint = app.Services.GetRequiredService<AwsJsonEndpoint>();

        // Every API call is POST /: answered before routing, which would find the same endpoint at a cost per request.
        // Routing still maps it, so any other method or path is answered exactly as before.
        app.Use(next => http => IsApiCall(http.Request) ? endpoint.HandleAsync(http) : next(http));
        app.UseRouting();
        app.MapPost("/", endpoint.HandleAsync);
        app.MapGet(LambdaEndpoint.Route, app.Services.GetRequiredService<LambdaEndpoint>().HandleAsync);
        app.MapFallback(async context =>
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "application/x-amz-json-1.1";
            await context.Response.WriteAsync(JsonSerializer.Serialize(
                new AwsErrorBody("UnknownOperationException", "Keyturn serves the Secrets Manager and CloudWatch Logs APIs with POST /, Lambda GetFunctionConfiguration for its rotation functions, and health checks at GET /health, /health/live and /health/ready, and its identity at GET /keyturn/info."),
                AwsJsonContext.Wire.AwsErrorBody)).ConfigureAwait(false);
        });
        return app;
    }

    /// <summary>The logging category of ASP.NET Core's per-request diagnostics (its Activity, scope and request lines).</summary>
    public const string HostingDiagnosticsCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>What <c>MapPost("/")</c> matches: the method case-insensitively, the path exactly "/".</summary>
    private static bool IsApiCall(HttpRequest request) => HttpMethods.IsPost(request.Method) && request.Path.Value == "/";

    /// <param name="opened">The store <see cref="OpenStoreAsync"/> opened; the services own it from then on.</param>
    public static void AddKeyturn(IServiceCollection services, ServerOptions options, RootCredentials root, OpenedStore opened)
    {
        ArgumentNullException.ThrowIfNull(opened);
        var (backend, keyring) = opened;

        services.AddSingleton(options);
        services.AddSingleton(root);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new KeyturnOptions { AccountId = options.AccountId });
        services.AddSingleton(keyring);
        services.AddSingleton(new EnvelopeCipher(keyring));
        // A factory, so the container disposes the backend (its connections, the SQLite file) when it is disposed.
        services.AddSingleton(_ => backend);
        services.AddSingleton(sp => sp.GetRequiredService<StoreBackend>().Store);
        services.AddSingleton(sp => sp.GetRequiredService<StoreBackend>().Readiness);
        services.AddSingleton<MasterKeyRotation>();
        services.AddSingleton<IRandomSource>(CryptoRandomSource.Instance);
        services.AddSingleton(new RotationOptions
        {
            Endpoint = options.LocalEndpoint(ParseEndpoint(options.Listen)),
            // Rotation commands reach this server with the CA the operator's own clients use.
            CaBundle = options.Tls is null ? null : options.Tls.CaBundle ?? Environment.GetEnvironmentVariable("AWS_CA_BUNDLE"),
            SchedulerInterval = options.SchedulerInterval,
            FunctionStopGrace = options.FunctionStopGrace,
        });
        services.AddSingleton(sp => new FunctionProcessRecords(
            FunctionProcessRecords.DirectoryIn(options.DataDirectory), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<FunctionProcessRecords>>()));
        services.AddSingleton(sp => sp.GetRequiredService<StoreBackend>().LogSink);
        services.AddSingleton(sp => sp.GetRequiredService<StoreBackend>().Logs);
        services.AddSingleton<LogsServices>();
        services.AddSingleton<RotationCredentials>();
        // Disposed with the server: every handler function's warm worker is stopped when it shuts down.
        services.AddSingleton(sp => new HandlerWorkerPool(sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<ExternalFunctionFactory>();
        services.AddSingleton<FunctionService>();
        services.AddSingleton(_ => BuiltInRotators.Create());
        services.AddSingleton<IEnumerable<IRotationFunction>>(sp => DatabaseRotationFunction.CreateAll(
            sp.GetRequiredService<DatabaseRotators>(), sp.GetRequiredService<SecretServices>(), sp.GetRequiredService<IRandomSource>()));
        services.AddSingleton<RotationFunctionRegistry>();
        services.AddSingleton<IRotationFunctionCatalog>(sp => sp.GetRequiredService<RotationFunctionRegistry>());
        services.AddSingleton<RotationEngine>();
        services.AddSingleton<IRotationLauncher>(sp => sp.GetRequiredService<RotationEngine>());
        services.AddSingleton<RotationScheduler>();
        services.AddSingleton<Authorizer>();
        services.AddSingleton<SecretServices>();
        services.AddSingleton<AccessKeyService>();
        services.AddSingleton(sp =>
        {
            var accessKeys = sp.GetRequiredService<AccessKeyService>();
            return new SigV4Verifier(
                async (accessKeyId, cancellationToken) =>
                    (await accessKeys.ResolveAsync(accessKeyId, cancellationToken).ConfigureAwait(false))?.SecretAccessKey,
                sp.GetRequiredService<TimeProvider>());
        });

        services.AddSingleton<CreateSecretHandler>();
        services.AddSingleton<PutSecretValueHandler>();
        services.AddSingleton<UpdateSecretHandler>();
        services.AddSingleton<GetSecretValueHandler>();
        services.AddSingleton<BatchGetSecretValueHandler>();
        services.AddSingleton<DescribeSecretHandler>();
        services.AddSingleton<ListSecretsHandler>();
        services.AddSingleton<ListSecretVersionIdsHandler>();
        services.AddSingleton<UpdateSecretVersionStageHandler>();
        services.AddSingleton<DeleteSecretHandler>();
        services.AddSingleton<RestoreSecretHandler>();
        services.AddSingleton<TagResourceHandler>();
        services.AddSingleton<UntagResourceHandler>();
        services.AddSingleton<GetRandomPasswordHandler>();
        services.AddSingleton<GetResourcePolicyHandler>();
        services.AddSingleton<PutResourcePolicyHandler>();
        services.AddSingleton<DeleteResourcePolicyHandler>();
        services.AddSingleton<ValidateResourcePolicyHandler>();
        services.AddSingleton<RotateSecretHandler>();
        services.AddSingleton<CancelRotateSecretHandler>();

        services.AddSingleton<OperationTable>();
        services.AddSingleton(sp => new ServiceDirectory([sp.GetRequiredService<OperationTable>(), LogsOperations.Create(sp)]));
        services.AddSingleton<AwsJsonEndpoint>();
        services.AddSingleton<LambdaEndpoint>();
        services.AddHostedService<DeletionPurgeService>();
        services.AddHostedService<RotationWorker>();
    }

    private static async Task<IResult> ReadyAsync(IStoreReadiness readiness, CancellationToken aborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(ReadinessTimeout);
        string? reason;
        try
        {
            // WaitAsync too: a backend whose query blocks without watching the token still gets its answer cut off.
            reason = await readiness.NotReadyReasonAsync(timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            reason = "the store did not answer in time";
        }

        return reason is null
            ? Results.Json(new ProbeStatus("ready"), AwsJsonContext.Wire.ProbeStatus)
            : Results.Json(new ProbeStatus("not ready", reason), AwsJsonContext.Wire.ProbeStatus, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>How long the host's shutdown may take: the function stop grace, SIGKILL's wait, and the rest of the host's stop.</summary>
    public static TimeSpan ShutdownTimeout(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.FunctionStopGrace + TimeSpan.FromSeconds(25);
    }

    /// <summary>
    /// Fails unless a master key is configured (the file or <c>KEYTURN_MASTER_KEY</c>), before anything is created in
    /// the data directory; <c>keyturn serve</c> skips this, as it may create the key of an empty store.
    /// </summary>
    /// <exception cref="KeyturnStartupException">There is no master key.</exception>
    public static void RequireMasterKey(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // With a store but no key, opening the store says which key ids its data needs (MasterKeyGuard).
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(MasterKeyring.EnvironmentVariable)) && !File.Exists(MasterKeyring.PathIn(options.DataDirectory))
            && !StorageOptions.Exists(options))
        {
            throw new KeyturnStartupException(MasterKeyGuard.Missing(options.DataDirectory, StorageOptions.Describe(options), null));
        }
    }

    /// <summary>
    /// Opens the configured store (<see cref="StorageOptions"/>) and the master keys that must open everything it holds
    /// (see <see cref="MasterKeyGuard"/>). Callers open it before creating anything else in the data directory (root
    /// credentials, a self-signed certificate), so that a refused start leaves the directory as it found it.
    /// </summary>
    /// <exception cref="KeyturnStartupException">No key, a key that doesn't match the store's, or a key file open to others.</exception>
    public static async Task<OpenedStore> OpenStoreAsync(ServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = TimeProvider.System;
        var configured = MasterKeyring.TryOpen(options.DataDirectory, Environment.GetEnvironmentVariable(MasterKeyring.EnvironmentVariable), options.Kms, time);
        var described = StorageOptions.Describe(options);
        if (configured is null && !options.CreateMasterKey && !StorageOptions.Exists(options))
        {
            throw new KeyturnStartupException(MasterKeyGuard.Missing(options.DataDirectory, described, null));
        }

        if (options.CreateMasterKey)
        {
            PrivateFiles.CreateDirectory(options.DataDirectory);
        }

        if (configured is not null && options.KmsKeyId is { } wanted && configured.Primary.KmsKeyId != wanted)
        {
            throw new KeyturnStartupException(
                $"--kms-key-id {wanted} only applies to a new data directory; {configured.Source} holds {configured.Primary}. " +
                $"To move the master key under that KMS key, run `keyturn master-key rotate --data-dir {options.DataDirectory} --kms-key-id {wanted}`.");
        }

        var backend = await StorageOptions.OpenAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            var keyring = await MasterKeyGuard.OpenAsync(backend.Store, options.DataDirectory, configured,
                options.CreateMasterKey ? () => MasterKeyring.Create(options.DataDirectory, options.Kms, options.KmsKeyId, time) : null, time, cancellationToken, described)
                .ConfigureAwait(false);
            return new OpenedStore(backend, keyring);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Limits that keep a slow or oversized client from holding the server: headers within 10 s, a body at no
    /// less than 240 bytes/s after a 5 s grace (else Kestrel ends the read and the endpoint answers 408), a body
    /// no larger than the endpoint accepts (413), and idle keep-alive connections closed after a minute.
    /// </summary>
    public static void ApplyRequestLimits(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxRequestBodySize = AwsJsonEndpoint.MaxBodyBytes + 1;
        limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        limits.KeepAliveTimeout = TimeSpan.FromMinutes(1);
        limits.MaxRequestHeadersTotalSize = 32 * 1024;
    }

    public static IPEndPoint ParseEndpoint(string listen)
    {
        var colon = listen.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(listen[(colon + 1)..], out var port) || port is < 0 or > 65535)
        {
            throw new ArgumentException($"--listen must be HOST:PORT, got '{listen}'.");
        }

        var host = listen[..colon].Trim('[', ']');
        IPAddress? address = host == "localhost" ? IPAddress.Loopback : null;
        if (address is null && !IPAddress.TryParse(host, out address))
        {
            throw new ArgumentException($"--listen must be HOST:PORT with an IP address or localhost as HOST, got '{listen}'.");
        }

        return new IPEndPoint(address, port);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate reloaded from {File}; SHA-256 fingerprint {Fingerprint}")]
    private static partial void LogCertificateReloaded(ILogger logger, string file, string fingerprint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS files changed but were not taken; still serving the previous certificate: {Reason}")]
    private static partial void LogCertificateReloadRefused(ILogger logger, string reason);
}
