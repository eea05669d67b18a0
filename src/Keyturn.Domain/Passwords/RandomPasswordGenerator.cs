namespace Keyturn.Domain.Passwords;

/// <summary>
/// GetRandomPassword. The alphabet is A–Z, a–z, 0–9 and the punctuation
/// <c>!"#$%&amp;'()*+,-./:;&lt;=&gt;?@[\]^_`{|}~</c>, plus space only when asked for.
/// </summary>
public static class RandomPasswordGenerator
{
    public const int MinLength = 1;
    public const int MaxLength = 4096;
    public const int MaxExcludeCharactersLength = 4096;

    public const string Uppercase = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    public const string Lowercase = "abcdefghijklmnopqrstuvwxyz";
    public const string Digits = "0123456789";
    public const string Punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    /// <summary>
    /// Builds a password. Every character is drawn uniformly from the allowed alphabet; when
    /// <see cref="PasswordRequest.RequireEachIncludedType"/> is set, one uniformly chosen position
    /// per included type is then overwritten with a uniform character of that type, so the
    /// guaranteed characters land anywhere, not always at the front.
    /// </summary>
    /// <remarks>
    /// Draw order (relied on by tests with a scripted source): <c>PasswordLength</c> alphabet
    /// indexes, then for each required type in the order lowercase, uppercase, digits,
    /// punctuation: a position draw (a partial Fisher–Yates over the unused positions) followed
    /// by a character draw. Space is never required: the model only says the password "can"
    /// contain it. A type whose characters are all in <c>ExcludeCharacters</c> is treated as
    /// excluded rather than failing.
    /// </remarks>
    public static string Generate(PasswordRequest request, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(random);

        var excluded = request.ExcludeCharacters ?? string.Empty;
        Validate(request.PasswordLength, excluded);

        var types = IncludedTypes(request, excluded);
        var alphabet = string.Concat(types.Select(t => t.Characters));
        if (request.IncludeSpace && !excluded.Contains(' ', StringComparison.Ordinal))
        {
            alphabet += " ";
        }

        if (alphabet.Length == 0)
        {
            throw new PasswordPolicyException(
                "The password can't be generated because every character type is excluded.");
        }

        var required = request.RequireEachIncludedType ? types : [];
        if (required.Count > request.PasswordLength)
        {
            throw new PasswordPolicyException("Password length is too short based on the required types.");
        }

        var password = new char[request.PasswordLength];
        for (var i = 0; i < password.Length; i++)
        {
            password[i] = alphabet[Draw(random, alphabet.Length)];
        }

        // Partial Fisher–Yates: each required type gets a distinct, uniformly chosen position.
        var positions = Enumerable.Range(0, password.Length).ToArray();
        for (var t = 0; t < required.Count; t++)
        {
            var pick = t + Draw(random, positions.Length - t);
            (positions[t], positions[pick]) = (positions[pick], positions[t]);
            var characters = required[t].Characters;
            password[positions[t]] = characters[Draw(random, characters.Length)];
        }

        return new string(password);
    }

    private static void Validate(int length, string excluded)
    {
        if (length < MinLength)
        {
            throw new PasswordPolicyException(
                PasswordPolicyException.Validation,
                $"1 validation error detected: Value '{length}' at 'passwordLength' failed to satisfy constraint: Member must have value greater than or equal to {MinLength}");
        }

        if (length > MaxLength)
        {
            throw new PasswordPolicyException(
                PasswordPolicyException.Validation,
                $"1 validation error detected: Value '{length}' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to {MaxLength}");
        }

        if (excluded.Length > MaxExcludeCharactersLength)
        {
            throw new PasswordPolicyException(
                PasswordPolicyException.Validation,
                $"1 validation error detected: Value at 'excludeCharacters' failed to satisfy constraint: Member must have length less than or equal to {MaxExcludeCharactersLength}");
        }
    }

    private static List<CharacterType> IncludedTypes(PasswordRequest request, string excluded)
    {
        var types = new List<CharacterType>(4);
        Add(!request.ExcludeLowercase, Lowercase);
        Add(!request.ExcludeUppercase, Uppercase);
        Add(!request.ExcludeNumbers, Digits);
        Add(!request.ExcludePunctuation, Punctuation);
        return types;

        void Add(bool included, string characters)
        {
            if (!included)
            {
                return;
            }

            var remaining = string.Concat(characters.Where(c => !excluded.Contains(c, StringComparison.Ordinal)));
            if (remaining.Length > 0)
            {
                types.Add(new CharacterType(remaining));
            }
        }
    }

    private static int Draw(IRandomSource random, int exclusiveMax)
    {
        var value = random.NextInt(exclusiveMax);
        if (value < 0 || value >= exclusiveMax)
        {
            throw new InvalidOperationException($"The random source returned {value}, outside [0, {exclusiveMax}).");
        }

        return value;
    }

    private sealed record CharacterType(string Characters);
}
