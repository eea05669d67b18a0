namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>A fact that needs /usr/bin/python3 with botocore; skipped, saying why, when it is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BotocoreFactAttribute : FactAttribute
{
    public BotocoreFactAttribute()
    {
        if (!Botocore.IsAvailable)
        {
            Skip = $"{Botocore.Python} with botocore is not installed (CI installs it: apt-get install python3-botocore).";
        }
    }
}
