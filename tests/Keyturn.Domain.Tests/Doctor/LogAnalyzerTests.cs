using System.Globalization;
using Keyturn.Domain.Doctor;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>The rotation-log classifier: the field report's logs, every §4 signature with a log form, and Keyturn's own wording.</summary>
public sealed class LogAnalyzerTests
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prd-db-cluster/AdminLoginInfo-vXO5yx";
    private static readonly DateTimeOffset Start = new(2026, 3, 28, 5, 33, 50, TimeSpan.Zero);

    [Fact]
    public void Parse_SeedExample1_TwoInvocationsWithStepsDurationsAndLastLines()
    {
        var invocations = LogAnalyzer.Parse(SeedLogs.FailureExample1);

        Assert.Equal(2, invocations.Count);
        var (create, set) = (invocations[0], invocations[1]);
        Assert.Equal("24ce3d1b-e194-482c-b33a-5d879e5d15d5", create.RequestId);
        Assert.Equal("createSecret", create.Step);
        Assert.Equal(TimeSpan.FromMilliseconds(1548.10), create.Duration);
        Assert.False(create.Failed);
        Assert.True(create.Succeeded);
        Assert.StartsWith("createSecret: Successfully put secret", create.LastMeaningfulLine, StringComparison.Ordinal);

        Assert.Equal("f312a4c3-3d5f-45f2-aa67-a95e1985f993", set.RequestId);
        Assert.Equal("setSecret", set.Step);
        Assert.Equal(TimeSpan.FromMilliseconds(15393.85), set.Duration);
        Assert.True(set.Failed);
        Assert.False(set.TimedOut);
        Assert.Equal(10, set.Lines.Count);

        // The "[ERROR] ValueError: …" line restates the logged message; the traceback frames don't count.
        Assert.StartsWith("setSecret: Unable to log into database with previous, current, or pending secret", set.LastMeaningfulLine, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeedExample2_TimeoutLineAfterReportJoinsItsInvocation()
    {
        var invocation = Assert.Single(LogAnalyzer.Parse(SeedLogs.FailureExample2));

        Assert.Equal("74fc027b-8dc0-4da4-b618-239b54b95247", invocation.RequestId);
        Assert.True(invocation.TimedOut);
        Assert.True(invocation.Failed);
        Assert.Null(invocation.Step);
        Assert.Equal(TimeSpan.FromMilliseconds(30032.43), invocation.Duration);
        Assert.Equal("Found credentials in environment variables.", invocation.LastMeaningfulLine);
        Assert.EndsWith("Task timed out after 30.03 seconds", invocation.Lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_SeedExamples_AreDifferentCauses()
    {
        var first = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(SeedLogs.FailureExample1)));
        var second = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(SeedLogs.FailureExample2)));

        // Example 1: the login failure took 15 s, so the connections were timing out: no path to the database.
        Assert.Equal("LOG002", first.Code);
        Assert.Equal("setSecret", first.Step);
        Assert.Equal(TimeSpan.FromMilliseconds(15393.85), first.Duration);
        Assert.Contains("15.39 s", first.Evidence, StringComparison.Ordinal);

        // Example 2: timed out with nothing after "Found credentials": Secrets Manager itself is out of reach.
        Assert.Equal("LOG001", second.Code);
        Assert.Null(second.Step);
        Assert.Contains("Found credentials in environment variables.", second.Evidence, StringComparison.Ordinal);
        Assert.Contains("Secrets Manager endpoint", second.Cause, StringComparison.Ordinal);

        Assert.NotEqual(first.Cause, second.Cause);
    }

    [Fact]
    public void Classify_BothSeedExamplesInOneLog_StillTwoCauses()
    {
        var diagnoses = LogAnalyzer.Classify(LogAnalyzer.Parse(SeedLogs.FailureExample1 + "\n" + SeedLogs.FailureExample2));

        // The timed-out invocation follows a failed setSecret, not a successful step: nothing to infer its step from.
        Assert.Equal(["LOG002", "LOG001"], diagnoses.Select(d => d.Code));
    }

    [Fact]
    public void Classify_SeedSuccessfulRotation_NothingToReport()
    {
        var invocations = LogAnalyzer.Parse(SeedLogs.SuccessfulRotation);

        Assert.Equal(["createSecret", "setSecret", "testSecret", "finishSecret"], invocations.Select(i => i.Step));
        Assert.All(invocations, i => Assert.True(i.Succeeded));
        Assert.Empty(LogAnalyzer.Classify(invocations));
    }

    // Each case is one invocation: "I:" and "E:" lines are [INFO]/[ERROR] logger lines, "T" Lambda's timeout line,
    // anything else is written as is; the duration goes into REPORT.
    public static TheoryData<string, string[], double, string> Signatures => new()
    {
        { "row 1: timeout after Found credentials", ["I:Found credentials in environment variables.", "T"], 30032.43, "LOG001" },
        { "row 1: timeout with nothing logged", ["T"], 30000, "LOG001" },
        { "row 1: Keyturn createSecret timeout", ["I:createSecret: invoking keyturn-postgresql-single-user for secret " + Arn + " version v1 (attempt 1)", "T"], 30000, "LOG001" },
        { "row 2: Keyturn setSecret timeout", ["I:setSecret: invoking keyturn-postgresql-single-user for secret " + Arn + " version v1 (attempt 1)", "T"], 30000, "LOG002" },
        { "row 2: testSecret frame then timeout", ["Traceback (most recent call last):", "  File \"/var/task/lambda_function.py\", line 80, in test_secret", "T"], 30000, "LOG002" },
        { "row 3 short: credential desync", ["E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn " + Arn], 812.4, "LOG003" },
        { "row 3 just under 5 s", ["E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn " + Arn], 4999, "LOG003" },
        { "row 3 at 5 s: network", ["E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn " + Arn], 5000, "LOG002" },
        { "row 3 long: network", ["E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn " + Arn], 15393.85, "LOG002" },
        { "row 3 driver: pg wrong password", ["E:FATAL: password authentication failed for user \"app\""], 9000, "LOG003" },
        { "row 4: pg unknown database", ["E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn " + Arn, "pg.InternalError: FATAL:  database \"appdb\" does not exist"], 300, "LOG004" },
        { "row 4: mysql unknown database", ["E:pymysql.err.OperationalError: (1049, \"Unknown database 'appdb'\")"], 300, "LOG004" },
        { "row 5: TLS enforced", ["E:setSecret: Unable to establish SSL/TLS handshake, SSL/TLS is enforced on the host: db.example.com"], 300, "LOG005" },
        { "row 5: pg_hba SSL off", ["E:FATAL: no pg_hba.conf entry for host \"10.0.1.5\", user \"app\", database \"app\", SSL off"], 300, "LOG005" },
        { "row 5: SCRAM with old libpq", ["E:SCRAM authentication requires libpq version 10 or above"], 300, "LOG005" },
        { "row 5: mysql secure transport", ["E:(3159, 'Connections using insecure transport are prohibited while --require_secure_transport=ON.')"], 300, "LOG005" },
        { "row 6: hostname verification", ["E:setSecret: Hostname verification failed when estlablishing SSL/TLS Handshake with host: 10.0.3.15"], 300, "LOG006" },
        { "row 7: engine KeyError", ["[ERROR] KeyError: \"Database engine must be set to 'postgres' in order to use this rotation lambda\""], 300, "LOG007" },
        { "row 7: missing key", ["E:createSecret: username key is missing from secret JSON"], 300, "LOG007" },
        { "row 7: masterarn KeyError", ["[ERROR] KeyError: 'masterarn'", "Traceback (most recent call last):", "  File \"/var/task/lambda_function.py\", line 120, in set_secret"], 300, "LOG007" },
        { "row 7: Keyturn missing field", ["E:createSecret: The secret JSON is missing the 'host' field."], 30, "LOG007" },
        { "row 7: Keyturn no masterarn", ["E:setSecret: the secret " + Arn + " has no 'masterarn' field, which the alternating-users strategy needs."], 30, "LOG007" },
        { "row 8: no stage", ["E:Secret version 0f1e has no stage for rotation of secret " + Arn + "."], 120, "LOG008" },
        { "row 9: not pending", ["E:Secret version 0f1e not set as AWSPENDING for rotation of secret " + Arn + "."], 120, "LOG009" },
        { "row 10: not enabled", ["E:Secret " + Arn + " is not enabled for rotation"], 120, "LOG010" },
        { "row 11: previous rotation", ["E:An error occurred (InvalidRequestException) when calling the RotateSecret operation: A previous rotation isn't complete. That rotation will be reattempted."], 90, "LOG011" },
        { "row 12: CloudTrail text", ["E:Error when executing lambda arn:aws:lambda:us-east-1:123456789012:function:rotator during setSecret step"], 90, "LOG012" },
        { "row 13: master not readable", ["E:botocore.exceptions.ClientError: An error occurred (AccessDeniedException) when calling the GetSecretValue operation: User: arn:aws:sts::123456789012:assumed-role/rotator/fn is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:master because no identity-based policy allows the secretsmanager:GetSecretValue action"], 400, "LOG013" },
        { "row 13: Keyturn denied", ["E:createSecret: AccessDeniedException: not allowed to PutSecretValue"], 10, "LOG013" },
        { "row 14: KMS not allowed", ["E:An error occurred (AccessDeniedException) when calling the GetSecretValue operation: Access to KMS is not allowed"], 400, "LOG014" },
        { "row 14: kms:GenerateDataKey", ["E:createSecret: An error occurred (AccessDeniedException) when calling the PutSecretValue operation: User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:1:key/k"], 400, "LOG014" },
        { "row 14: Keyturn decryption failure", ["E:createSecret: DecryptionFailure: the key can't decrypt this version"], 10, "LOG014" },
        { "row 15: finish denied", ["E:An error occurred (AccessDeniedException) when calling the UpdateSecretVersionStage operation: User: arn:aws:sts::1:assumed-role/r/f is not authorized to perform: secretsmanager:UpdateSecretVersionStage"], 400, "LOG015" },
        { "row 15: Keyturn finish throttled", ["I:finishSecret: invoking keyturn-postgresql-single-user for secret " + Arn + " version v1 (attempt 2)", "E:finishSecret: ThrottlingException: Rate exceeded"], 10, "LOG015" },
        { "row 16: pending refused quickly", ["E:testSecret: Unable to log into database with pending secret of secret ARN " + Arn], 420, "LOG016" },
        { "row 16 long: network", ["E:testSecret: Unable to log into database with pending secret of secret ARN " + Arn], 10040, "LOG002" },
        { "row 17: current refused", ["E:setSecret: Unable to log into database using current credentials for secret " + Arn], 380, "LOG017" },
        { "row 18: master refused", ["E:setSecret: Unable to log into database using credentials in master secret arn:aws:secretsmanager:us-east-1:1:secret:master"], 380, "LOG018" },
        { "row 19: host mismatch", ["E:setSecret: Current database host db-1.cluster-ro.example is not the same host as/rds replica of master db-1.cluster.example"], 380, "LOG019" },
        { "row 19: Keyturn host mismatch", ["E:setSecret: Current database host 10.0.3.15 is not the same host as master db.example"], 20, "LOG019" },
        { "row 20: other user", ["E:setSecret: Attempting to modify user app_clone other than current user or clone app"], 200, "LOG020" },
        { "row 20: other host", ["E:setSecret: Attempting to modify user for host db-2.example other than current host db-1.example"], 200, "LOG020" },
        { "row 21: pg clone name", ["E:setSecret: Unable to clone user, username length with _clone appended would exceed 63 characters"], 200, "LOG021" },
        { "row 21: Keyturn clone name", ["E:createSecret: Unable to clone user 'averyveryverylongmysqlusername01': with '_clone' appended the name would exceed MySQL's limit of 32 characters."], 20, "LOG021" },
        { "row 22: clone lacks grant option", ["E:pymysql.err.OperationalError: (1045, \"Access denied for user 'app_clone'@'%' (using password: YES)\")"], 200, "LOG022" },
        { "row 22: SHOW GRANTS for host user", ["E:(1141, \"There is no such grant defined for user 'app' on host '%'\") during SHOW GRANTS FOR 'app'@'%'"], 200, "LOG022" },
        { "row 23: Keyturn privilege drift", ["E:testSecret: users app and app_clone have different privileges; refusing to finish. Only app: [SELECT ON t]. Only app_clone: []."], 50, "LOG023" },
        { "row 26: missing pg module", ["[ERROR] Runtime.ImportModuleError: Unable to import module 'lambda_function': No module named 'pg'"], 2, "LOG026" },
        { "row 26: pymssql native module", ["[ERROR] Runtime.ImportModuleError: Unable to import module 'lambda_function': No module named 'pymssql._pymssql'"], 2, "LOG026" },
        { "unrecognized error", ["E:setSecret: something odd", "[ERROR] ZeroDivisionError: division by zero"], 40, "LOG099" },
    };

    [Theory]
    [MemberData(nameof(Signatures))]
    public void Classify_SignatureOfTheRecoveryGuide_NamesItsCause(string name, string[] lines, double durationMs, string code)
    {
        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(Invocation("9a4e4f0d-6a3b-4bb8-9f7e-0d6b1f4e2c11", Start, durationMs, lines))));

        Assert.True(code == diagnosis.Code, $"{name}: expected {code}, got {diagnosis.Code} ({diagnosis.Evidence})");
        Assert.Equal(LogAnalyzer.Catalog.Single(s => s.Code == code).Fix, diagnosis.Fix);
        Assert.Contains("9a4e4f0d-6a3b-4bb8-9f7e-0d6b1f4e2c11", diagnosis.Evidence, StringComparison.Ordinal);
    }

    // Keyturn's own setSecret message carries each probe's reason; the reasons decide, whatever the duration.
    public static TheoryData<string, double, string> KeyturnReasons => new()
    {
        { "pending: wrong-password [28P01] after 3 ms; current: unreachable after 5002 ms", 5010, "LOG002" },
        { "pending: wrong-password [28P01] after 3 ms; current: timeout after 5000 ms", 5010, "LOG002" },
        { "pending: unreachable after 4 ms; current: unreachable after 1 ms; previous: unreachable after 0 ms", 8, "LOG031" },
        { "pending: unreachable after 4 ms; current: timeout after 3000 ms", 3010, "LOG002" },
        { "pending: wrong-password [28P01] after 3 ms; current: wrong-password [28P01] after 2 ms; previous: wrong-password [28P01] after 2 ms", 20, "LOG003" },
        { "pending: wrong-password [28P01] after 3 ms; current: wrong-password [28P01] after 2 ms", 12000, "LOG003" },
        { "pending: unknown-user after 3 ms; current: wrong-password [1045] after 2 ms", 20, "LOG003" },
        { "pending: unknown-database [3D000] after 3 ms; current: unknown-database [3D000] after 2 ms", 20, "LOG004" },
        { "pending: tls after 14 ms; current: tls after 12 ms", 40, "LOG005" },
        { "pending: wrong-password [28P01] after 3 ms; current: server-error [53300] after 4 ms", 20, "LOG030" },
    };

    [Theory]
    [MemberData(nameof(KeyturnReasons))]
    public void Classify_KeyturnLoginFailure_ClassifiedByTheProbeReasons(string reasons, double durationMs, string code)
    {
        var log = KeyturnInvocation("setSecret", durationMs,
            $"setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn} ({reasons})");

        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(log)));

        Assert.Equal(code, diagnosis.Code);
        Assert.Equal("setSecret", diagnosis.Step);
        Assert.Contains(reasons.Split(';')[0], diagnosis.Evidence, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> KeyturnOtherLogins => new()
    {
        { "testSecret: Unable to log into database with pending secret of secret ARN " + Arn + " (pending: wrong-password [28P01] after 4 ms)", "LOG016" },
        { "testSecret: Unable to log into database with pending secret of secret ARN " + Arn + " (pending: unreachable after 5003 ms)", "LOG002" },
        { "setSecret: Unable to log into database using current credentials for secret " + Arn + " (current: wrong-password [1045] after 6 ms)", "LOG017" },
        { "setSecret: Unable to log into database using current credentials for secret " + Arn + " (current: tls after 6 ms)", "LOG005" },
        { "setSecret: Unable to log into database using credentials in master secret arn:m (master: wrong-password [28P01] after 6 ms)", "LOG018" },
        { "setSecret: Unable to log into database using credentials in master secret arn:m (master: timeout after 5000 ms)", "LOG002" },
        { "setSecret: Unable to read the master secret arn:m: ResourceNotFoundException: Secrets Manager can't find the specified secret.", "LOG018" },
        { "setSecret: Unable to read the master secret arn:m: AccessDeniedException: denied", "LOG013" },
    };

    [Theory]
    [MemberData(nameof(KeyturnOtherLogins))]
    public void Classify_KeyturnStepMessages_NamedByStepAndReason(string message, string code)
    {
        var step = message[..message.IndexOf(':', StringComparison.Ordinal)];

        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(KeyturnInvocation(step, 60, message))));

        Assert.Equal(code, diagnosis.Code);
        Assert.Equal(step, diagnosis.Step);
    }

    [Fact]
    public void Classify_KeyturnTimeoutWrittenBeforeEnd_NetworkToTheDatabase()
    {
        var log = KeyturnInvocation("setSecret", 30004.1, null, timedOut: true);

        var invocation = Assert.Single(LogAnalyzer.Parse(log));
        var diagnosis = Assert.Single(LogAnalyzer.Classify([invocation]));

        Assert.True(invocation.TimedOut);
        Assert.Null(invocation.LastMeaningfulLine); // the engine's "invoking" note is not the function's progress
        Assert.Equal("LOG002", diagnosis.Code);
        Assert.Contains("with nothing logged", diagnosis.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_TimeoutRightAfterASuccessfulCreateSecret_InfersSetSecret()
    {
        var log = Invocation("11111111-1111-4111-8111-111111111111", Start, 1500,
                ["I:Found credentials in environment variables.", $"I:createSecret: Successfully put secret for ARN {Arn} and version v1."])
            + Invocation("22222222-2222-4222-8222-222222222222", Start.AddSeconds(2), 30030, ["T"]);

        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(log)));

        Assert.Equal("LOG002", diagnosis.Code);
        Assert.Equal("setSecret", diagnosis.Step);
        Assert.Contains("inferred", diagnosis.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_TimeoutLongAfterASuccessfulStep_NothingInferred()
    {
        var log = Invocation("11111111-1111-4111-8111-111111111111", Start, 1500, [$"I:createSecret: Successfully put secret for ARN {Arn} and version v1."])
            + Invocation("22222222-2222-4222-8222-222222222222", Start.AddHours(4), 30030, ["I:Found credentials in environment variables.", "T"]);

        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(log)));

        Assert.Equal("LOG001", diagnosis.Code);
        Assert.Null(diagnosis.Step);
    }

    [Fact]
    public void Classify_PendingRefusedRightAfterSetSecret_SaysSo()
    {
        var log = Invocation("11111111-1111-4111-8111-111111111111", Start, 600, [$"I:setSecret: Successfully set password for user app in PostgreSQL DB for secret arn {Arn}."])
            + Invocation("22222222-2222-4222-8222-222222222222", Start.AddSeconds(1), 450, [$"E:testSecret: Unable to log into database with pending secret of secret ARN {Arn}"]);

        var diagnosis = Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(log)));

        Assert.Equal("LOG016", diagnosis.Code);
        Assert.Contains("right after a successful setSecret (request 11111111-1111-4111-8111-111111111111)", diagnosis.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_LoginFailureWithoutReport_UsesTheStampsOrSaysItCantTell()
    {
        var slow = $"[INFO]\t2026-03-28T05:33:50.000Z\tabc\tsetSecret: starting\n[ERROR]\t2026-03-28T05:34:05.500Z\tabc\tsetSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}";
        var quick = $"[ERROR]\t2026-03-28T05:34:05.500Z\tabc\tsetSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}";

        Assert.Equal("LOG002", Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(slow))).Code);
        Assert.Equal("LOG030", Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(quick))).Code);
    }

    [Fact]
    public void Classify_PreviousRotationMessageLoggedAsInfo_StillReported()
    {
        var log = Invocation("33333333-3333-4333-8333-333333333333", Start, 80,
            ["I:rotate: An error occurred (InvalidRequestException) when calling the RotateSecret operation: A previous rotation isn't complete. That rotation will be reattempted."]);

        Assert.Equal("LOG011", Assert.Single(LogAnalyzer.Classify(LogAnalyzer.Parse(log))).Code);
    }

    [Fact]
    public void Classify_SameFailureOverAndOver_AddsTheRetryLoop()
    {
        var log = string.Concat(Enumerable.Range(0, 4).Select(i => Invocation($"4444444{i}-4444-4444-8444-444444444444", Start.AddSeconds(12 * i), 300,
            [$"E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}"])));

        var diagnoses = LogAnalyzer.Classify(LogAnalyzer.Parse(log));

        Assert.Equal(["LOG003", "LOG003", "LOG003", "LOG003", "LOG028"], diagnoses.Select(d => d.Code));
        Assert.Contains("4 invocations failed the same way (LOG003", diagnoses[^1].Evidence, StringComparison.Ordinal);
        Assert.Contains("about every 12 s", diagnoses[^1].Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Classify_TwoFailuresOnly_NoRetryLoop()
    {
        var log = string.Concat(Enumerable.Range(0, 2).Select(i => Invocation($"5555555{i}-5555-4555-8555-555555555555", Start.AddSeconds(i), 300,
            [$"E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}"])));

        Assert.DoesNotContain(LogAnalyzer.Classify(LogAnalyzer.Parse(log)), d => d.Code == "LOG028");
    }

    [Fact]
    public void Parse_CloudWatchEvents_TracebackEventAndInterleavedRequestIds()
    {
        const string a = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
        const string b = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
        string[] events =
        [
            $"START RequestId: {a} Version: $LATEST\n",
            $"START RequestId: {b} Version: $LATEST\n",
            $"[INFO]\t2026-03-28T05:33:50.100Z\t{b}\tcreateSecret: Successfully put secret for ARN {Arn} and version v2.\n",
            $"[ERROR]\t2026-03-28T05:33:50.200Z\t{a}\tsetSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}\n",
            $"[ERROR] ValueError: Unable to log into database with previous, current, or pending secret of secret arn {Arn}\nTraceback (most recent call last):\n  File \"/var/task/lambda_function.py\", line 76, in lambda_handler\n    set_secret(service_client, arn, token)\n",
            $"END RequestId: {b}\n",
            $"REPORT RequestId: {b}\tDuration: 900.00 ms\tBilled Duration: 900 ms\n",
            $"END RequestId: {a}\n",
            $"REPORT RequestId: {a}\tDuration: 1200.00 ms\tBilled Duration: 1200 ms\n",
        ];

        var invocations = LogAnalyzer.Parse(events);

        Assert.Equal([a, b], invocations.Select(i => i.RequestId));
        Assert.Equal("setSecret", invocations[0].Step);
        Assert.Equal("createSecret", invocations[1].Step);
        Assert.True(invocations[0].Failed);
        Assert.False(invocations[1].Failed);
        Assert.Equal(["LOG003"], LogAnalyzer.Classify(invocations).Select(d => d.Code));
    }

    [Fact]
    public void Parse_InitErrorBeforeStart_BelongsToTheNextInvocation()
    {
        const string log = """
            INIT_START Runtime Version: python:3.12.v30	Runtime Version ARN: arn:aws:lambda:us-east-1::runtime:abc
            [ERROR] Runtime.ImportModuleError: Unable to import module 'lambda_function': No module named '_pg'
            Traceback (most recent call last):
            INIT_REPORT Init Duration: 151.20 ms	Phase: init	Status: error	Error Type: Runtime.ImportModuleError
            START RequestId: 66666666-6666-4666-8666-666666666666 Version: $LATEST
            END RequestId: 66666666-6666-4666-8666-666666666666
            REPORT RequestId: 66666666-6666-4666-8666-666666666666	Duration: 1.52 ms	Billed Duration: 2 ms	Memory Size: 128 MB	Max Memory Used: 40 MB	Status: error	Error Type: Runtime.ImportModuleError
            """;

        var invocation = Assert.Single(LogAnalyzer.Parse(log));
        var diagnosis = Assert.Single(LogAnalyzer.Classify([invocation]));

        Assert.Equal("66666666-6666-4666-8666-666666666666", invocation.RequestId);
        Assert.Equal("LOG026", diagnosis.Code);
        Assert.Contains("No module named '_pg'", diagnosis.Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LinesWithoutAnyInvocation_KeptUnderAnEmptyRequestId()
    {
        var invocation = Assert.Single(LogAnalyzer.Parse("[ERROR] KeyError: 'masterarn'"));

        Assert.Equal("", invocation.RequestId);
        var diagnosis = Assert.Single(LogAnalyzer.Classify([invocation]));
        Assert.Equal("LOG007", diagnosis.Code);
        Assert.StartsWith("Lines outside any invocation", diagnosis.Evidence, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2022-03-28T02:38:08.558000+00:00 2022/03/28/[$LATEST]0123456789abcdef ")]
    [InlineData("2022-03-28T02:38:08.558Z ")]
    public void Parse_DisplayPrefixesOfLogTailers_Stripped(string prefix)
    {
        var text = string.Join('\n', SeedLogs.FailureExample2.Split('\n').Select(l => prefix + l));

        var invocation = Assert.Single(LogAnalyzer.Parse("==> /aws/lambda/rotator 2022/03/28/[$LATEST]0123456789abcdef <==\n" + text));

        Assert.Equal("74fc027b-8dc0-4da4-b618-239b54b95247", invocation.RequestId);
        Assert.True(invocation.TimedOut);
        Assert.Equal("LOG001", Assert.Single(LogAnalyzer.Classify([invocation])).Code);
    }

    [Fact]
    public void Parse_ReportWithTimeoutStatusAndNoTimeoutLine_TimedOut()
    {
        const string log = """
            START RequestId: 77777777-7777-4777-8777-777777777777 Version: $LATEST
            END RequestId: 77777777-7777-4777-8777-777777777777
            REPORT RequestId: 77777777-7777-4777-8777-777777777777	Duration: 30000.00 ms	Billed Duration: 30000 ms	Memory Size: 128 MB	Max Memory Used: 70 MB	Status: timeout
            """;

        var invocation = Assert.Single(LogAnalyzer.Parse(log));

        Assert.True(invocation.TimedOut);
        Assert.Equal("LOG001", Assert.Single(LogAnalyzer.Classify([invocation])).Code);
    }

    [Fact]
    public void ToFindings_OneFindingPerCauseWithCountAndWorstSeverity()
    {
        var log = SeedLogs.FailureExample1 + "\n" + SeedLogs.FailureExample2 + "\n"
            + Invocation("88888888-8888-4888-8888-888888888888", Start, 16000, [$"E:setSecret: Unable to log into database with previous, current, or pending secret of secret arn {Arn}"]);

        var findings = LogAnalyzer.ToFindings(LogAnalyzer.Classify(LogAnalyzer.Parse(log)));

        Assert.Equal(["LOG002", "LOG001"], findings.Select(f => f.Code));
        Assert.StartsWith("2 invocations; the latest: Request 88888888", findings[0].Evidence, StringComparison.Ordinal);
        Assert.Equal(Severity.Error, findings[0].Severity);
        Assert.StartsWith("Request 74fc027b", findings[1].Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_FindingsFitTheDoctorsSnapshot()
    {
        var findings = LogAnalyzer.Analyze(SeedLogs.FailureExample1);
        var snapshot = new RotationSnapshot
        {
            SecretArn = Arn,
            Name = "prd-db-cluster/AdminLoginInfo",
            Now = Start,
            Versions = [new VersionSnapshot("c", ["AWSCURRENT"], Start, true)],
            Probes = new Dictionary<string, ProbeSummary> { ["c"] = new(ProbeOutcome.Ok, "ok", null, TimeSpan.FromMilliseconds(4)) },
            RotationEnabled = true,
            ExternalFindings = findings,
        };

        var diagnosis = RotationDoctor.Diagnose(snapshot);

        Assert.Contains(diagnosis.Findings, f => f.Code == "LOG002");
        Assert.False(diagnosis.Healthy);
    }

    [Fact]
    public void Catalog_CodesAreUniqueAndEveryCauseHasAFix()
    {
        var catalog = LogAnalyzer.Catalog;

        Assert.Equal(catalog.Count, catalog.Select(s => s.Code).Distinct(StringComparer.Ordinal).Count());
        Assert.All(catalog, s =>
        {
            Assert.Matches("^LOG[0-9]{3}$", s.Code);
            Assert.False(string.IsNullOrWhiteSpace(s.Cause));
            Assert.False(string.IsNullOrWhiteSpace(s.Fix));
        });

        // Every §4 row with a log form has its code (row = the code's number).
        int[] rows = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 26, 28];
        Assert.All(rows, row => Assert.Contains(catalog, s => s.Code == $"LOG{row:000}"));
    }

    [Fact]
    public void Classify_EmptyLog_Nothing()
    {
        Assert.Empty(LogAnalyzer.Parse(""));
        Assert.Empty(LogAnalyzer.Classify([]));
        Assert.Empty(LogAnalyzer.ToFindings([]));
    }

    /// <summary>One Lambda-shaped invocation: START, the lines, END and REPORT, one second apart from <paramref name="start"/>.</summary>
    private static string Invocation(string requestId, DateTimeOffset start, double durationMs, string[] lines)
    {
        var text = new List<string> { $"START RequestId: {requestId} Version: $LATEST" };
        var at = start;
        foreach (var line in lines)
        {
            var stamp = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            text.Add(line switch
            {
                ['I', ':', .. var message] => $"[INFO]\t{stamp}\t{requestId}\t{message}",
                ['E', ':', .. var message] => $"[ERROR]\t{stamp}\t{requestId}\t{message}",
                "T" => $"{start.AddMilliseconds(durationMs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} {requestId} Task timed out after {(durationMs / 1000).ToString("F2", CultureInfo.InvariantCulture)} seconds",
                _ => line,
            });
            at = at.AddMilliseconds(1);
        }

        text.Add($"END RequestId: {requestId}");
        text.Add(string.Create(CultureInfo.InvariantCulture, $"REPORT RequestId: {requestId}\tDuration: {durationMs:F2} ms\tBilled Duration: {Math.Ceiling(durationMs)} ms\tMemory Size: 128 MB\tMax Memory Used: 73 MB\t"));
        return string.Join('\n', text) + "\n";
    }

    /// <summary>An invocation exactly as Keyturn's engine writes it (RotationEngine.InvokeAsync): the timeout line comes before END.</summary>
    private static string KeyturnInvocation(string step, double durationMs, string? error, bool timedOut = false)
    {
        const string id = "d3b07384-d9a0-4c9b-8f4e-3a1c2b5e6f70";
        var lines = new List<string>
        {
            $"START RequestId: {id} Version: $LATEST",
            $"[INFO]\t2026-03-28T05:33:50.000Z\t{id}\t{step}: invoking keyturn-postgresql-single-user for secret {Arn} version 5c2d (attempt 1)",
        };
        if (error is not null)
        {
            lines.Add($"[ERROR]\t2026-03-28T05:33:50.010Z\t{id}\t{error}");
        }

        if (timedOut)
        {
            lines.Add($"2026-03-28T05:34:20.004Z {id} Task timed out after {(durationMs / 1000).ToString("F2", CultureInfo.InvariantCulture)} seconds");
        }

        lines.Add($"END RequestId: {id}");
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"REPORT RequestId: {id}\tDuration: {durationMs:F2} ms\tBilled Duration: {Math.Ceiling(durationMs)} ms\t"));
        return string.Join('\n', lines);
    }
}
