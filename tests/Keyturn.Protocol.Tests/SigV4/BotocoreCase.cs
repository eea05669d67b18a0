namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>
/// A request for botocore to sign; <see cref="PresignExpires"/> set means a presigned URL. <see cref="HeaderList"/> is
/// added after <see cref="Headers"/>, each pair as a header of its own, so a name may repeat.
/// </summary>
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
    int? PresignExpires = null,
    List<List<string>>? HeaderList = null);
