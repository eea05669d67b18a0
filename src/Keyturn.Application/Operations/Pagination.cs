using System.Text;
using Keyturn.Domain.Errors;

namespace Keyturn.Application.Operations;

/// <summary>Opaque NextToken values: an offset bound to the query it came from.</summary>
internal static class Pagination
{
    public static string? NextToken(int nextOffset, int total, string queryFingerprint) =>
        nextOffset >= total ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes($"v1|{nextOffset}|{queryFingerprint}"));

    public static int Offset(string? nextToken, string queryFingerprint)
    {
        if (nextToken is null)
        {
            return 0;
        }

        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(nextToken)).Split('|', 3);
            if (parts.Length == 3 && parts[0] == "v1" && int.TryParse(parts[1], out var offset) && offset >= 0 && parts[2] == queryFingerprint)
            {
                return offset;
            }
        }
        catch (FormatException)
        {
            // Falls through to the AWS error below.
        }

        throw new ServiceException(ErrorKind.InvalidNextToken, "The NextToken value is invalid.");
    }
}
