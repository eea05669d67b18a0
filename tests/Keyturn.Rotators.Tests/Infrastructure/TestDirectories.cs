namespace Keyturn.Rotators.Tests.Infrastructure;

/// <summary>
/// The temporary directories and files test fixtures create, deleted when the fixture is disposed (after its
/// processes have exited): they may hold a store and its master key. KEYTURN_TEST_KEEP=1 keeps them for a post-mortem.
/// </summary>
public static class TestDirectories
{
    public const string KeepVariable = "KEYTURN_TEST_KEEP";

    /// <summary>Set to 1 to keep every test's temporary directories (their paths are in the test's output or the server's banner).</summary>
    public static bool Keep => Environment.GetEnvironmentVariable(KeepVariable) == "1";

    /// <summary>A new private directory under the temporary directory, named <paramref name="prefix"/> and a random suffix.</summary>
    public static string Create(string prefix) => Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>
    /// Deletes the directories (recursively) and files; one already gone is fine. A process that has just exited
    /// (or a server still flushing its last write) may still be closing files, so a failed attempt is retried for a few seconds.
    /// </summary>
    public static void Delete(params string?[] paths)
    {
        if (Keep)
        {
            return;
        }

        foreach (var path in paths)
        {
            if (path is not null)
            {
                DeleteOne(path);
            }
        }
    }

    private static void DeleteOne(string path)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }
                else
                {
                    File.Delete(path);
                }

                return;
            }
            catch (DirectoryNotFoundException)
            {
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (attempt == 20)
                {
                    // Cleaning up must not fail a test that passed: the path is left, as before.
                    return;
                }

                Thread.Sleep(250);
            }
        }
    }
}

/// <summary>The directories one test class makes as it goes, deleted together when it is disposed.</summary>
public sealed class OwnedTestDirectories : IDisposable
{
    private readonly List<string> _directories = [];

    /// <summary>A new directory (see <see cref="TestDirectories.Create"/>), deleted with the others.</summary>
    public string New(string prefix)
    {
        var directory = TestDirectories.Create(prefix);
        _directories.Add(directory);
        return directory;
    }

    public void Dispose() => TestDirectories.Delete([.. _directories]);
}
