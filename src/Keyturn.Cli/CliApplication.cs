using System.CommandLine;
using System.Reflection;
using Keyturn.Cli.Commands;

namespace Keyturn.Cli;

/// <summary>The <c>keyturn</c> command line: one root with a subcommand per job.</summary>
public static class CliApplication
{
    /// <summary>Set to 1 to see the stack trace of a failure instead of its one-line summary.</summary>
    public const string DebugVariable = "KEYTURN_DEBUG";

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
        };

        // A port in use, a bad --listen or an unreadable data directory is an operator's mistake: say what it is in
        // one line rather than System.CommandLine's default of a stack trace.
        try
        {
            return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable(DebugVariable) != "1")
        {
            await Console.Error.WriteLineAsync(FailureLine(args, e)).ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>"keyturn serve: Failed to bind to address http://127.0.0.1:4566: address already in use."</summary>
    internal static string FailureLine(string[] args, Exception e)
    {
        while (e is (AggregateException or TargetInvocationException) && e.InnerException is not null)
        {
            e = e.InnerException;
        }

        var command = args.FirstOrDefault(a => !a.StartsWith('-'));
        var message = string.Join(' ', e.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return $"keyturn{(command is null ? "" : " " + command)}: {message} (set {DebugVariable}=1 for details)";
    }
}
