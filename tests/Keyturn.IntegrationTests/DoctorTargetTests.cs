using System.Diagnostics;
using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Protocol.Client;
using Keyturn.Protocol.SigV4;

namespace Keyturn.IntegrationTests;

/// <summary>
/// Which Secrets Manager the doctor diagnoses (issue 11, defects 1 and 2), end to end with the real CLI: against moto
/// (an independent AWS emulator) while a Keyturn with a secret of the same name runs where the old fallback looked,
/// and against a server that paginates ListSecretVersionIds as the field report's did.
/// </summary>
public sealed class DoctorTargetTests : IAsyncLifetime
{
    private const string Name = "app/orders-db";

    private MotoServer _moto = null!;
    private KeyturnProcess _keyturn = null!;

    public async Task InitializeAsync()
    {
        _moto = await MotoServer.StartAsync();
        _keyturn = await KeyturnProcess.StartAsync();
        using var moto = new SecretsManagerClient(new Uri(_moto.Endpoint), new SigV4Credentials("testing", "testing"), "us-east-1", TimeProvider.System);
        await moto.CallAsync("CreateSecret", new() { ["Name"] = Name, ["SecretString"] = Value("moto_user") }, default);
        using var keyturn = new RawClient(_keyturn);
        var created = await keyturn.SendAsync("CreateSecret", JsonSerializer.Serialize(new { Name, SecretString = Value("keyturn_user"), ClientRequestToken = Guid.NewGuid().ToString() }));
        Assert.True(created.Status == 200, created.Body);
    }

    public async Task DisposeAsync()
    {
        await _keyturn.DisposeAsync();
        await _moto.DisposeAsync();
    }

    [Fact]
    public async Task AwsEndpointUrlToMoto_WithAKeyturnOfTheSameSecret_DiagnosesMotosSecretAndSaysAws()
    {
        var environment = MotoEnvironment();

        var json = await DoctorAsync([Name, "--json", "--no-logs"], environment);
        var human = await DoctorAsync([Name, "--no-logs"], environment);

        var report = JsonDocument.Parse(json.Stdout).RootElement;
        var target = report.GetProperty("target");
        Assert.Equal("aws", target.GetProperty("target").GetString());
        Assert.Equal("aws-compatible", target.GetProperty("endpointKind").GetString());
        Assert.Equal(_moto.Endpoint + "/", target.GetProperty("endpoint").GetString());
        Assert.Equal("AWS_ENDPOINT_URL", target.GetProperty("endpointSource").GetString());
        Assert.Equal("123456789012", target.GetProperty("account").GetString());
        Assert.Equal("us-east-1", target.GetProperty("region").GetString());
        Assert.Equal("dry-run", target.GetProperty("mode").GetString());
        Assert.Contains(":123456789012:secret:", report.GetProperty("arn").GetString(), StringComparison.Ordinal);
        Assert.Equal(["moto_user"], report.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("username").GetString()));

        var lines = human.Stdout.Split('\n');
        Assert.StartsWith($"Target:  AWS (an AWS-compatible service that is not Keyturn), endpoint {_moto.Endpoint}/ (from AWS_ENDPOINT_URL); account 123456789012", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("Region:  us-east-1 (from AWS_REGION)", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("Mode:    dry run", lines[2], StringComparison.Ordinal);
        Assert.DoesNotContain("keyturn_user", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TargetKeyturn_OverridesTheAwsConfiguration_AndDiagnosesKeyturnsSecret()
    {
        var environment = MotoEnvironment();

        var json = await DoctorAsync([Name, "--json", "--no-logs", "--target", "keyturn"], environment);

        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("keyturn", report.GetProperty("target").GetProperty("target").GetString());
        Assert.Equal(_keyturn.Endpoint + "/", report.GetProperty("target").GetProperty("endpoint").GetString());
        Assert.Equal("000000000000", report.GetProperty("target").GetProperty("account").GetString());
        Assert.Equal(["keyturn_user"], report.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("username").GetString()));
    }

    [Fact]
    public async Task AnEndpointThatSaysItIsKeyturn_IsDiagnosedAsKeyturn()
    {
        var json = await DoctorAsync([Name, "--json", "--no-logs", "--endpoint-url", _keyturn.Endpoint], KeyturnEnvironment());

        var target = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("target");
        Assert.Equal("keyturn", target.GetProperty("target").GetString());
        Assert.Equal($"{_keyturn.Endpoint}/ says it is Keyturn", target.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task LastPageSaysAnEmptyNextToken_TheDoctorFinishesWithTheVersions()
    {
        // Before the shared paginator this run never ended: "" was sent back and the first page came again.
        using var proxy = new PaginationProxy(_keyturn.Endpoint, token: "");
        var watch = Stopwatch.StartNew();

        var json = await DoctorAsync([Name, "--json", "--no-logs", "--endpoint-url", proxy.Endpoint], KeyturnEnvironment());

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(["keyturn_user"], report.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("username").GetString()));
        Assert.InRange(proxy.Listings, 1, 5);
    }

    [Fact]
    public async Task ServerRepeatsItsNextToken_TheDoctorStopsWithAClearError()
    {
        using var proxy = new PaginationProxy(_keyturn.Endpoint, token: "page-2");

        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", Name, "--no-logs", "--endpoint-url", proxy.Endpoint], _keyturn, KeyturnEnvironment(), TimeSpan.FromSeconds(90));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal(
            "keyturn doctor: ListSecretVersionIds answered page 2 with a NextToken it had already returned; stopping instead of reading the same pages forever. The endpoint's pagination is broken.",
            result.Stderr.Trim());
        Assert.Equal(2, proxy.Listings);
    }

    /// <summary>
    /// No region configured anywhere: the AWS CLI asks EC2 instance metadata (IMDSv2) last, and so does the doctor. moto in
    /// server mode serves instance metadata (IMDSv2 token and placement/availability-zone, us-east-1a) on its own port.
    /// </summary>
    [Fact]
    public async Task NoRegionConfigured_MotosInstanceMetadataNamesIt_TheHeaderSaysWhereTheRegionCameFrom()
    {
        var environment = MotoEnvironment();
        environment["AWS_REGION"] = "";
        environment["AWS_DEFAULT_REGION"] = "";
        environment["AWS_EC2_METADATA_DISABLED"] = "false";
        environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = _moto.Endpoint;

        var json = await DoctorAsync([Name, "--json", "--no-logs"], environment);
        var human = await DoctorAsync([Name, "--no-logs"], environment);

        var target = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("target");
        Assert.Equal(("aws", "us-east-1", $"EC2 instance metadata at {_moto.Endpoint}/"),
            (target.GetProperty("target").GetString(), target.GetProperty("region").GetString(), target.GetProperty("regionSource").GetString()));
        var lines = human.Stdout.Split('\n');
        Assert.StartsWith($"Target:  AWS (an AWS-compatible service that is not Keyturn), endpoint {_moto.Endpoint}/", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"Region:  us-east-1 (from EC2 instance metadata at {_moto.Endpoint}/)", lines[1], StringComparison.Ordinal);
        Assert.DoesNotContain("keyturn_user", human.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoRegionAndInstanceMetadataDisabled_RefusesWithoutAskingIt()
    {
        using var metadata = new SilentListener();
        var environment = NoRegionEnvironment(metadata);
        environment["AWS_EC2_METADATA_DISABLED"] = "true";

        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", Name, "--no-logs", "--target", "aws"], _keyturn, environment, TimeSpan.FromSeconds(90));

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("You must specify a region", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("(not asked: AWS_EC2_METADATA_DISABLED=true)", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, metadata.Connections);
    }

    [Fact]
    public async Task NoRegionAndInstanceMetadataNeverAnswers_RefusesWithinTheMetadataTimeout_NoHang()
    {
        using var metadata = new SilentListener();
        var environment = NoRegionEnvironment(metadata);

        var clock = Stopwatch.StartNew();
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", Name, "--no-logs", "--target", "aws"], _keyturn, environment, TimeSpan.FromSeconds(90));
        clock.Stop();

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("You must specify a region", result.Stderr, StringComparison.Ordinal);
        Assert.Contains($"{metadata.Endpoint}/latest/meta-data/placement/availability-zone: no answer within 1 s (1 attempt, 1 s each)", result.Stderr, StringComparison.Ordinal);
        // The token request and the read, each given up after the default 1 s (the rest is the CLI's start on a busy machine).
        Assert.Equal(2, metadata.Connections);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"took {clock.Elapsed}");
    }

    /// <summary>AWS keys but no region anywhere (ExternalTool's AWS_DEFAULT_REGION blanked), instance metadata at <paramref name="metadata"/>.</summary>
    private Dictionary<string, string> NoRegionEnvironment(SilentListener metadata) => new()
    {
        ["AWS_ENDPOINT_URL"] = _moto.Endpoint,
        ["AWS_REGION"] = "",
        ["AWS_DEFAULT_REGION"] = "",
        ["AWS_ACCESS_KEY_ID"] = "testing",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
        ["AWS_EC2_METADATA_DISABLED"] = "false",
        ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = metadata.Endpoint,
        ["NO_COLOR"] = "1",
    };

    private static string Value(string user) =>
        JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = 1, username = user, password = "not-a-real-password-1", dbname = "orders" });

    /// <summary>An AWS user's shell pointed at moto, with Keyturn's root key and endpoint also around to tempt the doctor.</summary>
    private Dictionary<string, string> MotoEnvironment() => new()
    {
        ["AWS_ENDPOINT_URL"] = _moto.Endpoint,
        ["AWS_REGION"] = "us-east-1",
        ["AWS_ACCESS_KEY_ID"] = "testing",
        ["AWS_SECRET_ACCESS_KEY"] = "testing",
        ["KEYTURN_ENDPOINT"] = _keyturn.Endpoint,
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = _keyturn.AccessKeyId,
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = _keyturn.SecretAccessKey,
        ["NO_COLOR"] = "1",
    };

    private Dictionary<string, string> KeyturnEnvironment() => new()
    {
        ["KEYTURN_ROOT_ACCESS_KEY_ID"] = _keyturn.AccessKeyId,
        ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = _keyturn.SecretAccessKey,
        ["NO_COLOR"] = "1",
    };

    private async Task<ToolResult> DoctorAsync(string[] arguments, Dictionary<string, string> environment)
    {
        var result = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", .. arguments], _keyturn, environment, TimeSpan.FromSeconds(90));
        Assert.True(result.ExitCode is 0 or 1, $"the doctor failed: {result}");
        Assert.DoesNotContain("not-a-real-password-1", result.Stdout + result.Stderr, StringComparison.Ordinal);
        return result;
    }
}
