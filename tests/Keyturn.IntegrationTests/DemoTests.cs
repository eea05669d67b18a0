using Keyturn.IntegrationTests.Infrastructure;
using Keyturn.Rotators.Tests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>The README's main-job command runs the whole story and cleans up after itself.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DemoTests
{
    [DatabaseFact]
    public async Task Demo_RunsEveryChapterAndCleansUp()
    {
        // A TMPDIR of its own, so another run on the machine making or removing demo directories meanwhile can't change
        // the count; the throwaway PostgreSQL server's user must reach its directory inside.
        var temporary = TestDirectories.Create("keyturn-it-demo-");
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        try
        {
            await RunDemoAsync(temporary);
        }
        finally
        {
            TestDirectories.Delete(temporary);
        }
    }

    private static async Task RunDemoAsync(string temporary)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet", [KeyturnProcess.KeyturnDll, "demo"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["NO_COLOR"] = "1", ["TMPDIR"] = temporary },
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 0, output);
        Assert.Contains("Undecided: the probe of AWSCURRENT was inconclusive", output, StringComparison.Ordinal);
        Assert.Contains("A previous rotation isn't complete. That rotation will be reattempted.", output, StringComparison.Ordinal);
        Assert.Contains("state PendingNotApplied", output, StringComparison.Ordinal);
        Assert.Contains("state LabelsAhead", output, StringComparison.Ordinal);
        Assert.Contains("state DatabaseAhead", output, StringComparison.Ordinal);
        // Three repairs (failures 2, 3 and 4), each ending healthy.
        Assert.Equal(3, output.Split("After the repair: Healthy", StringSplitOptions.None).Length - 1);
        Assert.Contains("✔ prd-db-cluster/AdminLoginInfo: Healthy", output, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(temporary, "keyturn-*"));
    }
}
