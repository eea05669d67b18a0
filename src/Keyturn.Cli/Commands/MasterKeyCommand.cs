using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Application.Security;
using Keyturn.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Keyturn.Cli.Commands;

/// <summary><c>keyturn master-key rotate|status</c>: re-wraps every data key under a new master key, online and resumable.</summary>
internal static class MasterKeyCommand
{
    /// <summary>Test-only fault point: kill this process (SIGKILL, no clean-up) once this many re-wrap batches have committed.</summary>
    public const string KillAfterBatchesVariable = "KEYTURN_TEST_KILL_AFTER_REWRAP_BATCHES";

    public static Command Create()
    {
        var command = new Command("master-key", "Rotate the master key that wraps every data key, or show which keys seal the data.");
        command.Subcommands.Add(Rotate());
        command.Subcommands.Add(Status());
        return command;
    }

    private static Command Rotate()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var kmsKeyId = new Option<string?>("--kms-key-id") { Description = "Generate the new master key under this AWS KMS key (default: as the current key is kept)." };
        var batchSize = new Option<int>("--batch-size")
        {
            Description = "Data keys re-wrapped per transaction.",
            DefaultValueFactory = _ => MasterKeyRotation.DefaultBatchSize,
        };
        var command = new Command("rotate",
            "Create a new master key and re-wrap every data key with it while servers keep running; run it again to resume after an interruption. " +
            "The old key is then retired into a backup file beside the data.")
        { dataDir, storeUrl, kmsKeyId, batchSize };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(batchSize) is not (> 0 and <= 10_000))
            {
                await Console.Error.WriteLineAsync("--batch-size must be between 1 and 10000.").ConfigureAwait(false);
                return 2;
            }

            var directory = Path.GetFullPath(parse.GetValue(dataDir)!);
            using var exclusive = LockRotation(CommonOptions.ServerOptions(directory, "000000000000", parse.GetValue(storeUrl)));
            using var services = await KeysCommand.ServicesAsync(directory, "000000000000", parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            var rotation = services.GetRequiredService<MasterKeyRotation>();
            var killAfter = int.TryParse(Environment.GetEnvironmentVariable(KillAfterBatchesVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
            var batches = 0;
            var outcome = await rotation.RunAsync(directory, services.GetService<ServerOptions>()?.Kms, parse.GetValue(kmsKeyId), parse.GetValue(batchSize),
                Console.WriteLine,
                rewrapped =>
                {
                    Console.WriteLine($"  re-wrapped {rewrapped} data keys");
                    if (++batches == killAfter)
                    {
                        Console.Out.Flush();
                        Process.GetCurrentProcess().Kill();
                    }
                },
                cancellationToken).ConfigureAwait(false);

            Console.WriteLine($"Master key rotated: every data key is sealed by {outcome.Key} ({outcome.Rewrapped} re-wrapped{(outcome.Resumed ? " in this run" : "")}).");
            foreach (var (key, backup) in outcome.Retired.Zip(outcome.Backups))
            {
                Console.WriteLine($"Retired {key.Id}: a copy is in {backup} (mode 0600). Only backups of the data taken before now need it: move it offline with them, then delete it here.");
            }

            return 0;
        });
        return command;
    }

    private static Command Status()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var command = new Command("status", "Show the configured master keys, the keys the store has used, and how many data keys each seals.") { dataDir, storeUrl };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await KeysCommand.ServicesAsync(Path.GetFullPath(parse.GetValue(dataDir)!), "000000000000", parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            var keyring = services.GetRequiredService<MasterKeyring>();
            var (registered, counts) = await services.GetRequiredService<ISecretStore>().ReadAsync(
                async (s, ct) => (await s.ListMasterKeysAsync(ct).ConfigureAwait(false), await s.CountSealedByKeyAsync(ct).ConfigureAwait(false)),
                cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"Configured in {keyring.Source}: {string.Join(", ", keyring.Keys.Select((k, i) => i == 0 ? $"{k} (seals new data)" : $"{k} (read only)"))}");
            Console.WriteLine($"{"KEY ID",-18} {"ADDED",-22} {"RETIRED",-22} DATA KEYS");
            foreach (var key in registered)
            {
                Console.WriteLine($"{key.KeyId,-18} {key.AddedDate:yyyy-MM-ddTHH:mm:ssZ}   {(key.RetiredDate is { } r ? r.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) : "-"),-22} {counts.GetValueOrDefault(key.KeyId)}");
            }

            foreach (var (id, count) in counts.Where(c => registered.All(k => k.KeyId != c.Key)))
            {
                Console.WriteLine($"{id,-18} {"(unrecorded)",-22} {"-",-22} {count}");
            }

            return keyring.Keys.Count > 1 ? 3 : 0;
        });
        return command;
    }

    /// <summary>One rotation at a time per data directory: an OS lock on a file beside the key, released when the process dies.</summary>
    private static FileStream LockRotation(ServerOptions server)
    {
        KeyturnServer.RequireMasterKey(server);
        var directory = server.DataDirectory;
        var path = Path.Combine(directory, MasterKeyring.FileName + ".lock");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = PrivateFiles.FileMode;
            }

            return new FileStream(path, options);
        }
        catch (IOException)
        {
            throw new KeyturnStartupException($"Another `keyturn master-key rotate` is running on {directory} (it holds {path}).");
        }
    }
}
