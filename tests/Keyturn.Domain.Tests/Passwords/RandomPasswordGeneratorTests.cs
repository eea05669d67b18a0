using Keyturn.Domain.Passwords;

namespace Keyturn.Domain.Tests.Passwords;

public sealed class RandomPasswordGeneratorTests
{
    private const string FullAlphabet =
        RandomPasswordGenerator.Lowercase + RandomPasswordGenerator.Uppercase + RandomPasswordGenerator.Digits + RandomPasswordGenerator.Punctuation;

    private static readonly CryptoRandomSource Crypto = CryptoRandomSource.Instance;

    [Fact]
    public void Generate_DefaultRequest_Returns32CharactersWithEveryType()
    {
        for (var i = 0; i < 200; i++)
        {
            var password = RandomPasswordGenerator.Generate(new PasswordRequest(), Crypto);

            Assert.Equal(32, password.Length);
            Assert.Contains(password, char.IsAsciiLetterLower);
            Assert.Contains(password, char.IsAsciiLetterUpper);
            Assert.Contains(password, char.IsAsciiDigit);
            Assert.Contains(password, c => RandomPasswordGenerator.Punctuation.Contains(c, StringComparison.Ordinal));
            Assert.DoesNotContain(' ', password);
            Assert.All(password, c => Assert.Contains(c, FullAlphabet));
        }
    }

    [Fact]
    public void Generate_Case55ExcludeCharacters_Returns120CharactersWithoutExcluded()
    {
        // Compatibility case 55 (LocalStack, AWS-validated).
        const string excluded = "xyzDje@?!.";
        for (var i = 0; i < 50; i++)
        {
            var password = RandomPasswordGenerator.Generate(new PasswordRequest(PasswordLength: 120, ExcludeCharacters: excluded), Crypto);

            Assert.Equal(120, password.Length);
            Assert.DoesNotContain(password, c => excluded.Contains(c, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, true)]
    [InlineData(32, true)]
    [InlineData(4096, true)]
    public void Generate_Length_ReturnsExactLength(int length, bool requireEach)
    {
        var request = new PasswordRequest(PasswordLength: length, RequireEachIncludedType: requireEach);

        Assert.Equal(length, RandomPasswordGenerator.Generate(request, Crypto).Length);
    }

    public static TheoryData<string, PasswordRequest, string> TypeExclusions => new()
    {
        { "no digits", new PasswordRequest(PasswordLength: 200, ExcludeNumbers: true), RandomPasswordGenerator.Digits },
        { "no punctuation", new PasswordRequest(PasswordLength: 200, ExcludePunctuation: true), RandomPasswordGenerator.Punctuation },
        { "no uppercase", new PasswordRequest(PasswordLength: 200, ExcludeUppercase: true), RandomPasswordGenerator.Uppercase },
        { "no lowercase", new PasswordRequest(PasswordLength: 200, ExcludeLowercase: true), RandomPasswordGenerator.Lowercase },
        { "no space by default", new PasswordRequest(PasswordLength: 200), " " },
    };

    [Theory]
    [MemberData(nameof(TypeExclusions))]
    public void Generate_TypeExcluded_NeverContainsIt(string scenario, PasswordRequest request, string forbidden)
    {
        for (var i = 0; i < 20; i++)
        {
            var password = RandomPasswordGenerator.Generate(request, Crypto);

            Assert.False(password.Any(c => forbidden.Contains(c, StringComparison.Ordinal)), scenario);
        }
    }

    [Fact]
    public void Generate_OnlySpaceIncluded_ReturnsSpaces()
    {
        var request = new PasswordRequest(
            PasswordLength: 5, ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: true, IncludeSpace: true);

        Assert.Equal("     ", RandomPasswordGenerator.Generate(request, Crypto));
    }

    [Fact]
    public void Generate_IncludeSpace_SpaceAppearsAndIsNotRequired()
    {
        // Space widens the alphabet to 95 characters but is not a required type: 4 characters are enough.
        var seen = false;
        for (var i = 0; i < 100 && !seen; i++)
        {
            seen = RandomPasswordGenerator.Generate(new PasswordRequest(PasswordLength: 100, IncludeSpace: true), Crypto).Contains(' ', StringComparison.Ordinal);
        }

        Assert.True(seen);
        Assert.Equal(4, RandomPasswordGenerator.Generate(new PasswordRequest(PasswordLength: 4, IncludeSpace: true), Crypto).Length);
    }

    [Fact]
    public void Generate_ScriptedSource_IsDeterministicAndPlacesRequiredTypesAtDrawnPositions()
    {
        // Six fill draws over the 94-character alphabet (lowercase first) give "abcdef"; then, per required
        // type, a position draw among the unused positions and a character draw within the type.
        var random = new ScriptedRandomSource(
            0, 1, 2, 3, 4, 5, // fill
            5, 0,             // lowercase: position 0+5 -> index 5, 'a'
            0, 2,             // uppercase: position 1+0 -> index 1, 'C'
            1, 9,             // digits: position 2+1 -> index 3, '9'
            2, 0);            // punctuation: position 3+2 -> remaining index 0, '!'

        var password = RandomPasswordGenerator.Generate(new PasswordRequest(PasswordLength: 6), random);

        Assert.Equal("!Cc9ea", password);
        Assert.Equal([94, 94, 94, 94, 94, 94, 6, 26, 5, 26, 4, 10, 3, 32], random.Bounds);
    }

    [Fact]
    public void Generate_ScriptedSourceWithoutRequirement_UsesOnlyFillDraws()
    {
        var random = new ScriptedRandomSource(0, 26, 52, 62, 93);

        var password = RandomPasswordGenerator.Generate(new PasswordRequest(PasswordLength: 5, RequireEachIncludedType: false), random);

        Assert.Equal("aA0!~", password);
        Assert.Equal(5, random.Bounds.Count);
    }

    [Fact]
    public void Generate_ScriptedSourceWithExclusions_DrawsFromRemainingCharactersOnly()
    {
        // With lowercase limited to "xyz" and other types excluded, the alphabet is exactly "xyz".
        var request = new PasswordRequest(
            PasswordLength: 3,
            ExcludeCharacters: "abcdefghijklmnopqrstuvw",
            ExcludeNumbers: true,
            ExcludePunctuation: true,
            ExcludeUppercase: true);
        var random = new ScriptedRandomSource(2, 1, 0, 0, 1); // fill "zyx", then 'y' at position 0

        Assert.Equal("yyx", RandomPasswordGenerator.Generate(request, random));
        Assert.Equal([3, 3, 3, 3, 3], random.Bounds);
    }

    [Fact]
    public void Generate_RequiredType_LandsAtEveryPosition()
    {
        // '7' is the only digit, so the guaranteed digit is (nearly always) the only one; it must not always sit first.
        var request = new PasswordRequest(PasswordLength: 8, ExcludeCharacters: "012345689");
        var positions = new HashSet<int>();
        for (var i = 0; i < 500; i++)
        {
            var password = RandomPasswordGenerator.Generate(request, Crypto);
            positions.Add(password.IndexOf('7', StringComparison.Ordinal));
        }

        Assert.Equal(Enumerable.Range(0, 8), positions.Order());
    }

    [Fact]
    public void Generate_ManyDraws_CharacterFrequenciesAreUniform()
    {
        // Chi-square over 94 symbols (93 degrees of freedom: mean 93, sd ~13.6). The bound of 200 is p < 1e-9,
        // so a failure means bias, not bad luck.
        const int passwords = 2000;
        const int length = 64;
        var counts = new Dictionary<char, int>();
        var request = new PasswordRequest(PasswordLength: length, RequireEachIncludedType: false);
        for (var i = 0; i < passwords; i++)
        {
            foreach (var c in RandomPasswordGenerator.Generate(request, Crypto))
            {
                counts[c] = counts.GetValueOrDefault(c) + 1;
            }
        }

        var expected = passwords * length / (double)FullAlphabet.Length;
        var chiSquare = FullAlphabet.Sum(c => Math.Pow(counts.GetValueOrDefault(c) - expected, 2) / expected);

        Assert.Equal(FullAlphabet.Length, counts.Count);
        Assert.InRange(chiSquare, 0, 200);
    }

    public static TheoryData<string, PasswordRequest, string, string> Refusals => new()
    {
        {
            "length 0", new PasswordRequest(PasswordLength: 0), PasswordPolicyException.Validation,
            "1 validation error detected: Value '0' at 'passwordLength' failed to satisfy constraint: Member must have value greater than or equal to 1"
        },
        {
            "length 4097", new PasswordRequest(PasswordLength: 4097), PasswordPolicyException.Validation,
            "1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096"
        },
        {
            "too short for four types", new PasswordRequest(PasswordLength: 3), PasswordPolicyException.InvalidParameter,
            "Password length is too short based on the required types."
        },
        {
            "every type excluded", new PasswordRequest(ExcludeNumbers: true, ExcludePunctuation: true, ExcludeUppercase: true, ExcludeLowercase: true),
            PasswordPolicyException.InvalidParameter, "The password can't be generated because every character type is excluded."
        },
        {
            "every character excluded", new PasswordRequest(ExcludeCharacters: FullAlphabet), PasswordPolicyException.InvalidParameter,
            "The password can't be generated because every character type is excluded."
        },
        {
            "exclude list too long", new PasswordRequest(ExcludeCharacters: new string('a', 4097)), PasswordPolicyException.Validation,
            "1 validation error detected: Value at 'excludeCharacters' failed to satisfy constraint: Member must have length less than or equal to 4096"
        },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Generate_InvalidRequest_ThrowsWithAwsCodeAndMessage(string scenario, PasswordRequest request, string code, string message)
    {
        var error = Assert.Throws<PasswordPolicyException>(() => RandomPasswordGenerator.Generate(request, Crypto));

        Assert.True(code == error.ErrorCode, scenario);
        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData(3, false, false, false)]
    [InlineData(2, true, true, true)]
    [InlineData(1, false, false, false)]
    public void Generate_LengthCoversRequiredTypes_Succeeds(int length, bool excludeNumbers, bool excludePunctuation, bool requireEach)
    {
        var request = new PasswordRequest(
            PasswordLength: length, ExcludeNumbers: excludeNumbers, ExcludePunctuation: excludePunctuation, RequireEachIncludedType: requireEach);

        Assert.Equal(length, RandomPasswordGenerator.Generate(request, Crypto).Length);
    }

    [Fact]
    public void Generate_TypeFullyExcludedByCharacters_IsNotRequired()
    {
        // Excluding every digit drops the type instead of making the request impossible.
        var password = RandomPasswordGenerator.Generate(
            new PasswordRequest(PasswordLength: 3, ExcludeCharacters: RandomPasswordGenerator.Digits), Crypto);

        Assert.Equal(3, password.Length);
        Assert.DoesNotContain(password, char.IsAsciiDigit);
    }

    [Fact]
    public void Generate_SourceOutOfRange_Throws()
    {
        Assert.Throws<InvalidOperationException>(
            () => RandomPasswordGenerator.Generate(new PasswordRequest(), new ScriptedRandomSource(94)));
    }
}
