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
        command.Subcommands.Add(DescribeFunction());
        command.Subcommands.Add(Remove());
        command.Subcommands.Add(Policy());
        return command;
    }

    private static Command Policy()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
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
            name, allow, remove, clear, privileged, unprivileged, dataDir, storeUrl, accountId,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await KeysCommand.ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
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
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var name = new Argument<string>("name") { Description = "The function name (RotationLambdaARN may be a bare name or arn:aws:lambda:REGION:ACCOUNT:function:NAME)." };
        var commandLine = new Option<string?>("--command") { Description = "Shell command run once per step; the event JSON arrives on stdin and in KEYTURN_ROTATION_EVENT." };
        var url = new Option<string?>("--url") { Description = "http(s) URL that receives the event JSON as a POST once per step (Lambda's Invoke contract)." };
        var handler = new Option<string?>("--handler")
        {
            Description = "A Lambda handler in --code, run as Lambda runs it in a warm worker: module.function for python3 (e.g. lambda_function.lambda_handler), file.export for nodejs (e.g. index.handler).",
        };
        var code = new Option<string?>("--code") { Description = "The directory holding the handler's code (stored as an absolute path)." };
        var runtime = new Option<string?>("--runtime") { Description = "The handler's runtime: python3 (default) or nodejs." };
        var memory = new Option<int?>("--memory") { Description = "Lambda's memory setting in MB, 128-10240 (default 128): the context's memory limit and the REPORT line." };
        var env = new Option<string[]>("--env")
        {
            Description = "An environment variable NAME=VALUE for the function (repeatable; --handler and --command). Values are sealed by the master key and never shown.",
        };
        var timeout = new Option<int>("--timeout") { Description = "Seconds one step may take, 1-900.", DefaultValueFactory = _ => 30 };
        var command = new Command("register", "Register (or replace) an external rotation function.")
        {
            name, commandLine, url, handler, code, runtime, memory, env, timeout, dataDir, storeUrl, accountId,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (kind, target) = (parse.GetValue(commandLine), parse.GetValue(url), parse.GetValue(handler)) switch
            {
                ({ } c, null, null) => (FunctionKind.Command, c),
                (null, { } u, null) => (FunctionKind.Url, u),
                (null, null, { }) => (FunctionKind.Handler, parse.GetValue(code) ?? ""),
                _ => (default(FunctionKind?), ""),
            };
            if (kind is null)
            {
                await Console.Error.WriteLineAsync("Give exactly one of --command, --url and --handler.").ConfigureAwait(false);
                return 2;
            }

            if (kind != FunctionKind.Handler && parse.GetValue(code) is not null)
            {
                await Console.Error.WriteLineAsync("--code goes with --handler.").ConfigureAwait(false);
                return 2;
            }

            var (environment, envProblem) = FunctionRegistration.ParseEnvironment(parse.GetValue(env) ?? []);
            if (envProblem is not null)
            {
                await Console.Error.WriteLineAsync(envProblem).ConfigureAwait(false);
                return 2;
            }

            var registration = new FunctionRegistration(parse.GetValue(name)!, kind.Value, target, TimeSpan.FromSeconds(parse.GetValue(timeout)))
            {
                Handler = parse.GetValue(handler),
                Runtime = parse.GetValue(runtime),
                MemorySize = parse.GetValue(memory),
                Environment = environment,
            };
            if (registration.Problem() is { } problem)
            {
                await Console.Error.WriteLineAsync(problem).ConfigureAwait(false);
                return 2;
            }

            using var services = await KeysCommand.ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            try
            {
                var record = await services.GetRequiredService<FunctionService>().RegisterAsync(registration, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"Registered function {record.Name} ({Describe(record)}); each invocation gets an access key for the secret it rotates only.");
                if (record.EnvironmentNames.Count > 0)
                {
                    Console.WriteLine($"  Environment variables (values sealed): {string.Join(", ", record.EnvironmentNames)}");
                }

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

    private static string Describe(FunctionRecord record) => record.Kind switch
    {
        FunctionKind.Handler => $"handler {record.Handler} on {record.Runtime}, {record.MemorySize} MB, timeout {record.Timeout.TotalSeconds:0} s",
        _ => $"{record.Kind.ToString().ToLowerInvariant()}, timeout {record.Timeout.TotalSeconds:0} s",
    };

    private static Command List()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var command = new Command("list", "List the built-in and registered rotation functions (environment variables by name only).") { dataDir, storeUrl, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await KeysCommand.ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"{"NAME",-40} {"KIND",-9} TARGET");
            foreach (var builtIn in services.GetRequiredService<RotationFunctionRegistry>().BuiltInNames.Order(StringComparer.Ordinal))
            {
                Console.WriteLine($"{builtIn,-40} {"built-in",-9} -");
            }

            foreach (var function in await services.GetRequiredService<FunctionService>().ListAsync(cancellationToken).ConfigureAwait(false))
            {
                var target = function.Kind == FunctionKind.Handler ? $"{function.Handler} in {function.Target} ({function.Runtime})" : function.Target;
                var env = function.EnvironmentNames.Count == 0 ? "" : $"  env: {string.Join(", ", function.EnvironmentNames)}";
                Console.WriteLine($"{function.Name,-40} {function.Kind.ToString().ToLowerInvariant(),-9} {target}{env}");
            }

            return 0;
        });
        return command;
    }

    private static Command DescribeFunction()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var name = new Argument<string>("name");
        var command = new Command("describe", "Show a registered function's settings (environment variables by name only).") { name, dataDir, storeUrl, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await KeysCommand.ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
            var function = (await services.GetRequiredService<FunctionService>().ListAsync(cancellationToken).ConfigureAwait(false))
                .FirstOrDefault(f => f.Name == parse.GetValue(name));
            if (function is null)
            {
                await Console.Error.WriteLineAsync($"No function {parse.GetValue(name)}; see keyturn functions list.").ConfigureAwait(false);
                return 1;
            }

            Console.WriteLine($"Name:        {function.Name}");
            Console.WriteLine($"Kind:        {function.Kind.ToString().ToLowerInvariant()}");
            if (function.Kind == FunctionKind.Handler)
            {
                Console.WriteLine($"Handler:     {function.Handler}");
                Console.WriteLine($"Runtime:     {function.Runtime}");
                Console.WriteLine($"Code:        {function.Target}");
                Console.WriteLine($"Memory:      {function.MemorySize} MB");
            }
            else
            {
                Console.WriteLine($"Target:      {function.Target}");
            }

            Console.WriteLine($"Timeout:     {function.Timeout.TotalSeconds:0} s");
            Console.WriteLine($"Environment: {(function.EnvironmentNames.Count == 0 ? "none" : string.Join(", ", function.EnvironmentNames) + " (values sealed, not shown)")}");
            Console.WriteLine($"Log group:   {LambdaEnvironment.RotationLogGroup(function.Name)}");
            return 0;
        });
        return command;
    }

    private static Command Remove()
    {
        var dataDir = CommonOptions.DataDir();
        var storeUrl = CommonOptions.Store();
        var accountId = CommonOptions.AccountId();
        var name = new Argument<string>("name");
        var command = new Command("remove", "Remove a registered function and revoke its access key.") { name, dataDir, storeUrl, accountId };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var services = await KeysCommand.ServicesAsync(parse.GetValue(dataDir)!, parse.GetValue(accountId)!, parse.GetValue(storeUrl), cancellationToken).ConfigureAwait(false);
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
