namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>A fact that needs /usr/bin/python3 with botocore; skipped, saying why, when it is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BotocoreFactAttribute : FactAttribute
{
    internal static readonly string SkipReason = $"{Botocore.Python} with botocore is not installed (CI installs it: apt-get install python3-botocore).";

    public BotocoreFactAttribute()
    {
        if (!Botocore.IsAvailable)
        {
            Skip = SkipReason;
        }
    }
}

/// <summary>A theory that needs /usr/bin/python3 with botocore; skipped, saying why, when it is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BotocoreTheoryAttribute : TheoryAttribute
{
    public BotocoreTheoryAttribute()
    {
        if (!Botocore.IsAvailable)
        {
            Skip = BotocoreFactAttribute.SkipReason;
        }
    }
}
