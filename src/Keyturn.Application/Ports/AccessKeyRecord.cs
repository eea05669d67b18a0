namespace Keyturn.Application.Ports;

/// <summary>
/// An access key as stored: the secret access key is encrypted with the master key, and the
/// IAM-style policy document decides what the key may do. Its tags are the caller's aws:PrincipalTag/* keys.
/// A key with an <see cref="ExpiresDate"/> (the per-invocation key of an external rotation function) is
/// refused from that moment on, even if never revoked.
/// </summary>
public sealed record AccessKeyRecord(
    string AccessKeyId,
    string UserName,
    byte[] EncryptedSecretAccessKey,
    string PolicyDocument,
    DateTimeOffset CreatedDate,
    DateTimeOffset? RevokedDate,
    IReadOnlyDictionary<string, string>? Tags = null,
    DateTimeOffset? ExpiresDate = null);
