namespace Keyturn.Domain.Secrets;

/// <summary>The staging labels Secrets Manager itself gives meaning to.</summary>
public static class StagingLabels
{
    public const string Current = "AWSCURRENT";
    public const string Pending = "AWSPENDING";
    public const string Previous = "AWSPREVIOUS";

    /// <summary>Distinct labels attached across all versions of one secret (AWS quota).</summary>
    public const int MaxLabelsPerSecret = 20;
}
