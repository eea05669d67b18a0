using System.Security.Cryptography;

namespace Keyturn.Application.Crypto;

/// <summary>
/// Finds the master key: <c>KEYTURN_MASTER_KEY</c> (base64 of 32 bytes) when set, otherwise
/// <c>&lt;data-dir&gt;/master.key</c>, created with mode 0600 on first start.
/// </summary>
public static class MasterKeyLoader
{
    public const string EnvironmentVariable = "KEYTURN_MASTER_KEY";
    public const string FileName = "master.key";

    public static byte[] Load(string dataDirectory, string? environmentValue)
    {
        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            return Decode(environmentValue, EnvironmentVariable);
        }

        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            return Decode(File.ReadAllText(path), path);
        }

        Directory.CreateDirectory(dataDirectory);
        var key = RandomNumberGenerator.GetBytes(32);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(Convert.ToBase64String(key));
        }

        return key;
    }

    private static byte[] Decode(string text, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"The master key in {source} is not valid base64.");
        }

        return key.Length == 32
            ? key
            : throw new InvalidOperationException($"The master key in {source} must be 32 bytes (AES-256), not {key.Length}.");
    }
}
