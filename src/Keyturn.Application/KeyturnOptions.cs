namespace Keyturn.Application;

/// <summary>Settings shared by the service: the account id used in ARNs (12 digits, default all zeros).</summary>
public sealed class KeyturnOptions
{
    public string AccountId { get; set; } = "000000000000";
}
