using Keyturn.Domain.Errors;
using Keyturn.Domain.Secrets;

namespace Keyturn.Application.Operations;

/// <summary>Tag merging and the per-secret tag quota.</summary>
internal static class TagRules
{
    public const int MaxTags = 50;

    public static void Validate(IReadOnlyList<SecretTag>? tags)
    {
        foreach (var tag in tags ?? [])
        {
            if (tag.Key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                throw new ServiceException(ErrorKind.InvalidParameter, "Tag keys beginning with 'aws:' are reserved for AWS use.");
            }
        }
    }

    /// <summary>Adds or overwrites tags by key (keys are case-sensitive).</summary>
    public static List<SecretTag> Merge(List<SecretTag>? existing, IReadOnlyList<SecretTag> added)
    {
        var result = existing is null ? [] : new List<SecretTag>(existing);
        foreach (var tag in added)
        {
            var index = result.FindIndex(t => string.Equals(t.Key, tag.Key, StringComparison.Ordinal));
            if (index >= 0)
            {
                result[index] = tag;
            }
            else
            {
                result.Add(tag);
            }
        }

        if (result.Count > MaxTags)
        {
            throw new ServiceException(ErrorKind.InvalidParameter, $"A secret can have at most {MaxTags} tags.");
        }

        return result;
    }
}
