using Keyturn.Domain.Errors;

namespace Keyturn.Application.Operations;

internal static class ErrorKinds
{
    /// <summary>Maps a wire code produced by a pure validator back to its kind (defaults to InvalidParameter).</summary>
    public static ErrorKind Parse(string code) =>
        Enum.GetValues<ErrorKind>().FirstOrDefault(k => ErrorCodes.For(k) == code, ErrorKind.InvalidParameter);
}
