namespace Keyturn.Application.Operations;

/// <summary>The default key (aws/secretsmanager) is never echoed back, as on AWS.</summary>
internal static class KmsKeys
{
    public const string DefaultKeyId = "DefaultEncryptionKey";

    public static string? Normalize(string? kmsKeyId) =>
        string.IsNullOrEmpty(kmsKeyId) || kmsKeyId == "alias/aws/secretsmanager" ? null : kmsKeyId;
}
