using System.Text.RegularExpressions;
using Keyturn.Domain.Doctor;

namespace Keyturn.Domain.Tests.Doctor;

/// <summary>
/// Real rotation-function log shapes, pasted from public issue threads, consoles and pages as their sources show them
/// (fragments, flattened tracebacks, error documents, placeholders for ARNs): each file in Doctor/LogCorpus names its
/// source on its first line, and must come out as the cause the thread settled on — and never as nothing.
/// </summary>
public sealed partial class LogCorpusTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Doctor", "LogCorpus");

    // The file, and the finding codes its analysis must yield, in order.
    public static TheoryData<string, string, string[]> Corpus => new()
    {
        { "a missing pg module is a driver packaging failure", "import-pg-missing.log", ["LOG026"] },
        { "the native _pg module on a newer Python is a driver packaging failure", "import-native-pg-python310.log", ["LOG026"] },
        { "a hosted rotation's _pg mismatch is a driver packaging failure", "import-native-pg-cdk-hosted-rotation.log", ["LOG026"] },
        { "pymssql's native module in a layer is a driver packaging failure", "import-pymssql-native.log", ["LOG026"] },
        { "pymssql after a runtime upgrade is a driver packaging failure", "import-pymssql-python311.log", ["LOG026"] },
        { "a missing asn1crypto is a driver packaging failure", "import-asn1crypto-cdk.log", ["LOG026"] },
        { "PyGreSQL without libpq is a driver packaging failure", "import-pygresql-without-libpq.log", ["LOG026"] },
        { "PyPI's pg package bundled for PyGreSQL is a syntax error in a vendored driver", "syntax-error-vendored-pg.log", ["LOG033"] },
        { "the console's error document for that syntax error says the same", "syntax-error-console-json.log", ["LOG033"] },
        { "PyMySQL without cryptography can't do caching_sha2_password", "pymysql-needs-cryptography.log", ["LOG032"] },
        { "SCRAM with a libpq older than 10 is an auth-method mismatch", "scram-old-libpq.log", ["LOG005"] },
        { "a console copy ending in the engine KeyError is an incomplete secret", "engine-keyerror-console-copy.log", ["LOG007"] },
        { "the engine KeyError on one line is an incomplete secret", "engine-keyerror-one-line.log", ["LOG007"] },
        { "the engine message alone is an incomplete secret", "engine-bare-message.log", ["LOG007"] },
        { "a flattened masterarn KeyError is an incomplete secret", "masterarn-keyerror-flattened.log", ["LOG007"] },
        { "a bare masterarn KeyError is an incomplete secret", "masterarn-keyerror-fragment.log", ["LOG007"] },
        { "ElastiCache's missing user_arn is an incomplete secret", "elasticache-no-user-arn.log", ["LOG007"] },
        { "Access to KMS is not allowed with its traceback is a KMS denial", "kms-not-allowed-traceback.log", ["LOG014"] },
        { "Access to KMS is not allowed alone is a KMS denial", "kms-not-allowed-bare.log", ["LOG014"] },
        { "a key the role may not use is a KMS denial", "kms-key-not-accessible.log", ["LOG014"] },
        { "an identity policy without secretsmanager:RotateSecret is an IAM denial", "iam-denied-rotate-secret.log", ["LOG013"] },
        { "a throttled Secrets Manager call is throttling", "throttled-secrets-manager.log", ["LOG039"] },
        { "SQL Server's DB-Lib 20002 under force_ssl is a SQL Server connection failure", "sqlserver-force-ssl.log", ["LOG034"] },
        { "Oracle thin mode meeting TLS EOF is an Oracle driver failure", "oracle-ssl-eof.log", ["LOG035"] },
        { "Oracle thin mode meeting network encryption is an Oracle driver failure", "oracle-native-network-encryption.log", ["LOG035"] },
        { "pymongo 4 without authenticate is a MongoDB driver mismatch", "mongodb-pymongo4-authenticate.log", ["LOG036"] },
        { "an ElastiCache user that never turns active is an ElastiCache failure", "elasticache-user-not-active.log", ["LOG037"] },
        { "a failed login pasted without its duration can't be told apart", "login-failed-no-duration.log", ["LOG030"] },
        { "a version put on another secret is not found", "version-not-found-after-create.log", ["LOG040"] },
        { "Node's error document for a missing AWSPENDING is not found", "node-awspending-not-found.log", ["LOG040"] },
        { "a token without a stage is a stale invocation", "token-without-stage.log", ["LOG008"] },
        { "the console's previous-rotation message is an incomplete previous rotation", "docdb-previous-rotation-console.log", ["LOG011"] },
        { "a timeout error document with a wrapped REPORT is a timeout before any step", "timeout-error-document-and-split-report.log", ["LOG001"] },
        { "a timeout run together with its REPORT is a timeout before any step", "timeout-flattened-with-report.log", ["LOG001"] },
        { "a deprecation warning alone says what was read and that nothing matched", "pymysql-deprecation-warning-only.log", ["LOG097"] },
    };

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Analyze_RealLog_NamesTheCause(string because, string file, string[] codes)
    {
        var findings = LogAnalyzer.Analyze(Read(file));

        Assert.True(codes.SequenceEqual(findings.Select(f => f.Code)),
            $"{because}: expected {string.Join(", ", codes)}, got {string.Join("; ", findings.Select(f => $"{f.Code} ({f.Evidence})"))}");
        Assert.All(findings, f => Assert.Equal(LogAnalyzer.Catalog.Single(s => s.Code == f.Code).Fix, f.Fix));
    }

    [Fact]
    public void Corpus_EveryFileIsInTheTable_AndThereAreThirtyOrMore()
    {
        var listed = Corpus.Select(row => (string)row[1]).ToHashSet(StringComparer.Ordinal);
        var files = Directory.GetFiles(Folder, "*.log").Select(Path.GetFileName).ToList();

        Assert.True(files.Count >= 30, $"{files.Count} corpus files");
        Assert.DoesNotContain(files, f => !listed.Contains(f!));
        Assert.DoesNotContain(listed, f => !files.Contains(f));
    }

    [Fact]
    public void Corpus_EveryFileCitesItsPublicSource()
    {
        Assert.All(Directory.GetFiles(Folder, "*.log"), path =>
            Assert.Matches(@"^# source: (?:message of )?https://\S+", File.ReadLines(path).First()));
    }

    [Fact]
    public void Corpus_NoFileIsSilent_EveryOneYieldsAFindingWithEvidence()
    {
        Assert.All(Directory.GetFiles(Folder, "*.log"), path =>
        {
            var findings = LogAnalyzer.Analyze(Read(Path.GetFileName(path)));

            Assert.NotEmpty(findings);
            Assert.All(findings, f => Assert.False(string.IsNullOrWhiteSpace(f.Evidence), Path.GetFileName(path)));
        });
    }

    [Fact]
    public void Corpus_ThroughTheSecretsScope_PlaceholdersStayInScope_AndNothingIsSilent()
    {
        Assert.All(Directory.GetFiles(Folder, "*.log"), path =>
        {
            var log = Read(Path.GetFileName(path));
            var scoped = LogScope.Analyze([log], "arn:aws:secretsmanager:us-east-1:123456789012:secret:unrelated-AbCdEf", "unrelated");

            Assert.NotEmpty(scoped);

            // A paste that names no real secret (<secret arn>, REGION:ACCOUNT, :secret:<secret-name>) is about whichever secret is diagnosed.
            if (!RealSecretArn().IsMatch(log))
            {
                Assert.Equal(LogAnalyzer.Analyze(log).Select(f => f.Code), scoped.Select(f => f.Code));
            }
        });
    }

    [GeneratedRegex(@"arn:aws:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[^\s<]", RegexOptions.CultureInvariant)]
    private static partial Regex RealSecretArn();

    /// <summary>The log as pasted: the file without its leading "# source" lines.</summary>
    private static string Read(string file) =>
        string.Join('\n', File.ReadLines(Path.Combine(Folder, file)).SkipWhile(l => l.StartsWith("# ", StringComparison.Ordinal)));
}
