namespace Keyturn.Domain.Secrets;

public sealed record SecretTag(string Key, string Value);
