using System.Text;
using Keyturn.Application.Rotation;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>The masker's forms and substring rules, case by case.</summary>
public sealed class SecretMaskerTests
{
    private const string Pw = "s3cr3t+P@ss/wd";
    private const string M = SecretRedaction.Mask;

    public static TheoryData<string, string[], string, string> Cases => new()
    {
        // name, secrets, printed line, stored line
        { "the value itself is masked", [Pw], $"password is {Pw}", $"password is {M}" },
        { "a value inside a connection string is masked where it appears", [Pw], $"postgresql://app:{Pw}@db:5432/app", $"postgresql://app:{M}@db:5432/app" },
        { "a value after pwd= in a key-value string is masked", [Pw], $"Server=db;Uid=app;Pwd={Pw};", $"Server=db;Uid=app;Pwd={M};" },
        { "every occurrence in a line is masked", [Pw], $"{Pw} and {Pw}", $"{M} and {M}" },
        { "occurrences that touch become one mask", [Pw], $"{Pw}{Pw}", M },
        { "overlapping values become one mask with no tail left", ["abcdef", "defghi"], "xabcdefghiy", $"x{M}y" },
        { "a longer value containing a shorter one is masked whole", ["pass", "password123"], "got password123!", $"got {M}!" },
        { "a SQL literal with doubled quotes is masked", ["it's-secret"], "ALTER ROLE app PASSWORD 'it''s-secret'", $"ALTER ROLE app PASSWORD '{M}'" },
        { "a MySQL literal with a backslash-escaped quote is masked", ["it's-secret"], "IDENTIFIED BY 'it\\'s-secret'", $"IDENTIFIED BY '{M}'" },
        { "a JSON-escaped quote and backslash are masked", ["a\"b\\c-d"], "{\"pwd\":\"a\\\"b\\\\c-d\"}", $"{{\"pwd\":\"{M}\"}}" },
        { "the .NET serializer's \\u002B for a plus is masked", [Pw], "{\"pwd\":\"s3cr3t\\u002BP@ss/wd\"}", $"{{\"pwd\":\"{M}\"}}" },
        { "URL encoding with upper-case hex is masked", [Pw], "pw=s3cr3t%2BP%40ss%2Fwd&x=1", $"pw={M}&x=1" },
        { "URL encoding with lower-case hex is masked", [Pw], "pw=s3cr3t%2bP%40ss%2fwd&x=1", $"pw={M}&x=1" },
        { "form encoding with a plus for a space is masked", ["two words"], "q=two+words", $"q={M}" },
        { "standard base64 with padding is masked", [Pw], "b64 czNjcjN0K1BAc3Mvd2Q=", $"b64 {M}" },
        { "standard base64 without padding is masked", [Pw], "b64 czNjcjN0K1BAc3Mvd2Q.", $"b64 {M}." },
        { "URL-safe base64 is masked", ["Qm>?x~Qm>?x~1"], "b64url UW0-P3h-UW0-P3h-MQ", $"b64url {M}" },
        { "lower-case hex is masked", [Pw], "hex 7333637233742b504073732f7764", $"hex {M}" },
        { "upper-case hex is masked", [Pw], "hex 7333637233742B504073732F7764", $"hex {M}" },
        { "base64 of user:password in a Basic header is masked after the user", [Pw], "Authorization: Basic YXBwOnMzY3IzdCtQQHNzL3dk", $"Authorization: Basic YXBwOn{M}" },
        { "base64 of a value two bytes into a group is masked", [Pw], "eDpzM2NyM3QrUEBzcy93ZA==", $"eDp{M}A==" },
        { "a line of a multi-line value is masked on its own", ["-----BEGIN KEY-----\nMIIBexampleKEY\n-----END KEY-----"], "key line MIIBexampleKEY", $"key line {M}" },
        { "a value of four characters is masked", ["abcd"], "x abcd y", $"x {M} y" },
        { "a value shorter than four characters is left alone", ["abc"], "x abc y", "x abc y" },
        { "a line without any value is unchanged", [Pw], "createSecret: Successfully put secret", "createSecret: Successfully put secret" },
        { "no values mask nothing", [], "anything at all", "anything at all" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Mask_Cases(string name, string[] secrets, string line, string expected)
    {
        var masked = SecretMasker.Create(secrets).Mask(line, M);

        Assert.True(expected == masked, $"{name}: expected '{expected}', got '{masked}'");
    }

    public static TheoryData<string, byte[], string, string> BinaryCases => new()
    {
        { "a binary value printed as base64 is masked", [0xff, 0x00, 0x10, 0x80, 0x7f, 0xfe], "bin /wAQgH/+", $"bin {M}" },
        { "a binary value printed as URL-safe base64 is masked", [0xff, 0x00, 0x10, 0x80, 0x7f, 0xfe], "bin _wAQgH_-", $"bin {M}" },
        { "a binary value printed as hex is masked", [0xff, 0x00, 0x10, 0x80, 0x7f, 0xfe], "bin ff0010807ffe", $"bin {M}" },
        { "a binary value that is UTF-8 text is masked as text", Encoding.UTF8.GetBytes("binary-Pw-1"), "pw binary-Pw-1", $"pw {M}" },
    };

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Mask_BinaryCases(string name, byte[] binary, string line, string expected)
    {
        var masked = SecretMasker.Create([], [binary]).Mask(line, M);

        Assert.True(expected == masked, $"{name}: expected '{expected}', got '{masked}'");
    }

    [Fact]
    public void Mask_ThousandsOfValues_EachMaskedInOnePass()
    {
        // A secret with many versions: every value must still be found, wherever it sits in a long line.
        var values = Enumerable.Range(0, 2000).Select(i => $"value-{i:D4}-{Guid.NewGuid():N}").ToList();
        var masker = SecretMasker.Create(values);
        var line = string.Join(" | ", values.Where((_, i) => i % 97 == 0));

        var masked = masker.Mask(line, M);

        Assert.DoesNotContain("value-", masked, StringComparison.Ordinal);
        Assert.Equal(values.Count(v => values.IndexOf(v) % 97 == 0), masked.Split(" | ").Count(part => part == M));
    }
}
