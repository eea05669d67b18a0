namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>What botocore produced: the final URL, every header it set, and the signing timestamp.</summary>
internal sealed record BotocoreSigned(string Url, List<List<string>> Headers, string Timestamp);
