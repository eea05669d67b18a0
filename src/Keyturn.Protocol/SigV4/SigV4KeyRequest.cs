namespace Keyturn.Protocol.SigV4;

/// <summary>Which access key a request named when its headers were checked (none when it never got that far).</summary>
public readonly record struct SigV4KeyRequest(string? AccessKeyId);
