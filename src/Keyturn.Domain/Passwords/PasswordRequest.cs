namespace Keyturn.Domain.Passwords;

/// <summary>
/// The GetRandomPassword inputs, with the defaults AWS applies when a member is omitted.
/// </summary>
public sealed record PasswordRequest(
    int PasswordLength = 32,
    string ExcludeCharacters = "",
    bool ExcludeNumbers = false,
    bool ExcludePunctuation = false,
    bool ExcludeUppercase = false,
    bool ExcludeLowercase = false,
    bool IncludeSpace = false,
    bool RequireEachIncludedType = true);
