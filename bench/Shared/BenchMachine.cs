using System.Diagnostics;
using System.Globalization;

namespace Keyturn.Bench.Shared;

/// <summary>What every benchmark report says about the machine and the checkout it measured, and its clean-up.</summary>
internal static class BenchMachine
{
    public static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";

    public static double MemoryGiB() =>
        long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1048576.0;

    /// <summary>The 1, 5 and 15 minute load averages, joined by <paramref name="separator"/>.</summary>
    public static string LoadAverage(string separator = ", ") =>
        File.Exists("/proc/loadavg") ? string.Join(separator, File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    /// <summary>The mount whose path is the longest prefix of <paramref name="path"/>, as "type (mount point)".</summary>
    public static string FileSystemOf(string path)
    {
        var best = (Mount: "", Type: "?");
        foreach (var line in File.ReadLines("/proc/mounts"))
        {
            var parts = line.Split(' ');
            if (parts.Length > 2 && path.StartsWith(parts[1], StringComparison.Ordinal) && parts[1].Length >= best.Mount.Length)
            {
                best = (parts[1], parts[2]);
            }
        }

        return $"{best.Type} ({best.Mount})";
    }

    /// <summary>The commit measured, naming any uncommitted files under src/ so a reader can tell whether they touch what ran.</summary>
    public static string Commit(string repo)
    {
        try
        {
            var head = Git(repo, "rev-parse", "--short", "HEAD");
            var dirty = Git(repo, "status", "--porcelain", "--untracked-files=no", "--", "src")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(l => l.Split(' ', 2, StringSplitOptions.TrimEntries)[^1]).ToList();
            return head.Length == 0 ? "commit unknown"
                : $"commit {head}{(dirty.Count > 0 ? $" plus uncommitted changes to {string.Join(", ", dirty.Select(f => $"`{f}`"))}" : "")}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "commit unknown";
        }
    }

    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Git(string repo, params string[] args)
    {
        var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = repo };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var git = Process.Start(start)!;
        var output = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        return git.ExitCode == 0 ? output : "";
    }
}
