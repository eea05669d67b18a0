using System.CommandLine;
using Keyturn.Cli.Commands;

namespace Keyturn.Cli;

/// <summary>The <c>keyturn</c> command line: one root with a subcommand per job.</summary>
public static class CliApplication
{
    public static Task<int> RunAsync(string[] args)
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
        };
        return root.Parse(args).InvokeAsync();
    }
}
