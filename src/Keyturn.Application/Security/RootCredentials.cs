using System.Security.Cryptography;

namespace Keyturn.Application.Security;

/// <summary>
/// The root access key: from <c>KEYTURN_ROOT_ACCESS_KEY_ID</c>/<c>KEYTURN_ROOT_SECRET_ACCESS_KEY</c>
/// when both are set (as MinIO does), otherwise generated once into <c>&lt;data-dir&gt;/root-credentials</c> (mode 0600;
/// an existing file that group or others can open is refused).
/// </summary>
public sealed record RootCredentials(string AccessKeyId, string SecretAccessKey, bool Generated)
{
    public const string AccessKeyVariable = "KEYTURN_ROOT_ACCESS_KEY_ID";
    public const string SecretKeyVariable = "KEYTURN_ROOT_SECRET_ACCESS_KEY";
    public const string FileName = "root-credentials";

    public static RootCredentials Load(string dataDirectory, string? accessKeyId, string? secretAccessKey) =>
        Read(dataDirectory, accessKeyId, secretAccessKey) ?? Generate(dataDirectory);

    /// <summary>The root access key from the variables or the file, or null when none exists yet; writes nothing.</summary>
    /// <exception cref="InvalidOperationException">Only one variable is set, or the file is unusable.</exception>
    public static RootCredentials? Read(string dataDirectory, string? accessKeyId, string? secretAccessKey)
    {
        if (!string.IsNullOrEmpty(accessKeyId) && !string.IsNullOrEmpty(secretAccessKey))
        {
            return new RootCredentials(accessKeyId, secretAccessKey, Generated: false);
        }

        if (!string.IsNullOrEmpty(accessKeyId) || !string.IsNullOrEmpty(secretAccessKey))
        {
            throw new InvalidOperationException($"Set both {AccessKeyVariable} and {SecretKeyVariable}, or neither.");
        }

        var path = Path.Combine(dataDirectory, FileName);
        if (File.Exists(path))
        {
            PrivateFiles.RequireOwnerOnly(path);
            var values = File.ReadAllLines(path)
                .Select(line => line.Split('=', 2, StringSplitOptions.TrimEntries))
                .Where(parts => parts.Length == 2)
                .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
            if (values.TryGetValue("aws_access_key_id", out var id) && values.TryGetValue("aws_secret_access_key", out var secret))
            {
                return new RootCredentials(id, secret, Generated: false);
            }

            throw new InvalidOperationException($"{path} must contain aws_access_key_id and aws_secret_access_key.");
        }

        return null;
    }

    /// <summary>Creates the root access key and its file (owner-only) in <paramref name="dataDirectory"/>.</summary>
    public static RootCredentials Generate(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        var generated = new RootCredentials(NewAccessKeyId(), NewSecretAccessKey(), Generated: true);
        PrivateFiles.CreateDirectory(dataDirectory);
        PrivateFiles.WriteNew(path, $"[default]\naws_access_key_id = {generated.AccessKeyId}\naws_secret_access_key = {generated.SecretAccessKey}\n");
        return generated;
    }

    /// <summary>AWS-shaped key ids: AKIA + 16 upper-case letters and digits.</summary>
    public static string NewAccessKeyId() => "AKIA" + RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);

    public static string NewSecretAccessKey() =>
        RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
}
