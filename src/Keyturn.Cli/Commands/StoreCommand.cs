using System.CommandLine;
using Keyturn.Application.Security;
using Keyturn.Application.Storage;

namespace Keyturn.Cli.Commands;

/// <summary><c>keyturn store migrate|verify --from LOCATION --to LOCATION</c>: copies a whole store into an empty one, and checks a copy.</summary>
internal static class StoreCommand
{
    public static Command Create()
    {
        var command = new Command("store", "Copy a whole store to another backend or directory, and verify copies.");
        command.Subcommands.Add(Migrate());
        command.Subcommands.Add(Verify());
        return command;
    }

    private static (Option<string> From, Option<string> To) Locations(string toDescription) => (
        new Option<string>("--from") { Description = "The store to copy: a data directory.", Required = true },
        new Option<string>("--to") { Description = toDescription, Required = true });

    private static Command Migrate()
    {
        var (from, to) = Locations("An empty store to copy into: postgresql://USER@HOST/DB or a data directory (created when missing).");
        var command = new Command(
            "migrate",
            "Copy every secret (values stay sealed), version, label, access key, function, policy, master key record, rotation, journal entry and log " +
            "into an empty store, then compare counts and SHA-256 checksums per kind. Exits non-zero on any difference.") { from, to };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (source, target) = (parse.GetValue(from)!, parse.GetValue(to)!);
            if (!StoreLocations.IsPostgreSql(target) && !StoreLocations.IsPostgreSql(source) && Path.GetFullPath(source) == Path.GetFullPath(target))
            {
                await Console.Error.WriteLineAsync("--from and --to are the same store.").ConfigureAwait(false);
                return 2;
            }

            try
            {
                using var sourceStore = await StoreLocations.OpenAsync(source, create: false, cancellationToken).ConfigureAwait(false);
                using var targetStore = await StoreLocations.OpenAsync(target, create: true, cancellationToken).ConfigureAwait(false);
                if (await StoreCopy.NonEmptyReasonAsync(targetStore.Ports, cancellationToken).ConfigureAwait(false) is { } held)
                {
                    await Console.Error.WriteLineAsync(
                        $"The target {targetStore.Description} is not empty (it holds {held}): store migrate copies only into an empty store, so nothing was written.").ConfigureAwait(false);
                    return 2;
                }

                Console.WriteLine($"Copying {sourceStore.Description} into {targetStore.Description}.");
                await StoreCopy.CopyAsync(sourceStore.Ports, targetStore.Ports, cancellationToken).ConfigureAwait(false);
                var verified = await CompareAsync(sourceStore, targetStore, cancellationToken).ConfigureAwait(false);
                if (verified)
                {
                    Console.WriteLine("Ciphertexts were copied sealed: start Keyturn on the target with the source's master key " +
                        "(KEYTURN_MASTER_KEY, or a copy of master.key in its data directory).");
                }

                return verified ? 0 : 1;
            }
            catch (Exception e) when (e is StoreLocationException or KeyturnStartupException)
            {
                await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    private static Command Verify()
    {
        var (from, to) = Locations("The copy: postgresql://USER@HOST/DB or a data directory.");
        var command = new Command("verify", "Compare two stores by counts and SHA-256 checksums per kind (a copy made by store migrate, or a backup). Exits 1 on any difference.") { from, to };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                using var sourceStore = await StoreLocations.OpenAsync(parse.GetValue(from)!, create: false, cancellationToken).ConfigureAwait(false);
                using var targetStore = await StoreLocations.OpenAsync(parse.GetValue(to)!, create: false, cancellationToken).ConfigureAwait(false);
                return await CompareAsync(sourceStore, targetStore, cancellationToken).ConfigureAwait(false) ? 0 : 1;
            }
            catch (Exception e) when (e is StoreLocationException or KeyturnStartupException)
            {
                await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    /// <summary>Prints one line per kind (counts and the source's checksum; the target's too when they differ); true when all match.</summary>
    private static async Task<bool> CompareAsync(OpenedStorePorts source, OpenedStorePorts target, CancellationToken cancellationToken)
    {
        var expected = await StoreCopy.InventoryAsync(source.Ports, cancellationToken).ConfigureAwait(false);
        var actual = (await StoreCopy.InventoryAsync(target.Ports, cancellationToken).ConfigureAwait(false)).ToDictionary(k => k.Kind, StringComparer.Ordinal);
        Console.WriteLine($"{"KIND",-18} {"SOURCE",8} {"TARGET",8}  SHA-256");
        var differing = new List<string>();
        foreach (var kind in expected)
        {
            var copy = actual[kind.Kind];
            var same = copy.Count == kind.Count && copy.Sha256 == kind.Sha256;
            if (!same)
            {
                differing.Add(kind.Kind);
            }

            Console.WriteLine($"{kind.Kind,-18} {kind.Count,8} {copy.Count,8}  {kind.Sha256}{(same ? "  ok" : $"  MISMATCH (target {copy.Sha256})")}");
        }

        if (differing.Count > 0)
        {
            await Console.Error.WriteLineAsync($"Verification failed: {target.Description} differs from {source.Description} in {string.Join(", ", differing)}.").ConfigureAwait(false);
            return false;
        }

        Console.WriteLine($"Verified: all {expected.Count} kinds match ({expected.Sum(k => k.Count)} items).");
        return true;
    }
}
