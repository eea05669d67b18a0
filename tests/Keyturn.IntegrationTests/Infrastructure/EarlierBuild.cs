using System.Diagnostics;

namespace Keyturn.IntegrationTests.Infrastructure;

/// <summary>
/// <c>keyturn.dll</c> as an earlier commit of this repository built it: the older version of a rolling upgrade. The source
/// comes from the repository's own history (<c>git archive</c>), is built once with <c>dotnet build -c Release</c> (one to
/// two minutes on two cores) and cached by commit id under the temporary directory, so later runs start at once.
/// </summary>
public static class EarlierBuild
{
    private static readonly SemaphoreSlim Building = new(1, 1);

    /// <summary>The built <c>keyturn.dll</c> of <paramref name="commit"/> (a full commit id); fails the test when the history lacks it.</summary>
    public static async Task<string> KeyturnDllAsync(string commit)
    {
        var cache = Path.Combine(Path.GetTempPath(), "keyturn-earlier-builds", commit);
        await Building.WaitAsync();
        try
        {
            if (Find(cache) is { } cached)
            {
                return cached;
            }

            var repository = RepositoryRoot();
            var known = await RunAsync("git", ["-C", repository, "cat-file", "-e", commit + "^{commit}"], repository, TimeSpan.FromSeconds(30));
            Assert.True(known.ExitCode == 0,
                $"This test builds commit {commit} of this repository and needs the git history of {repository} to hold it " +
                $"(a full clone, not a shallow one or a source archive: `git fetch --unshallow`). git said: {known.Stderr.Trim()}");

            // Built beside the cache and renamed into place whole, so a run killed mid-build leaves no half build behind.
            var work = Directory.CreateDirectory(cache + ".building-" + Guid.NewGuid().ToString("N")[..8]).FullName;
            try
            {
                var extract = await RunAsync("sh", ["-c", "git -C \"$1\" archive \"$2\" | tar -x -C \"$3\"", "sh", repository, commit, work], repository, TimeSpan.FromMinutes(2));
                Assert.True(extract.ExitCode == 0, $"git archive {commit} failed:\n{extract.Stderr}");
                var build = await RunAsync("dotnet",
                    ["build", Path.Combine(work, "src", "Keyturn.Cli", "Keyturn.Cli.csproj"), "-c", "Release", "--nologo", "-v", "quiet", "-clp:ErrorsOnly", "--disable-build-servers"],
                    work, TimeSpan.FromMinutes(8));
                Assert.True(build.ExitCode == 0, $"Building commit {commit} failed:\n{build.Stdout}\n{build.Stderr}");
                Assert.True(Find(work) is not null, $"Building commit {commit} left no keyturn.dll under {work}.");
                try
                {
                    Directory.Move(work, cache);
                }
                catch (IOException) when (Find(cache) is not null)
                {
                    // Another test run finished the same build first.
                }
            }
            finally
            {
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }

            return Find(cache) ?? throw new InvalidOperationException($"No keyturn.dll in {cache}.");
        }
        finally
        {
            Building.Release();
        }
    }

    private static string? Find(string root)
    {
        var output = Path.Combine(root, "src", "Keyturn.Cli", "bin", "Release");
        return Directory.Exists(output) ? Directory.GetFiles(output, "keyturn.dll", SearchOption.AllDirectories).FirstOrDefault() : null;
    }

    /// <summary>The checkout these tests were built from: the directory above the test binaries that holds Keyturn.slnx.</summary>
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Keyturn.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Keyturn.slnx above {AppContext.BaseDirectory}: the test binaries are not in a checkout of the repository.");
    }

    private static async Task<ToolResult> RunAsync(string fileName, IEnumerable<string> arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // dotnet test passes MSBuild's own settings to the test host; a nested build must find its SDK afresh.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalMinutes} min:\n{await stdout}\n{await stderr}");
        }

        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }
}
