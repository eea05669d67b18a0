using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Logs;

/// <summary>
/// Paging tokens. Describe and filter tokens are opaque and bound to the query they came from;
/// GetLogEvents tokens look like AWS's (<c>f/…/s</c>, <c>b/…/s</c>) and carry an event position.
/// </summary>
internal static class LogTokens
{
    private const int PositionDigits = 39;

    public static string Page(string query, params string[] values)
    {
        var text = new StringBuilder("v1|").Append(Fingerprint(query));
        foreach (var value in values)
        {
            text.Append('|').Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(value)));
        }

        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text.ToString()));
    }

    /// <summary>The values of a token from <see cref="Page"/> for the same query; anything else is InvalidParameterException.</summary>
    public static string[] ReadPage(string token, string query, int count)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split('|');
            if (parts.Length == count + 2 && parts[0] == "v1" && parts[1] == Fingerprint(query))
            {
                return [.. parts[2..].Select(p => Encoding.UTF8.GetString(Convert.FromBase64String(p)))];
            }
        }
        catch (FormatException)
        {
            // Falls through to the AWS error below.
        }

        throw Invalid();
    }

    public static string Forward(LogEventPosition position) => "f/" + Digits(position) + "/s";

    public static string Backward(LogEventPosition position) => "b/" + Digits(position) + "/s";

    /// <summary>Reads a GetLogEvents token: its direction and the position it continues from.</summary>
    public static (bool Forward, LogEventPosition Position) ReadEventToken(string token)
    {
        var forward = token.StartsWith("f/", StringComparison.Ordinal);
        if (!forward && !token.StartsWith("b/", StringComparison.Ordinal))
        {
            throw Invalid();
        }

        var digits = token.EndsWith("/s", StringComparison.Ordinal) ? token[2..^2] : token[2..];
        if (digits.Length != PositionDigits
            || !ulong.TryParse(digits.AsSpan(0, 20), NumberStyles.None, CultureInfo.InvariantCulture, out var time)
            || !long.TryParse(digits.AsSpan(20), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            throw Invalid();
        }

        return (forward, new LogEventPosition(unchecked((long)(time ^ 0x8000_0000_0000_0000UL)), id));
    }

    public static ServiceException Invalid() => new(ErrorKind.InvalidParameter, "The specified nextToken is invalid.");

    // Flipping the sign bit keeps the order of negative times, so every position has a token.
    private static string Digits(LogEventPosition position) => string.Create(CultureInfo.InvariantCulture,
        $"{unchecked((ulong)position.TimestampMs ^ 0x8000_0000_0000_0000UL):D20}{position.Id:D19}");

    private static string Fingerprint(string query) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(query)))[..16];
}
