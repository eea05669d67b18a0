using System.CommandLine;
using Keyturn.Application.Rotation;
using Microsoft.Extensions.DependencyInjection;

namespace Keyturn.Cli.Commands;

/// <summary>
/// <c>keyturn functions register|list|remove|policy</c>: external rotation functions, invoked with the Lambda event,
/// and what an administrator allows each function (built-in or registered) beyond the secret it rotates.
/// </summary>
internal static class FunctionsCommand
{
    public static Command Create()
    {
        var command = new Command("functions", "Manage external rotation functions (name them in RotationLambdaARN).");
        command.Subcommands.Add(Register());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Remove());
        command.Subcommands.Add(Policy());
        return command;
    }

    private static Command Policy()
    {
        var dataDir = CommonOptions.DataDir();
        var accountId = CommonOptions.AccountId();
        var name = new Argument<string>("name") { Description = "A built-in or registered function." };
        var allow = new Option<string[]>("--allow-master")
        {
            Description = "Let the function read this master secret: an ARN (pattern, e.g. 'arn:aws:secretsmanager:*:*:secret:prod/pg-master-*') or a secret name. Repeatable.",
        };
        var remove = new Option<string[]>("--remove-master") { Description = "Take back an --allow-master value, exactly as it was given. Repeatable." };
        var clear = new Option<bool>("--clear-masters") { Description = "Take back every allowed master secret." };
        var privileged = new Option<bool>("--allow-privileged-clone") { Description = "Let alternating users clone a user with superuser or admin privileges (refused by default)." };
        var unprivileged = new Option<bool>("--deny-privileged-clone") { Description = "Take back --allow-privileged-clone." };
        var command = new Command("policy", "Show or change what a rotation function may read beyond the secret it rotates (master secrets) and whether it may clone privileged users.")
        {
            name, allow, remove, clear, privileged, unprivileged, dataDir, accountId,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = KeysCommand.Services(parse.GetValue(dataDir)!, parse.GetValue(accountId)!);
            var function = parse.GetValue(name)!;
            var registry = services.GetRequiredService<RotationFunctionRegistry>();
            if (!await registry.ExistsAsync(function, cancellationToken).ConfigureAwait(false))
            {
                await Console.Error.WriteLineAsync($"No function {function}. Built-in functions: {string.Join(", ", registry.BuiltInNames.Order(StringComparer.Ordinal))}; see keyturn functions list.").ConfigureAwait(false);
                return 1;
            }

            var functions = services.GetRequiredService<FunctionService>();
            if (parse.GetValue(privileged) && parse.GetValue(unprivileged))
            {
                await Console.Error.WriteLineAsync("Give at most one of --allow-privileged-clone and --deny-privileged-clone.").ConfigureAwait(false);
                return 2;
            }

            var clone = parse.GetValue(privileged) ? true : parse.GetValue(unprivileged) ? false : (bool?)null;
            var (allowed, removed, cleared) = (parse.GetValue(allow) ?? [], parse.GetValue(remove) ?? [], parse.GetValue(clear));
            FunctionPolicy policy;
            try
            {
                policy = allowed.Length == 0 && removed.Length == 0 && !cleared && clone is null
                    ? await functions.GetPolicyAsync(function, cancellationToken).ConfigureAwait(false)
                    : await functions.UpdatePolicyAsync(function, allowed, removed, cleared, clone, cancellationToken).ConfigureAwait(false);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return 2;
            }

            Console.WriteLine($"Function {function} acts as {RotationIdentity.PrincipalArn(parse.GetValue(accountId)!, function)}.");
            Console.WriteLine("  It may rotate the secret it is invoked for (DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage on that secret).");
            Console.WriteLine(policy.AllowedMasters.Count == 0
                ? "  Master secrets it may read: none."
                : "  Master secrets it may read: " + string.Join(", ", policy.AllowedMasters));
            Console.WriteLine($"  Privileged users may be cloned: {(policy.AllowPrivilegedClone ? "yes" : "no")}.");
            return 0;
        });
        return command;
    }

    private static Command Register()
    {
        var dataDir = CommonOptions.DataDir();
        var accountId = CommonOptions.AccountId();
        var name = new Argument<string>("name") { Description = "The function name (RotationLambdaARN may be a bare name or arn:aws:lambda:REGION:ACCOUNT:function:NAME)." };
        var commandLine = new Option<string?>("--command") { Description = "Shell command run once per step; the event JSON arrives on stdin and in KEYTURN_ROTATION_EVENT." };
        var url = new Option<string?>("--url") { Description = "http(s) URL that receives the event JSON as a POST once per step." };
        var timeout = new Option<int>("--timeout") { Description = "Seconds one step may take.", DefaultValueFactory = _ => 30 };
        var command = new Command("register", "Register (or replace) an external rotation function.") { name, commandLine, url, timeout, dataDir, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (kind, target) = (parse.GetValue(commandLine), parse.GetValue(url)) switch
            {
                ({ } c, null) => (FunctionKind.Command, c),
                (null, { } u) => (FunctionKind.Url, u),
                _ => (default(FunctionKind?), ""),
            };
            if (kind is null)
            {
                await Console.Error.WriteLineAsync("Give exactly one of --command and --url.").ConfigureAwait(false);
                return 2;
            }

            using var services = KeysCommand.Services(parse.GetValue(dataDir)!, parse.GetValue(accountId)!);
            try
            {
                var record = await services.GetRequiredService<FunctionService>().RegisterAsync(
                    parse.GetValue(name)!, kind.Value, target, TimeSpan.FromSeconds(parse.GetValue(timeout)), cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"Registered function {record.Name} ({record.Kind.ToString().ToLowerInvariant()}); each invocation gets an access key for the secret it rotates only.");
                Console.WriteLine($"  To let it read master secrets: keyturn functions policy {record.Name} --allow-master ARN-PATTERN");
                Console.WriteLine($"  aws secretsmanager rotate-secret --secret-id SECRET --rotation-lambda-arn arn:aws:lambda:us-east-1:{parse.GetValue(accountId)}:function:{record.Name} ...");
                return 0;
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
                return 2;
            }
        });
        return command;
    }

    private static Command List()
    {
        var dataDir = CommonOptions.DataDir();
        var accountId = CommonOptions.AccountId();
        var command = new Command("list", "List the built-in and registered rotation functions.") { dataDir, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = KeysCommand.Services(parse.GetValue(dataDir)!, parse.GetValue(accountId)!);
            Console.WriteLine($"{"NAME",-40} {"KIND",-9} TARGET");
            foreach (var builtIn in services.GetRequiredService<RotationFunctionRegistry>().BuiltInNames.Order(StringComparer.Ordinal))
            {
                Console.WriteLine($"{builtIn,-40} {"built-in",-9} -");
            }

            foreach (var function in await services.GetRequiredService<FunctionService>().ListAsync(cancellationToken).ConfigureAwait(false))
            {
                Console.WriteLine($"{function.Name,-40} {function.Kind.ToString().ToLowerInvariant(),-9} {function.Target}");
            }

            return 0;
        });
        return command;
    }

    private static Command Remove()
    {
        var dataDir = CommonOptions.DataDir();
        var accountId = CommonOptions.AccountId();
        var name = new Argument<string>("name");
        var command = new Command("remove", "Remove a registered function and revoke its access key.") { name, dataDir, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = KeysCommand.Services(parse.GetValue(dataDir)!, parse.GetValue(accountId)!);
            if (!await services.GetRequiredService<FunctionService>().RemoveAsync(parse.GetValue(name)!, cancellationToken).ConfigureAwait(false))
            {
                await Console.Error.WriteLineAsync($"No function {parse.GetValue(name)}.").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine($"Removed {parse.GetValue(name)}.");
            return 0;
        });
        return command;
    }
}
