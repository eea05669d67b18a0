using System.CommandLine;
using System.Reflection;
using Keyturn.Application.Security;
using Keyturn.Cli.Commands;
using Keyturn.Server.Hosting;

namespace Keyturn.Cli;

/// <summary>The <c>keyturn</c> command line: one root with a subcommand per job.</summary>
public static class CliApplication
{
    /// <summary>Set to 1 to see the stack trace of a failure instead of its one-line summary.</summary>
    public const string DebugVariable = "KEYTURN_DEBUG";

    /// <summary>How long a command may take to stop after SIGTERM or Ctrl+C: more than the host's longest shutdown.</summary>
    private static readonly TimeSpan TerminationTimeout = KeyturnServer.ShutdownTimeout(new ServerOptions
    {
        DataDirectory = "",
        FunctionStopGrace = TimeSpan.FromSeconds(ServerOptions.MaxFunctionStopGraceSeconds),
    }) + TimeSpan.FromSeconds(5);

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
            StoreCommand.Create(),
        };

        // A refusal the operator must act on (a missing or mismatched master key, a key file open to others), a port
        // in use, a bad --listen or an unreadable data directory: say what it is in one line, not a stack trace.
        try
        {
            // On SIGTERM/SIGINT, `serve` stops its rotation functions (up to --function-stop-grace, then SIGKILL) before it
            // exits: System.CommandLine's default of 2 s would end the process first and leave them running.
            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TerminationTimeout };
            return await root.Parse(args).InvokeAsync(invocation).ConfigureAwait(false);
        }
        catch (KeyturnStartupException e)
        {
            await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return 2;
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
