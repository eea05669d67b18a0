using System.Text.Json;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>The real AWS CLI v2 (<c>/usr/bin/aws</c> from Debian's awscli) pointed at a Keyturn server.</summary>
public sealed class AwsCli(KeyturnProcess server)
{
    public const string Path = "/usr/bin/aws";

    /// <summary>Runs <c>aws ARGUMENTS</c> against the server, trusting its CA bundle when it speaks HTTPS.</summary>
    public Task<ToolResult> RunAsync(params string[] arguments) => RunAsAsync(null, arguments);

    /// <summary>As <see cref="RunAsync"/>, with <paramref name="environment"/> on top (e.g. another access key).</summary>
    public Task<ToolResult> RunAsAsync(IDictionary<string, string>? environment, params string[] arguments) =>
        ExternalTool.RunAsync(Path, [.. arguments, "--endpoint-url", server.Endpoint, "--output", "json", .. server.CaBundle is { } bundle ? new[] { "--ca-bundle", bundle } : []], server, environment);

    /// <summary>Runs a command that must succeed and parses its JSON output.</summary>
    public async Task<JsonElement> JsonAsync(params string[] arguments)
    {
        var result = await RunAsync(arguments);
        Assert.True(result.ExitCode == 0, $"aws {string.Join(' ', arguments)} failed: {result}");
        return result.Stdout.Trim().Length == 0
            ? default
            : JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }

    /// <summary>Runs a command that must fail with the given AWS error code; returns stderr.</summary>
    public async Task<string> ErrorAsync(string errorCode, params string[] arguments)
    {
        var result = await RunAsync(arguments);
        Assert.True(result.ExitCode != 0, $"aws {string.Join(' ', arguments)} should have failed: {result}");
        Assert.Contains($"({errorCode})", result.Stderr, StringComparison.Ordinal);
        return result.Stderr;
    }
}
