using Keyturn.Application.Rotation;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>What <c>functions register</c> accepts: Lambda's own limits, and the options that belong together.</summary>
public sealed class FunctionRegistrationTests
{
    private static readonly TimeSpan Thirty = TimeSpan.FromSeconds(30);

    public static TheoryData<string, FunctionRegistration, string?> Registrations => new()
    {
        // name, registration, the start of the expected problem (null = valid)
        { "a python handler with a dotted module path is valid", Handler("pkg.sub.lambda_function.lambda_handler"), null },
        { "a python handler defaults to python3 and 128 MB", Handler("lambda_function.lambda_handler"), null },
        { "a python handler without a function is refused", Handler("lambda_function"), "--handler for python3 is module.function" },
        { "a python handler may name its module by folder path, as Lambda's runtime allows", Handler("src/lambda_function.handler"), null },
        { "a python handler with a dash is refused", Handler("my-module.handler"), "--handler for python3 is module.function" },
        { "a node handler may name a file in a folder", Handler("src/index.handler") with { Runtime = "nodejs" }, null },
        { "a node handler without an export is refused", Handler("index") with { Runtime = "nodejs" }, "--handler for nodejs is file.export" },
        { "an unknown runtime is refused", Handler("index.handler") with { Runtime = "python3.12" }, "--runtime is one of python3, nodejs" },
        { "a handler without --code is refused", Handler("a.b") with { Target = "" }, "--handler needs --code DIR" },
        { "memory below Lambda's 128 MB is refused", Handler("a.b") with { MemorySize = 127 }, "--memory is 128-10240 MB" },
        { "memory above Lambda's 10240 MB is refused", Handler("a.b") with { MemorySize = 10241 }, "--memory is 128-10240 MB" },
        { "Lambda's largest memory is accepted", Handler("a.b") with { MemorySize = 10240 }, null },
        { "a timeout past Lambda's 900 s is refused", Handler("a.b") with { Timeout = TimeSpan.FromSeconds(901) }, "--timeout is 1-900 seconds" },
        { "--memory on a command is refused", new FunctionRegistration("f", FunctionKind.Command, "true", Thirty) { MemorySize = 256 }, "--runtime and --memory go with --handler" },
        { "--env on a command is accepted", new FunctionRegistration("f", FunctionKind.Command, "true", Thirty) { Environment = Env("PASSWORD_LENGTH", "32") }, null },
        { "--env on a URL function is refused", new FunctionRegistration("f", FunctionKind.Url, "http://127.0.0.1:9/", Thirty) { Environment = Env("A1", "x") }, "--env goes with --handler or --command" },
        { "an environment name starting with a digit is refused", Handler("a.b") with { Environment = Env("1ST", "x") }, "--env 1ST: a variable name is a letter" },
        { "a one-letter environment name is refused, as Lambda does", Handler("a.b") with { Environment = Env("A", "x") }, "--env A: a variable name is a letter" },
        { "a reserved Lambda variable is refused", Handler("a.b") with { Environment = Env("AWS_REGION", "eu-west-1") }, "--env AWS_REGION: the runtime sets AWS_REGION itself" },
        { "the access key variables are reserved", Handler("a.b") with { Environment = Env("AWS_SECRET_ACCESS_KEY", "x") }, "--env AWS_SECRET_ACCESS_KEY: the runtime sets" },
        { "the samples' endpoint variable may be set", Handler("a.b") with { Environment = Env("SECRETS_MANAGER_ENDPOINT", "https://sm.internal") }, null },
        { "an environment over Lambda's 4 KB is refused", Handler("a.b") with { Environment = Env("BIG", new string('x', 4094)) }, "--env: the variables take 4097 bytes; Lambda allows 4096." },
        { "a reserved keyturn- name is refused", Handler("a.b") with { Name = "keyturn-mine" }, "Names starting with 'keyturn-' are reserved" },
    };

    [Theory]
    [MemberData(nameof(Registrations))]
    public void Problem_Cases_FollowLambdasRules(string name, FunctionRegistration registration, string? expected)
    {
        var problem = registration.Problem();

        Assert.True(expected is null ? problem is null : problem?.StartsWith(expected, StringComparison.Ordinal) == true, $"{name}: expected '{expected}', got '{problem}'");
    }

    public static TheoryData<string, string[], string, string?> EnvironmentArguments => new()
    {
        // name, --env arguments, the parsed variables as NAME=VALUE;…, the problem (null = none)
        { "a value may hold '=' (split at the first one)", ["URL=https://h/?a=b"], "URL=https://h/?a=b", null },
        { "an empty value is kept", ["EMPTY="], "EMPTY=", null },
        { "several variables are kept", ["A1=x", "B2=y"], "A1=x;B2=y", null },
        { "a name without '=' is refused without echoing a value", ["PASSWORD"], "", "--env takes NAME=VALUE (got a name 'PASSWORD' without '=')." },
        { "a value without a name is refused and not echoed", ["=s3cr3t-value"], "", "--env takes NAME=VALUE (the name is missing)." },
        { "a name given twice is refused", ["A1=x", "A1=y"], "A1=x", "--env A1 is given twice." },
    };

    [Theory]
    [MemberData(nameof(EnvironmentArguments))]
    public void ParseEnvironment_Cases(string name, string[] arguments, string expected, string? expectedProblem)
    {
        var (environment, problem) = FunctionRegistration.ParseEnvironment(arguments);

        Assert.True(expectedProblem == problem, $"{name}: expected problem '{expectedProblem}', got '{problem}'");
        Assert.True(expected == string.Join(';', environment.Select(e => $"{e.Key}={e.Value}")), $"{name}: got {string.Join(';', environment)}");
    }

    [Fact]
    public void ReportLine_HasLambdasFields_MemoryAndInitOnlyWhenMeasured()
    {
        Assert.Equal("REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\t", LambdaLogFormat.Report("r-1", 12.34, null, null));
        Assert.Equal("REPORT RequestId: r-1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 41 MB\tInit Duration: 150.50 ms\t",
            LambdaLogFormat.Report("r-1", 12.34, (256, 41), TimeSpan.FromMilliseconds(150.5)));
    }

    private static FunctionRegistration Handler(string handler) => new("f", FunctionKind.Handler, "/opt/code", Thirty) { Handler = handler };

    private static Dictionary<string, string> Env(string name, string value) => new() { [name] = value };
}
