using System.CommandLine;
using System.Text.RegularExpressions;
using Keyturn.Application.Security;
using Keyturn.Server.Hosting;
using Microsoft.Extensions.Hosting;

namespace Keyturn.Cli.Commands;

/// <summary><c>keyturn serve</c>: runs the Secrets Manager API on the embedded store, or as one node of a cluster on a shared store (<c>--store</c>).</summary>
internal static partial class ServeCommand
{
    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var listen = new Option<string>("--listen")
        {
            Description = $"HOST:PORT to listen on (loopback by default).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("KEYTURN_LISTEN") ?? $"127.0.0.1:{ServerOptions.DefaultPort}",
        };
        var logLevel = new Option<string>("--log-level")
        {
            Description = "Trace, Debug, Information, Warning or Error. Debug logs every request.",
            DefaultValueFactory = _ => "Information",
        };
        var schedulerInterval = new Option<double>("--scheduler-interval")
        {
            Description = "Seconds between the rotation scheduler's looks for due rotations.",
            DefaultValueFactory = _ => ServerOptions.DefaultSchedulerIntervalSeconds,
        };

        var functionStopGrace = new Option<double>("--function-stop-grace")
        {
            Description = "Seconds a rotation command's processes get to exit after SIGTERM (on its timeout or the server's shutdown) before SIGKILL.",
            DefaultValueFactory = _ => ServerOptions.DefaultFunctionStopGraceSeconds,
        };

        var kmsKeyId = new Option<string?>("--kms-key-id")
        {
            Description = "On a new data directory: keep the master key wrapped by this AWS KMS key (only KMS's ciphertext is stored; KMS decrypts it at every start).",
        };

        var command = new Command("serve", "Run the Secrets Manager-compatible API (AWS JSON 1.1 + SigV4).") { dataDir, storeUrl, listen, accountId, logLevel, schedulerInterval, functionStopGrace, kmsKeyId };
        var transport = new ServeTlsOptions();
        transport.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!AccountIdPattern().IsMatch(parse.GetValue(accountId)!))
            {
                await Console.Error.WriteLineAsync("--account-id must be 12 digits.").ConfigureAwait(false);
                return 2;
            }

            if (parse.GetValue(schedulerInterval) is not (> 0 and <= 86400))
            {
                await Console.Error.WriteLineAsync("--scheduler-interval must be more than 0 and at most 86400 seconds.").ConfigureAwait(false);
                return 2;
            }

            if (parse.GetValue(functionStopGrace) is not (>= 0 and <= ServerOptions.MaxFunctionStopGraceSeconds))
            {
                await Console.Error.WriteLineAsync($"--function-stop-grace must be between 0 and {ServerOptions.MaxFunctionStopGraceSeconds} seconds.").ConfigureAwait(false);
                return 2;
            }

            var options = CommonOptions.ServerOptions(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl)) with
            {
                Listen = parse.GetValue(listen)!,
                LogLevel = parse.GetValue(logLevel)!,
                SchedulerInterval = TimeSpan.FromSeconds(parse.GetValue(schedulerInterval)),
                FunctionStopGrace = TimeSpan.FromSeconds(parse.GetValue(functionStopGrace)),
                CreateMasterKey = true,
                KmsKeyId = parse.GetValue(kmsKeyId),
                Kms = CommonOptions.Kms(),
            };

            // Everything that can refuse the start runs before root credentials or a self-signed certificate are
            // created, so a refused start leaves the data directory as it found it: the transport settings, the root
            // key's variables and file, then the master key against the store (which creates the key only in an
            // empty directory).
            var (transportChecked, transportError) = transport.Check(parse, options);
            if (transportChecked is null)
            {
                await Console.Error.WriteLineAsync(transportError).ConfigureAwait(false);
                return 2;
            }

            RootCredentials? existingRoot;
            try
            {
                existingRoot = CommonOptions.ReadRoot(options.DataDirectory);
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return 2;
            }

            var store = await KeyturnServer.OpenStoreAsync(options, cancellationToken).ConfigureAwait(false);
            var (withTransport, tlsError) = transportChecked.Create();
            if (withTransport is null)
            {
                store.Dispose();
                await Console.Error.WriteLineAsync(tlsError).ConfigureAwait(false);
                return 2;
            }

            options = withTransport;
            var root = existingRoot ?? RootCredentials.Generate(options.DataDirectory);
            var app = KeyturnServer.Build(options, root, store: store);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            PrintBanner(options, root);
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static void PrintBanner(ServerOptions options, RootCredentials root)
    {
        Console.WriteLine($"Keyturn is listening on {options.Scheme}://{options.Listen} (data directory {options.DataDirectory}{(StorageOptions.IsShared(options) ? $"; {StorageOptions.Describe(options)}" : "")})");
        ServeTlsOptions.PrintBanner(Console.Out, options);
        Console.WriteLine();
        if (root.Generated)
        {
            Console.WriteLine("Root credentials were generated and saved to " + Path.Combine(options.DataDirectory, RootCredentials.FileName) + " (shown only this once):");
            Console.WriteLine($"  export AWS_ACCESS_KEY_ID={root.AccessKeyId}");
            Console.WriteLine($"  export AWS_SECRET_ACCESS_KEY={root.SecretAccessKey}");
        }
        else
        {
            Console.WriteLine($"Root access key {root.AccessKeyId}; its secret is in {Path.Combine(options.DataDirectory, RootCredentials.FileName)} or {RootCredentials.SecretKeyVariable}.");
            Console.WriteLine($"  export AWS_SHARED_CREDENTIALS_FILE={Path.Combine(options.DataDirectory, RootCredentials.FileName)}");
        }

        Console.WriteLine("  export AWS_DEFAULT_REGION=us-east-1");
        Console.WriteLine($"  aws secretsmanager list-secrets {ServeTlsOptions.ClientArguments(options)}");
        Console.Out.Flush();
    }

    [GeneratedRegex("^[0-9]{12}$")]
    private static partial Regex AccountIdPattern();
}
