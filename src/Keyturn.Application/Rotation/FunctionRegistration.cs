using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Keyturn.Application.Rotation;

/// <summary>The runtimes a handler function may name (<c>functions register --runtime</c>).</summary>
public static class FunctionRuntimes
{
    public const string Python = "python3";
    public const string Node = "nodejs";

    public static IReadOnlyList<string> All { get; } = [Python, Node];

    /// <summary>
    /// The interpreter a runtime's workers start: the system's (<c>/usr/bin/python3</c>, <c>/usr/bin/node</c>) when it
    /// is installed, as a Lambda runtime has one fixed interpreter. A server started from a shell with pyenv, a
    /// virtualenv or conda first on PATH would otherwise run handlers with an interpreter that cannot import the
    /// Debian packages they rely on (python3-pygresql, python3-pymysql). PATH decides only when there is none.
    /// </summary>
    public static string Executable(string runtime)
    {
        var name = runtime == Node ? "node" : "python3";
        var system = "/usr/bin/" + name;
        return File.Exists(system) ? system : name;
    }
}

/// <summary>
/// What <c>keyturn functions register</c> was given, checked by Lambda's own rules where Lambda has one (names of
/// environment variables, the reserved ones, the 4 KB environment, 128-10240 MB of memory, 1-900 s of timeout).
/// </summary>
public sealed partial record FunctionRegistration(string Name, FunctionKind Kind, string Target, TimeSpan Timeout)
{
    public const int DefaultMemorySize = 128;

    /// <summary>Lambda's limit on the environment variables of one function, names and values together.</summary>
    public const int MaxEnvironmentBytes = 4096;

    /// <summary>Variables Lambda's runtime sets itself and refuses as a function's own (Keyturn sets them the same way).</summary>
    public static readonly IReadOnlySet<string> ReservedEnvironmentNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    };

    /// <summary>The handler (<c>module.function</c> or <c>file.export</c>); only for <see cref="FunctionKind.Handler"/>.</summary>
    public string? Handler { get; init; }

    /// <summary>The runtime of a handler; <see cref="FunctionRuntimes.Python"/> when not given.</summary>
    public string? Runtime { get; init; }

    public int? MemorySize { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>What is wrong with this registration, in the words the CLI prints; null when it is valid.</summary>
    /// <remarks>The code directory's existence is the caller's check (it reads the file system).</remarks>
    public string? Problem()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 64 || Name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return "A function name is 1-64 characters of letters, digits, '-' and '_' (as Lambda allows).";
        }

        if (Name.StartsWith("keyturn-", StringComparison.Ordinal))
        {
            return "Names starting with 'keyturn-' are reserved for the built-in functions.";
        }

        if (Timeout < TimeSpan.FromSeconds(1) || Timeout > TimeSpan.FromSeconds(900))
        {
            return "--timeout is 1-900 seconds (as Lambda allows).";
        }

        if (Kind == FunctionKind.Url && (!Uri.TryCreate(Target, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            return "--url must be an absolute http or https URL.";
        }

        if (Kind != FunctionKind.Handler && (Handler is not null || Runtime is not null || MemorySize is not null))
        {
            return "--runtime and --memory go with --handler.";
        }

        if (Kind == FunctionKind.Url && Environment.Count > 0)
        {
            return "--env goes with --handler or --command: a function behind a URL has its own environment.";
        }

        if (Kind == FunctionKind.Handler && HandlerProblem() is { } handlerProblem)
        {
            return handlerProblem;
        }

        return EnvironmentProblem();
    }

    private string? HandlerProblem()
    {
        if (string.IsNullOrWhiteSpace(Target))
        {
            return "--handler needs --code DIR, the directory holding the handler's code.";
        }

        var runtime = Runtime ?? FunctionRuntimes.Python;
        if (!FunctionRuntimes.All.Contains(runtime, StringComparer.Ordinal))
        {
            return $"--runtime is one of {string.Join(", ", FunctionRuntimes.All)} (got '{runtime}').";
        }

        if (MemorySize is < 128 or > 10240)
        {
            return "--memory is 128-10240 MB (as Lambda allows).";
        }

        var valid = runtime == FunctionRuntimes.Python ? PythonHandler().IsMatch(Handler ?? "") : NodeHandler().IsMatch(Handler ?? "");
        return valid
            ? null
            : runtime == FunctionRuntimes.Python
                ? $"--handler for {runtime} is module.function, the module a dotted path in the code directory (e.g. lambda_function.lambda_handler); got '{Handler}'."
                : $"--handler for {runtime} is file.export, the file in the code directory without .js/.mjs/.cjs (e.g. index.handler); got '{Handler}'.";
    }

    private string? EnvironmentProblem()
    {
        foreach (var name in Environment.Keys)
        {
            if (!EnvironmentName().IsMatch(name))
            {
                return $"--env {name}: a variable name is a letter followed by letters, digits and '_' (as Lambda allows).";
            }

            if (ReservedEnvironmentNames.Contains(name))
            {
                return $"--env {name}: the runtime sets {name} itself (a reserved variable, as in Lambda).";
            }
        }

        var size = Environment.Sum(e => Encoding.UTF8.GetByteCount(e.Key) + Encoding.UTF8.GetByteCount(e.Value));
        return size > MaxEnvironmentBytes ? $"--env: the variables take {size} bytes; Lambda allows {MaxEnvironmentBytes}." : null;
    }

    /// <summary>
    /// <c>K=V</c> arguments as a dictionary (split at the first '=', so values may hold '='), or the problem with them.
    /// The problem names the variable, never its value.
    /// </summary>
    public static (IReadOnlyDictionary<string, string> Environment, string? Problem) ParseEnvironment(IEnumerable<string> arguments)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var argument in arguments)
        {
            var equals = argument.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return (environment, "--env takes NAME=VALUE" + (equals == 0 ? " (the name is missing)." : $" (got a name '{argument}' without '=')."));
            }

            var name = argument[..equals];
            if (!environment.TryAdd(name, argument[(equals + 1)..]))
            {
                return (environment, $"--env {name} is given twice.");
            }
        }

        return (environment, null);
    }

    // Lambda's Python runtime: the module (a dotted path, or a folder path with '/') up to the last '.', then the function.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(?:[./][A-Za-z_][A-Za-z0-9_]*)*\.[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PythonHandler();

    // Lambda's Node.js runtime: the file (a path in the code directory, without its extension) up to the first '.'
    // after the last '/', then the export (nested exports separated by '.').
    [GeneratedRegex(@"^(?:[\w-]+/)*[\w-]+(?:\.[A-Za-z_$][\w$]*)+$", RegexOptions.CultureInvariant)]
    private static partial Regex NodeHandler();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]+$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentName();
}

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class FunctionEnvironmentJsonContext : JsonSerializerContext;
