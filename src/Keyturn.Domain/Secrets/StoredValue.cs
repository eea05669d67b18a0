namespace Keyturn.Domain.Secrets;

/// <summary>An encrypted secret value as kept by a store, with whether it was a string or binary.</summary>
public sealed record StoredValue(SecretValueKind Kind, byte[] Ciphertext);

public enum SecretValueKind
{
    String = 1,
    Binary = 2,
}
