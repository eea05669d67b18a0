using System.Text.Json;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// <c>keyturn doctor</c> attacked through what others control: a confined application key that may only write
/// one secret's value, a rotation function's log, and the directory its repair journal goes to. What the
/// operator reads and what the doctor writes must stay theirs: no control sequence reaches the terminal,
/// no value a log echoes is quoted in the clear, and no planted link redirects the journal.
/// </summary>
[Collection(RotationEnvironmentCollection.Name)]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DoctorAttackTests(RotationEnvironment env)
{
    // An OSC that sets the window title, a screen clear, a carriage return that overwrites the line, a bell, a right-to-left override.
    private const string Injected = "\u001b]0;owned\u0007\u001b[2J\r\u202e";

    [DatabaseFact]
    public async Task ConfinedKeyWritesEscapeSequencesIntoTheUsername_TheOperatorsReportShowsThemAsText()
    {
        var (name, user, _) = await SecretAsync("attack/terminal");
        var arn = (await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("ARN").GetString()!;
        var key = await env.Server.KeysAsync("create", "value-writer-" + user, "--policy",
            $$"""{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:PutSecretValue","Resource":"{{arn}}"}]}""");
        var attacker = new Dictionary<string, string>
        {
            ["AWS_ACCESS_KEY_ID"] = KeyturnProcess.KeyLine(key, "aws_access_key_id"),
            ["AWS_SECRET_ACCESS_KEY"] = KeyturnProcess.KeyLine(key, "aws_secret_access_key"),
        };
        var value = JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = env.Databases.Postgres.Port, username = user + Injected, password = "whatever-Pw-1", dbname = PostgresServer.Database });
        var put = await env.Cli.RunAsAsync(attacker, "secretsmanager", "put-secret-value", "--secret-id", name, "--secret-string", value);
        Assert.True(put.ExitCode == 0, put.ToString());

        var text = await DoctorAsync([name]);
        var json = await DoctorAsync([name, "--json"]);

        AssertNoControlCharacters(text);
        Assert.Contains(@"\u001b]0;owned\u0007\u001b[2J\u000d\u202e", text.Stdout, StringComparison.Ordinal);

        // JSON escapes them for its reader; the value itself comes through unchanged.
        AssertNoControlCharacters(json);
        var usernames = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("username").GetString()).ToList();
        Assert.Contains(user + Injected, usernames);
    }

    [DatabaseFact]
    public async Task LogEchoesThePassword_BareAndInAConnectionUrl_TheQuoteMasksItAndShowsControlsAsText()
    {
        var (name, user, password) = await SecretAsync("attack/log");
        var log = string.Join('\n',
            "START RequestId: 6d4c1c64-1b6b-4c5a-9a43-4f0a2c3b1d10 Version: $LATEST",
            $"[ERROR]\t2026-12-05T08:00:00.000Z\t6d4c1c64-1b6b-4c5a-9a43-4f0a2c3b1d10\tsetSecret: login as {user} with {password} via postgresql://{user}:{password}@10.0.0.5:5432/app failed: Connection refused{Injected}",
            "END RequestId: 6d4c1c64-1b6b-4c5a-9a43-4f0a2c3b1d10",
            "REPORT RequestId: 6d4c1c64-1b6b-4c5a-9a43-4f0a2c3b1d10\tDuration: 1502.12 ms\tBilled Duration: 1503 ms");

        var text = await DoctorAsync([name, "--log-file", "-"], stdin: log);
        var json = await DoctorAsync([name, "--json", "--log-file", "-"], stdin: log);

        // The line is quoted as evidence (the doctor read it), its password masked in both forms.
        Assert.Contains("Connection refused", text.Stdout, StringComparison.Ordinal);
        Assert.Contains("Connection refused", json.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(password, text.Stdout + text.Stderr + json.Stdout + json.Stderr, StringComparison.Ordinal);
        AssertNoControlCharacters(text);
    }

    [DatabaseFact]
    public async Task ApplyWithAJournalLinkPlantedToAnotherFile_RefusesBeforeAnyChange_ThenWritesAnOwnerOnlyJournal()
    {
        var (name, user, password) = await SecretAsync("attack/journal");
        var pending = (await env.Cli.JsonAsync("secretsmanager", "put-secret-value", "--secret-id", name, "--version-stages", "AWSPENDING", "--secret-string",
            JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = env.Databases.Postgres.Port, username = user, password = "never-applied-Pw-2", dbname = PostgresServer.Database })))
            .GetProperty("VersionId").GetString()!;

        // Whoever can write the journal's directory (a data directory shared with the server's user) points it at the operator's file.
        var directory = Directory.CreateTempSubdirectory("keyturn-journal-").FullName;
        var victim = Path.Combine(directory, "operator-profile");
        await File.WriteAllTextAsync(victim, "# the operator's own file\n");
        var journal = Path.Combine(directory, "doctor-journal.jsonl");
        File.CreateSymbolicLink(journal, victim);

        var refused = await DoctorAsync([name, "--apply", "--yes", "--journal", journal], expectedExit: 2);

        Assert.Contains("symbolic link", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal("# the operator's own file\n", await File.ReadAllTextAsync(victim));
        Assert.Contains("AWSPENDING", (await env.Cli.JsonAsync("secretsmanager", "describe-secret", "--secret-id", name)).GetProperty("VersionIdsToStages").GetProperty(pending).EnumerateArray().Select(s => s.GetString()));

        File.Delete(journal);
        var repaired = await DoctorAsync([name, "--apply", "--yes", "--journal", journal]);

        Assert.Equal(0, repaired.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(journal));
        var recorded = await File.ReadAllTextAsync(journal);
        Assert.Contains("Removed AWSPENDING", recorded, StringComparison.Ordinal);
        Assert.DoesNotContain(password, recorded, StringComparison.Ordinal);
        Assert.DoesNotContain("never-applied-Pw-2", recorded, StringComparison.Ordinal);
        Directory.Delete(directory, recursive: true);
    }

    [Theory]
    [InlineData("plain text, tabs\tand line feeds\n", "plain text, tabs\tand line feeds\n")]
    [InlineData("the report's own colour \u001b[31;1mred\u001b[0m", "the report's own colour \u001b[31;1mred\u001b[0m")]
    [InlineData("a colour it never uses \u001b[8mhidden", "a colour it never uses \\u001b[8mhidden")]
    [InlineData("a title \u001b]0;owned\u0007", "a title \\u001b]0;owned\\u0007")]
    [InlineData("a line rewritten\rfine", "a line rewritten\\u000dfine")]
    [InlineData("a line ended the Windows way\r\n", "a line ended the Windows way\r\n")]
    [InlineData("a C1 control \u009b2J and a right-to-left override \u202e", "a C1 control \\u009b2J and a right-to-left override \\u202e")]
    public void TerminalText_ShowsForeignControlsAsText_KeepsTheReportsColours(string text, string shown) =>
        Assert.Equal(shown, Keyturn.Doctor.TerminalText.Clean(text));

    /// <summary>Nothing but line feeds and tabs among the control characters; the JSON and the text alike.</summary>
    private static void AssertNoControlCharacters(ToolResult result)
    {
        var output = result.Stdout + result.Stderr;
        var controls = output.Where(c => (char.IsControl(c) && c is not '\n' and not '\t') || c is >= '\u202a' and <= '\u202e').Select(c => $"U+{(int)c:X4}").Distinct().ToList();
        Assert.True(controls.Count == 0, $"control characters reached the terminal: {string.Join(", ", controls)}\n{output}");
    }

    private async Task<(string Name, string User, string Password)> SecretAsync(string prefix)
    {
        var user = $"atk_{Guid.NewGuid().ToString("N")[..8]}";
        var password = $"Atk-Pw-{Guid.NewGuid():N}";
        await env.Databases.Postgres.ExecuteAsSuperuserAsync(PostgresServer.Database, $"CREATE ROLE {user} LOGIN PASSWORD '{password}'");
        var name = $"{prefix}/{user}";
        var value = JsonSerializer.Serialize(new { engine = "postgres", host = "127.0.0.1", port = env.Databases.Postgres.Port, username = user, password, dbname = PostgresServer.Database });
        await env.Cli.JsonAsync("secretsmanager", "create-secret", "--name", name, "--secret-string", value);
        return (name, user, password);
    }

    /// <summary>The operator runs the doctor as root, output redirected (no colours of its own), as a script or a pager would.</summary>
    private async Task<ToolResult> DoctorAsync(string[] arguments, string? stdin = null, int? expectedExit = null)
    {
        var variables = new Dictionary<string, string>
        {
            ["KEYTURN_ROOT_ACCESS_KEY_ID"] = env.Server.AccessKeyId,
            ["KEYTURN_ROOT_SECRET_ACCESS_KEY"] = env.Server.SecretAccessKey,
            ["NO_COLOR"] = "1",
        };
        string[] all = [KeyturnProcess.KeyturnDll, "doctor", .. arguments, "--endpoint-url", env.Server.Endpoint,
            .. arguments.Contains("--journal") ? Array.Empty<string>() : ["--journal", Path.Combine(env.Server.DataDirectory, "doctor-attack.jsonl")]];
        var result = stdin is null
            ? await ExternalTool.RunAsync("dotnet", all, env.Server, variables)
            : await ExternalTool.RunWithInputAsync("dotnet", all, env.Server, stdin, variables);
        Assert.True(expectedExit is { } exit ? result.ExitCode == exit : result.ExitCode is 0 or 1, $"the doctor failed: {result}");
        return result;
    }
}
