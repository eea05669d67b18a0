using System.Diagnostics;
using System.Text.Json;
using Keyturn.Domain.Tests.Doctor;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The doctor on "AWS" as a user runs it, against an independent emulator (moto in server mode) whose EC2, RDS, Lambda,
/// IAM and Secrets Manager resources are built through boto3 (Scripts/doctor_aws_layout.py). The RDS names don't resolve
/// here (the sandbox has no DNS for them), which is exactly a laptop outside the VPC: the doctor can't reach the database,
/// and must say so about itself while judging the function's path from the VPC documents. One moto serves the class
/// (each layout has its own names); the test that switches IAM enforcement on starts its own.
/// </summary>
public sealed class DoctorMotoTests(DoctorMotoTests.Moto fixture) : IClassFixture<DoctorMotoTests.Moto>
{
    private readonly MotoServer _moto = fixture.Server;

    /// <summary>The moto server the class's tests share.</summary>
    public sealed class Moto : IAsyncLifetime
    {
        public MotoServer Server { get; private set; } = null!;

        public async Task InitializeAsync() => Server = await MotoServer.StartAsync();

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

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

    [Theory]
    [InlineData("endpoint")]
    [InlineData("aurora")]
    public async Task HealthyEndpointAndAuroraLayouts_ThePathsAreVerified_ComeOutHealthy(string layoutName)
    {
        var layout = await LayoutAsync(_moto, layoutName);

        var result = await DoctorAsync(_moto, layout, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var report = JsonDocument.Parse(result.Stdout).RootElement;
        Assert.Equal("Healthy", report.GetProperty("state").GetString());
        var findings = Findings(report);
        Assert.All(findings, f => Assert.True(f.Severity == "info", $"{f.Code} {f.Severity}: {f.Title}"));
        var path = Assert.Single(findings, f => f.Code == "NET021");
        Assert.Contains($"database ingress by {layout.GetProperty("database_group").GetString()}", path.Evidence, StringComparison.Ordinal);
        Assert.Contains(layout.GetProperty("host").GetString()!, path.Evidence, StringComparison.Ordinal);
        if (layoutName == "endpoint")
        {
            // Private DNS on: Secrets Manager goes through the endpoint, no NAT needed.
            Assert.Contains(layout.GetProperty("endpoint").GetString()!, path.Evidence, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(".cluster-", layout.GetProperty("host").GetString()!, StringComparison.Ordinal);
        }

        Assert.Single(findings, f => f.Code == "VNT001");
    }

    [Theory]
    [InlineData("no-egress", "NET012")]
    [InlineData("no-ingress", "NET013")]
    [InlineData("no-route", "NET015")]
    public async Task BrokenLayouts_OneErrorNamesTheBrokenPiece(string layoutName, string code)
    {
        var layout = await LayoutAsync(_moto, layoutName);

        var result = await DoctorAsync(_moto, layout, "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        var findings = Findings(JsonDocument.Parse(result.Stdout).RootElement);
        var errors = findings.Where(f => f.Severity is "error" or "warning").ToList();
        var finding = Assert.Single(errors);
        Assert.Equal((code, "error"), (finding.Code, finding.Severity));
        var named = layoutName == "no-ingress" ? "database_group" : "function_group";
        Assert.Contains(layoutName == "no-route" ? layout.GetProperty("function_subnets")[0].GetString()! : layout.GetProperty(named).GetString()!,
            finding.Evidence + finding.Fix, StringComparison.Ordinal);
        if (layoutName == "no-route")
        {
            Assert.Contains("no NAT gateway route, no VPC endpoint", finding.Title, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(findings, f => f.Code is "NET001" or "NET002" or "NET021");
    }

    [Fact]
    public async Task FieldReportsTwoLogs_InTheFunctionsLogGroup_TwoCauses()
    {
        // The field report's two failures, each as one stream of the function's log group, its placeholder ARN the secret's.
        var file = Path.Combine(Path.GetTempPath(), $"keyturn-moto-log-{Guid.NewGuid():N}.log");
        const string placeholder = "arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx";
        await File.WriteAllTextAsync(file, (SeedLogs.FailureExample1 + "\n\n" + SeedLogs.FailureExample2).Replace(placeholder, "<secret-arn>", StringComparison.Ordinal));
        try
        {
            var layout = await LayoutAsync(_moto, "nat", file);

            var result = await DoctorAsync(_moto, layout, "--json");

            Assert.True(result.ExitCode == 1, result.ToString());
            var findings = Findings(JsonDocument.Parse(result.Stdout).RootElement);
            var logCodes = findings.Where(f => f.Code.StartsWith("LOG0", StringComparison.Ordinal)).Select(f => f.Code).ToList();
            Assert.Contains("LOG002", logCodes); // setSecret: unable to log in after 15 s: the database is out of reach
            Assert.Contains("LOG001", logCodes); // timed out before createSecret: Secrets Manager is out of reach
            Assert.DoesNotContain("LOG000", logCodes);
            Assert.Contains($"/aws/lambda/{layout.GetProperty("secret").GetString()!.Split('/')[0]}-rotation", findings.First(f => f.Code == "LOG001").Evidence, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [DatabaseFact]
    public async Task PendingOnTheBrokenCurrent_RealPostgreSqlProbes_OneApplyRollsBack()
    {
        var postgres = new PostgresServer();
        await postgres.StartAsync(null);
        try
        {
            var user = "moto_" + Guid.NewGuid().ToString("N")[..8];
            var password = "Pw-" + Guid.NewGuid().ToString("N");
            var broken = "Pw-" + Guid.NewGuid().ToString("N");
            await postgres.ExecuteAsSuperuserAsync("postgres", $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
            var database = JsonSerializer.Serialize(new { host = "127.0.0.1", port = postgres.Port, username = user, password, broken });
            var layout = await LayoutAsync(_moto, "pending-on-broken-current", environment: new() { ["DOCTOR_DB"] = database });
            var working = layout.GetProperty("working_version").GetString()!;
            var brokenVersion = layout.GetProperty("broken_version").GetString()!;

            var dryRun = await DoctorAsync(_moto, layout, "--json");
            var apply = await DoctorAsync(_moto, layout, "--apply", "--yes", "--json");
            var after = await DoctorAsync(_moto, layout, "--json");

            foreach (var output in new[] { dryRun, apply, after })
            {
                Assert.DoesNotContain(password, output.Stdout + output.Stderr, StringComparison.Ordinal);
                Assert.DoesNotContain(broken, output.Stdout + output.Stderr, StringComparison.Ordinal);
            }

            Assert.True(dryRun.ExitCode == 1, dryRun.ToString());
            var report = JsonDocument.Parse(dryRun.Stdout).RootElement;
            Assert.Equal("LabelsAhead", report.GetProperty("state").GetString());
            Assert.Contains(Findings(report), f => f.Code == "LBL004");
            Assert.DoesNotContain(Findings(report), f => f.Code is "VNT001" or "PRB001"); // the doctor reached the database and probed
            Assert.Equal(
            [
                $"aws secretsmanager update-secret-version-stage --secret-id {layout.GetProperty("secret").GetString()} --version-stage AWSPENDING --remove-from-version-id {brokenVersion}",
                $"aws secretsmanager update-secret-version-stage --secret-id {layout.GetProperty("secret").GetString()} --version-stage AWSCURRENT --move-to-version-id {working} --remove-from-version-id {brokenVersion}",
            ], report.GetProperty("plan").EnumerateArray().Select(a => a.GetProperty("awsCli").GetString()).ToList());

            // 127.0.0.1 is no RDS instance, so the database's security groups stay unknown (NET019) after the repair too.
            Assert.True(apply.ExitCode is 0 or 1, apply.ToString());
            var applied = JsonDocument.Parse(apply.Stdout).RootElement;
            Assert.Equal(["RemoveLabel", "MoveCurrent"], applied.GetProperty("actions").EnumerateArray().Select(a => a.GetProperty("action").GetString()));
            Assert.All(applied.GetProperty("actions").EnumerateArray(), a => Assert.True(a.GetProperty("succeeded").GetBoolean(), a.GetProperty("detail").GetString()));
            Assert.Equal("Healthy", applied.GetProperty("after").GetProperty("state").GetString());
            Assert.Contains("keyturn", applied.GetProperty("journal").GetString(), StringComparison.Ordinal); // in the user's state directory
            var repaired = JsonDocument.Parse(after.Stdout).RootElement;
            Assert.Equal("Healthy", repaired.GetProperty("state").GetString());
            Assert.Equal(["NET019"], Findings(repaired).Where(f => f.Severity != "info").Select(f => f.Code));
            var stages = await RunAsync("aws", ["secretsmanager", "describe-secret", "--secret-id", layout.GetProperty("arn").GetString()!, "--query", "VersionIdsToStages", "--output", "json"], Environment(_moto));
            Assert.True(stages.ExitCode == 0, stages.ToString());
            var labels = JsonDocument.Parse(stages.Stdout).RootElement;
            Assert.Equal(["AWSCURRENT"], labels.GetProperty(working).EnumerateArray().Select(l => l.GetString()));
            Assert.Equal(["AWSPREVIOUS"], labels.GetProperty(brokenVersion).EnumerateArray().Select(l => l.GetString()));

            // One apply is enough: the next rotation is accepted. Without rotating now (moto runs only testSecret, on its
            // docker-less stub), so the labels stay as the repair left them. moto refuses when AWSPENDING shares AWSCURRENT's
            // version (AWS refuses when they differ); after the repair there is no AWSPENDING, which both accept.
            var rotate = await RunAsync("aws", ["secretsmanager", "rotate-secret", "--secret-id", layout.GetProperty("arn").GetString()!, "--no-rotate-immediately", "--output", "json"], Environment(_moto));
            Assert.True(rotate.ExitCode == 0, rotate.ToString());
            Assert.Equal(layout.GetProperty("arn").GetString(), JsonDocument.Parse(rotate.Stdout).RootElement.GetProperty("ARN").GetString());
        }
        finally
        {
            await postgres.StopAsync();
        }
    }

    [Fact]
    public async Task All_AgainstMoto_TheTargetIsAnAwsCompatibleEndpoint_AndEachSecretHasItsState()
    {
        var healthy = await LayoutAsync(_moto, "nat");
        var noEgress = await LayoutAsync(_moto, "no-egress");
        var noRoute = await LayoutAsync(_moto, "no-route");

        var json = await DoctorAsync(_moto, ["--all", "--region", "us-east-1", "--json"]);
        var text = await DoctorAsync(_moto, ["--all", "--region", "us-east-1"]);

        Assert.True(json.ExitCode == 1, json.ToString());
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        var target = report.GetProperty("target");
        Assert.Equal(("aws", "aws-compatible", _moto.Endpoint + "/", "123456789012"),
            (target.GetProperty("target").GetString(), target.GetProperty("endpointKind").GetString(), target.GetProperty("endpoint").GetString(), target.GetProperty("account").GetString()));
        var secrets = report.GetProperty("secrets").EnumerateArray().ToDictionary(s => s.GetProperty("secret").GetString()!, s => s);
        var row = secrets[healthy.GetProperty("secret").GetString()!];
        Assert.Equal(("Healthy", true), (row.GetProperty("state").GetString(), row.GetProperty("healthy").GetBoolean()));
        Assert.Empty(row.GetProperty("codes").EnumerateArray());
        foreach (var (layout, code) in new[] { (noEgress, "NET012"), (noRoute, "NET015") })
        {
            row = secrets[layout.GetProperty("secret").GetString()!];
            Assert.Equal(("Healthy", false), (row.GetProperty("state").GetString(), row.GetProperty("healthy").GetBoolean()));
            Assert.Equal([code], row.GetProperty("codes").EnumerateArray().Select(c => c.GetString()));
        }

        Assert.True(text.ExitCode == 1, text.ToString());
        var lines = text.Stdout.Split('\n');
        Assert.StartsWith($"Target:  AWS (an AWS-compatible service that is not Keyturn), endpoint {_moto.Endpoint}/ (from AWS_ENDPOINT_URL); account 123456789012", lines[0], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.StartsWith(healthy.GetProperty("secret").GetString()!, StringComparison.Ordinal) && l.Contains("Healthy by its labels", StringComparison.Ordinal) && !l.Contains("NET0", StringComparison.Ordinal));

        // Labels fine, network broken: the row says which finding needs attention, not only "Healthy by its labels".
        Assert.Contains(lines, l => l.StartsWith(noEgress.GetProperty("secret").GetString()!, StringComparison.Ordinal) && l.Contains("NET012", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith(noRoute.GetProperty("secret").GetString()!, StringComparison.Ordinal) && l.Contains("NET015", StringComparison.Ordinal));
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

        var result = await DoctorAsAsync(moto, layout, keys.GetProperty("AccessKeyId").GetString()!, keys.GetProperty("SecretAccessKey").GetString()!, "--json");

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

    [Fact]
    public async Task All_ReadsRefusedForSeveralSecrets_OneIamPolicyForTheWholeRun()
    {
        await using var moto = await MotoServer.StartAsync();
        var nat = await LayoutAsync(moto, "nat");
        var noEgress = await LayoutAsync(moto, "no-egress");
        var user = await RunAsync("python3", [Script("doctor_aws_user.py"), "doctor-" + Guid.NewGuid().ToString("N")[..8]], Environment(moto));
        Assert.True(user.ExitCode == 0, user.ToString());
        var keys = JsonDocument.Parse(user.Stdout).RootElement;
        var (id, secret) = (keys.GetProperty("AccessKeyId").GetString()!, keys.GetProperty("SecretAccessKey").GetString()!);

        var json = await DoctorAsync(moto, ["--all", "--region", "us-east-1", "--json"], id, secret);
        var text = await DoctorAsync(moto, ["--all", "--region", "us-east-1"], id, secret);

        Assert.True(json.ExitCode is 0 or 1, json.ToString());
        var report = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal(
            new[] { nat, noEgress }.Select(l => l.GetProperty("secret").GetString()!).Order(StringComparer.Ordinal),
            report.GetProperty("secrets").EnumerateArray().Select(s => s.GetProperty("secret").GetString()!).Order(StringComparer.Ordinal));
        var missing = report.GetProperty("missingPermissions");
        var actions = missing.GetProperty("actions").EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.Contains("rds:DescribeDBInstances", actions);
        Assert.Contains("ec2:DescribeSecurityGroups", actions);
        Assert.DoesNotContain(actions, a => a.StartsWith("secretsmanager:", StringComparison.Ordinal) || a == "lambda:GetFunctionConfiguration");
        Assert.Equal(actions.Distinct(StringComparer.Ordinal).Count(), actions.Count);

        // The policy grants exactly the refused actions, each once across both secrets.
        var granted = missing.GetProperty("policy").GetProperty("Statement").EnumerateArray()
            .SelectMany(s => s.GetProperty("Action").EnumerateArray().Select(a => a.GetString()!)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(actions, granted);

        Assert.True(text.ExitCode is 0 or 1, text.ToString());
        Assert.Equal(("aws", "aws-compatible"), (report.GetProperty("target").GetProperty("target").GetString(), report.GetProperty("target").GetProperty("endpointKind").GetString()));
        Assert.StartsWith($"Target:  AWS (an AWS-compatible service that is not Keyturn), endpoint {moto.Endpoint}/ (from AWS_ENDPOINT_URL); account ", text.Stdout, StringComparison.Ordinal);
        Assert.Single(text.Stdout.Split('\n'), l => l.Contains("Grant its identity this one policy", StringComparison.Ordinal)); // one policy for both secrets
        Assert.Contains("Grant its identity this one policy (every refusal of this run)", text.Stdout, StringComparison.Ordinal);
        var policy = text.Stdout[text.Stdout.IndexOf("{\n", text.Stdout.IndexOf("this one policy", StringComparison.Ordinal), StringComparison.Ordinal)..];
        Assert.Equal(actions, JsonDocument.Parse(policy).RootElement.GetProperty("Statement").EnumerateArray()
            .SelectMany(s => s.GetProperty("Action").EnumerateArray().Select(a => a.GetString()!)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReadmeAwsExample_IsWhatTheDoctorPrints_OnTheEmulatorsLayout()
    {
        // The README's run: the no-egress layout named "orders" (used by no other test of this class's moto).
        var layout = await LayoutAsync(_moto, "no-egress", name: "orders");
        var block = ReadmeExamples.Block("readme-example: doctor-aws", "text");

        var result = await DoctorAsync(_moto, layout);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.EndsWith($" ./keyturn doctor {layout.GetProperty("secret").GetString()} --region us-east-1", block.Split('\n')[0], StringComparison.Ordinal);
        ReadmeExamples.AssertShows(block, result.Stdout);
    }

    private sealed record FindingView(string Code, string Severity, string Title, string Evidence, string Fix);

    private static List<FindingView> Findings(JsonElement report) =>
        report.GetProperty("findings").EnumerateArray().Select(f => new FindingView(
            f.GetProperty("code").GetString()!, f.GetProperty("severity").GetString()!, f.GetProperty("title").GetString()!, f.GetProperty("evidence").GetString()!, f.GetProperty("fix").GetString()!)).ToList();

    private static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Scripts", name);

    /// <summary>Builds a layout through doctor_aws_layout.py, with the log file to write into the function's log group, if any.</summary>
    /// <param name="name">The layout's name (its secret is NAME/AdminLoginInfo); a fresh one when null.</param>
    private static async Task<JsonElement> LayoutAsync(MotoServer moto, string layout, string? logFile = null, Dictionary<string, string>? environment = null, string? name = null)
    {
        var variables = Environment(moto);
        foreach (var (key, value) in environment ?? [])
        {
            variables[key] = value;
        }

        var result = await RunAsync("python3", [Script("doctor_aws_layout.py"), layout, name ?? "t" + Guid.NewGuid().ToString("N")[..8], .. logFile is null ? Array.Empty<string>() : [logFile]], variables);
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.Stdout).RootElement.Clone();
    }

    private static Task<ToolResult> DoctorAsync(MotoServer moto, JsonElement layout, params string[] arguments) =>
        DoctorAsAsync(moto, layout, "testing", "testing", arguments);

    /// <summary>The doctor as on AWS: a region and credentials from the environment, every service's endpoint the emulator's.</summary>
    // Named apart from DoctorAsync: with overloads, DoctorAsync(moto, layout, "--apply", "--yes", "--json") took the first two options for keys.
    private static Task<ToolResult> DoctorAsAsync(MotoServer moto, JsonElement layout, string accessKeyId, string secretAccessKey, params string[] arguments) =>
        DoctorAsync(moto, [layout.GetProperty("secret").GetString()!, "--region", "us-east-1", .. arguments], accessKeyId, secretAccessKey);

    private static async Task<ToolResult> DoctorAsync(MotoServer moto, string[] arguments, string accessKeyId = "testing", string secretAccessKey = "testing")
    {
        var environment = Environment(moto);
        environment["AWS_ACCESS_KEY_ID"] = accessKeyId;
        environment["AWS_SECRET_ACCESS_KEY"] = secretAccessKey;
        environment["NO_COLOR"] = "1";
        var state = Path.Combine(Path.GetTempPath(), "keyturn-doctor-state-" + Guid.NewGuid().ToString("N"));
        environment["XDG_STATE_HOME"] = state;
        try
        {
            return await RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "doctor", .. arguments], environment);
        }
        finally
        {
            TestDirectories.Delete(state);
        }
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
