using System.CommandLine;
using Keyturn.Application.Security;
using Keyturn.Cli.Commands;

namespace Keyturn.Cli;

/// <summary>The <c>keyturn</c> command line: one root with a subcommand per job.</summary>
public static class CliApplication
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Keyturn: a Secrets Manager-compatible secret store that rotates database credentials and repairs stuck rotations.")
        {
            ServeCommand.Create(),
            KeysCommand.Create(),
            FunctionsCommand.Create(),
            RotationsCommand.Create(),
            DoctorCommand.Create(),
            DemoCommand.Create(),
            LogsCommand.Create(),
            MasterKeyCommand.Create(),
        };

        // A refusal the operator must act on (a missing or mismatched master key, a key file open to others) is one line, not a stack trace.
        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (KeyturnStartupException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // What System.CommandLine's default handler did for everything else.
            await Console.Error.WriteLineAsync("Unhandled exception: " + e).ConfigureAwait(false);
            return 1;
        }
    }
}
