using System.Text.Json;
using Keyturn.Domain.Tests.Doctor;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// The doctor's evidence beyond labels and probes, through the real CLI: the rotation function's log read
/// from Keyturn's own log group after a real failed rotation, a pasted log (--log-file, stdin), and on AWS
/// the function's VPC path and log read through Lambda, EC2 and CloudWatch Logs (recorded answers stand
/// in for AWS, reached through the SDKs' endpoint overrides).
/// </summary>
[Collection(RotationEnvironmentCollection.Name)]
public sealed class DoctorEvidenceTests(RotationEnvironment env)
{
    private const string Function = "keyturn-postgresql-single-user";

    [DatabaseFact]
    public async Task KeyturnLogGroup_RotationFailedOnARefusedPassword_DoctorNamesTheCauseFromTheLog()
    {
        var name = await FailedOnARefusedPasswordAsync();

        var result = await DoctorAsync(["doctor", name, "--json"]);

        Assert.Equal(1, result.ExitCode);
        var log = Assert.Single(Findings(result), f => f.Code.StartsWith("LOG0", StringComparison.Ordinal) && f.Severity == "error");
        Assert.Contains($"/aws/lambda/{Function}", log.Evidence, StringComparison.Ordinal);
        Assert.Contains("setSecret", log.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain("changed-by-a-dba", result.Stdout + result.Stderr, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task KeyturnLogGroup_OtherSecretsFailures_DontColourAHealthySecret()
    {
        // A failure of another secret on the same function is in the same log group.
        var other = await FailedOnARefusedPasswordAsync();
        var (name, _) = await SecretAsync("initial-Pw-1");
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name,
            "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{Function}", "--rotation-rules", "AutomaticallyAfterDays=30");
        await WaitForHealthyAsync(name);

        var result = await DoctorAsync(["doctor", name, "--json"]);

        Assert.True(result.ExitCode == 0, result.Stdout);
        Assert.DoesNotContain(Findings(result), f => f.Code.StartsWith("LOG0", StringComparison.Ordinal) && f.Severity != "info");
    }

    [DatabaseFact]
    public async Task LogFile_TheFieldReportsTwoFailures_ComeOutAsTwoCauses_FromAFileAndFromStdin()
    {
        var (name, _) = await SecretAsync("initial-Pw-1");
        var arn = (await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("ARN").GetString()!;
        var log = (SeedLogs.FailureExample1 + "\n" + SeedLogs.FailureExample2)
            .Replace("arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx", arn, StringComparison.Ordinal);
        var file = Path.Combine(env.Server.DataDirectory, $"rotation-{Guid.NewGuid():N}.log");
        await File.WriteAllTextAsync(file, log);

        var fromFile = await DoctorAsync(["doctor", name, "--json", "--log-file", file]);
        var fromStdin = await DoctorAsync(["doctor", name, "--json", "--log-file", "-"], stdin: log);

        foreach (var result in new[] { fromFile, fromStdin })
        {
            Assert.Equal(1, result.ExitCode);
            var codes = Findings(result).Where(f => f.Code.StartsWith("LOG0", StringComparison.Ordinal)).Select(f => f.Code).ToList();
            Assert.Contains("LOG002", codes); // setSecret: unable to log in after 15 s: the database is out of reach
            Assert.Contains("LOG001", codes); // timed out before createSecret: Secrets Manager is out of reach
        }

        Assert.Contains("--log-file -", Findings(fromStdin).First(f => f.Code == "LOG001").Evidence, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task LogFile_SampleHandlerLogsAndFragments_TheRealCauseOrWhatWasRead_NeverNothing()
    {
        var (name, _) = await SecretAsync("initial-Pw-1");
        var arn = (await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("ARN").GetString()!;

        // AWS's multi-user PostgreSQL sample as a Lambda handler with a wrong master password: its routine TLS-fallback
        // error lines come first, then the user's own login works, then the master's is refused.
        const string id = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
        var masterRefused = string.Join('\n',
            $"START RequestId: {id} Version: $LATEST",
            $"[ERROR]\t2026-12-04T10:00:00.123Z\t{id}\tUnable to establish SSL/TLS handshake, SSL/TLS is not enabled on the host: 127.0.0.1",
            $"[INFO]\t2026-12-04T10:00:00.141Z\t{id}\tSuccessfully established non SSL/TLS connection as user 'app' with host: '127.0.0.1'",
            $"[ERROR]\t2026-12-04T10:00:00.150Z\t{id}\tUnable to establish SSL/TLS handshake, SSL/TLS is not enabled on the host: 127.0.0.1",
            $"[ERROR]\t2026-12-04T10:00:00.161Z\t{id}\tsetSecret: Unable to log into database using credentials in master secret arn:aws:secretsmanager:us-east-1:000000000000:secret:master-AbCdEf",
            $"[ERROR] ValueError: Unable to log into database using credentials in master secret arn:aws:secretsmanager:us-east-1:000000000000:secret:master-AbCdEf",
            $"END RequestId: {id}",
            $"REPORT RequestId: {id}\tDuration: 52.00 ms\tBilled Duration: 52 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB");

        var master = await DoctorAsync(["doctor", name, "--json", "--log-file", "-"], stdin: masterRefused);
        var fragment = await DoctorAsync(["doctor", name, "--json", "--log-file", "-"], stdin: "KeyError: 'masterarn'\n");
        var warningOnly = await DoctorAsync(["doctor", name, "--json", "--log-file", "-"],
            stdin: "/var/task/pymysql/cursors.py:170: Warning: (1287, \"'SET PASSWORD = PASSWORD('<plaintext_password>')' is deprecated\")\n");

        var logCodes = Findings(master).Where(f => f.Code.StartsWith("LOG0", StringComparison.Ordinal)).Select(f => f.Code).ToList();
        Assert.Equal(["LOG018"], logCodes);
        Assert.Contains(Findings(fragment), f => f is { Code: "LOG007", Severity: "error" });
        var read = Assert.Single(Findings(warningOnly), f => f.Code.StartsWith("LOG0", StringComparison.Ordinal));
        Assert.Equal(("LOG097", "info"), (read.Code, read.Severity));
        Assert.Contains("Read 1 line", read.Evidence, StringComparison.Ordinal);
        Assert.Equal(0, warningOnly.ExitCode); // a healthy secret with a log that names no failure stays healthy
    }

    [DatabaseFact]
    public async Task Aws_FunctionInAVpcWithoutNatOrEndpoint_NetworkAndLogFindings()
    {
        var (name, function) = await AwsSecretAsync();
        using var aws = new RecordedAws();
        aws.Answers["lambda:GetFunctionConfiguration"] = (200, AwsRecordedDocuments.FunctionInVpc);
        aws.Answers["ec2:DescribeRouteTables"] = (200, AwsRecordedDocuments.RouteTablesLocalOnly);
        aws.Answers["ec2:DescribeVpcEndpoints"] = (200, """<DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-2</requestId><vpcEndpointSet/></DescribeVpcEndpointsResponse>""");
        aws.Answers["ec2:DescribeNatGateways"] = (200, """<DescribeNatGatewaysResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-3</requestId><natGatewaySet/></DescribeNatGatewaysResponse>""");
        aws.Answers["ec2:DescribeSubnets"] = (200, AwsRecordedDocuments.Subnets);
        aws.Answers["ec2:DescribeSecurityGroups"] = (200, AwsRecordedDocuments.SecurityGroupsHealthy);
        aws.Answers["logs:FilterLogEvents"] = (200, LogEvents(SeedLogs.FailureExample2));

        var result = await AwsDoctorAsync(name, aws);

        Assert.Equal(1, result.ExitCode);
        var codes = Findings(result).Select(f => f.Code).ToList();
        Assert.Contains("NET015", codes);
        Assert.Contains("LOG001", codes);
        Assert.Contains("lambda:GetFunctionConfiguration", aws.Calls);
        Assert.Contains("ec2:DescribeRouteTables", aws.Calls);
        Assert.Contains("logs:FilterLogEvents", aws.Calls);
        Assert.DoesNotContain("rds:DescribeDBInstances", aws.Calls); // the database is not an RDS endpoint
        Assert.Contains(function, result.Stdout, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task Aws_FunctionNotFound_IsAConfigurationError_AndDeniedReadsAreWarnings()
    {
        var (name, function) = await AwsSecretAsync();
        using var aws = new RecordedAws();
        aws.Answers["lambda:GetFunctionConfiguration"] = RecordedAws.FunctionNotFound(function);

        var missing = await AwsDoctorAsync(name, aws);

        Assert.Contains("CFG002", Findings(missing).Select(f => f.Code));

        // A function the doctor may not read, and a log group it may not read: named, not fatal.
        aws.Answers["lambda:GetFunctionConfiguration"] = (403, """{"Type":"User","message":"not authorized to perform: lambda:GetFunctionConfiguration","ErrorType":"AccessDeniedException"}""");
        aws.Answers["logs:FilterLogEvents"] = (400, """{"__type":"AccessDeniedException","message":"not authorized to perform: logs:FilterLogEvents"}""");

        var denied = await AwsDoctorAsync(name, aws);

        // Both refusals in one finding, whose fix is one policy granting exactly those two actions on their resources.
        var findings = Findings(denied);
        var permissions = Assert.Single(findings, f => f is { Code: "AWS001", Severity: "warning" });
        Assert.Contains("AccessDeniedException", permissions.Evidence, StringComparison.Ordinal);
        Assert.Contains("\"lambda:GetFunctionConfiguration\"", permissions.Fix, StringComparison.Ordinal);
        Assert.Contains($":function:{function}\"", permissions.Fix, StringComparison.Ordinal);
        Assert.Contains("\"logs:FilterLogEvents\"", permissions.Fix, StringComparison.Ordinal);
        Assert.Contains($"log-group:/aws/lambda/{function}:*", permissions.Fix, StringComparison.Ordinal);
        Assert.DoesNotContain(findings, f => f.Code is "NET009" or "LOG098" or "AWS003");
        Assert.DoesNotContain("CFG002", findings.Select(f => f.Code));
    }

    [DatabaseFact]
    public async Task Keyturn_AnswersLambdaGetFunctionConfiguration_ForItsFunctions_ToTheRealAwsCli()
    {
        var builtIn = await env.Cli.JsonAsync("lambda", "get-function-configuration", "--function-name", $"arn:aws:lambda:us-east-1:000000000000:function:{Function}");

        Assert.Equal(Function, builtIn.GetProperty("FunctionName").GetString());
        Assert.Equal($"arn:aws:lambda:us-east-1:000000000000:function:{Function}", builtIn.GetProperty("FunctionArn").GetString());
        Assert.Equal("Active", builtIn.GetProperty("State").GetString());

        var missing = await env.Cli.ErrorAsync("ResourceNotFoundException", "lambda", "get-function-configuration", "--function-name", "no-such-function");
        Assert.Contains("Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-function", missing, StringComparison.Ordinal);
    }

    [DatabaseFact]
    public async Task Keyturn_RotationFunctionRemoved_DoctorReportsItCannotBeInvoked()
    {
        var (name, _) = await SecretAsync("initial-Pw-1");
        var function = "removed-" + Guid.NewGuid().ToString("N")[..8];
        string[] command = [KeyturnProcess.KeyturnDll, "functions", "register", function, "--command", "true", "--data-dir", env.Server.DataDirectory];
        Assert.Equal(0, (await ExternalTool.RunAsync("dotnet", command, env.Server)).ExitCode);
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{function}",
            "--rotation-rules", "AutomaticallyAfterDays=30", "--no-rotate-immediately");
        var before = await DoctorAsync(["doctor", name, "--json"]);
        Assert.DoesNotContain("CFG002", Findings(before).Select(f => f.Code));

        Assert.Equal(0, (await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "functions", "remove", function, "--data-dir", env.Server.DataDirectory], env.Server)).ExitCode);
        var after = await DoctorAsync(["doctor", name, "--json"]);

        Assert.Equal(1, after.ExitCode);
        Assert.Contains(Findings(after), f => f is { Code: "CFG002", Severity: "error" });
    }

    [DatabaseFact]
    public async Task RotateAfter_RepairThenARotationFollowedThroughItsFourSteps_NewPasswordLogsIn()
    {
        var (name, user) = await SecretAsync("initial-Pw-1");
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name,
            "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{Function}", "--rotation-rules", "AutomaticallyAfterDays=30");
        await WaitForHealthyAsync(name);

        // A stale AWSPENDING whose password never reached the database: the state the field report got stuck in.
        var current = JsonDocument.Parse((await env.Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name)).GetProperty("SecretString").GetString()!).RootElement;
        var stale = JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = env.Databases.Postgres.Port, username = user, password = "never-applied-Pw-9", dbname = PostgresServer.Database });
        await env.Cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string", stale, "--version-stages", "AWSPENDING");

        var result = await DoctorAsync(["doctor", name, "--apply", "--yes", "--rotate-after"]);

        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        var token = System.Text.RegularExpressions.Regex.Match(result.Stdout, "Rotation ([0-9a-f-]{36}) started").Groups[1].Value;
        Assert.Contains($"createSecret: Successfully put secret for ARN {(await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("ARN").GetString()} and version {token}", result.Stdout, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(result.Stdout, "createSecret: Successfully put secret"));
        foreach (var step in new[] { "createSecret: Successfully put secret", "setSecret: Successfully set password", "testSecret: Successfully signed into", "finishSecret: Successfully set AWSCURRENT stage" })
        {
            Assert.Contains(step, result.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("is AWSCURRENT", result.Stdout, StringComparison.Ordinal);
        var rotated = JsonDocument.Parse((await env.Cli.JsonAsync("secretsmanager", "get-secret-value", "--secret-id", name)).GetProperty("SecretString").GetString()!).RootElement;
        Assert.NotEqual(current.GetProperty("password").GetString(), rotated.GetProperty("password").GetString());
        var probe = await Rotators.PostgreSql.PostgreSqlRotator.Create().ProbeLoginAsync(
            new Application.Rotation.DatabaseConnection("postgres", "127.0.0.1", env.Databases.Postgres.Port, user, rotated.GetProperty("password").GetString()!, PostgresServer.Database, Application.Rotation.SslMode.Disable),
            TimeSpan.FromSeconds(30), default);
        Assert.Equal(Application.Rotation.LoginOutcome.Ok, probe.Outcome);
    }

    [DatabaseFact]
    public async Task Aws_AssumeRoleProfile_TheDoctorSignsWithTheRolesCredentials()
    {
        var (name, _) = await SecretAsync("initial-Pw-1");
        using var aws = new RecordedAws();

        // The role's temporary credentials are Keyturn's root key with a session token: Keyturn accepts them, and the
        // doctor can only reach the secret if it assumed the role (the source profile's key is unknown to Keyturn).
        aws.Answers["sts:AssumeRole"] = (200, RecordedAws.AssumeRoleAnswer(env.Server.AccessKeyId, env.Server.SecretAccessKey, "FQoGZXIvYXdzEJr//////////wEaDExampleSessionToken"));
        var directory = Path.Combine(env.Server.DataDirectory, $"aws-config-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "credentials"), "[base]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "config"),
            "[profile ops-role]\nrole_arn = arn:aws:iam::123456789012:role/keyturn-doctor\nsource_profile = base\nrole_session_name = doctor-session\nregion = us-east-1\n");
        var variables = aws.EndpointVariables;
        variables["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(directory, "credentials");
        variables["AWS_CONFIG_FILE"] = Path.Combine(directory, "config");
        variables["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = env.Server.Endpoint;

        var result = await DoctorAsync(["doctor", name, "--json", "--profile", "ops-role", "--no-logs", "--target", "aws"], environment: variables);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("sts:AssumeRole", aws.Calls);
    }

    private sealed record DoctorResult(int ExitCode, string Stdout, string Stderr);

    private sealed record FindingView(string Code, string Severity, string Evidence, string Fix);

    private static List<FindingView> Findings(DoctorResult result)
    {
        var json = JsonDocument.Parse(result.Stdout[result.Stdout.IndexOf('{', StringComparison.Ordinal)..]).RootElement;
        return json.GetProperty("findings").EnumerateArray()
            .Select(f => new FindingView(f.GetProperty("code").GetString()!, f.GetProperty("severity").GetString()!, f.GetProperty("evidence").GetString()!, f.GetProperty("fix").GetString()!))
            .ToList();
    }

    private async Task<DoctorResult> DoctorAsync(string[] arguments, string? stdin = null, IDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string>
        {
            ["KEYTURN_ROOT_ACCESS_KEY_ID"] = env.Server.AccessKeyId,
            ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = env.Server.SecretAccessKey,
            ["NO_COLOR"] = "1",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        // Keyturn is named by its endpoint: the AWS region and keys ExternalTool sets would otherwise mean AWS.
        string[] target = arguments.Contains("--target") ? [] : ["--endpoint-url", env.Server.Endpoint];
        string[] all = [KeyturnProcess.KeyturnDll, .. arguments, .. target, "--journal", Path.Combine(env.Server.DataDirectory, "doctor-evidence.jsonl")];
        var result = stdin is null
            ? await ExternalTool.RunAsync("dotnet", all, env.Server, variables)
            : await ExternalTool.RunWithInputAsync("dotnet", all, env.Server, stdin, variables);
        Assert.True(result.ExitCode is 0 or 1, $"the doctor failed: {result}");
        return new DoctorResult(result.ExitCode, result.Stdout, result.Stderr);
    }

    /// <summary>
    /// The doctor in AWS mode: a named profile, Secrets Manager (Keyturn here, so --target aws: it would otherwise say
    /// it is Keyturn) and the other services through the SDKs' endpoint variables.
    /// </summary>
    private async Task<DoctorResult> AwsDoctorAsync(string name, RecordedAws aws)
    {
        var credentials = Path.Combine(env.Server.DataDirectory, $"aws-credentials-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(credentials, $"[ops]\naws_access_key_id = {env.Server.AccessKeyId}\naws_secret_access_key = {env.Server.SecretAccessKey}\n");
        var variables = aws.EndpointVariables;
        variables["AWS_SHARED_CREDENTIALS_FILE"] = credentials;
        variables["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = env.Server.Endpoint;
        return await DoctorAsync(["doctor", name, "--json", "--profile", "ops", "--region", "us-east-1", "--target", "aws"], environment: variables);
    }

    /// <summary>A healthy secret whose rotation names an external function, as a Lambda function would be on AWS.</summary>
    private async Task<(string Name, string Function)> AwsSecretAsync()
    {
        var (name, _) = await SecretAsync("initial-Pw-1");
        var function = "SecretsManagerprd-db-rotation";
        var register = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "functions", "register", function, "--command", "true", "--data-dir", env.Server.DataDirectory], env.Server);
        Assert.True(register.ExitCode == 0 || register.Stderr.Contains("already", StringComparison.OrdinalIgnoreCase), register.ToString());
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name, "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{function}",
            "--rotation-rules", "AutomaticallyAfterDays=30", "--no-rotate-immediately");
        return (name, function);
    }

    private async Task<(string Name, string User)> SecretAsync(string password)
    {
        var user = $"doclog_{Guid.NewGuid().ToString("N")[..8]}";
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
        var name = $"doctor/evidence/{user}";
        var value = JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = env.Databases.Postgres.Port, username = user, password, dbname = PostgresServer.Database });
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", value);
        return (name, user);
    }

    private static string LogEvents(string log) => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["events"] = log.Split('\n').Select((line, i) => new Dictionary<string, object>
        {
            ["logStreamName"] = "2022/03/28/[$LATEST]5a1e2b3c4d5e6f708192a3b4c5d6e7f8",
            ["timestamp"] = 1648434488558L + i,
            ["message"] = line,
            ["ingestionTime"] = 1648434489000L + i,
            ["eventId"] = $"3669{i:D52}",
        }).ToList(),
        ["searchedLogStreams"] = Array.Empty<object>(),
    });

    /// <summary>A secret whose rotation failed because a DBA changed the role's password behind it ('changed-by-a-dba').</summary>
    private async Task<string> FailedOnARefusedPasswordAsync()
    {
        var (name, user) = await SecretAsync("initial-Pw-1");
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"ALTER ROLE {user} PASSWORD 'changed-by-a-dba'");
        await env.Cli.JsonAsync("secretsmanager", "rotate-secret", "--secret-id", name,
            "--rotation-lambda-arn", $"arn:aws:lambda:us-east-1:000000000000:function:{Function}", "--rotation-rules", "AutomaticallyAfterDays=30");
        await WaitForFailureAsync(name);
        return name;
    }

    private async Task WaitForFailureAsync(string name) => await WaitAsync(name, line => line.Contains(" failed", StringComparison.Ordinal));

    private async Task WaitForHealthyAsync(string name) => await WaitAsync(name, line => line.Contains(" succeeded", StringComparison.Ordinal));

    private async Task WaitAsync(string name, Func<string, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = await ExternalTool.RunAsync("dotnet", [KeyturnProcess.KeyturnDll, "rotations", "--data-dir", env.Server.DataDirectory], env.Server);
            var line = status.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal)) ?? "(no status line)";
            if (done(line))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{name}: {line}");
            await Task.Delay(200);
        }
    }
}
