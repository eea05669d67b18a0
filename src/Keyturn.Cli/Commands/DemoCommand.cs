using System.CommandLine;
using Keyturn.Cli.Demo;

namespace Keyturn.Cli.Commands;

/// <summary><c>keyturn demo</c>: the whole story of the field report, on a throwaway PostgreSQL, cleaned up afterwards.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Replay the field report: a real rotation, its failures, and the doctor repairing each (needs root for PostgreSQL).");
        command.SetAction(async (_, cancellationToken) =>
        {
            try
            {
                return await new DemoRunner(Console.Out).RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync("keyturn demo: " + e.Message).ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }
}
