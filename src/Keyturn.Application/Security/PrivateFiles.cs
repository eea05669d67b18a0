namespace Keyturn.Application.Security;

/// <summary>
/// The data directory and every file Keyturn writes in it are the owner's alone (0700 and 0600), whatever
/// the umask; an existing key or credentials file that others can read or write is refused rather than used.
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates the directory (and its parents) if missing, and makes it owner-only.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, DirectoryMode);
        // mkdir's mode is masked by the umask and an existing directory keeps its own: set it explicitly.
        File.SetUnixFileMode(path, DirectoryMode);
    }

    /// <summary>Writes a new file readable and writable by the owner only; fails if it exists.</summary>
    public static void WriteNew(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(contents);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, FileMode);
        }
    }

    /// <summary>
    /// Appends to a file, creating it owner-only; a symbolic link at <paramref name="path"/> is refused rather than
    /// followed, so whoever can write its directory can't point the append at another file (a shell profile, a key).
    /// </summary>
    /// <exception cref="IOException">The path is a symbolic link.</exception>
    public static async Task AppendAsync(string path, string contents, CancellationToken cancellationToken)
    {
        RefuseSymbolicLink(path);
        var options = new FileStreamOptions { Mode = System.IO.FileMode.Append, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        var stream = new FileStream(path, options);
        await using (stream.ConfigureAwait(false))
        {
            var writer = new StreamWriter(stream);
            await using (writer.ConfigureAwait(false))
            {
                await writer.WriteAsync(contents.AsMemory(), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Refuses a path that is a symbolic link, before anything is written through it.</summary>
    /// <exception cref="IOException">The path is a symbolic link.</exception>
    public static void RefuseSymbolicLink(string path)
    {
        if (new FileInfo(path).LinkTarget is { } target)
        {
            throw new IOException($"{path} is a symbolic link (to {target}); Keyturn refuses to write through it. Remove it or choose another path.");
        }
    }

    /// <summary>Replaces a file atomically (write beside it, fsync, rename), owner-only.</summary>
    public static void Replace(string path, string contents)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary);
        WriteNew(temporary, contents);
        File.Move(temporary, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Refuses a key or credentials file that anyone but its owner may read or write, printing the fix.</summary>
    /// <exception cref="KeyturnStartupException">The file's mode lets group or others in.</exception>
    public static void RequireOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & GroupOrOthers) != 0)
        {
            throw new KeyturnStartupException(
                $"{path} is accessible by group or others (mode {Convert.ToString((int)mode, 8)}); Keyturn refuses to use it. Fix: chmod 600 {path}");
        }
    }

    private static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // The rename is durable once the directory entry is: fsync the directory (Linux allows opening it read-only).
        try
        {
            using var handle = File.OpenHandle(directory, System.IO.FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (UnauthorizedAccessException)
        {
            // Some file systems refuse opening a directory; the rename itself is still atomic.
        }
        catch (IOException)
        {
            // As above.
        }
    }
}

/// <summary>A start-up refusal: one line for the operator saying what is wrong and what to do; never a stack trace.</summary>
public sealed class KeyturnStartupException(string message) : InvalidOperationException(message);
