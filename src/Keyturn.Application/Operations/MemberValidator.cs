using System.Text.RegularExpressions;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Operations;

/// <summary>
/// Model constraints (required, length, range, pattern) checked the way AWS's front end does,
/// collected into one ValidationException. Values are never echoed: a member may hold a secret.
/// </summary>
internal sealed class MemberValidator
{
    // Made at the first error: a valid request (the usual case) allocates no list.
    private List<string>? _errors;

    public MemberValidator Required(object? value, string member)
    {
        if (value is null)
        {
            (_errors ??= []).Add($"Value null at '{member}' failed to satisfy constraint: Member must not be null");
        }

        return this;
    }

    public MemberValidator Length(string? value, string member, int min, int max) => Length(value?.Length, member, min, max);

    public MemberValidator Length(byte[]? value, string member, int min, int max) => Length(value?.Length, member, min, max);

    /// <summary>A length counted in UTF-8 bytes, for members whose quota is in bytes (SecretString's 65,536).</summary>
    public MemberValidator Utf8Length(string? value, string member, int min, int max) =>
        Length(value is null ? null : System.Text.Encoding.UTF8.GetByteCount(value), member, min, max);

    public MemberValidator Range(long? value, string member, long min, long max)
    {
        if (value is null)
        {
            return this;
        }

        if (value < min)
        {
            (_errors ??= []).Add($"Value '{value}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}");
        }
        else if (value > max)
        {
            (_errors ??= []).Add($"Value '{value}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}");
        }

        return this;
    }

    public MemberValidator Count<T>(IReadOnlyCollection<T>? value, string member, int min, int max)
    {
        if (value is null)
        {
            return this;
        }

        if (value.Count < min)
        {
            (_errors ??= []).Add($"Value at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {min}");
        }
        else if (value.Count > max)
        {
            (_errors ??= []).Add($"Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}");
        }

        return this;
    }

    public MemberValidator Pattern(string? value, string member, Regex pattern, string patternText)
    {
        if (value is not null && !pattern.IsMatch(value))
        {
            (_errors ??= []).Add($"Value at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {patternText}");
        }

        return this;
    }

    public MemberValidator Each<T>(IReadOnlyList<T>? items, Action<MemberValidator, T, string> check, string member)
    {
        if (items is null)
        {
            return this;
        }

        for (var i = 0; i < items.Count; i++)
        {
            check(this, items[i], $"{member}.{i + 1}.member");
        }

        return this;
    }

    private MemberValidator Length(int? length, string member, int min, int max)
    {
        if (length < min)
        {
            (_errors ??= []).Add($"Value at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {min}");
        }
        else if (length > max)
        {
            (_errors ??= []).Add($"Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}");
        }

        return this;
    }

    public void ThrowIfInvalid()
    {
        if (_errors is null)
        {
            return;
        }

        var noun = _errors.Count == 1 ? "error" : "errors";
        throw new ServiceException(ErrorKind.Validation,
            $"{_errors.Count} validation {noun} detected: {string.Join("; ", _errors)}");
    }
}
