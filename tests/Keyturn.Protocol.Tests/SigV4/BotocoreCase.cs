namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>A request for botocore to sign; <see cref="PresignExpires"/> set means a presigned URL.</summary>
internal sealed record BotocoreCase(
    string Method,
    string Url,
    Dictionary<string, string>? Headers,
    string? Body,
    string AccessKey,
    string SecretKey,
    string Region,
    string Service,
    string? Token = null,
    int? PresignExpires = null);
