using System.Security.Cryptography;
using System.Text;
using Keyturn.Rotators.PostgreSql;

namespace Keyturn.Rotators.Tests;

/// <summary>The probe's PBKDF2 must be bit for bit the standard one, or every SCRAM login it answers would fail.</summary>
public sealed class ScramPbkdf2Tests
{
    [Theory]
    [InlineData("pencil", 4096)]
    [InlineData("", 4096)]
    [InlineData("Ünïcødé-パスワード-🔑", 4096)]
    [InlineData("x", 1)]
    [InlineData("x", 2)]
    [InlineData("a password longer than the sixty-four bytes of one SHA-256 block, so HMAC hashes it first", 4096)]
    [InlineData("exactly-sixty-four-bytes-long-password-for-the-hmac-block-size!!", 100)]
    public void DeriveKey_EqualsRfc2898(string password, int iterations)
    {
        var bytes = Encoding.UTF8.GetBytes(password);
        foreach (var salt in new[] { RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(1), RandomNumberGenerator.GetBytes(60) })
        {
            Assert.Equal(Rfc2898DeriveBytes.Pbkdf2(bytes, salt, iterations, HashAlgorithmName.SHA256, 32), ScramPbkdf2.DeriveKey(bytes, salt, iterations));
        }
    }

    [Fact]
    public void DeriveKey_Rfc7677TestVector()
    {
        // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations; the
        // ServerSignature of the example follows from SaltedPassword, so checking it checks the derived key.
        var salted = ScramPbkdf2.DeriveKey("pencil"u8.ToArray(), Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096);
        var authMessage = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"u8;
        var serverSignature = HMACSHA256.HashData(HMACSHA256.HashData(salted, "Server Key"u8), authMessage);

        Assert.Equal("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", Convert.ToBase64String(serverSignature));
    }
}
