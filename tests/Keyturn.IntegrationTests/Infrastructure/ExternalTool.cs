using System.Diagnostics;

namespace Keyturn.IntegrationTests.Infrastructure;

public sealed record ToolResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs a real client program (the AWS CLI, python3 with boto3) with a clean AWS environment.</summary>
public static class ExternalTool
{
    /// <summary>ISO timestamps, as the AWS CLI v2 prints them by default and as the field report shows them (a file of the build output, not of /tmp).</summary>
    private static readonly string ConfigFile = Path.Combine(AppContext.BaseDirectory, "Scripts", "aws-cli-config");

    /// <param name="workingDirectory">Where the program starts; the test process's directory when null.</param>
    public static Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, KeyturnProcess server, IDictionary<string, string>? environment = null, TimeSpan? timeout = null, string? workingDirectory = null) =>
        RunAsync(fileName, arguments, server, null, environment, timeout, workingDirectory);

    /// <summary>As <see cref="RunAsync(string, IEnumerable{string}, KeyturnProcess, IDictionary{string, string}?, TimeSpan?, string?)"/>, with <paramref name="input"/> on standard input.</summary>
    public static Task<ToolResult> RunWithInputAsync(string fileName, IEnumerable<string> arguments, KeyturnProcess server, string input, IDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        RunAsync(fileName, arguments, server, input, environment, timeout, null);

    private static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, KeyturnProcess server, string? input, IDictionary<string, string>? environment, TimeSpan? timeout, string? workingDirectory)
    {
        var start = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = server.AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = server.SecretAccessKey;
        start.Environment["AWS_DEFAULT_REGION"] = KeyturnProcess.Region;
        start.Environment["AWS_CONFIG_FILE"] = ConfigFile;
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["AWS_PAGER"] = "";
        start.Environment["AWS_RETRY_MODE"] = "standard";
        start.Environment["AWS_MAX_ATTEMPTS"] = "1";
        start.Environment["KEYTURN_ENDPOINT"] = server.Endpoint;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cancel.Token);
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }
}
