using System.Diagnostics;
using System.Globalization;
using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Keyturn.IntegrationTests.Cluster;

/// <summary>
/// docs/cluster.md's "Two nodes on one machine" walkthrough, run as it is written there (its shell blocks, read between
/// their markers, in one bash with -e -u -o pipefail): two nodes on a PostgreSQL of its own, a rotation paused on node 1,
/// node 1 killed, node 2 finishing it. Only the walkthrough's first line (its ports and directory) is replaced, and
/// <c>sudo</c> stands for what it does on Debian: apt-get is skipped (this PostgreSQL already runs) and
/// <c>sudo -u postgres psql</c> connects as the superuser.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ClusterWalkthroughTests(ITestOutputHelper output)
{
    private const string Document = "docs/cluster.md";
    private const string Settings = "PGPORT=5432 PORT1=4567 PORT2=4568 KT=/tmp/kt";

    [DatabaseFact]
    public async Task Walkthrough_TwoNodesOnPostgreSql_RotationSurvivesKillingTheNodeRunningIt()
    {
        var blocks = new[] { "cluster-walkthrough: two-nodes", "cluster-walkthrough: rotation-failover", "cluster-walkthrough: clean-up" }
            .Select(marker => ReadmeExamples.Block(marker, document: Document)).ToList();
        Assert.StartsWith(Settings + "\n", blocks[0], StringComparison.Ordinal);

        var postgres = new PostgresServer();
        var work = Directory.CreateTempSubdirectory("keyturn-walkthrough-").FullName;
        try
        {
            await postgres.StartAsync(null);
            // The walkthrough creates a database of that name itself.
            await postgres.ExecuteAsSuperuserAsync("postgres", $"DROP DATABASE {PostgresServer.Database}");

            // ./keyturn stands for the checkout's script, which builds this same CLI and runs it.
            var keyturn = Path.Combine(work, "keyturn");
            await File.WriteAllTextAsync(keyturn, $"#!/bin/sh\nexec dotnet '{KeyturnProcess.KeyturnDll}' \"$@\"\n");
            File.SetUnixFileMode(keyturn, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            var settings = string.Create(CultureInfo.InvariantCulture,
                $"PGPORT={postgres.Port} PORT1={KeyturnProcess.FreePort()} PORT2={KeyturnProcess.FreePort()} KT={Path.Combine(work, "kt")}");
            var prelude = """
                sudo() {
                  case "$1" in
                    apt-get) echo "(apt-get skipped: the test's PostgreSQL runs)" ;;
                    -u) [ "$2" = postgres ] && [ "$3" = psql ] || { echo "unexpected sudo $*" >&2; return 99; }
                        shift 3; PGPASSWORD="$WALKTHROUGH_SUPERUSER_PASSWORD" psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 "$@" ;;
                    *) echo "unexpected sudo $*" >&2; return 99 ;;
                  esac
                }
                trap 'kill -9 $(jobs -p) 2>/dev/null || true' EXIT

                """;
            var script = prelude + settings + blocks[0][Settings.Length..] + string.Concat(blocks.Skip(1));

            var (exitCode, printed) = await RunBashAsync(script, work, postgres.SuperuserPassword, TimeSpan.FromMinutes(4));
            output.WriteLine(printed);
            Assert.True(exitCode == 0, $"The walkthrough failed (exit {exitCode}):\n{printed}");

            // Paused mid-rotation on node 1 (the walkthrough kill -9s it right after), then finished: by node 2, the only node left.
            var paused = printed.IndexOf("running createSecret", StringComparison.Ordinal);
            var succeeded = printed.IndexOf(" succeeded ", StringComparison.Ordinal);
            Assert.True(paused >= 0 && succeeded > paused, $"Expected the rotation paused on node 1, then succeeded:\n{printed}");
            Assert.Contains("\"AWSPREVIOUS\"", printed[succeeded..], StringComparison.Ordinal);
            // psql logged in as app with AWSCURRENT's password (the first one no longer works after the rotation).
            Assert.Matches(@"current_user\s*\n-+\s*\n\s*app\s*\n", printed);
        }
        finally
        {
            await postgres.StopAsync();
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Printed)> RunBashAsync(string script, string workingDirectory, string superuserPassword, TimeSpan timeout)
    {
        var start = new ProcessStartInfo("/bin/bash", ["-e", "-u", "-o", "pipefail", "-c", script])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // A clean AWS and Keyturn environment: the walkthrough sets what it needs.
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(n => n.StartsWith("AWS_", StringComparison.Ordinal) || n.StartsWith("KEYTURN_", StringComparison.Ordinal) || n.StartsWith("PG", StringComparison.Ordinal)))
        {
            start.Environment.Remove(name);
        }

        start.Environment["AWS_CONFIG_FILE"] = Path.Combine(workingDirectory, "no-aws-config");
        start.Environment["WALKTHROUGH_SUPERUSER_PASSWORD"] = superuserPassword;

        using var process = Process.Start(start)!;
        // One stream, in order: the assertions follow the walkthrough's steps through it.
        var printed = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (printed) { printed.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (printed) { printed.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            // The nodes are the script's children: none outlives the test.
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            lock (printed)
            {
                return (-1, printed + $"\n(timed out after {timeout.TotalSeconds} s)");
            }
        }

        lock (printed)
        {
            return (process.ExitCode, printed.ToString());
        }
    }
}
