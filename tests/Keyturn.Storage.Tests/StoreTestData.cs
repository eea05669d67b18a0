using System.Security.Cryptography;
using System.Text;
using Keyturn.Application.Crypto;
using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;
using Keyturn.Domain.Rotation;
using Keyturn.Domain.Secrets;

namespace Keyturn.Storage.Tests;

/// <summary>Secrets, keys and functions for the contract tests: unique names per call, values sealed for real.</summary>
internal static class StoreTestData
{
    public const string Region = "us-east-1";

    public static readonly DateTimeOffset Now = new(2026, 12, 5, 3, 0, 0, TimeSpan.Zero);

    public static readonly EnvelopeCipher KeyA = new(RandomNumberGenerator.GetBytes(32));

    public static readonly EnvelopeCipher KeyB = new(RandomNumberGenerator.GetBytes(32));

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static string ArnOf(string region, string name) => $"arn:aws:secretsmanager:{region}:111122223333:secret:{name}-AbCdEf";

    public static string ValueContext(string arn, string versionId) => "secret|" + arn + "|" + versionId;

    /// <summary>A new secret with one value labelled AWSCURRENT, sealed by <paramref name="cipher"/> (key A by default).</summary>
    public static Secret NewSecret(string? name = null, string region = Region, EnvelopeCipher? cipher = null)
    {
        name ??= Unique("app/db");
        var secret = new Secret(ArnOf(region, name), name, region, Now) { Description = "0" };
        AddValue(secret, Guid.NewGuid().ToString(), "first", null, cipher);
        return secret;
    }

    /// <summary>A value write as PutSecretValue does it: a new version, its value, its labels (AWSCURRENT by default).</summary>
    public static SecretVersion AddValue(Secret secret, string versionId, string plaintext, IReadOnlyList<string>? stages = null, EnvelopeCipher? cipher = null)
    {
        var version = new SecretVersion(versionId, Now);
        version.SetValue(new StoredValue(SecretValueKind.String, (cipher ?? KeyA).Encrypt(Encoding.UTF8.GetBytes(plaintext), ValueContext(secret.Arn, versionId))));
        secret.AddVersion(version);
        StageRules.ApplyValueWrite(secret, version, stages);
        return version;
    }

    public static string Open(Secret secret, SecretVersion version) =>
        Encoding.UTF8.GetString(KeyA.Decrypt(version.Value!.Ciphertext, ValueContext(secret.Arn, version.VersionId)));

    public static AccessKeyRecord AccessKey(string? id = null, EnvelopeCipher? cipher = null, DateTimeOffset? expires = null)
    {
        id ??= "AKIA" + Guid.NewGuid().ToString("N")[..16].ToUpperInvariant();
        return new AccessKeyRecord(id, "ops", (cipher ?? KeyA).Encrypt("secret-access-key"u8, "access-key|" + id), """{"Version":"2012-10-17","Statement":[]}""",
            Now, null, new Dictionary<string, string> { ["team"] = "payments", ["env"] = "prod" }, expires);
    }

    public static FunctionRecord Function(string name, EnvelopeCipher? cipher = null) =>
        new(name, FunctionKind.Handler, "/srv/functions/" + name, TimeSpan.FromSeconds(30), "AKIAFUNCTION" + name.Length,
            (cipher ?? KeyA).Encrypt("function-secret"u8, "function|" + name), Now)
        {
            Handler = "lambda_function.lambda_handler",
            Runtime = "python3",
            MemorySize = 256,
            EnvironmentNames = ["DB_HOST", "DB_PORT"],
            EncryptedEnvironment = (cipher ?? KeyA).Encrypt("""{"DB_HOST":"db","DB_PORT":"5432"}"""u8, "function-environment|" + name),
        };

    public static RotationRecord Rotation(string arn, string token, DateTimeOffset? started = null) =>
        new(arn, token, "keyturn-postgresql-single-user", RotationMode.Rotate, RotationStatus.Pending, null, 0, null, started ?? Now, started ?? Now, null);

    public static JournalEntry Journal(string arn, string token, RotationStep step, JournalPhase phase, string node, long fencing) =>
        new(arn, token, step, 1, phase, phase == JournalPhase.End ? true : null, null, Now, node, fencing);
}
