using System.Globalization;
using Keyturn.Domain.Doctor;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>
/// Logs of AWS's sample rotation functions run as Lambda handlers (Python's <c>[LEVEL]\t time \t request id \t message</c>,
/// Node's <c>time \t request id \t LEVEL \t message</c>, START/END/REPORT, Lambda's error document), with the exact messages
/// the samples' get_connection/connect_and_authenticate log. With no "ssl" key in the secret the samples try TLS first and
/// log an [ERROR] when the server has no TLS, then fall back to a plain connection: that routine line must not decide.
/// </summary>
public sealed class LambdaHandlerLogTests
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf";
    private const string MasterArn = "arn:aws:secretsmanager:us-east-1:000000000000:secret:app/master-GhIjKl";
    private const string Id = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
    private const string NoTls = "Unable to establish SSL/TLS handshake, SSL/TLS is not enabled on the host: 127.0.0.1";
    private const string Enforced = "Unable to establish SSL/TLS handshake, SSL/TLS is enforced on the host: 127.0.0.1";
    private const string Connected = "Successfully established non SSL/TLS connection as user 'app' with host: '127.0.0.1'";

    // "I:"/"E:" are the function's logger.info/logger.error lines; "R:" is the exception the runtime logs when the handler raised.
    public static TheoryData<string, string, string[], double, string?> Steps => new()
    {
        {
            "a wrong master password is the master's credentials, not TLS", "setSecret",
            [$"E:{NoTls}", $"E:{NoTls}", $"I:{Connected}", $"E:{NoTls}",
                $"E:setSecret: Unable to log into database using credentials in master secret {MasterArn}",
                $"R:ValueError: Unable to log into database using credentials in master secret {MasterArn}"],
            412, "LOG018"
        },
        {
            "a wrong user password is a credential desync, not TLS", "setSecret",
            [$"E:{NoTls}", $"E:{NoTls}", $"E:{NoTls}",
                $"E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}",
                $"R:ValueError: Unable to log into database with previous, current, or pending secret of secret arn {Arn}"],
            95, "LOG003"
        },
        {
            "a wrong pending password in testSecret is propagation, not TLS", "testSecret",
            [$"E:{NoTls}", $"E:testSecret: Unable to log into database with pending secret of secret ARN {Arn}",
                $"R:ValueError: Unable to log into database with pending secret of secret ARN {Arn}"],
            60, "LOG016"
        },
        {
            "an unreachable host (no TLS line: nothing answered) is the network", "setSecret",
            [$"E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}",
                $"R:ValueError: Unable to log into database with previous, current, or pending secret of secret arn {Arn}"],
            20031, "LOG002"
        },
        {
            "a server that requires TLS refusing the plain fallback is TLS", "setSecret",
            [$"E:{Enforced}", $"E:{Enforced}",
                $"E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}",
                $"R:ValueError: Unable to log into database with previous, current, or pending secret of secret arn {Arn}"],
            140, "LOG005"
        },
        {
            "a TLS attempt that is the last thing logged still names TLS", "setSecret",
            [$"E:{NoTls}"],
            30, "LOG005"
        },
        {
            "the TLS fallback then a successful set is a success", "setSecret",
            [$"E:{NoTls}", $"E:{NoTls}", $"I:{Connected}", $"I:setSecret: Successfully set password for user app in PostgreSQL DB for secret arn {Arn}."],
            180, null
        },
        {
            "the TLS fallback then a successful test is a success", "testSecret",
            [$"E:{NoTls}", $"I:{Connected}", $"I:testSecret: Successfully signed into PostgreSQL DB with AWSPENDING secret in {Arn}."],
            90, null
        },
        {
            "createSecret's own success is a success", "createSecret",
            [$"I:createSecret: Successfully put secret for ARN {Arn} and version 0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f."],
            700, null
        },
    };

    [Theory]
    [MemberData(nameof(Steps))]
    public void Classify_SampleHandlerStep_NamesTheRealCause(string because, string step, string[] lines, double durationMs, string? code)
    {
        var invocation = Assert.Single(LogAnalyzer.Parse(PythonInvocation(step, lines, durationMs)));
        var diagnoses = LogAnalyzer.Classify([invocation]);

        if (code is null)
        {
            Assert.True(invocation.Succeeded, because);
            Assert.Empty(diagnoses);
            return;
        }

        var diagnosis = Assert.Single(diagnoses);
        Assert.True(code == diagnosis.Code, $"{because}: expected {code}, got {diagnosis.Code} ({diagnosis.Evidence})");
        Assert.Equal(Id, diagnosis.RequestId);
        Assert.Equal(step, diagnosis.Step);
    }

    [Fact]
    public void Classify_WrongMasterPassword_EvidenceSaysTheDatabaseAnswered()
    {
        var log = PythonInvocation("setSecret", [$"E:{NoTls}", $"I:{Connected}", $"E:{NoTls}",
            $"E:setSecret: Unable to log into database using credentials in master secret {MasterArn}"], 300);

        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(log)));

        Assert.Equal("LOG018", diagnosis.Code);
        Assert.Contains("connected earlier in this invocation", diagnosis.Evidence, StringComparison.Ordinal);
        Assert.DoesNotContain("LOG005", LogAnalyzer.ToFindings([diagnosis]).Select(f => f.Code));
    }

    [Fact]
    public void Classify_WrongUserPassword_EvidenceNamesTheRoutineTlsLine()
    {
        var log = PythonInvocation("setSecret", [$"E:{NoTls}",
            $"E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}"], 80);

        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(log)));

        Assert.Equal("LOG003", diagnosis.Code);
        Assert.Contains("first try over TLS", diagnosis.Evidence, StringComparison.Ordinal);
        Assert.Contains("\"ssl\": true", diagnosis.Evidence, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/var/task/pymysql/cursors.py:170: Warning: (1287, \"'SET PASSWORD = PASSWORD('Hunter2-Real-Pw')' is deprecated and will be removed in a future release.\")")]
    [InlineData("ALTER USER app WITH PASSWORD 'Hunter2-Real-Pw'")]
    [InlineData("secret is {\"username\": \"app\", \"password\": \"Hunter2-Real-Pw\", \"host\": \"db\"}")]
    [InlineData("connecting with host=db user=app password=Hunter2-Real-Pw dbname=app")]
    [InlineData("could not connect to postgresql://app:Hunter2-Real-Pw@db.internal:5432/app")]
    public void Classify_AQuotedLineCarryingAPassword_NeverPutsItInTheFinding(string line)
    {
        // The line is the last one reached before a timeout: the timeout's evidence quotes it.
        var log = PythonInvocation("setSecret", [$"I:{line}", "T"], 30000)
            .Replace("\nT\n", $"\n2026-12-04T10:00:30.123Z {Id} Task timed out after 30.00 seconds\n", StringComparison.Ordinal);

        var findings = LogAnalyzer.Analyze(log);

        Assert.NotEmpty(findings);
        Assert.All(findings, f => Assert.DoesNotContain("Hunter2-Real-Pw", f.Evidence, StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Evidence.Contains("***", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_NodeHandler_LevelsRequestIdsAndItsInvokeErrorDocument()
    {
        const string node = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
        var log = string.Join('\n',
            $"START RequestId: {node} Version: $LATEST",
            $"2026-12-04T10:00:00.100Z\t{node}\tINFO\tsetSecret: logging in as the master",
            $"2026-12-04T10:00:00.512Z\t{node}\tERROR\tInvoke Error \t{{\"errorType\":\"Error\",\"errorMessage\":\"setSecret: Unable to log into database using credentials in master secret {MasterArn}\",\"stack\":[\"Error: setSecret: Unable to log into database\",\"    at setSecret (/var/task/index.js:88:11)\"]}}",
            $"END RequestId: {node}",
            $"REPORT RequestId: {node}\tDuration: 431.20 ms\tBilled Duration: 432 ms\tMemory Size: 128 MB\tMax Memory Used: 64 MB\tStatus: error\tError Type: Error");

        var invocation = Assert.Single(LogAnalyzer.Parse(log));
        var diagnosis = Assert.Single(LogAnalyzer.Classify([invocation]));

        Assert.True(invocation.Failed);
        Assert.Equal("setSecret", invocation.Step);
        Assert.Equal("LOG018", diagnosis.Code);
        Assert.Contains("431 ms", diagnosis.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NodeInfoLines_AreNotFailures()
    {
        const string node = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
        var log = string.Join('\n',
            $"START RequestId: {node} Version: $LATEST",
            $"2026-12-04T10:00:00.100Z\t{node}\tINFO\tcreateSecret: Successfully put secret for ARN {Arn} and version v2.",
            $"END RequestId: {node}",
            $"REPORT RequestId: {node}\tDuration: 120.00 ms\tBilled Duration: 120 ms");

        var invocation = Assert.Single(LogAnalyzer.Parse(log));

        Assert.True(invocation.Succeeded);
        Assert.Equal("createSecret: Successfully put secret for ARN " + Arn + " and version v2.", invocation.LastMeaningfulLine);
    }

    [Fact]
    public void Parse_ErrorDocumentAfterReport_JoinsItsInvocationByRequestId()
    {
        // An Invoke response's body pasted under the log: a one-line error document carrying the request id.
        var log = PythonInvocation("setSecret", [$"E:{NoTls}"], 30) + "\n"
            + $$"""{"errorMessage": "Unable to log into database using credentials in master secret {{MasterArn}}", "errorType": "ValueError", "requestId": "{{Id}}", "stackTrace": ["  File \"/var/task/lambda_function.py\", line 79, in lambda_handler\n    set_secret(service_client, arn, token)\n"]}""";

        var invocation = Assert.Single(LogAnalyzer.Parse(log));
        var diagnosis = Assert.Single(LogAnalyzer.Classify([invocation]));

        Assert.Equal(Id, invocation.RequestId);
        Assert.Equal("LOG018", diagnosis.Code); // the TLS line was the fallback's first try: the function went on to a login error
    }

    [Fact]
    public void Parse_PrettyPrintedErrorDocument_OneErrorLineAndItsFrames()
    {
        var lines = LogAnalyzer.Lines(["""
            {
              "errorMessage": "Secret version 0f1e has no stage for rotation of secret arn:aws:secretsmanager:REGION:ACCOUNT:secret:<secret-name>.",
              "errorType": "ValueError",
              "stackTrace": [
                "  File \"/var/task/lambda_function.py\", line 63, in lambda_handler\n    raise ValueError(\"Secret version %s has no stage for rotation of secret %s.\" % (token, arn))\n"
              ]
            }
            """]);

        Assert.Equal("[ERROR] ValueError: Secret version 0f1e has no stage for rotation of secret arn:aws:secretsmanager:REGION:ACCOUNT:secret:<secret-name>.", lines[0]);
        Assert.StartsWith("  File \"/var/task/lambda_function.py\", line 63", lines[1], StringComparison.Ordinal);
        Assert.Equal(3, lines.Count);
    }

    [Fact]
    public void Parse_JsonThatIsNoErrorDocument_IsLeftAsItIs()
    {
        var lines = LogAnalyzer.Lines(["{\"Step\": \"createSecret\", \"SecretId\": \"<secret-arn>\"}"]);

        Assert.Equal(["{\"Step\": \"createSecret\", \"SecretId\": \"<secret-arn>\"}"], lines);
    }

    [Fact]
    public void Classify_TwoInvocationsInterleaved_EachByItsRequestId_TheFailingOneWins()
    {
        const string other = "0a0b0c0d-1e1f-4a2b-8c3d-4e5f6a7b8c9d";
        var log = string.Join('\n',
            $"START RequestId: {Id} Version: $LATEST",
            $"START RequestId: {other} Version: $LATEST",
            $"[ERROR]\t2026-12-04T10:00:00.101Z\t{Id}\t{NoTls}",
            $"[ERROR]\t2026-12-04T10:00:00.102Z\t{other}\t{NoTls}",
            $"[INFO]\t2026-12-04T10:00:00.140Z\t{other}\t{Connected}",
            $"[INFO]\t2026-12-04T10:00:00.160Z\t{other}\ttestSecret: Successfully signed into PostgreSQL DB with AWSPENDING secret in {Arn}.",
            $"[ERROR]\t2026-12-04T10:00:00.190Z\t{Id}\tsetSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}",
            $"END RequestId: {other}",
            $"REPORT RequestId: {other}\tDuration: 70.00 ms\tBilled Duration: 70 ms",
            $"END RequestId: {Id}",
            $"REPORT RequestId: {Id}\tDuration: 95.00 ms\tBilled Duration: 95 ms");

        var invocations = LogAnalyzer.Parse(log);

        Assert.Equal([Id, other], invocations.Select(i => i.RequestId));
        Assert.False(invocations[1].Failed); // its TLS line was followed by a plain connection
        Assert.Equal(["LOG003"], LogAnalyzer.Classify(invocations).Select(d => d.Code));
    }

    /// <summary>
    /// One invocation as Keyturn logs a Python handler (RotationEngine.InvokeAsync): START, the engine's "invoking" note,
    /// the function's logger lines, the runtime's exception, END, REPORT.
    /// </summary>
    private static string PythonInvocation(string step, string[] lines, double durationMs)
    {
        var at = new DateTimeOffset(2026, 12, 4, 10, 0, 0, 123, TimeSpan.Zero);
        var text = new List<string>
        {
            $"START RequestId: {Id} Version: $LATEST",
            $"[INFO]\t2026-12-04T10:00:00.100Z\t{Id}\t{step}: invoking SecretsManagerRDSPostgreSQLRotationSingleUser for secret {Arn} version 0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f (attempt 1)",
        };
        foreach (var line in lines)
        {
            var stamp = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            text.AddRange(line switch
            {
                ['I', ':', .. var message] => [$"[INFO]\t{stamp}\t{Id}\t{message}"],
                ['E', ':', .. var message] => [$"[ERROR]\t{stamp}\t{Id}\t{message}"],
                ['R', ':', .. var message] => [$"[ERROR] {message}", "Traceback (most recent call last):",
                    "  File \"/var/task/lambda_function.py\", line 79, in lambda_handler",
                    $"    {step[..^"Secret".Length]}_secret(service_client, arn, token)"],
                _ => [line],
            });
            at = at.AddMilliseconds(1);
        }

        text.Add($"END RequestId: {Id}");
        text.Add(string.Create(CultureInfo.InvariantCulture, $"REPORT RequestId: {Id}\tDuration: {durationMs:F2} ms\tBilled Duration: {Math.Ceiling(durationMs)} ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB"));
        return string.Join('\n', text);
    }
}
