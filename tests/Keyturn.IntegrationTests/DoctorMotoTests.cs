using System.Diagnostics;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The doctor on "AWS" as a user runs it, against an independent emulator (moto in server mode) whose EC2, RDS, Lambda,
/// IAM and Secrets Manager resources are built through boto3 (Scripts/doctor_aws_layout.py). The RDS names don't resolve
/// here (the sandbox has no DNS for them), which is exactly a laptop outside the VPC: the doctor can't reach the database,
/// and must say so about itself while judging the function's path from the VPC documents.
/// </summary>
public sealed class DoctorMotoTests : IAsyncLifetime
{
    private MotoServer _moto = null!;

    public async Task InitializeAsync() => _moto = await MotoServer.StartAsync();

    public async Task DisposeAsync() => await _moto.DisposeAsync();

    [Fact]
    public async Task HealthyNatLayout_FromAHostThatCantReachTheDatabase_ComesOutHealthy()
    {
        var layout = await LayoutAsync(_moto, "nat");

        var json = await DoctorAsync(_moto, layout, "--json");
        var text = await DoctorAsync(_moto, layout);

        Assert.True(json.ExitCode == 0, json.ToString());
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("Healthy", report.GetProperty("state").GetString());
        Assert.True(report.GetProperty("healthy").GetBoolean());
        Assert.Contains("Healthy by its labels", report.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        var findings = Findings(report);
        Assert.All(findings, f => Assert.True(f.Severity == "info", $"{f.Code} {f.Severity}: {f.Title}"));
        var vantage = Assert.Single(findings, f => f.Code == "VNT001");
        Assert.Contains(layout.GetProperty("vpc").GetString()!, vantage.Evidence, StringComparison.Ordinal);
        Assert.Contains($"a CloudShell VPC environment (VPC {layout.GetProperty("vpc").GetString()}", vantage.Fix, StringComparison.Ordinal);
        Assert.Contains("aws ssm start-session", vantage.Fix, StringComparison.Ordinal);
        var path = Assert.Single(findings, f => f.Code == "NET021");
        Assert.Contains(layout.GetProperty("nat").GetString()!, path.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(findings, f => f.Code is "NET001" or "NET002" or "NET003");

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("The doctor can't resolve the database host", text.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("security group egress", text.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndpointWithoutPrivateDns_TheEndpointIsNamed_NotCalledMissing()
    {
        var layout = await LayoutAsync(_moto, "endpoint-no-dns");

        var result = await DoctorAsync(_moto, layout, "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        var findings = Findings(JsonDocument.Parse(result.Stdout).RootElement);
        var dns = Assert.Single(findings, f => f.Code == "NET016");
        Assert.Equal("error", dns.Severity);
        Assert.Contains($"--vpc-endpoint-id {layout.GetProperty("endpoint").GetString()} --private-dns-enabled", dns.Fix, StringComparison.Ordinal);
        var noWay = Assert.Single(findings, f => f.Code == "NET015");
        Assert.DoesNotContain("no VPC endpoint", noWay.Title, StringComparison.Ordinal);
        Assert.Contains("private DNS off", noWay.Title, StringComparison.Ordinal);
        Assert.DoesNotContain(findings, f => f.Code is "NET012" or "NET013" or "NET001" or "NET002");
    }

    [Fact]
    public async Task FunctionOutsideAVpc_PrivateRdsDatabase_IsAnError()
    {
        var layout = await LayoutAsync(_moto, "no-vpc");

        var result = await DoctorAsync(_moto, layout, "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        var findings = Findings(JsonDocument.Parse(result.Stdout).RootElement);
        var finding = Assert.Single(findings, f => f.Code == "NET011");
        Assert.Equal("error", finding.Severity);
        Assert.Contains("PubliclyAccessible false", finding.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain(findings, f => f.Code == "NET010");
    }

    [Fact]
    public async Task ReadsRefusedForSeveralServices_OneRunNamesThemAll_InOneIamPolicy()
    {
        // A moto of its own: IAM enforcement is server-wide once switched on.
        await using var moto = await MotoServer.StartAsync();
        var layout = await LayoutAsync(moto, "nat");
        var user = await RunAsync("python3", [Script("doctor_aws_user.py"), "doctor-" + Guid.NewGuid().ToString("N")[..8]], Environment(moto));
        Assert.True(user.ExitCode == 0, user.ToString());
        var keys = JsonDocument.Parse(user.Stdout).RootElement;

        var result = await DoctorAsync(moto, layout, keys.GetProperty("AccessKeyId").GetString()!, keys.GetProperty("SecretAccessKey").GetString()!, "--json");

        Assert.True(result.ExitCode is 0 or 1, result.ToString());
        var findings = Findings(JsonDocument.Parse(result.Stdout).RootElement);
        var permissions = Assert.Single(findings, f => f.Code == "AWS001");
        using var policy = JsonDocument.Parse(permissions.Fix[permissions.Fix.IndexOf('{', StringComparison.Ordinal)..]);
        var actions = policy.RootElement.GetProperty("Statement").EnumerateArray().SelectMany(s => s.GetProperty("Action").EnumerateArray().Select(a => a.GetString()!)).Order(StringComparer.Ordinal).ToList();
        Assert.Contains("rds:DescribeDBInstances", actions);
        Assert.Contains("logs:FilterLogEvents", actions);
        Assert.Contains(actions, a => a.StartsWith("ec2:Describe", StringComparison.Ordinal));
        Assert.DoesNotContain(actions, a => a.StartsWith("secretsmanager:", StringComparison.Ordinal) || a == "lambda:GetFunctionConfiguration");
        Assert.Equal(actions.Distinct(StringComparer.Ordinal).Count(), actions.Count);
        Assert.DoesNotContain(findings, f => f.Code is "NET009" or "LOG098");

        // moto checks Lambda's signatures against a path it rebuilds (botocore's own GetFunctionConfiguration fails there the
        // same way), so the allowed Lambda read comes back SignatureDoesNotMatch: a credentials failure, told apart from the refusals.
        var credentials = Assert.Single(findings, f => f.Code == "AWS003");
        Assert.Contains("lambda:GetFunctionConfiguration", credentials.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain("lambda:GetFunctionConfiguration", permissions.Evidence, StringComparison.Ordinal);
    }

    private sealed record FindingView(string Code, string Severity, string Title, string Evidence, string Fix);

    private static List<FindingView> Findings(JsonElement report) =>
        report.GetProperty("findings").EnumerateArray().Select(f => new FindingView(
            f.GetProperty("code").GetString()!, f.GetProperty("severity").GetString()!, f.GetProperty("title").GetString()!, f.GetProperty("evidence").GetString()!, f.GetProperty("fix").GetString()!)).ToList();

    private static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Scripts", name);

    private static async Task<JsonElement> LayoutAsync(MotoServer moto, string layout)
    {
        var result = await RunAsync("python3", [Script("doctor_aws_layout.py"), layout, "t" + Guid.NewGuid().ToString("N")[..8]], Environment(moto));
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }

    private static Task<ToolResult> DoctorAsync(MotoServer moto, JsonElement layout, params string[] arguments) =>
        DoctorAsync(moto, layout, "testing", "testing", arguments);

    /// <summary>The doctor as on AWS: a region and credentials from the environment, every service's endpoint the emulator's.</summary>
    private static Task<ToolResult> DoctorAsync(MotoServer moto, JsonElement layout, string accessKeyId, string secretAccessKey, params string[] arguments)
    {
        var environment = Environment(moto);
        environment["AWS_ACCESS_KEY_ID"] = accessKeyId;
        environment["AWS_SECRET_ACCESS_KEY"] = secretAccessKey;
        environment["NO_COLOR"] = "1";
        environment["XDG_STATE_HOME"] = Path.Combine(Path.GetTempPath(), "keyturn-doctor-state-" + Guid.NewGuid().ToString("N"));
        return RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", layout.GetProperty("secret").GetString()!, "--region", "us-east-1", .. arguments], environment);
    }

    private static Dictionary<string, string> Environment(MotoServer moto)
    {
        var environment = moto.ClientEnvironment("secretsmanager");
        environment["AWS_ENDPOINT_URL"] = moto.Endpoint;
        return environment;
    }

    private static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k.StartsWith("KEYTURN_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }
}
