using System.CommandLine;
using System.Globalization;
using Keyturn.Application.Logs;
using Keyturn.Application.Rotation;
using Keyturn.Server.Hosting;
using Keyturn.Storage.Sqlite;

namespace Keyturn.Cli.Commands;

/// <summary><c>keyturn logs SECRET | --function NAME</c>: a secret's rotation history, or a function's latest log lines.</summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var secret = new Argument<string?>("secret")
        {
            Description = "The secret's name (every secret of that name) or ARN.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var function = new Option<string?>("--function") { Description = "Print this rotation function's latest lines instead (a name or a Lambda ARN)." };
        var limit = new Option<int>("--limit") { Description = "Print at most this many lines, the newest.", DefaultValueFactory = _ => 1000 };
        var command = new Command("logs", "Print rotation logs: every invocation that concerned a secret, oldest first.") { secret, function, limit, dataDir, storeUrl };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (secretId, functionName, count) = (parse.GetValue(secret), parse.GetValue(function), parse.GetValue(limit));
            if ((secretId is null) == (functionName is null) || count < 1)
            {
                await Console.Error.WriteLineAsync("Give a secret or --function NAME (not both), and a --limit of at least 1.").ConfigureAwait(false);
                return 2;
            }

            var options = CommonOptions.ServerOptions(parse.GetValue(dataDir)!, "000000000000", parse.GetValue(storeUrl));
            if (!StorageOptions.Exists(options))
            {
                await Console.Error.WriteLineAsync($"There is no Keyturn database at {SqliteDatabase.PathIn(StorageOptions.SqliteDirectory(options))}.").ConfigureAwait(false);
                return 1;
            }

            // Opening the backend brings an older schema up to date; logs need nothing else from it (no master key).
            using var backend = await StorageOptions.OpenAsync(options, cancellationToken).ConfigureAwait(false);
            var history = new RotationLogHistory(backend.Logs);
            if (functionName is not null)
            {
                var name = RotationFunctionRegistry.NameOf(functionName);
                var tail = await history.ForFunctionAsync(name, count, cancellationToken).ConfigureAwait(false);
                if (tail is null)
                {
                    await Console.Error.WriteLineAsync($"The function {name} has no logs (no group {RotationLogHistory.GroupOf(name)}).").ConfigureAwait(false);
                    return 1;
                }

                Print(tail);
                return 0;
            }

            var lines = await history.ForSecretAsync(secretId!, count, cancellationToken).ConfigureAwait(false);
            if (lines.Count == 0)
            {
                await Console.Error.WriteLineAsync($"No rotation log mentions {secretId}.").ConfigureAwait(false);
                return 0;
            }

            Print(lines);
            return 0;
        });
        return command;
    }

    /// <summary>Lines with their time, under a heading each time the group or stream changes.</summary>
    private static void Print(IReadOnlyList<LogHistoryLine> lines)
    {
        (string, string)? current = null;
        foreach (var line in lines)
        {
            if (current != (line.GroupName, line.StreamName))
            {
                current = (line.GroupName, line.StreamName);
                Console.WriteLine($"==> {line.GroupName} {line.StreamName} <==");
            }

            var time = DateTimeOffset.FromUnixTimeMilliseconds(line.TimestampMs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            Console.WriteLine($"{time} {line.Message.TrimEnd('\n', '\r')}");
        }
    }
}
